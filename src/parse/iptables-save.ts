/**
 * iptables-save(8) output → IptablesRuleset. One pass over the text with a hand-written tokenizer (no regex per
 * line): the dump of a large kube-proxy node is ~20 MB, and the panels must not wait for it.
 * Also reads fragments (`iptables-save | grep KUBE-SVC`, the seed's `iptables-save | less` with `...` lines):
 * rules outside a `*table` section go to the table named by `opts.table`, else a guess from kube-proxy chain
 * names, with an info diagnostic.
 */
import type { ParseResult } from '../model/diagnostic.js';
import type {
  IptablesBackend,
  IptablesChain,
  IptablesRule,
  IptablesRuleset,
  NegatableField,
} from '../model/iptables.js';
import {
  Diagnostics,
  FIELD_LIMIT,
  field,
  hasUnsafe,
  hasUnsafeText,
  int,
  isUnsafeCode,
  neutralise,
} from './text.js';

export interface IptablesSaveOptions {
  /** Table for rules that appear outside a `*table` section (from `iptables-save -t nat`). */
  table?: string;
}

export type IptablesSaveResult = ParseResult<'iptables-save', IptablesRuleset>;

/** Incremental parser: push chunks as they arrive (e.g. over SSH), then `end()` for the result. */
export interface IptablesSaveStream {
  push(chunk: string): void;
  end(): IptablesSaveResult;
}

const OPT_NONE = 0;
const OPT_OTHER = 1;
const OPT_SRC = 2;
const OPT_DST = 3;
const OPT_PROTO = 4;
const OPT_IN = 5;
const OPT_OUT = 6;
const OPT_FRAG = 7;
const OPT_MATCH = 8;
const OPT_JUMP = 9;
const OPT_GOTO = 10;
const OPT_COUNTERS = 11;
const OPT_COMMENT = 12;
const OPT_DPORT = 13;
const OPT_SPORT = 14;
const OPT_PROB = 15;

