/**
 * Cost of a time-limited lab regex match (node:vm with a timeout, src/labs/regexSafety.ts) as a ratio to a direct
 * match of the same pattern on the same lines. Run: `npx tsx bench/lab-regex.ts [lines]`. Both are timed in this
 * process, alternating over several rounds after a warm-up, so the ratio holds across machines; no test asserts
 * on it.
 */
import { performance } from 'node:perf_hooks';
import { boundedRegexTest } from '../src/labs/regexSafety.js';

const count = Number(process.argv[2] ?? 2000);
// Lines shaped like `iptables-save -t nat` rules (seed section "iptables"), numbered so they differ.
const lines = Array.from(
  { length: count },
  (_, i) =>
    `-A KUBE-SVC-CUXC5A3HHHVSSN62 -m comment --comment "default/kuard:" -m statistic --mode random --probability 0.${i} -j KUBE-SEP-${i}`,
);
// Alternation inside a repeated group: goes through the vm with a time limit.
const limited = '^(-A |KUBE-SVC-|KUBE-SEP-)+C';
// The same kind of test without the group: runs directly.
const direct = '^-A KUBE-S[VE][CP]-C';

function time(pattern: string): number {
  const t = performance.now();
  let hits = 0;
  for (const l of lines) if (boundedRegexTest(pattern, l)) hits++;
  if (hits !== lines.length) throw new Error(`${pattern}: ${hits} of ${lines.length} matched`);
  return performance.now() - t;
}

time(limited);
time(direct);
const rounds = 5;
const limitedMs: number[] = [];
const directMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  limitedMs.push(time(limited));
  directMs.push(time(direct));
}
const ratios = limitedMs.map((v, i) => v / (directMs[i] as number)).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    lines: count,
    rounds,
    bestLimitedMs: Number(Math.min(...limitedMs).toFixed(2)),
    bestDirectMs: Number(Math.min(...directMs).toFixed(2)),
    perLimitedMatchUs: Number(((Math.min(...limitedMs) * 1000) / count).toFixed(1)),
    limitedToDirectRatio: Number((ratios[Math.floor(rounds / 2)] as number).toFixed(1)),
    ratioRange: [Number((ratios[0] as number).toFixed(1)), Number((ratios[rounds - 1] as number).toFixed(1))],
  }),
);
