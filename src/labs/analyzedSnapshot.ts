import { analyzeSnapshot } from '../analyze/analyzeSnapshot.js';
import { snapshotFromParsed, type ParsedCapture } from '../analyze/fromParsed.js';
import type { Finding as AnalysisFinding } from '../model/finding.js';
import type { Snapshot } from '../model/snapshot.js';
import type { Finding } from './assertions.js';
import type { analysedNames } from './dependencies.js';
import { PlainSnapshot, type Capture, type Snapshotter } from './runner.js';

/**
 * The snapshot labs assert over: every capture is kept by name as in PlainSnapshot, and the ones src/analyze
 * understands (kubectl tables and objects, iptables-save, CNI config, ip route, kuard answers) also feed the
 * analysed snapshot. Its collections (`pods`, `nodes`, `services`, `endpoints`, `serviceViews`) join the state,
 * and its findings are what `no-findings:` checks. A capture named with `as=` wins over a collection of the same
 * name.
 */
export class AnalyzedSnapshot implements Snapshotter {
  private readonly plain = new PlainSnapshot();
  private readonly captures: ParsedCapture[] = [];
  private cached: { state: Record<string, unknown>; findings: readonly Finding[] } | undefined;

  constructor(private readonly clock: () => number = Date.now) {}

  ingest(c: Capture): void {
    this.plain.ingest(c);
    this.captures.push({
      kind: c.parsed.kind,
      value: c.parsed.value,
      source: {
        // The machine: the role instance's name (a node's name for `node`, the role's name for a single role).
        node: c.instance,
        command: c.command,
        takenAt: new Date(this.clock()).toISOString(),
        origin: `step ${c.step}, ${c.check ? `check ${c.check}` : `block ${c.block}`}`,
      },
    });
    this.cached = undefined;
  }

  /** The analysed snapshot itself (for panels). */
  snapshot(): Snapshot {
    return snapshotFromParsed(this.captures);
  }

  view(): { readonly state: Readonly<Record<string, unknown>>; readonly findings: readonly Finding[] } {
    if (this.cached) return this.cached;
    const snap = this.snapshot();
    const analysis = analyzeSnapshot(snap);
    // The latest capture of an object wins: later captures describe the cluster as it is now.
    const latest = <T extends { name: string; namespace?: string | null }>(
      pieces: readonly { readonly value: readonly T[] }[],
    ): T[] => {
      const byKey = new Map<string, T>();
      for (const p of pieces) for (const o of p.value) byKey.set(`${o.namespace ?? ''}/${o.name}`, o);
      return [...byKey.values()];
    };
    // Exactly the names validation accepts (dependencies.ts): a key added or dropped here fails the typecheck.
    const collections: Record<(typeof analysedNames)[number], unknown> = {
      pods: latest(snap.pods),
      nodes: latest(snap.nodes),
      services: latest(snap.services),
      endpoints: latest(snap.endpoints),
      serviceViews: analysis.services,
    };
    const findings = analysis.findings.map((f: AnalysisFinding): Finding => ({
      code: f.code,
      severity: f.severity,
      message: f.evidence.length
        ? `${f.message} [${f.evidence.map((e) => `${e.node ? `${e.node}: ` : ''}${e.text}`).join('; ')}]`
        : f.message,
    }));
    this.cached = { state: { ...collections, ...this.plain.view().state }, findings };
    return this.cached;
  }
}
