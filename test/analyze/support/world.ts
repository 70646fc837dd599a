/**
 * A small cluster described once, turned into both sides of a test: the model objects `kubectl get -o yaml` would
 * have given (built directly: there is no API server here, so these are a double of kubectl's parsed output) and
 * the kube-proxy rules for them (see kubeProxyRules.ts), which the tests load into a real netns.
 */
import type { Endpoints, EndpointAddress } from '../../../src/model/endpoints.js';
import type { Node } from '../../../src/model/node.js';
import type { Pod } from '../../../src/model/pod.js';
import type { Service } from '../../../src/model/service.js';
import type { CaptureSource, Captured, Snapshot } from '../../../src/model/snapshot.js';
import { emptySnapshot } from '../../../src/model/snapshot.js';
import type { GenEndpoint, GenService } from './kubeProxyRules.js';

export interface WorldPod {
  readonly name: string;
  readonly ip: string;
  readonly node: string;
  readonly ready?: boolean;
  readonly labels?: Record<string, string>;
}

/** The kuard pods of these tests: two on node-a, one on node-b, and kuard-d on node-b once kuard is scaled to 4. */
export const kuardPods: readonly WorldPod[] = [
  { name: 'kuard-a', ip: '10.244.1.11', node: 'node-a' },
  { name: 'kuard-b', ip: '10.244.1.12', node: 'node-a' },
  { name: 'kuard-c', ip: '10.244.2.13', node: 'node-b' },
  { name: 'kuard-d', ip: '10.244.2.14', node: 'node-b' },
];

/**
 * `count` pods of one big kuard Deployment (`kuard-5d8c7b9f4-00000` …, label app=kuard) at 10.64.0.0 upwards, pod
 * `i` on node `nodeOf(i)`: the load for the tests and benchmarks of big services.
 */
export function manyKuardPods(count: number, nodeOf: (i: number) => string): WorldPod[] {
  const pods: WorldPod[] = [];
  for (let i = 0; i < count; i++)
    pods.push({
      name: `kuard-5d8c7b9f4-${String(i).padStart(5, '0')}`,
      ip: `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      node: nodeOf(i),
      labels: { app: 'kuard' },
    });
  return pods;
}

export function pod(p: WorldPod): Pod {
  return {
    namespace: 'default',
    name: p.name,
    ready: p.ready === false ? '0/1' : '1/1',
    status: 'Running',
    restarts: 0,
    age: '1m',
    ip: p.ip,
    node: p.node,
    labels: p.labels ?? { app: 'kuard' },
  };
}

export function node(name: string, internalIP: string): Node {
  return { name, status: 'Ready', roles: [], internalIP, externalIP: null };
}

export interface WorldService {
  readonly name: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly portName: string;
  readonly targetPort: number;
  readonly nodePort?: number;
  readonly type?: string;
  readonly externalTrafficPolicy?: string;
  readonly sessionAffinity?: string;
  readonly loadBalancerIngress?: string[];
  readonly selector?: Record<string, string>;
}

/** kuard as a ClusterIP service with one unnamed port 80 → 8080, as in the seed's scaling walk-through. */
export const kuardClusterIP: WorldService = {
  name: 'kuard',
  clusterIP: '10.96.100.10',
  port: 80,
  portName: '',
  targetPort: 8080,
};

export function service(s: WorldService): Service {
  return {
    namespace: 'default',
    name: s.name,
    type: s.type ?? (s.nodePort !== undefined ? 'NodePort' : 'ClusterIP'),
    clusterIP: s.clusterIP,
    externalIPs: [],
    ports: [
      {
        name: s.portName,
        port: s.port,
        protocol: 'TCP',
        targetPort: s.targetPort,
        nodePort: s.nodePort ?? null,
      },
    ],
    selector: s.selector ?? { app: 'kuard' },
    sessionAffinity: s.sessionAffinity ?? 'None',
    externalTrafficPolicy: s.externalTrafficPolicy ?? (s.nodePort !== undefined ? 'Cluster' : null),
    ...(s.loadBalancerIngress && { loadBalancerIngress: s.loadBalancerIngress }),
  };
}

export function endpoints(
  name: string,
  portName: string,
  port: number,
  ready: readonly WorldPod[],
  notReady: readonly WorldPod[] = [],
  extra: readonly EndpointAddress[] = [],
): Endpoints {
  const addr = (p: WorldPod): EndpointAddress => ({
    ip: p.ip,
    nodeName: p.node,
    targetRef: { kind: 'Pod', namespace: 'default', name: p.name },
  });
  return {
    namespace: 'default',
    name,
    addresses: [...ready.map(addr), ...extra],
    notReadyAddresses: notReady.map(addr),
    ports: [{ name: portName, port, protocol: 'TCP' }],
  };
}

/** The rules kube-proxy writes for a service whose endpoints are `eps` (on node `nodeName`). */
export function genService(
  s: WorldService,
  eps: readonly WorldPod[],
  nodeName: string,
  port?: number,
): GenService {
  const list: GenEndpoint[] = eps.map((p) => ({
    ip: p.ip,
    port: port ?? s.targetPort,
    local: p.node === nodeName,
  }));
  return {
    namespace: 'default',
    name: s.name,
    clusterIP: s.clusterIP,
    ports: [{ name: s.portName, port: s.port, ...(s.nodePort !== undefined && { nodePort: s.nodePort }) }],
    endpoints: { [s.portName]: list },
    ...(s.loadBalancerIngress && { loadBalancerIPs: s.loadBalancerIngress }),
    ...(s.externalTrafficPolicy === 'Local' && { externalTrafficPolicyLocal: true }),
    ...(s.sessionAffinity === 'ClientIP' && { affinitySeconds: 10800 }),
  };
}

export const src = (node: string | null, command: string): CaptureSource => ({
  node,
  command,
  takenAt: null,
});

export function snapshotOf(parts: Partial<{ [K in keyof Snapshot]: Snapshot[K] }>): Snapshot {
  return { ...emptySnapshot(), ...parts };
}

export function captured<T>(value: T, node: string | null, command: string): Captured<T> {
  return { source: src(node, command), value };
}
