/**
 * What one coalesced update of a live cluster costs the backend: the kube feed's pieces set into the SnapshotService
 * and analysed, as a ratio to serialising the resulting view for the renderer (what every update ships anyway).
 * Run: `npx tsx bench/kube-snapshot.ts [pods] [services]` (default 5000 pods, 500 services: LiveCluster's cap).
 * Both are timed in this process, alternating over rounds after a warm-up; no test asserts on it.
 */
import { performance } from 'node:perf_hooks';
import { SnapshotService } from '../src/api/snapshotService.js';
import type { Endpoints } from '../src/model/endpoints.js';
import type { KubeObjects } from '../src/model/kube.js';
import type { Pod } from '../src/model/pod.js';
import type { Service } from '../src/model/service.js';
import { emptyObjects } from '../src/parse/kube-map.js';

const nPods = Number(process.argv[2] ?? 5000);
const nSvc = Number(process.argv[3] ?? 500);
const ip = (i: number) => `10.${128 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}`;
const pods: Pod[] = [];
for (let i = 0; i < nPods; i++)
  pods.push({
    namespace: `ns${i % 50}`,
    name: `p${i}`,
    ready: '1/1',
    status: 'Running',
    restarts: 0,
    age: null,
    ip: ip(i),
    node: `node-${i % 20}`,
    labels: { app: `a${i % nSvc}` },
  });
const services: Service[] = [];
const endpoints: Endpoints[] = [];
for (let s = 0; s < nSvc; s++) {
  const ns = `ns${s % 50}`;
  services.push({
    namespace: ns,
    name: `s${s}`,
    type: 'ClusterIP',
    clusterIP: `10.96.${s >> 8}.${s & 255}`,
    externalIPs: [],
    ports: [{ name: null, port: 80, protocol: 'TCP', targetPort: 8080, nodePort: null }],
    selector: { app: `a${s}` },
    sessionAffinity: 'None',
    externalTrafficPolicy: 'Cluster',
  });
  endpoints.push({
    namespace: ns,
    name: `s${s}`,
    addresses: pods
      .filter((p, i) => i % nSvc === s && p.namespace === ns)
      .map((p) => ({ ip: p.ip!, nodeName: p.node, targetRef: { kind: 'Pod', namespace: ns, name: p.name } })),
    notReadyAddresses: [],
    ports: [{ name: null, port: 8080, protocol: 'TCP' }],
    source: 'endpoints',
  });
}
const objects = (part: Partial<KubeObjects>): KubeObjects => ({ ...emptyObjects(), ...part });
const snapshot = new SnapshotService(() => undefined, undefined, 0);
const source = { node: null, command: 'watch (bench)', origin: 'kube' as const };

function update(): unknown {
  snapshot.setLive('kube:pods', 'kubectl-object', objects({ pods: [...pods] }), source);
  snapshot.setLive('kube:services', 'kubectl-object', objects({ services: [...services] }), source);
  snapshot.setLive('kube:endpoints', 'kubectl-object', objects({ endpoints: [...endpoints] }), source);
  return snapshot.view();
}

let view = update();
let size = 0;
for (let i = 0; i < 3; i++) size = JSON.stringify(update()).length; // warm-up
let analyse = 0;
let serialise = 0;
const rounds = 10;
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  view = update();
  analyse += performance.now() - t;
  t = performance.now();
  size = JSON.stringify(view).length;
  serialise += performance.now() - t;
}
snapshot.dispose();
console.log(
  `${nPods} pods, ${nSvc} services: update+analysis ${(analyse / rounds).toFixed(1)} ms, ` +
    `serialising the view (${(size / 1e6).toFixed(2)} M chars) ${(serialise / rounds).toFixed(1)} ms, ` +
    `ratio ${(analyse / serialise).toFixed(2)}`,
);
