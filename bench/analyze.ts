/**
 * Analysis time on a 10,000-service node, as a ratio to the time it takes to parse that node's iptables-save dump.
 * Run: `npx tsx bench/analyze.ts [services]`. Both are timed in this process, best of several rounds after a warm-up,
 * so the ratio holds across machines; no test asserts on it.
 */
import { performance } from 'node:perf_hooks';
import { analyzeSnapshot } from '../src/analyze/index.js';
import { kubeProxyNat, type GenService } from '../test/analyze/support/kubeProxyRules.js';
import { parseRuleset } from '../test/analyze/support/parseRuleset.js';
import {
  captured,
  endpoints,
  pod,
  service,
  snapshotOf,
  type WorldPod,
} from '../test/analyze/support/world.js';

const count = Number(process.argv[2] ?? 10_000);
const perService = 3;

const pods: WorldPod[] = [];
const gens: GenService[] = [];
const services = [];
const eps = [];
for (let i = 0; i < count; i++) {
  const name = `svc-${i}`;
  const clusterIP = `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  const mine: WorldPod[] = [];
  for (let j = 0; j < perService; j++) {
    const n = i * perService + j;
    mine.push({
      name: `${name}-${j}`,
      ip: `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`,
      node: `node-${j}`,
      labels: { app: name },
    });
  }
  pods.push(...mine);
  const ws = {
    name,
    clusterIP,
    port: 80,
    portName: 'http',
    targetPort: 8080,
    nodePort: 30000 + (i % 2768),
    selector: { app: name },
  };
  services.push(service(ws));
  eps.push(endpoints(name, 'http', 8080, mine));
  gens.push({
    namespace: 'default',
    name,
    clusterIP,
    ports: [{ name: 'http', port: 80, ...(i < 2768 && { nodePort: 30000 + i }) }],
    endpoints: { http: mine.map((p) => ({ ip: p.ip, port: 8080 })) },
  });
}
const text = kubeProxyNat(gens);
const lines = text.split('\n').length;

function best(rounds: number, f: () => void): number {
  f();
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

let ruleset = parseRuleset(text);
const parseMs = best(3, () => {
  ruleset = parseRuleset(text);
});
const snapshot = snapshotOf({
  pods: [captured(pods.map(pod), null, 'kubectl get pods -o yaml')],
  services: [captured(services, null, 'kubectl get svc -o yaml')],
  endpoints: [captured(eps, null, 'kubectl get endpoints -o yaml')],
  rulesets: [captured(ruleset, 'node-0', 'iptables-save')],
});
let findings = 0;
const analyzeMs = best(3, () => {
  findings = analyzeSnapshot(snapshot).findings.length;
});
console.log(
  JSON.stringify({
    services: count,
    ruleLines: lines,
    dumpBytes: text.length,
    parseMs: Number(parseMs.toFixed(1)),
    analyzeMs: Number(analyzeMs.toFixed(1)),
    analyzeToParseRatio: Number((analyzeMs / parseMs).toFixed(2)),
    findings,
  }),
);
