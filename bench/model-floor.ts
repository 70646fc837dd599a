/**
 * A reference for bench/parse-iptables: what it costs to build the parsed model itself, with no parsing at all.
 *
 * `planModel` walks a parsed ruleset once (untimed) and records, for every rule, where each of its string fields
 * sits in the dump. `buildFromPlan` (timed) then makes the same objects a parser must hand back: one rule object
 * per rule with every field of IptablesRule, each string field sliced from the dump at its known place (strings the
 * parser shares, such as "tcp" or "DNAT", are shared here too; match lists are shared as the parser shares them),
 * rule lists per chain, and the table → chain dictionaries. No parser that returns this model eagerly can be faster
 * than this, so its ratio to iptables-save is the floor for the parse ratio.
 */
import type { IptablesRule, IptablesRuleset } from '../src/model/iptables.js';

type StringField =
  | 'raw'
  | 'source'
  | 'destination'
  | 'protocol'
  | 'inInterface'
  | 'outInterface'
  | 'dport'
  | 'sport'
  | 'comment'
  | 'target'
  | 'toDestination'
  | 'matchOptions'
  | 'targetOptions';

const STRING_FIELDS: readonly StringField[] = [
  'raw',
  'source',
  'destination',
  'protocol',
  'inInterface',
  'outInterface',
  'dport',
  'sport',
  'comment',
  'target',
  'toDestination',
  'matchOptions',
  'targetOptions',
];

export interface ModelPlan {
  /** Per rule, per string field: [start, end) in the dump; start -1: null, -2: the value in `consts`. */
  offsets: Int32Array;
  consts: (string | null)[];
  /** The parsed rules, for their non-string fields (numbers and shared lists). */
  rules: IptablesRule[];
  tables: { name: string; chains: { nameAt: number; nameEnd: number; count: number }[] }[];
}

/** Offsets of every line start (index = line number - 1). */
function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

const N = STRING_FIELDS.length;

export function planModel(dump: string, ruleset: IptablesRuleset, shared: ReadonlySet<string>): ModelPlan {
  const starts = lineStarts(dump);
  const all = Object.values(ruleset.tables).flatMap((t) => Object.values(t.chains).flatMap((c) => c.rules));
  const plan: ModelPlan = {
    offsets: new Int32Array(all.length * N * 2),
    consts: new Array<string | null>(all.length * N).fill(null),
    rules: all,
    tables: [],
  };
  all.forEach((rule, k) => {
    const lineAt = starts[rule.line - 1]!;
    STRING_FIELDS.forEach((f, i) => {
      const v = rule[f];
      const o = (k * N + i) * 2;
      if (v === null || v === undefined) plan.offsets[o] = -1;
      else {
        const at = shared.has(v) ? -1 : dump.indexOf(v, lineAt);
        if (at < 0 || at > lineAt + rule.raw.length) {
          // shared, or not a plain substring of its line (an unescaped or joined value): the value as made
          plan.offsets[o] = -2;
          plan.consts[k * N + i] = v;
        } else {
          plan.offsets[o] = at;
          plan.offsets[o + 1] = at + v.length;
        }
      }
    });
  });
  for (const [name, table] of Object.entries(ruleset.tables)) {
    const t: ModelPlan['tables'][number] = { name, chains: [] };
    for (const [cname, chain] of Object.entries(table.chains)) {
      // the chain's name where its `:NAME` line has it, so that the timed build slices (and hashes) it as a parser must
      const decl = dump.indexOf(`\n:${cname} `);
      if (decl < 0) throw new Error(`chain ${cname} has no declaration line in the dump`);
      t.chains.push({ nameAt: decl + 2, nameEnd: decl + 2 + cname.length, count: chain.rules.length });
    }
    plan.tables.push(t);
  }
  return plan;
}

/** Build the model from the plan: the allocation floor of any eager parser of this dump. */
export function buildFromPlan(dump: string, plan: ModelPlan): IptablesRuleset {
  const { offsets, consts } = plan;
  const f = (k: number, i: number): string | null => {
    const o = (k * N + i) * 2;
    const s = offsets[o]!;
    return s === -1 ? null : s === -2 ? consts[k * N + i]! : dump.slice(s, offsets[o + 1]);
  };
  const out: IptablesRuleset = {
    backend: 'nf_tables',
    version: null,
    tables: {},
    legacyTablesPresent: false,
  };
  let k = 0;
  for (const t of plan.tables) {
    const chains: IptablesRuleset['tables'][string]['chains'] = {};
    for (const c of t.chains) {
      const rules: IptablesRule[] = [];
      for (let n = 0; n < c.count; n++, k++) {
        const r = plan.rules[k]!;
        rules.push({
          raw: f(k, 0)!,
          line: r.line,
          source: f(k, 1),
          destination: f(k, 2),
          protocol: f(k, 3),
          inInterface: f(k, 4),
          outInterface: f(k, 5),
          dport: f(k, 6),
          sport: f(k, 7),
          comment: f(k, 8),
          probability: r.probability,
          target: f(k, 9),
          targetKind: r.targetKind,
          toDestination: f(k, 10),
          negations: r.negations.length === 0 ? r.negations : r.negations.slice(),
          matches: r.matches,
          matchOptions: f(k, 11),
          packets: r.packets,
          bytes: r.bytes,
          targetOptions: f(k, 12),
        });
      }
      chains[dump.slice(c.nameAt, c.nameEnd)] = { policy: null, packets: 0, bytes: 0, rules };
    }
    out.tables[t.name] = { chains };
  }
  return out;
}
