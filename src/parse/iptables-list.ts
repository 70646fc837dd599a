/**
 * `iptables [-t TABLE] -L [-n] [-v] [-x] [--line-numbers]` → IptablesRuleset (one table), so the same analysis
 * reads either form. Chain headers `Chain X (policy P [N packets, M bytes])` / `(N references)`, a column header
 * line, then one rule a line. Without `-n` addresses are hostnames (`anywhere`, the seed's
 * `ip-192-168-0-0.ap-northeast-2.compute.internal/16`). The match text after the destination is kept as printed;
 * comments, ports, probability, `[goto]` and DNAT's `to:` are read out of it. See iptables(8) "LIST".
 */
import type { ParseResult } from '../model/diagnostic.js';
import type { IptablesChain, IptablesRule, IptablesRuleset, NegatableField } from '../model/iptables.js';
import { Diagnostics, contentLines, field, neutraliseDeep, words } from './text.js';

export interface IptablesListOptions {
  /** `-t nat`; default `filter`. */
  table?: string;
}

export type IptablesListResult = ParseResult<'iptables-list', IptablesRuleset>;

const CHAIN =
  /^Chain (\S+) \((?:policy (\S+)(?: (\d+[KMGTP]?) packets, (\d+[KMGTP]?) bytes)?|(\d+) references)\)\s*$/;
const OPT = /^(?:--|-f|!f)$/;
const ANY = new Set(['anywhere', '0.0.0.0/0', '::/0']);

/** `12K` → 12000: iptables prints counters in units of 1000 without `-x` (xtables_print_num). */
function count(s: string | undefined): number | null {
  if (s === undefined) return null;
  const m = /^(\d+)([KMGTP]?)$/.exec(s);
  if (!m) return null;
  const mult = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 }[m[2] as '' | 'K' | 'M' | 'G' | 'T' | 'P'];
  return Number(m[1]) * mult;
}

export function parseIptablesList(text: string, opts: IptablesListOptions = {}): IptablesListResult {
  const diags = new Diagnostics();
  const table = opts.table ?? 'filter';
  const ruleset: IptablesRuleset = {
    backend: null,
    version: null,
    tables: { [table]: { chains: {} } },
    legacyTablesPresent: false,
  };
  const chains = ruleset.tables[table]!.chains;
  let chain: IptablesChain | null = null;
  let cols: string[] | null = null;
  let sawChain = false;
  for (const l of contentLines(text)) {
    const t = l.text;
    if (t.startsWith('Chain ')) {
      const m = CHAIN.exec(t);
      if (!m) {
        diags.error(
          'iptables-list-bad-chain',
          l.n,
          1,
          'a "Chain" line should read "Chain NAME (policy P)" or "(N references)"',
        );
        chain = null;
        continue;
      }
      sawChain = true;
      const name = field(m[1]!, diags, l.n, 7);
      chain = { policy: m[2] ?? null, packets: count(m[3]), bytes: count(m[4]), rules: [] };
      if (m[5] !== undefined) chain.references = Number(m[5]);
      chains[name] = chain;
      cols = null;
      continue;
    }
    if (t.startsWith('# Warning: iptables-legacy tables present')) {
      ruleset.legacyTablesPresent = true;
      continue;
    }
    const w = words(t);
    if (chain === null) {
      diags.error('iptables-list-outside-chain', l.n, 1, 'a line before any "Chain" header');
      continue;
    }
    if (cols === null) {
      const names = w.map((x) => x.text);
      if (names.includes('target') && names.includes('source')) {
        cols = names;
        continue;
      }
      diags.warn(
        'iptables-list-no-header',
        l.n,
        1,
        'rules without the "target prot opt source destination" header',
      );
      cols = ['target', 'prot', 'opt', 'source', 'destination'];
    }
    const rule = readRule(t, w, cols, l.n, diags);
    if (rule) chain.rules.push(rule);
  }
  if (!sawChain) diags.error('iptables-list-empty', 1, 1, 'no "Chain NAME (policy …)" line found');
  return { kind: 'iptables-list', value: neutraliseDeep(ruleset, diags), diagnostics: diags.done() };
}

