/**
 * Analysis time on a 10,000-service node, as a ratio to the time it takes to parse that node's iptables-save dump.
 * Run: `npx tsx bench/analyze.ts [services]`. Both are timed in this process, alternating over several rounds after a
 * warm-up, so the ratio holds across machines; no test asserts on it.
 */
import { performance } from 'node:perf_hooks';
import type { Endpoints } from '../src/model/endpoints.js';
import type { Service } from '../src/model/service.js';
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
const services: Service[] = [];
const eps: Endpoints[] = [];
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

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

// Parse and analysis alternate, round by round, so that load from other processes hits both alike; the ratio
// reported is the median of the per-round ratios (and the best times are printed beside it).
let ruleset = parseRuleset(text);
const snapshotOf_ = () =>
  snapshotOf({
    pods: [captured(pods.map(pod), null, 'kubectl get pods -o yaml')],
    services: [captured(services, null, 'kubectl get svc -o yaml')],
    endpoints: [captured(eps, null, 'kubectl get endpoints -o yaml')],
    rulesets: [captured(ruleset, 'node-0', 'iptables-save')],
  });
let findings = analyzeSnapshot(snapshotOf_()).findings.length; // warm-up
const rounds = 5;
const parseMs: number[] = [];
const analyzeMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  parseMs.push(
    time(() => {
      ruleset = parseRuleset(text);
    }),
  );
  const snapshot = snapshotOf_();
  analyzeMs.push(
    time(() => {
      findings = analyzeSnapshot(snapshot).findings.length;
    }),
  );
}
const ratios = parseMs.map((p, i) => analyzeMs[i]! / p).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    services: count,
    ruleLines: lines,
    dumpBytes: text.length,
    rounds,
    bestParseMs: Number(Math.min(...parseMs).toFixed(1)),
    bestAnalyzeMs: Number(Math.min(...analyzeMs).toFixed(1)),
    analyzeToParseRatio: Number(ratios[Math.floor(rounds / 2)]!.toFixed(2)),
    ratioRange: [Number(ratios[0]!.toFixed(2)), Number(ratios[rounds - 1]!.toFixed(2))],
    findings,
  }),
);
