/**
 * Merge a snapshot's captures into one picture: the latest capture of an object wins (captures are in the order they
 * were taken), and every disagreement between captures of the same object is kept for a `capture-conflict` finding.
 */
import type { Endpoints, EndpointAddress } from '../model/endpoints.js';
import type { IptablesRuleset } from '../model/iptables.js';
import type { Node } from '../model/node.js';
import type { Pod } from '../model/pod.js';
import type { Service } from '../model/service.js';
import type { CaptureSource, Captured, Snapshot } from '../model/snapshot.js';

export const defaultNamespace = 'default';

export interface Conflict {
  readonly kind: 'Service' | 'Pod';
  readonly namespace: string;
  readonly name: string;
  readonly field: string;
  readonly before: string;
  readonly after: string;
  readonly beforeSource: CaptureSource;
  readonly afterSource: CaptureSource;
}

export interface Stamped<T> {
  readonly value: T;
  readonly source: CaptureSource;
}

export interface MergedEndpoints {
  readonly namespace: string;
  readonly name: string;
  readonly addresses: readonly { readonly address: EndpointAddress; readonly ready: boolean }[];
  readonly ports: Endpoints['ports'];
  readonly omitted: number;
  readonly source: CaptureSource;
}

export interface NodeRuleset {
  readonly node: string;
  readonly ruleset: IptablesRuleset;
  readonly source: CaptureSource;
}

export interface Merged {
  readonly pods: ReadonlyMap<string, Stamped<Pod>>;
  readonly services: ReadonlyMap<string, Stamped<Service>>;
  readonly endpoints: ReadonlyMap<string, MergedEndpoints>;
  readonly nodes: ReadonlyMap<string, Node>;
  /** Per node, every ruleset captured there, in order. */
  readonly rulesets: ReadonlyMap<string, readonly NodeRuleset[]>;
  readonly conflicts: readonly Conflict[];
}

export function objectKey(namespace: string | null | undefined, name: string): string {
  return `${namespace ?? defaultNamespace}/${name}`;
}

/** `1/1` → true, `0/1` → false, anything else → null. */
export function podReady(pod: Pod): boolean | null {
  const m = /^(\d+)\/(\d+)$/.exec(pod.ready ?? '');
  if (!m) return null;
  return Number(m[1]) === Number(m[2]) && Number(m[2]) > 0;
}

export const unknownNode = 'node';

function each<T>(list: readonly Captured<readonly T[]>[], f: (v: T, s: CaptureSource) => void): void {
  for (const c of list) for (const v of c.value) f(v, c.source);
}

function describeTarget(s: Service): string {
  return s.ports
    .map((p) => `${p.port}/${p.protocol}${p.nodePort === null ? '' : `:${p.nodePort}`}`)
    .join(',');
}