function readRule(
  line: string,
  w: { start: number; text: string }[],
  cols: string[],
  n: number,
  diags: Diagnostics,
): IptablesRule | null {
  const rule: IptablesRule = {
    raw: field(line, diags, n, 1),
    line: n,
    source: null,
    destination: null,
    protocol: null,
    inInterface: null,
    outInterface: null,
    dport: null,
    sport: null,
    comment: null,
    probability: null,
    target: null,
    targetKind: null,
    toDestination: null,
    negations: [],
    matches: [],
    matchOptions: null,
    packets: null,
    bytes: null,
  };
  let i = 0;
  const take = (): string | undefined => w[i++]?.text;
  if (cols[0] === 'num') {
    const v = take();
    if (v === undefined || !/^\d+$/.test(v)) {
      diags.warn('iptables-list-bad-rule', n, 1, 'expected a rule number first (--line-numbers)');
      return null;
    }
    rule.num = Number(v);
  }
  if (cols.includes('pkts')) {
    rule.packets = count(take());
    rule.bytes = count(take());
    if (rule.packets === null || rule.bytes === null) {
      diags.warn('iptables-list-bad-counters', n, (w[i - 1]?.start ?? 0) + 1, 'pkts/bytes are not counts');
    }
  }
  // target is blank for a rule without one; prot and opt run together when prot is long (`ipencap--`).
  let target: string | undefined;
  let prot: string | undefined;
  const a = w[i]?.text;
  const b = w[i + 1]?.text;
  const c = w[i + 2]?.text;
  if (a !== undefined && b !== undefined && OPT.test(b)) {
    prot = a;
    i += 2;
  } else if (c !== undefined && OPT.test(c)) {
    target = a;
    prot = b;
    i += 3;
  } else if (b !== undefined && /^(.+?)(--|-f|!f)$/.test(b)) {
    target = a;
    prot = b.slice(0, -2);
    i += 2;
  } else if (a !== undefined && /^(.+?)(--|-f|!f)$/.test(a)) {
    prot = a.slice(0, -2);
    i += 1;
  } else {
    diags.warn(
      'iptables-list-bad-rule',
      n,
      (w[i]?.start ?? 0) + 1,
      'expected "target prot opt source destination"',
    );
    return null;
  }
  if (target !== undefined) {
    rule.target = target;
    rule.targetKind = 'jump';
  }
  rule.protocol =
    prot === undefined || prot === 'all' || prot === '0' ? null : protocolName(neg(rule, 'protocol', prot));
  if (cols.includes('in')) {
    const vin = take();
    const vout = take();
    rule.inInterface = vin === undefined || vin === '*' ? null : neg(rule, 'inInterface', vin);
    rule.outInterface = vout === undefined || vout === '*' ? null : neg(rule, 'outInterface', vout);
  }
  const src = take();
  let dstTok = w[i];
  i++;
  if (src === undefined || dstTok === undefined) {
    diags.warn('iptables-list-bad-rule', n, line.length, 'a rule needs source and destination');
    return null;
  }
  let dst = dstTok.text;
  let rest = line.slice(dstTok.start + dst.length);
  if (dst.endsWith('[goto]')) {
    dst = dst.slice(0, -6);
    rest = ' [goto]' + rest;
  }
  rule.source = ANY.has(src) ? null : neg(rule, 'source', src);
  rule.destination = ANY.has(dst) ? null : neg(rule, 'destination', dst);
  dstTok = { start: dstTok.start, text: dst };
  readExtra(rule, rest.trim(), n, dstTok.start + dst.length + 1, diags);
  return rule;
}

/** iptables ≥1.8.9 prints protocol numbers with `-n` (`6` for tcp): name them as iptables-save does. */
const PROTOCOL_NUMBERS: Record<string, string> = {
  '1': 'icmp',
  '4': 'ipencap',
  '6': 'tcp',
  '17': 'udp',
  '41': 'ipv6',
  '47': 'gre',
  '50': 'esp',
  '51': 'ah',
  '58': 'ipv6-icmp',
  '132': 'sctp',
};
function protocolName(p: string): string {
  return PROTOCOL_NUMBERS[p] ?? p;
}

function neg(rule: IptablesRule, f: NegatableField, v: string): string {
  if (v.startsWith('!')) {
    rule.negations.push(f);
    return v.slice(1);
  }
  return v;
}

/** The match text: comments in slash-star, `tcp dpt:53`, `multiport dports 80,443`, `statistic mode random probability P`, `[goto]`, `to:IP:PORT`. */
function readExtra(rule: IptablesRule, rest: string, n: number, col: number, diags: Diagnostics): void {
  if (rest === '') return;
  let s = rest;
  if (s.startsWith('[goto]')) {
    rule.targetKind = 'goto';
    s = s.slice(6).trim();
  }
  const comments: string[] = [];
  s = s.replace(/\/\* (.*?) \*\//g, (_m, c: string) => {
    comments.push(c);
    return ' ';
  });
  if (comments.length) rule.comment = field(comments.join(' ; '), diags, n, col);
  const m = /(?:^|\s)(!\s?)?(dpts?):(\S+)/.exec(s) ?? /(?:^|\s)multiport (!\s?)?(dports) (\S+)/.exec(s);
  if (m) {
    // `dpt:!53` (negated port) as iptables ≥1.8 prints it, or `! dpt:53`
    const v = m[3]!;
    rule.dport = v.startsWith('!') ? v.slice(1) : v;
    if (m[1] || v.startsWith('!')) rule.negations.push('dport');
  }
  const sp = /(?:^|\s)(!\s?)?(spts?):(\S+)/.exec(s) ?? /(?:^|\s)multiport (!\s?)?(sports) (\S+)/.exec(s);
  if (sp) {
    const v = sp[3]!;
    rule.sport = v.startsWith('!') ? v.slice(1) : v;
    if (sp[1] || v.startsWith('!')) rule.negations.push('sport');
  }
  const p = /statistic mode random probability (\S+)/.exec(s);
  if (p) {
    const v = Number(p[1]);
    if (v >= 0 && v <= 1) rule.probability = v;
  }
  const to = /(?:^|\s)to:(\S+)/.exec(s);
  if (to && rule.target === 'DNAT') rule.toDestination = to[1]!;
  const text = s.replace(/\s+/g, ' ').trim();
  if (text !== '') rule.matchOptions = field(text, diags, n, col);
}
