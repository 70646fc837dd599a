/**
 * The analyze tests' view of kube-proxy rules: services described per port name (as the tests build them from
 * their world), written by the product's writer (src/sandbox/kube-proxy-rules.ts, current v1.28+ layout, checked
 * against real iptables-save and kube-proxy's own test hashes) as a node's full restore file. The only test-only
 * part is breaking it on purpose: a missing ClusterIP or NodePort entry, or skewed probabilities.
 */
import {
  hashPrefix16,
  nodeRestoreText,
  probabilityString,
  servicePortNameString,
  type EndpointSpec,
  type ServicePortSpec,
} from '../../../src/sandbox/kube-proxy-rules.js';

export type GenEndpoint = EndpointSpec;

export interface GenPort {
  readonly name: string;
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP';
  readonly nodePort?: number;
}

export interface GenService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
  readonly ports: readonly GenPort[];
  /** What the rules DNAT to, per port name (normally the ready endpoints). */
  readonly endpoints: Readonly<Record<string, readonly GenEndpoint[]>>;
  readonly loadBalancerIPs?: readonly string[];
  readonly externalTrafficPolicyLocal?: boolean;
  readonly affinitySeconds?: number;
  /** Override the printed probabilities of the SVC chain's rules, in order (default 1/(n−i), 10 decimals). */
  readonly probabilities?: Readonly<Record<string, readonly (number | null)[]>>;
  /** Leave out the ClusterIP entry / the NodePort entry (for clusterip-missing / nodeport-missing). */
  readonly omitClusterIPRule?: boolean;
  readonly omitNodePortRule?: boolean;
}

/** `<prefix><hash>` for a ServicePortName string and protocol (KUBE-SVC-, KUBE-EXT-, or the 2019 KUBE-XLB-/KUBE-FW-). */
export function svcChain(prefix: string, spn: string, protocol: string): string {
  return `${prefix}${hashPrefix16(spn + protocol.toLowerCase())}`;
}

export function sepChain(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hashPrefix16(spn + protocol.toLowerCase() + endpoint)}`;
}

export interface GenOptions {
  readonly clusterCIDR?: string;
}

/** A node's restore file (filter and nat, with the jumps from the built-in chains), ready for `iptables-restore`. */
export function kubeProxyNat(services: readonly GenService[], opts: GenOptions = {}): string {
  const specs: ServicePortSpec[] = [];
  const skew = new Map<ServicePortSpec, readonly (number | null)[]>();
  const drop: string[] = [];
  for (const s of services) {
    for (const p of s.ports) {
      const spec: ServicePortSpec = {
        namespace: s.namespace,
        name: s.name,
        portName: p.name,
        protocol: p.protocol ?? 'TCP',
        clusterIP: s.clusterIP,
        port: p.port,
        ...(p.nodePort !== undefined && { nodePort: p.nodePort }),
        endpoints: s.endpoints[p.name] ?? [],
        ...(s.loadBalancerIPs && { loadBalancerIPs: s.loadBalancerIPs }),
        ...(s.externalTrafficPolicyLocal && { externalTrafficPolicyLocal: true }),
        ...(s.affinitySeconds !== undefined && { affinitySeconds: s.affinitySeconds }),
      };
      specs.push(spec);
      const override = s.probabilities?.[p.name];
      if (override) skew.set(spec, override);
      const spn = servicePortNameString(spec);
      if (s.omitClusterIPRule) drop.push(`-A KUBE-SERVICES -m comment --comment "${spn} cluster IP" `);
      if (s.omitNodePortRule) drop.push(`-A KUBE-NODEPORTS -m comment --comment ${spn} `);
    }
  }
  const text = nodeRestoreText(specs, {
    clusterCIDR: opts.clusterCIDR ?? '10.244.0.0/16',
    // The analyze tests and bench/analyze.ts read per-endpoint comments at any size.
    largeClusterMode: false,
    probability: (svc, i, n) => {
      const override = skew.get(svc);
      if (!override) return probabilityString(n - i);
      const p = override[i];
      return p === null || p === undefined ? null : p.toFixed(10);
    },
  });
  return text
    .split('\n')
    .filter((line) => !drop.some((d) => line.startsWith(d)))
    .join('\n');
}