const MATCH_NAMES = [
  'comment',
  'tcp',
  'udp',
  'statistic',
  'mark',
  'conntrack',
  'addrtype',
  'recent',
  'multiport',
  'set',
  'sctp',
  'physdev',
  'state',
  'limit',
  'icmp',
];
const TARGET_NAMES = [
  'KUBE-MARK-MASQ',
  'DNAT',
  'ACCEPT',
  'DROP',
  'RETURN',
  'MARK',
  'MASQUERADE',
  'REJECT',
  'SNAT',
  'LOG',
  'KUBE-MARK-DROP',
  'KUBE-NODEPORTS',
  'KUBE-SERVICES',
];
const PROTOCOLS = ['tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'all'];

/** Field values that rules share (one string for all) instead of each holding its own copy. */
export const sharedFieldValues: readonly string[] = [...PROTOCOLS, ...TARGET_NAMES];

/**
 * Shared, frozen empty lists: a rule without negations or matches (most rules have no negation) allocates none.
 * Parsed values are read-only; copy a list before changing it.
 */
const NO_NEGATIONS = Object.freeze([]) as unknown as NegatableField[];
const NO_MATCHES = Object.freeze([]) as unknown as string[];

function negated(rule: IptablesRule, field: NegatableField): void {
  if (rule.negations === NO_NEGATIONS) rule.negations = [field];
  else rule.negations.push(field);
}

/** How many chain declarations ahead a rule's chain is looked for before a lookup by name. */
const LOOKAHEAD = 16;

const NAT_HINT = /^KUBE-(SVC|SEP|SVL|EXT|FW|XLB|SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|MARK-DROP)/;

export function createIptablesSaveParser(opts: IptablesSaveOptions = {}): IptablesSaveStream {
  const st = new SaveState(opts);
  let carry = '';
  return {
    push(chunk: string): void {
      const text = carry === '' ? chunk : carry + chunk;
      const last = text.lastIndexOf('\n');
      if (last < 0) {
        carry = text;
        return;
      }
      st.lines(text, 0, last + 1);
      carry = last + 1 < text.length ? text.slice(last + 1) : '';
    },
    end(): IptablesSaveResult {
      if (carry !== '') st.lines(carry, 0, carry.length);
      carry = '';
      return st.finish();
    },
  };
}

export function parseIptablesSave(text: string, opts: IptablesSaveOptions = {}): IptablesSaveResult {
  const st = new SaveState(opts);
  st.lines(text, 0, text.length);
  return st.finish();
}

class SaveState {
  readonly diags = new Diagnostics();
  readonly ruleset: IptablesRuleset = {
    backend: null,
    version: null,
    tables: {},
    legacyTablesPresent: false,
  };
  private lineNo = 0;
  private table: string | null = null;
  private sawAnything = false;
  private committed = true;
  private tableLine = 0;

  constructor(private readonly opts: IptablesSaveOptions) {}

  /** Parse the complete lines of text[from, to). */
  lines(text: string, from: number, to: number): void {
    // One native scan of the whole chunk decides whether the tokenizer must look at every character.
    this.nextBackslash = -1;
    this.checkChars = hasUnsafeText(from === 0 && to === text.length ? text : text.slice(from, to));
    let start = from;
    while (start < to) {
      let nl = text.indexOf('\n', start);
      if (nl < 0 || nl >= to) nl = to;
      let stop = nl;
      if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
      this.lineNo++;
      if (stop > start) this.line(text, start, stop);
      start = nl + 1;
    }
  }

  private line(text: string, start: number, stop: number): void {
    let c = text.charCodeAt(start);
    if (c === 32 || c === 9) {
      while (start < stop && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
      if (start === stop) return;
      c = text.charCodeAt(start);
    }
    switch (c) {
      case 45 /* - */: {
        const c1 = text.charCodeAt(start + 1);
        if ((c1 === 80 /* P */ || c1 === 78) /* N */ && text.charCodeAt(start + 2) === 32) {
          this.listRuleDecl(text.slice(start, stop));
          return;
        }
        this.rule(text, start, stop, null, null);
        return;
      }
      case 58 /* : */:
        this.chainDecl(text, start, stop);
        return;
      case 91 /* [ */:
        this.counted(text, start, stop);
        return;
      case 42 /* * */:
        this.tableStart(text.slice(start + 1, stop).trim());
        return;
      case 35 /* # */:
        this.comment(text.slice(start, stop));
        return;
      default: {
        const s = text.slice(start, stop).trim();
        if (s === 'COMMIT') {
          if (this.table === null)
            this.diags.warn('iptables-commit-outside-table', this.lineNo, 1, 'COMMIT without a *table line');
          this.committed = true;
          this.table = null;
          return;
        }
        if (s === '...' || s === '…') return; // elision in a pasted excerpt (the seed's `iptables-save | less`)
        this.diags.warn('iptables-unknown-line', this.lineNo, 1, `not an iptables-save line: "${clip(s)}"`);
      }
    }
  }

  private comment(s: string): void {
    this.sawAnything = true;
    if (s.startsWith('# Generated by iptables-save')) {
      const m = /iptables-save v([\w.]+)(?: \((nf_tables|legacy)\))?/.exec(s);
      if (m) {
        this.ruleset.version = m[1] ?? null;
        this.ruleset.backend = (m[2] as IptablesBackend | undefined) ?? null;
      }
    } else if (s.startsWith('# Warning: iptables-legacy tables present')) {
      this.ruleset.legacyTablesPresent = true;
    }
  }

  private tableStart(name: string): void {
    this.sawAnything = true;
    if (!this.committed && this.table !== null)
      this.diags.warn(
        'iptables-missing-commit',
        this.lineNo,
        1,
        `table ${this.table} (line ${this.tableLine}) has no COMMIT before *${name}`,
      );
    if (name === '' || /\s/.test(name)) {
      this.diags.error('iptables-bad-table', this.lineNo, 2, 'a *table line needs one table name');
      this.table = null;
      return;
    }
    this.table = safe(name, this.diags, this.lineNo, 2, 'a table name');
    this.tableLine = this.lineNo;
    this.committed = false;
    if (this.ruleset.tables[this.table] === undefined) this.ruleset.tables[this.table] = { chains: {} };
  }

  private currentTable(chain: string): string {
    if (this.table !== null) return this.table;
    const guess = this.opts.table ?? (NAT_HINT.test(chain) ? 'nat' : 'filter');
    if (this.ruleset.tables[guess] === undefined) {
      this.ruleset.tables[guess] = { chains: {} };
      this.diags.info(
        'iptables-table-assumed',
        this.lineNo,
        1,
        `lines outside a *table section were put in table "${guess}"${this.opts.table ? '' : ' (guessed from chain names)'}`,
      );
    }
    return guess;
  }

  /** table → chain name → position in `order`, built only if a rule ever names a chain out of order. A Map,
   * because a plain object with ~60k keys looked up by sliced strings costs a string internalisation per lookup. */
  private readonly index = new Map<string, Map<string, number>>();
  /** Chains in order of appearance. iptables-save prints rules chain by chain in the order it declared them,
   * so the next chain a rule names is usually `order[cursor + 1]`: found without hashing its name. A chain
   * declared twice appears twice, as the same object. */
  private readonly order: { table: string; name: string; chain: IptablesChain }[] = [];
  private cursor = -1;

  private indexBuilt = false;

  /** A declared chain: put in its table at once (so the ruleset is complete as lines stream in) and appended
   * in order; the by-name index is built only if a lookup ever needs it. */
  private declare(table: string, name: string): IptablesChain {
    if (this.indexBuilt) return this.chain(table, name, false);
    const chains = this.chainsOf(table);
    let chain = chains[name];
    if (chain === undefined) {
      chain = { policy: null, packets: null, bytes: null, rules: [] };
      chains[name] = chain;
    }
    this.order.push({ table, name, chain });
    return chain;
  }

  private chainsOf(table: string): Record<string, IptablesChain> {
    let t = this.ruleset.tables[table];
    if (t === undefined) {
      t = { chains: {} };
      this.ruleset.tables[table] = t;
    }
    return t.chains;
  }

  private chain(table: string, name: string, create: boolean): IptablesChain {
    if (!this.indexBuilt) {
      this.indexBuilt = true;
      this.order.forEach((o, i) => {
        let m = this.index.get(o.table);
        if (m === undefined) {
          m = new Map();
          this.index.set(o.table, m);
        }
        if (!m.has(o.name)) m.set(o.name, i);
      });
    }
    let chains = this.index.get(table);
    if (chains === undefined) {
      chains = new Map();
      this.index.set(table, chains);
    }
    let at = chains.get(name);
    if (at === undefined) {
      at = this.order.length;
      const chain: IptablesChain = { policy: null, packets: null, bytes: null, rules: [] };
      this.order.push({ table, name, chain });
      this.chainsOf(table)[name] = chain;
      chains.set(name, at);
      if (create && this.table !== null)
        this.diags.warn(
          'iptables-undeclared-chain',
          this.lineNo,
          4,
          `chain ${clip(name)} is used before a ":${clip(name)}" declaration`,
        );
    }
    this.cursor = at;
    return this.order[at]!.chain;
  }

  /** `:NAME POLICY [p:b]`. The usual shape is read by hand (60k of these in a big dump); anything else by split. */
  private chainDecl(text: string, start: number, stop: number): void {
    this.sawAnything = true;
    const sp1 = text.indexOf(' ', start + 1);
    if (sp1 > start + 1 && sp1 < stop && this.table !== null && !this.checkChars) {
      const sp2 = text.indexOf(' ', sp1 + 1);
      if (
        sp2 > sp1 + 1 &&
        sp2 < stop &&
        text.charCodeAt(sp2 + 1) === 91 /* [ */ &&
        text.charCodeAt(stop - 1) === 93
      ) {
        let i = sp2 + 2;
        let packets = 0;
        let c = text.charCodeAt(i);
        while (c >= 48 && c <= 57) {
          packets = packets * 10 + (c - 48);
          c = text.charCodeAt(++i);
        }
        if (c === 58 /* : */ && i > sp2 + 2) {
          let bytes = 0;
          const b0 = ++i;
          c = text.charCodeAt(i);
          while (c >= 48 && c <= 57) {
            bytes = bytes * 10 + (c - 48);
            c = text.charCodeAt(++i);
          }
          if (i === stop - 1 && i > b0 && stop - start <= 1024) {
            const ch = this.declare(this.table, text.slice(start + 1, sp1));
            ch.policy =
              sp2 === sp1 + 2 && text.charCodeAt(sp1 + 1) === 45 /* - */
                ? null
                : text.startsWith('ACCEPT', sp1 + 1) && sp2 === sp1 + 7
                  ? 'ACCEPT'
                  : text.startsWith('DROP', sp1 + 1) && sp2 === sp1 + 5
                    ? 'DROP'
                    : text.slice(sp1 + 1, sp2);
            ch.packets = packets;
            ch.bytes = bytes;
            return;
          }
        }
      }
    }
    this.chainDeclSlow(text, start, stop);
  }

  private chainDeclSlow(text: string, start: number, stop: number): void {
    // :NAME POLICY [p:b]
    const s = text.slice(start + 1, stop);
    const parts = s.split(' ');
    const name = parts[0] ?? '';
    if (name === '') {
      this.diags.error(
        'iptables-bad-chain',
        this.lineNo,
        2,
        'a chain line needs a name: ":NAME POLICY [p:b]"',
      );
      return;
    }
    const table = this.currentTable(name);
    const ch = this.chain(table, safe(name, this.diags, this.lineNo, 2), false);
    const policy = parts[1];
    ch.policy =
      policy === undefined || policy === '-'
        ? null
        : safe(policy, this.diags, this.lineNo, 2, 'a chain policy');
    const counters = parts[2];
    if (counters !== undefined) {
      const pb = parseCounters(counters);
      if (pb === null)
        this.diags.warn(
          'iptables-bad-counters',
          this.lineNo,
          s.indexOf(counters) + 2,
          `counters "${clip(counters)}" are not [packets:bytes]`,
        );
      else {
        ch.packets = pb[0];
        ch.bytes = pb[1];
      }
    }
  }

  /** `iptables -S` prints `-P CHAIN POLICY` and `-N CHAIN` where iptables-save prints `:CHAIN …`. */
  private listRuleDecl(s: string): void {
    this.sawAnything = true;
    const parts = s.split(' ');
    const name = parts[1] ?? '';
    if (name === '') {
      this.diags.error('iptables-bad-chain', this.lineNo, 4, `${parts[0]} needs a chain name`);
      return;
    }
    const ch = this.chain(this.currentTable(name), safe(name, this.diags, this.lineNo, 4), false);
    if (parts[0] === '-P')
      ch.policy =
        parts[2] === undefined ? null : safe(parts[2], this.diags, this.lineNo, 4, 'a chain policy');
  }

  private counted(text: string, start: number, stop: number): void {
    const close = text.indexOf(']', start);
    if (close < 0 || close >= stop) {
      this.diags.error('iptables-bad-counters', this.lineNo, 1, 'a "[" starts counters that never close');
      return;
    }
    const pb = parseCounters(text.slice(start, close + 1));
    let i = close + 1;
    while (i < stop && text.charCodeAt(i) === 32) i++;
    if (pb === null)
      this.diags.warn('iptables-bad-counters', this.lineNo, 1, 'counters are not [packets:bytes]');
    if (i >= stop || text.charCodeAt(i) !== 45) {
      this.diags.error(
        'iptables-bad-rule',
        this.lineNo,
        i + 1 - start,
        'counters are not followed by a rule',
      );
      return;
    }
    this.rule(text, i, stop, pb ? pb[0] : null, pb ? pb[1] : null);
  }

  // --- tokenizer over this.s[this.pos, this.end): bounds only, a string is made when a value is kept ---
  private s = '';
  private pos = 0;
  private end = 0;
  private lineStart = 0;
  /** Current token: [ts, te) without quotes; quoted; contains a backslash escape. */
  private ts = 0;
  private te = 0;
  private quoted = false;
  private escaped = false;
  /** A control/bidi character was seen on this line. */
  private unsafe = false;
  /** Position of the next backslash in `s` at or after the last lookup (Infinity: none); -1: not looked up. */
  private nextBackslash = -1;
  /** The text holds a control/bidi character somewhere: check every character (slow path). */
  private checkChars = true;

  /** Advance to the next token; false at the end of the line. */
  private scan(): boolean {
    const s = this.s;
    const end = this.end;
    let i = this.pos;
    while (i < end && s.charCodeAt(i) === 32) i++;
    if (i >= end) {
      this.pos = i;
      return false;
    }
    if (s.charCodeAt(i) === 34 /* " */) {
      // iptables-save quotes with "…" and escapes " and \ inside (xtables_save_string).
      let j = i + 1;
      let esc = false;
      if (this.checkChars) {
        for (; j < end; j++) {
          const c = s.charCodeAt(j);
          if (c === 92 /* \ */) {
            esc = true;
            j++;
            continue;
          }
          if (c === 34) break;
          if (c < 32 || c > 126) this.checkCode(c);
        }
      } else {
        // fast path: find the closing quote natively; a quote after an odd run of backslashes is escaped
        for (;;) {
          const q = s.indexOf('"', j);
          if (q < 0 || q >= end) {
            j = end;
            break;
          }
          let b = q - 1;
          while (b > i && s.charCodeAt(b) === 92) b--;
          if ((q - 1 - b) % 2 === 0) {
            if (q - 1 - b > 0) esc = true;
            j = q;
            break;
          }
          esc = true;
          j = q + 1;
        }
        // any other escape (`\\`) inside: the next backslash after the opening quote, found once per text
        if (!esc) {
          if (this.nextBackslash <= i) {
            const b = s.indexOf('\\', i + 1);
            this.nextBackslash = b < 0 ? Infinity : b;
          }
          if (this.nextBackslash < j) esc = true;
        }
      }
      if (j >= end)
        this.diags.error(
          'iptables-unclosed-quote',
          this.lineNo,
          i + 1 - this.lineStart,
          'a quoted value never closes',
        );
      this.ts = i + 1;
      this.te = Math.min(j, end);
      this.pos = Math.min(j + 1, end);
      this.quoted = true;
      this.escaped = esc;
      return true;
    }
    let j: number;
    if (this.checkChars) {
      for (j = i; j < end; j++) {
        const c = s.charCodeAt(j);
        if (c === 32) break;
        if (c < 32 || c > 126) this.checkCode(c);
      }
    } else {
      j = s.indexOf(' ', i);
      if (j < 0 || j > end) j = end;
    }
    this.ts = i;
    this.te = j;
    this.pos = j;
    this.quoted = false;
    this.escaped = false;
    return true;
  }

  private checkCode(c: number): void {
    if (isUnsafeCode(c)) this.unsafe = true;
  }

  /** The current token as a string (unescaped), neutralised and cut when needed. */
  private tok(): string {
    let v = this.s.slice(this.ts, this.te);
    if (this.escaped) v = v.replace(/\\(.)/g, '$1');
    if (this.unsafe || v.length > FIELD_LIMIT)
      v = field(v, this.diags, this.lineNo, this.ts + 1 - this.lineStart);
    return v;
  }

  /** The current token as one of `names` (a shared string, so 160k rules do not hold 160k copies of "tcp"). */
  private common(names: readonly string[]): string | null {
    if (this.quoted) return null;
    const len = this.te - this.ts;
    for (const n of names) if (n.length === len && this.s.startsWith(n, this.ts)) return n;
    return null;
  }

  /** Is the current token exactly `lit`? (no allocation) */
  private is(lit: string): boolean {
    return this.te - this.ts === lit.length && this.s.startsWith(lit, this.ts);
  }

  /** Option code of the current token, by length and characters (no allocation). */
  private option(): number {
    const s = this.s;
    const ts = this.ts;
    const len = this.te - ts;
    if (this.quoted || s.charCodeAt(ts) !== 45) return OPT_NONE;
    if (len === 2) {
      switch (s.charCodeAt(ts + 1)) {
        case 115 /* s */:
          return OPT_SRC;
        case 100 /* d */:
          return OPT_DST;
        case 112 /* p */:
          return OPT_PROTO;
        case 105 /* i */:
          return OPT_IN;
        case 111 /* o */:
          return OPT_OUT;
        case 102 /* f */:
          return OPT_FRAG;
        case 109 /* m */:
          return OPT_MATCH;
        case 106 /* j */:
          return OPT_JUMP;
        case 103 /* g */:
          return OPT_GOTO;
        case 99 /* c */:
          return OPT_COUNTERS;
        default:
          return OPT_OTHER;
      }
    }
    if (s.charCodeAt(ts + 1) !== 45) return OPT_OTHER;
    // Each literal below has the length of its case.
    switch (len) {
      case 6:
        return s.startsWith('--jump', ts) ? OPT_JUMP : s.startsWith('--goto', ts) ? OPT_GOTO : OPT_OTHER;
      case 7:
        return s.startsWith('--dport', ts)
          ? OPT_DPORT
          : s.startsWith('--sport', ts)
            ? OPT_SPORT
            : s.startsWith('--match', ts)
              ? OPT_MATCH
              : OPT_OTHER;
      case 8:
        return s.startsWith('--dports', ts)
          ? OPT_DPORT
          : s.startsWith('--sports', ts)
            ? OPT_SPORT
            : s.startsWith('--source', ts)
              ? OPT_SRC
              : OPT_OTHER;
      case 9:
        return s.startsWith('--comment', ts) ? OPT_COMMENT : OPT_OTHER;
      case 10:
        return s.startsWith('--protocol', ts)
          ? OPT_PROTO
          : s.startsWith('--fragment', ts)
            ? OPT_FRAG
            : OPT_OTHER;
      case 13:
        return s.startsWith('--probability', ts)
          ? OPT_PROB
          : s.startsWith('--destination', ts)
            ? OPT_DST
            : s.startsWith('--source-port', ts)
              ? OPT_SPORT
              : OPT_OTHER;
      case 14:
        return s.startsWith('--in-interface', ts)
          ? OPT_IN
          : s.startsWith('--source-ports', ts)
            ? OPT_SPORT
            : s.startsWith('--set-counters', ts)
              ? OPT_COUNTERS
              : OPT_OTHER;
      case 15:
        return s.startsWith('--out-interface', ts) ? OPT_OUT : OPT_OTHER;
      case 18:
        return s.startsWith('--destination-port', ts) ? OPT_DPORT : OPT_OTHER;
      case 19:
        return s.startsWith('--destination-ports', ts) ? OPT_DPORT : OPT_OTHER;
      default:
        return OPT_OTHER;
    }
  }

  private readonly matchNames: string[] = [];
  /** Lists of common match names, shared between rules (most rules of a dump have one of a few lists). */
  private readonly matchLists = new Map<number, string[]>();

  private sharedMatches(): string[] {
    const names = this.matchNames;
    let key = 0;
    if (names.length <= 5)
      for (const n of names) {
        const i = MATCH_NAMES.indexOf(n);
        if (i < 0) {
          key = -1;
          break;
        }
        key = key * 32 + i + 1;
      }
    else key = -1;
    if (key < 0) return names.slice();
    let list = this.matchLists.get(key);
    if (list === undefined) {
      list = Object.freeze(names.slice()) as string[];
      this.matchLists.set(key, list);
    }
    return list;
  }
  private lastChainName = '';
  private lastChain: IptablesChain | null = null;
  private lastChainTable: string | null = null;

  private rule(
    text: string,
    start: number,
    stop: number,
    packets: number | null,
    bytes: number | null,
  ): void {
    this.sawAnything = true;
    this.s = text;
    this.pos = start;
    this.end = stop;
    this.lineStart = start;
    this.unsafe = false;
    if (this.matchNames.length !== 0) this.matchNames.length = 0;
    this.scan();
    if (!(this.is('-A') || this.is('--append') || this.is('-I') || this.is('--insert'))) {
      this.diags.error(
        'iptables-bad-rule',
        this.lineNo,
        1,
        `a rule line starts with -A CHAIN, not "${clip(text.slice(this.ts, this.te))}"`,
      );
      return;
    }
    if (!this.scan()) {
      this.diags.error('iptables-bad-rule', this.lineNo, this.pos + 1 - start, '-A needs a chain name');
      return;
    }
    const chainTs = this.ts;
    const chainTe = this.te;
    const rule: IptablesRule = {
      raw: '',
      line: this.lineNo,
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
      negations: NO_NEGATIONS,
      matches: NO_MATCHES,
      matchOptions: null,
      packets,
      bytes,
      // present on every rule so all rules share one shape (adding it later costs a property store per rule)
      targetOptions: null,
    };
    let negate = false;
    let optStart = 0;
    let spanStart = -1;
    let spanEnd = -1;
    let spans: string | null = null;
    while (this.scan()) {
      if (!this.quoted && this.te - this.ts === 1 && text.charCodeAt(this.ts) === 33 /* ! */) {
        negate = true;
        optStart = this.ts;
        continue;
      }
      if (!negate) optStart = this.ts;
      const opt = this.option();
      let basic = true;
      switch (opt) {
        case OPT_NONE:
          this.diags.warn(
            'iptables-stray-value',
            this.lineNo,
            this.ts + 1 - start,
            `"${clip(text.slice(this.ts, this.te))}" is not an option`,
          );
          break;
        case OPT_SRC:
          rule.source = this.value(rule, negate, 'source');
          break;
        case OPT_DST:
          rule.destination = this.value(rule, negate, 'destination');
          break;
        case OPT_PROTO:
          if (negate) negated(rule, 'protocol');
          rule.protocol = this.scan() ? (this.common(PROTOCOLS) ?? this.tok()) : null;
          break;
        case OPT_IN:
          rule.inInterface = this.value(rule, negate, 'inInterface');
          break;
        case OPT_OUT:
          rule.outInterface = this.value(rule, negate, 'outInterface');
          break;
        case OPT_FRAG:
          if (negate) negated(rule, 'fragment');
          break;
        case OPT_COUNTERS: {
          rule.packets = this.scan() ? int(text.slice(this.ts, this.te)) : null;
          rule.bytes = this.scan() ? int(text.slice(this.ts, this.te)) : null;
          break;
        }
        case OPT_JUMP:
        case OPT_GOTO: {
          if (!this.scan()) {
            this.missing(start);
            break;
          }
          rule.target = this.common(TARGET_NAMES) ?? this.tok();
          rule.targetKind = opt === OPT_GOTO ? 'goto' : 'jump';
          this.targetOptions(rule);
          break;
        }
        default:
          basic = false;
          this.matchPart(opt, rule, negate, start);
      }
      negate = false;
      if (basic) {
        if (spanStart >= 0) {
          const seg = text.slice(spanStart, spanEnd);
          spans = spans === null ? seg : `${spans} ${seg}`;
          spanStart = -1;
        }
      } else {
        if (spanStart < 0) spanStart = optStart;
        spanEnd = this.pos;
      }
    }
    if (spanStart >= 0) {
      const seg = text.slice(spanStart, spanEnd);
      spans = spans === null ? seg : `${spans} ${seg}`;
    }
    if (negate)
      this.diags.warn(
        'iptables-dangling-negation',
        this.lineNo,
        stop - start,
        '"!" at the end of a rule negates nothing',
      );
    rule.matchOptions = spans;
    if (this.matchNames.length > 0) {
      rule.matches = this.sharedMatches();
      this.matchNames.length = 0;
    }
    rule.raw = text.slice(start, stop);
    if (this.unsafe || stop - start > FIELD_LIMIT * 4) {
      rule.raw = neutralise(rule.raw);
      if (rule.matchOptions !== null) rule.matchOptions = neutralise(rule.matchOptions);
      if (rule.targetOptions) rule.targetOptions = neutralise(rule.targetOptions);
      this.diags.warn('control-characters', this.lineNo, 1, 'control characters in a rule were made visible');
    }
    // Rules of one chain come together: reuse the last lookup.
    const len = chainTe - chainTs;
    let chain = this.lastChain;
    if (
      chain === null ||
      this.lastChainTable !== this.table ||
      this.lastChainName.length !== len ||
      !text.startsWith(this.lastChainName, chainTs)
    ) {
      // iptables-save prints rules in the order it declared their chains; chains with no rules are skipped, so
      // look a few declarations ahead before hashing the name (which builds the by-name index on first use).
      let found = -1;
      if (!this.unsafe)
        for (let k = this.cursor + 1, end = Math.min(this.order.length, k + LOOKAHEAD); k < end; k++) {
          const o = this.order[k]!;
          if (o.table === this.table && o.name.length === len && text.startsWith(o.name, chainTs)) {
            found = k;
            break;
          }
        }
      if (found >= 0) {
        const next = this.order[found]!;
        this.cursor = found;
        chain = next.chain;
        this.lastChainName = next.name;
      } else {
        this.ts = chainTs;
        this.te = chainTe;
        this.quoted = false;
        this.escaped = false;
        const name = this.tok();
        chain = this.chain(this.currentTable(name), name, true);
        this.lastChainName = name;
      }
      this.lastChain = chain;
      this.lastChainTable = this.table;
    }
    chain.rules.push(rule);
  }

  /** A match option: `-m NAME`, `--comment`, ports, `--probability`, or one we keep only in the text. */
  private matchPart(opt: number, rule: IptablesRule, negate: boolean, start: number): void {
    switch (opt) {
      case OPT_MATCH:
        if (this.scan()) this.matchNames.push(this.common(MATCH_NAMES) ?? this.tok());
        else this.missing(start);
        return;
      case OPT_COMMENT:
        if (this.scan()) {
          const c = this.tok();
          rule.comment = rule.comment === null ? c : `${rule.comment} ; ${c}`;
        } else this.missing(start);
        return;
      case OPT_DPORT:
        rule.dport = this.value(rule, negate, 'dport');
        return;
      case OPT_SPORT:
        rule.sport = this.value(rule, negate, 'sport');
        return;
      case OPT_PROB: {
        const ok = this.scan();
        const p = ok ? Number(this.s.slice(this.ts, this.te)) : NaN;
        if (!(p >= 0 && p <= 1))
          this.diags.warn(
            'iptables-bad-probability',
            this.lineNo,
            this.ts + 1 - start,
            `--probability needs a number in [0, 1], got "${clip(ok ? this.s.slice(this.ts, this.te) : '')}"`,
          );
        else rule.probability = p;
        return;
      }
      default:
        // An option we do not model (`--mode random`, `--ctstate NEW`, `--dst-type LOCAL`): its values stay in
        // the text. Values run up to the next option or `!`.
        this.skipValues();
    }
  }

  private value(rule: IptablesRule, negate: boolean, name: NegatableField): string | null {
    if (negate) negated(rule, name);
    if (!this.scan()) {
      this.diags.warn(
        'iptables-missing-value',
        this.lineNo,
        this.pos + 1 - this.lineStart,
        `option for ${name} has no value`,
      );
      return null;
    }
    return this.tok();
  }

  private missing(start: number): void {
    this.diags.warn(
      'iptables-missing-value',
      this.lineNo,
      this.pos + 1 - start,
      `${clip(this.s.slice(this.ts, this.te))} has no value`,
    );
  }

  /** Skip the values of an unmodelled option: tokens up to the next option or `!`. */
  private skipValues(): void {
    const s = this.s;
    for (;;) {
      let i = this.pos;
      while (i < this.end && s.charCodeAt(i) === 32) i++;
      if (i >= this.end) return;
      const c = s.charCodeAt(i);
      if (c === 45 /* - */ || (c === 33 /* ! */ && (i + 1 === this.end || s.charCodeAt(i + 1) === 32)))
        return;
      this.scan();
    }
  }

  /** Everything after `-j X`: the target's options (`--to-destination`, `--set-xmark`, …). */
  private targetOptions(rule: IptablesRule): void {
    let i = this.pos;
    while (i < this.end && this.s.charCodeAt(i) === 32) i++;
    if (i >= this.end) return;
    const from = i;
    while (this.scan()) {
      if (this.is('--to-destination') || this.is('--to')) {
        if (this.scan()) rule.toDestination = this.tok();
      } else if (!this.quoted && (this.is('-m') || this.is('-j') || this.is('-g'))) {
        // iptables-save prints target options last; anything after is a hand-written rule: read it normally.
        rule.targetOptions = this.s.slice(from, this.ts).trimEnd() || null;
        this.pos = this.ts;
        return;
      }
    }
    rule.targetOptions = this.s.slice(from, this.end);
  }

  finish(): IptablesSaveResult {
    this.order.length = 0;
    this.index.clear();
    if (!this.committed && this.table !== null)
      this.diags.warn(
        'iptables-missing-commit',
        this.lineNo,
        1,
        `table ${this.table} (line ${this.tableLine}) ends without COMMIT (output cut short?)`,
      );
    if (!this.sawAnything)
      this.diags.error(
        'iptables-empty',
        1,
        1,
        'no iptables-save lines found (expected *table, :CHAIN, -A, COMMIT)',
      );
    return { kind: 'iptables-save', value: this.ruleset, diagnostics: this.diags.done() };
  }
}

function parseCounters(s: string): [number, number] | null {
  if (s.charCodeAt(0) !== 91 || s.charCodeAt(s.length - 1) !== 93) return null;
  const colon = s.indexOf(':');
  if (colon < 0) return null;
  const p = s.slice(1, colon);
  const b = s.slice(colon + 1, s.length - 1);
  if (!/^\d+$/.test(p) || !/^\d+$/.test(b)) return null;
  return [Number(p), Number(b)];
}

function safe(s: string, diags: Diagnostics, line: number, column: number, what = 'a chain name'): string {
  if (!hasUnsafe(s) && s.length <= FIELD_LIMIT) return s;
  diags.warn('control-characters', line, column, `${what} had control characters; they were made visible`);
  return neutralise(s).slice(0, FIELD_LIMIT);
}

/** Text quoted in a diagnostic: neutralised (it came from the input) and cut to 60 characters. */
function clip(s: string): string {
  const n = neutralise(s);
  return n.length > 60 ? `${n.slice(0, 57)}...` : n;
}
