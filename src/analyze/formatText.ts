/** The readable report of `labdeck analyze --format text`: what a learner reads in a terminal. */
import type { Finding } from '../model/finding.js';
import type { Analysis } from './analyzeSnapshot.js';
import type { SnapshotDiff } from './diff.js';

const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;
const prob = (p: number | null): string => (p === null ? '(rest)' : p.toFixed(5));

export function formatAnalysisText(a: Analysis): string {
  const out: string[] = [];
  for (const s of a.services) {
    out.push(
      `Service ${s.namespace}/${s.name}  ${s.type ?? '?'}  clusterIP ${s.clusterIP ?? '?'}  ports ${s.ports
        .map(
          (p) =>
            `${p.name ? `${p.name}:` : ''}${p.port}/${p.protocol}→${p.targetPort ?? '?'}${p.nodePort !== null ? ` nodePort ${p.nodePort}` : ''}`,
        )
        .join(', ')}`,
    );
    for (const n of s.notes) out.push(`  note: ${n}`);
    const ready = s.pods.filter((p) => p.ready === true).length;
    out.push(
      `  pods: ${s.pods.length} (${ready} ready)  endpoints: ${s.endpoints.length} (${s.endpoints.filter((e) => e.ready).length} ready)`,
    );
    for (const [node, v] of Object.entries(s.nodes)) {
      out.push(`  on ${node}:`);
      for (const p of v.ports) {
        out.push(
          `    port ${p.servicePort}: ${p.svcChain ?? '(no service chain)'}${p.extChain ? ` via ${p.extChain}` : ''}${p.localChain ? `, local ${p.localChain}` : ''}`,
        );
        if (p.affinity) out.push(`      session affinity: ${p.affinity.seconds ?? '?'} s (-m recent)`);
        for (const b of [...p.backends, ...p.localBackends])
          out.push(
            `      ${b.via === 'local' ? 'local ' : ''}${b.chain}  p=${prob(b.probability)}  share ${pct(b.effectiveProbability)}  → ${b.ip ?? '?'}:${b.port ?? '?'}${b.pod ? ` (${b.pod})` : ''}${b.ip !== null && !b.isEndpoint ? '  NOT AN ENDPOINT' : ''}`,
          );
      }
    }
  }
  out.push('', a.findings.length === 0 ? 'No findings.' : `${a.findings.length} finding(s):`);
  for (const f of a.findings) out.push(...formatFinding(f));
  return out.join('\n') + '\n';
}

export function formatFinding(f: Finding): string[] {
  const s = f.subject;
  const subject = `${s.namespace}/${s.name}${s.port !== undefined ? `:${s.port}` : ''}${s.node !== undefined ? ` on ${s.node}` : ''}`;
  const out = [`[${f.severity}] ${f.code}  ${subject}`, `  ${f.message}`];
  for (const e of f.evidence)
    out.push(`    ${e.object ? `${e.object}: ` : ''}${e.text.split('\n').join('\n      ')}`);
  return out;
}

export function formatDiffText(d: SnapshotDiff): string {
  const out: string[] = [];
  for (const p of d.pods.added)
    out.push(`+ pod ${p.namespace}/${p.name} ${p.ip ?? ''} ${p.node ?? ''}`.trimEnd());
  for (const p of d.pods.removed)
    out.push(`- pod ${p.namespace}/${p.name} ${p.ip ?? ''} ${p.node ?? ''}`.trimEnd());
  for (const e of d.endpoints) {
    for (const a of e.added) out.push(`+ endpoint ${e.namespace}/${e.name} ${a}`);
    for (const r of e.removed) out.push(`- endpoint ${e.namespace}/${e.name} ${r}`);
  }
  for (const [node, n] of Object.entries(d.nodes))
    for (const s of n.services) {
      out.push(`${s.namespace}/${s.name}:${s.port} on ${node}:`);
      for (const a of s.added) out.push(`  + ${a.chain} → ${a.ip ?? '?'}:${a.port ?? '?'}`);
      for (const r of s.removed) out.push(`  - ${r.chain} → ${r.ip ?? '?'}:${r.port ?? '?'}`);
      for (const c of s.changed)
        out.push(`  ~ ${c.chain} → ${c.ip ?? '?'}: p ${prob(c.before)} → ${prob(c.after)}`);
      out.push(
        `  now: ${s.after.map((b) => `${b.ip ?? '?'} p=${prob(b.probability)} (${pct(b.effectiveProbability)})`).join(', ')}`,
      );
    }
  return (out.length ? out.join('\n') : 'No changes.') + '\n';
}
