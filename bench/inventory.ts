/**
 * The cluster panel's Pods/Nodes rows (`inventoryView`) for N pods over 50 nodes, each pod selected by two Services
 * and an endpoint of both, as a ratio to `analyzeSnapshot` on the same snapshot (what every snapshot change already
 * pays), with the rows' size as JSON (the snapshot view crosses the API as one message).
 * Run: `npx tsx bench/inventory.ts [pods]` (default 5000, the live watch's cap). Both are timed in this process,
 * alternating over several rounds after a warm-up; no test asserts on it.
 */
import { performance } from 'node:perf_hooks';
import { analyzeSnapshot, inventoryView } from '../src/analyze/index.js';
import {
  captured,
  endpoints,
  pod,
  service,
  snapshotOf,
  manyKuardPods,
} from '../test/analyze/support/world.js';

const count = Number(process.argv[2] ?? 5000);
const pods = manyKuardPods(count, (i) => `ip-10-0-${i % 50}-1.ap-northeast-2.compute.internal`);
const svc = (name: string, clusterIP: string) =>
  service({ name, clusterIP, port: 80, portName: 'http', targetPort: 8080, selector: { app: 'kuard' } });
const snapshot = snapshotOf({
  pods: [captured(pods.map(pod), null, 'kubectl get pods -o yaml')],
  services: [
    captured([svc('kuard', '10.96.0.10'), svc('kuard-canary', '10.96.0.11')], null, 'kubectl get svc'),
  ],
  endpoints: [
    captured(
      [endpoints('kuard', 'http', 8080, pods), endpoints('kuard-canary', 'http', 8080, pods)],
      null,
      'kubectl get endpoints -o yaml',
    ),
  ],
});

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

let analysis = analyzeSnapshot(snapshot);
let inventory = inventoryView(snapshot, analysis.services); // warm-up
const rounds = 5;
const analyzeMs: number[] = [];
const inventoryMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  analyzeMs.push(time(() => (analysis = analyzeSnapshot(snapshot))));
  inventoryMs.push(time(() => (inventory = inventoryView(snapshot, analysis.services))));
}
const ratios = inventoryMs.map((t, i) => t / analyzeMs[i]!).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    pods: count,
    rows: inventory.pods.length,
    podsOmitted: inventory.podsOmitted,
    rounds,
    bestAnalyzeMs: Number(Math.min(...analyzeMs).toFixed(1)),
    bestInventoryMs: Number(Math.min(...inventoryMs).toFixed(1)),
    inventoryToAnalyzeRatio: Number(ratios[Math.floor(rounds / 2)]!.toFixed(2)),
    ratioRange: [Number(ratios[0]!.toFixed(2)), Number(ratios[rounds - 1]!.toFixed(2))],
    inventoryJsonChars: JSON.stringify(inventory).length,
    servicesJsonChars: JSON.stringify(analysis.services).length,
  }),
);
