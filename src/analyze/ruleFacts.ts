/**
 * The few facts analysis needs from one iptables rule. From the iptables-save parser's structured rule when it
 * filled one ({@link factsOfRule}: its fields, plus the match options it leaves as text), else from the exact line
 * ({@link readRule}). Evidence always quotes `raw`, the rule as iptables-save printed it. Both of kube-proxy's
 * option orders read the same (2019: `-d IP -p tcp -m comment ... -m tcp --dport`, current: `-m comment ... -m tcp
 * -p tcp -d IP --dport`). Quoting follows iptables-save: double quotes around arguments with spaces, `\"` and `\\`
 * inside.
 */
import type { IptablesRule } from '../model/iptables.js';

export interface RuleFacts {
  readonly raw: string;
  readonly chain: string;
  /** `-j` or `-g` target, "" when the rule has none. */
  readonly target: string;
  readonly goto: boolean;
  readonly comment?: string;
  readonly source?: string;
  readonly destination?: string;
  readonly protocol?: string;
  readonly dport?: number;
  /** `-m statistic --mode random --probability P`. */
  readonly probability?: number;
  /** DNAT `--to-destination ip:port`. */
  readonly toDestination?: string;
  /** `-m recent`: `--set` in a SEP chain, `--rcheck --seconds N` in a SVC chain (session affinity). */
  readonly recent?: {
    readonly set: boolean;
    readonly rcheck: boolean;
    readonly seconds?: number;
    readonly name?: string;
  };
  readonly dstType?: string;
  readonly srcType?: string;
  /** `-m set --match-set NAME`: kube-proxy's IPVS mode matches ipsets (KUBE-CLUSTER-IP …). */
  readonly matchSet?: string;
  /** Options written with a leading `!`, e.g. `-s` in `! -s 10.0.0.0/8`. */
  readonly negated: readonly string[];
}

export function tokenizeRule(raw: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = raw.length;
  while (i < n) {
    while (i < n && (raw.charCodeAt(i) === 32 || raw.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    if (raw.charCodeAt(i) === 34) {
      // "quoted": slice between quotes, unescape only when a backslash is present.
      let j = i + 1;
      let escaped = false;
      while (j < n && raw.charCodeAt(j) !== 34) {
        if (raw.charCodeAt(j) === 92) {
          escaped = true;
          j++;
        }
        j++;
      }
      const body = raw.slice(i + 1, Math.min(j, n));
      out.push(escaped ? body.replace(/\\(.)/g, '$1') : body);
      i = j + 1;
    } else {
      let j = raw.indexOf(' ', i);
      if (j < 0) j = n;
      out.push(raw.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Strip a `/32` host mask so addresses compare with pod and service IPs. */
export function hostAddress(cidr: string): string {
  return cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr;
}

const noNegations: readonly string[] = Object.freeze([]);

export function readRule(raw: string, chainHint = ''): RuleFacts {
  const t = tokenizeRule(raw);
  let chain = chainHint;
  let target = '';
  let goto = false;
  let comment: string | undefined;
  let source: string | undefined;
  let destination: string | undefined;
  let protocol: string | undefined;
  let dport: number | undefined;
  let probability: number | undefined;
  let toDestination: string | undefined;
  let recent: { set: boolean; rcheck: boolean; seconds?: number; name?: string } | undefined;
  let dstType: string | undefined;
  let srcType: string | undefined;
  let matchSet: string | undefined;
  const negated: string[] = [];
  // `ref` is filled in by the indexer; declared here so every rule object has the same shape.
  let negateNext = false;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    const next = t[i + 1];
    if (tok === '!') {
      negateNext = true;
      continue;
    }
    if (negateNext) {
      negated.push(tok);
      negateNext = false;
    }
    switch (tok) {
      case '-A':
      case '--append':
        chain = next ?? chain;
        i++;
        break;
      case '-j':
      case '--jump':
        target = next ?? '';
        i++;
        break;
      case '-g':
      case '--goto':
        target = next ?? '';
        goto = true;
        i++;
        break;
      case '--comment':
        if (comment === undefined) comment = next;
        i++;
        break;
      case '-s':
      case '--source':
        source = next;
        i++;
        break;
      case '-d':
      case '--destination':
        destination = next;
        i++;
        break;
      case '-p':
      case '--protocol':
        protocol = next;
        i++;
        break;
      case '--dport':
      case '--destination-port':
        dport = next === undefined ? undefined : Number(next);
        i++;
        break;
      case '--probability':
        probability = next === undefined ? undefined : Number(next);
        i++;
        break;
      case '--to-destination':
        toDestination = next;
        i++;
        break;
      case '--set':
        recent = { ...(recent ?? { set: false, rcheck: false }), set: true };
        break;
      case '--rcheck':
        recent = { ...(recent ?? { set: false, rcheck: false }), rcheck: true };
        break;
      case '--seconds':
        recent = { ...(recent ?? { set: false, rcheck: false }), seconds: Number(next) };
        i++;
        break;
      case '--name':
        recent = { ...(recent ?? { set: false, rcheck: false }), name: next };
        i++;
        break;
      case '--dst-type':
        dstType = next;
        i++;
        break;
      case '--src-type':
        srcType = next;
        i++;
        break;
      case '--match-set':
        matchSet = next;
        i++;
        break;
      default:
        break;
    }
  }
  // One object shape for every rule (no conditional spreads): V8 keeps it fast over 100,000s of rules.
  return {
    raw,
    chain,
    target,
    goto,
    comment,
    source,
    destination,
    protocol,
    dport: dport !== undefined && Number.isFinite(dport) ? dport : undefined,
    probability: probability !== undefined && Number.isFinite(probability) ? probability : undefined,
    toDestination,
    recent,
    dstType,
    srcType,
    matchSet,
    negated: negated.length === 0 ? noNegations : negated,
    ref: undefined,
  } as RuleFacts;
}

const negationFlag: Record<string, string> = {
  source: '-s',
  destination: '-d',
  protocol: '-p',
  inInterface: '-i',
  outInterface: '-o',
  dport: '--dport',
  sport: '--sport',
  fragment: '-f',
};

/**
 * The same facts from the iptables-save parser's structured rule: its fields are the parser's reading of `raw`, so
 * only the match options analysis needs beyond them (`-m recent`, `-m addrtype`, `-m set`) are read from text.
 */
export function factsOfRule(rule: IptablesRule, chain: string): RuleFacts {
  const needsText = rule.matches.some((m) => m === 'recent' || m === 'addrtype' || m === 'set');
  const extra = needsText && rule.matchOptions !== null ? readRule(rule.matchOptions, chain) : undefined;
  const dport = rule.dport !== null && /^\d+$/.test(rule.dport) ? Number(rule.dport) : undefined;
  return {
    raw: rule.raw,
    chain,
    target: rule.target ?? '',
    goto: rule.targetKind === 'goto',
    comment: rule.comment ?? undefined,
    source: rule.source ?? undefined,
    destination: rule.destination ?? undefined,
    protocol: rule.protocol ?? undefined,
    dport,
    probability: rule.probability ?? undefined,
    toDestination: rule.toDestination ?? undefined,
    recent: extra?.recent,
    dstType: extra?.dstType,
    srcType: extra?.srcType,
    matchSet: extra?.matchSet,
    negated: rule.negations.length === 0 ? noNegations : rule.negations.map((n) => negationFlag[n] ?? n),
    ref: undefined,
  } as RuleFacts;
}