export function mergeSnapshot(snapshot: Snapshot): Merged {
  const conflicts: Conflict[] = [];
  const pods = new Map<string, Stamped<Pod>>();
  each(snapshot.pods, (pod, source) => {
    const key = objectKey(pod.namespace, pod.name);
    const prev = pods.get(key);
    if (prev && prev.value.ip !== null && pod.ip !== null && prev.value.ip !== pod.ip)
      conflicts.push({
        kind: 'Pod',
        namespace: pod.namespace ?? defaultNamespace,
        name: pod.name,
        field: 'status.podIP',
        before: prev.value.ip,
        after: pod.ip,
        beforeSource: prev.source,
        afterSource: source,
      });
    // A later table may know less (no IP column): keep what the earlier capture knew.
    pods.set(key, {
      value: prev ? { ...prev.value, ...definedOnly(pod) } : pod,
      source,
    });
  });
  const services = new Map<string, Stamped<Service>>();
  each(snapshot.services, (svc, source) => {
    const key = objectKey(svc.namespace, svc.name);
    const prev = services.get(key);
    if (prev) {
      const pairs: [string, string | null, string | null][] = [
        ['spec.clusterIP', prev.value.clusterIP, svc.clusterIP],
        ['spec.ports', describeTarget(prev.value), describeTarget(svc)],
        ['spec.type', prev.value.type, svc.type],
      ];
      for (const [field, a, b] of pairs)
        if (a !== null && b !== null && a !== '' && b !== '' && a !== b)
          conflicts.push({
            kind: 'Service',
            namespace: svc.namespace ?? defaultNamespace,
            name: svc.name,
            field,
            before: a,
            after: b,
            beforeSource: prev.source,
            afterSource: source,
          });
    }
    services.set(key, { value: svc, source });
  });
  // Endpoints: the latest capture that has a service's endpoints wins; EndpointSlices of one capture add up.
  const endpoints = new Map<string, MergedEndpoints & { capture: number }>();
  snapshot.endpoints.forEach((c, capture) => {
    for (const ep of c.value) {
      const name = ep.serviceName ?? ep.name;
      const key = objectKey(ep.namespace, name);
      const addresses = [
        ...ep.addresses.map((address) => ({ address, ready: true })),
        ...ep.notReadyAddresses.map((address) => ({ address, ready: false })),
      ];
      const prev = endpoints.get(key);
      if (prev && prev.capture === capture) {
        endpoints.set(key, {
          ...prev,
          addresses: [...prev.addresses, ...addresses],
          ports: mergePorts(prev.ports, ep.ports),
          omitted: prev.omitted + (ep.omitted ?? 0),
        });
      } else {
        endpoints.set(key, {
          namespace: ep.namespace ?? defaultNamespace,
          name,
          addresses,
          ports: ep.ports,
          omitted: ep.omitted ?? 0,
          source: c.source,
          capture,
        });
      }
    }
  });
  const nodes = new Map<string, Node>();
  each(snapshot.nodes, (n) => {
    const prev = nodes.get(n.name);
    nodes.set(n.name, prev ? { ...prev, ...definedOnly(n) } : n);
  });
  // Several dumps of one node by the same iptables backend are excerpts of one ruleset (the seed shows KUBE-SERVICES,
  // a KUBE-SVC chain and a KUBE-SEP chain in three blocks): join them, a later capture of a chain replacing an
  // earlier one. Dumps by different backends (legacy, nf_tables) stay apart: they are different tables.
  const rulesets = new Map<string, NodeRuleset[]>();
  for (const c of snapshot.rulesets) {
    const node = c.source.node ?? unknownNode;
    const list = rulesets.get(node) ?? [];
    const same = list.findIndex((r) => r.ruleset.backend === c.value.backend);
    if (same >= 0)
      list[same] = { node, ruleset: joinRulesets(list[same]!.ruleset, c.value), source: c.source };
    else list.push({ node, ruleset: c.value, source: c.source });
    rulesets.set(node, list);
  }
  return {
    pods,
    services,
    endpoints,
    nodes,
    rulesets,
    conflicts,
  };
}

function joinRulesets(a: IptablesRuleset, b: IptablesRuleset): IptablesRuleset {
  const tables: Record<string, IptablesRuleset['tables'][string]> = { ...a.tables };
  for (const [name, t] of Object.entries(b.tables)) {
    const prev = tables[name];
    tables[name] = prev ? { chains: { ...prev.chains, ...t.chains } } : t;
  }
  return { ...b, tables, legacyTablesPresent: a.legacyTablesPresent || b.legacyTablesPresent };
}

function mergePorts(a: Endpoints['ports'], b: Endpoints['ports']): Endpoints['ports'] {
  const out = [...a];
  for (const p of b) if (!out.some((q) => q.name === p.name && q.port === p.port)) out.push(p);
  return out;
}

/** The fields of `o` that are not null: a later, thinner capture does not erase what an earlier one knew. */
function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== null && v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The ruleset a node's view is read from: the latest one that has kube-proxy's KUBE-SERVICES chain. */
export function primaryRuleset(list: readonly NodeRuleset[]): NodeRuleset | undefined {
  for (let i = list.length - 1; i >= 0; i--)
    if (list[i]!.ruleset.tables['nat']?.chains['KUBE-SERVICES']) return list[i];
  return list[list.length - 1];
}
