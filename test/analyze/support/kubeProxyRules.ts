/**
 * Writes a nat table the way current kube-proxy (iptables mode, v1.28+) does, for tests and the benchmark: chain
 * names are kube-proxy's own hashes (base32 of sha256, pkg/proxy/iptables/proxier.go `portProtoHash`,
 * `servicePortEndpointChainName`), rule order and comments follow `syncProxyRules`. It is a test helper that
 * produces input for `iptables-restore`, not kube-proxy: scenarios break it on purpose through the options.
 */
import { createHash } from 'node:crypto';

export interface GenEndpoint {
  readonly ip: string;
  readonly port: number;
  /** Endpoints on the node the rules are for (externalTrafficPolicy: Local goes through KUBE-SVL to these). */
  readonly local?: boolean;
}

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

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function hash16(s: string): string {
  return base32(createHash('sha256').update(s).digest()).slice(0, 16);
}

export function svcChain(prefix: string, spn: string, protocol: string): string {
  return `${prefix}${hash16(spn + protocol.toLowerCase())}`;
}

export function sepChain(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(spn + protocol.toLowerCase() + endpoint)}`;
}

export interface GenOptions {
  readonly clusterCIDR?: string;
  /** Chains to declare and hook so that the dump looks like a node's (OUTPUT/PREROUTING → KUBE-SERVICES). */
  readonly withHooks?: boolean;
}

/** The `*nat … COMMIT` block, ready for `iptables-restore`. */
export function kubeProxyNat(services: readonly GenService[], opts: GenOptions = {}): string {
  const cidr = opts.clusterCIDR ?? '10.244.0.0/16';
  const chains = new Set<string>(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
  const head: string[] = [];
  const nodePorts: string[] = [];
  const body: string[] = [];
  for (const s of services) {
    for (const p of s.ports) {
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      const spn = `${s.namespace}/${s.name}:${p.name}`;
      const svc = svcChain('KUBE-SVC-', spn, proto);
      const ext = svcChain('KUBE-EXT-', spn, proto);
      const svl = svcChain('KUBE-SVL-', spn, proto);
      const eps = s.endpoints[p.name] ?? [];
      const needsExt = p.nodePort !== undefined || (s.loadBalancerIPs?.length ?? 0) > 0;
      chains.add(svc);
      if (!s.omitClusterIPRule)
        head.push(
          `-A KUBE-SERVICES -m comment --comment "${spn} cluster IP" -m ${proto} -p ${proto} -d ${s.clusterIP} --dport ${p.port} -j ${svc}`,
        );
      for (const ip of s.loadBalancerIPs ?? [])
        head.push(
          `-A KUBE-SERVICES -m comment --comment "${spn} loadbalancer IP" -m ${proto} -p ${proto} -d ${ip} --dport ${p.port} -j ${ext}`,
        );
      if (p.nodePort !== undefined && !s.omitNodePortRule)
        nodePorts.push(
          `-A KUBE-NODEPORTS -m comment --comment ${spn} -m ${proto} -p ${proto} --dport ${p.nodePort} -j ${ext}`,
        );
      if (needsExt) {
        chains.add(ext);
        if (s.externalTrafficPolicyLocal) {
          chains.add(svl);
          body.push(
            `-A ${ext} -m comment --comment "pod traffic for ${spn} external destinations" -s ${cidr} -j ${svc}`,
            `-A ${ext} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
            `-A ${ext} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${svc}`,
            `-A ${ext} -j ${svl}`,
          );
        } else {
          body.push(
            `-A ${ext} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`,
            `-A ${ext} -j ${svc}`,
          );
        }
      }
      body.push(
        `-A ${svc} -m comment --comment "${spn} cluster IP" -m ${proto} -p ${proto} -d ${s.clusterIP} --dport ${p.port} ! -s ${cidr} -j KUBE-MARK-MASQ`,
      );
      const seps = eps.map((e) => ({ e, chain: sepChain(spn, proto, `${e.ip}:${e.port}`) }));
      if (s.affinitySeconds !== undefined)
        for (const { e, chain } of seps)
          body.push(
            `-A ${svc} -m comment --comment "${spn} -> ${e.ip}:${e.port}" -m recent --name ${chain} --rcheck --seconds ${s.affinitySeconds} --reap -j ${chain}`,
          );
      const override = s.probabilities?.[p.name];
      seps.forEach(({ e, chain }, i) => {
        const n = seps.length - i;
        const prob = override ? override[i] : n > 1 ? 1 / n : null;
        body.push(
          `-A ${svc} -m comment --comment "${spn} -> ${e.ip}:${e.port}"${prob === null || prob === undefined ? '' : ` -m statistic --mode random --probability ${prob.toFixed(10)}`} -j ${chain}`,
        );
      });
      if (s.externalTrafficPolicyLocal && needsExt) {
        const local = seps.filter(({ e }) => e.local);
        local.forEach(({ e, chain }, i) => {
          const n = local.length - i;
          body.push(
            `-A ${svl} -m comment --comment "${spn} -> ${e.ip}:${e.port}"${n > 1 ? ` -m statistic --mode random --probability ${(1 / n).toFixed(10)}` : ''} -j ${chain}`,
          );
        });
      }
      for (const { e, chain } of seps) {
        chains.add(chain);
        body.push(
          `-A ${chain} -m comment --comment ${spn} -s ${e.ip} -j KUBE-MARK-MASQ`,
          `-A ${chain} -m comment --comment ${spn}${s.affinitySeconds !== undefined ? ` -m recent --name ${chain} --set` : ''} -m ${proto} -p ${proto} -j DNAT --to-destination ${e.ip}:${e.port}`,
        );
      }
    }
  }
  const lines = ['*nat'];
  if (opts.withHooks !== false)
    lines.push(':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]');
  for (const c of chains) lines.push(`:${c} - [0:0]`);
  if (opts.withHooks !== false)
    lines.push(
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    );
  lines.push(
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ...head,
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ...nodePorts,
    ...body,
    'COMMIT',
  );
  return lines.join('\n') + '\n';
}
