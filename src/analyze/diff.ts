/**
 * What changed between two snapshots (e.g. before and after a lab step): pods, endpoints, and per node the KUBE-SEP
 * chains behind each service port with their probabilities. Scaling kuard from 3 to 4 shows one SEP added and the
 * rule probabilities becoming 1/4, 1/3, 1/2 (and the last rule unconditional).
 */
import type { Snapshot } from '../model/snapshot.js';
import { analyzeSnapshot, type Analysis } from './analyzeSnapshot.js';
import { mergeSnapshot, defaultNamespace } from './normalize.js';
import type { BackendView } from './view.js';

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string | null;
  readonly node: string | null;
}

export interface EndpointsChange {
  readonly namespace: string;
  readonly name: string;
  /** `ip:port`, plus ` (not ready)` for not-ready addresses. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface SepRef {
  readonly chain: string;
  readonly ip: string | null;
  readonly port: number | null;
  readonly probability: number | null;
  readonly effectiveProbability: number;
}

export interface SepChange {
  readonly chain: string;
  readonly ip: string | null;
  readonly port: number | null;
  readonly before: number | null;
  readonly after: number | null;
  readonly effectiveBefore: number;
  readonly effectiveAfter: number;
}

export interface ServiceChainsChange {
  readonly namespace: string;
  readonly name: string;
  readonly port: string;
  readonly added: readonly SepRef[];
  readonly removed: readonly SepRef[];
  /** SEP chains present before and after whose rule probability changed. */
  readonly changed: readonly SepChange[];
  /** The spread after the change, in rule order. */
  readonly after: readonly SepRef[];
}

export interface SnapshotDiff {
  readonly pods: { readonly added: readonly PodRef[]; readonly removed: readonly PodRef[] };
  readonly endpoints: readonly EndpointsChange[];
  readonly nodes: Readonly<Record<string, { readonly services: readonly ServiceChainsChange[] }>>;
}

function sepRef(b: BackendView): SepRef {
  return {
    chain: b.chain,
    ip: b.ip,
    port: b.port,
    probability: b.probability,
    effectiveProbability: b.effectiveProbability,
  };
}

/** Probabilities as printed carry 11 decimals of a quantized value: compare at 1e-9. */
function sameProbability(a: number | null, b: number | null): boolean {
  return a === b || (a !== null && b !== null && Math.abs(a - b) < 1e-9);
}

export function diffSnapshots(before: Snapshot, after: Snapshot): SnapshotDiff {
  const mb = mergeSnapshot(before);
  const ma = mergeSnapshot(after);
  const ref = (p: {
    value: { namespace: string | null; name: string; ip: string | null; node: string | null };
  }): PodRef => ({
    namespace: p.value.namespace ?? defaultNamespace,
    name: p.value.name,
    ip: p.value.ip,
    node: p.value.node,
  });
  const pods = {
    added: [...ma.pods].filter(([k]) => !mb.pods.has(k)).map(([, p]) => ref(p)),
    removed: [...mb.pods].filter(([k]) => !ma.pods.has(k)).map(([, p]) => ref(p)),
  };
  const endpoints: EndpointsChange[] = [];
  const epKeys = [...new Set([...mb.endpoints.keys(), ...ma.endpoints.keys()])].sort();
  for (const key of epKeys) {
    const list = (m: typeof mb): Set<string> => {
      const e = m.endpoints.get(key);
      const out = new Set<string>();
      for (const { address, ready } of e?.addresses ?? [])
        for (const p of e!.ports.length ? e!.ports : [{ port: 0 }])
          out.add(`${address.ip}:${p.port || '?'}${ready ? '' : ' (not ready)'}`);
      return out;
    };
    const b = list(mb);
    const a = list(ma);
    const added = [...a].filter((x) => !b.has(x));
    const removed = [...b].filter((x) => !a.has(x));
    if (added.length || removed.length) {
      const [namespace, name] = key.split('/') as [string, string];
      endpoints.push({ namespace, name, added, removed });
    }
  }
  const nodes: Record<string, { services: ServiceChainsChange[] }> = {};
  const va = analyzeSnapshot(after);
  const vb = analyzeSnapshot(before);
  const byKeyA = new Map(va.services.map((x) => [`${x.namespace}/${x.name}`, x]));
  const byKeyB = new Map(vb.services.map((x) => [`${x.namespace}/${x.name}`, x]));
  const svcKeys = [...new Set([...byKeyA.keys(), ...byKeyB.keys()])].sort();
  const nodeNames = [...new Set([...serviceNodes(vb), ...serviceNodes(va)])].sort();
  // One service's ports and backends per node are few: the work is linear in services × nodes.
  for (const node of nodeNames) {
    const services: ServiceChainsChange[] = [];
    for (const key of svcKeys) {
      const sa = byKeyA.get(key);
      const sb = byKeyB.get(key);
      const ports = [
        ...new Set(
          [...(sa?.nodes[node]?.ports ?? []), ...(sb?.nodes[node]?.ports ?? [])].map((p) => p.servicePort),
        ),
      ];
      for (const port of ports) {
        const ba = sa?.nodes[node]?.ports.find((p) => p.servicePort === port)?.backends ?? [];
        const bb = sb?.nodes[node]?.ports.find((p) => p.servicePort === port)?.backends ?? [];
        const added = ba.filter((x) => !bb.some((y) => y.chain === x.chain)).map(sepRef);
        const removed = bb.filter((x) => !ba.some((y) => y.chain === x.chain)).map(sepRef);
        const changed: SepChange[] = [];
        for (const x of ba) {
          const y = bb.find((z) => z.chain === x.chain);
          if (y && !sameProbability(x.probability, y.probability))
            changed.push({
              chain: x.chain,
              ip: x.ip,
              port: x.port,
              before: y.probability,
              after: x.probability,
              effectiveBefore: y.effectiveProbability,
              effectiveAfter: x.effectiveProbability,
            });
        }
        if (added.length || removed.length || changed.length) {
          const [namespace, name] = key.split('/') as [string, string];
          services.push({ namespace, name, port, added, removed, changed, after: ba.map(sepRef) });
        }
      }
    }
    if (services.length) nodes[node] = { services };
  }
  return { pods, endpoints, nodes };
}

function serviceNodes(a: Analysis): string[] {
  return a.services.flatMap((s) => Object.keys(s.nodes));
}
