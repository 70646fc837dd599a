/**
 * Reads kube-proxy's iptables mode out of one node's nat table: which rule sends a service's ClusterIP:port, NodePort
 * and load-balancer IPs where, and which KUBE-SEP chains (with which probability and DNAT target) sit behind it.
 *
 * Layout, from kubernetes/kubernetes pkg/proxy/iptables/proxier.go:
 * - 2019 (the seed, v1.11–1.13): `KUBE-SERVICES -d CIP/32 -p tcp -m comment --comment "ns/svc:port cluster IP" -m tcp
 *   --dport P -j KUBE-SVC-X`; NodePorts in KUBE-NODEPORTS → KUBE-SVC-X (or KUBE-XLB-X for externalTrafficPolicy
 *   Local); load balancers through KUBE-FW-X; probabilities printed by kube-proxy with 5 decimals.
 * - current (v1.25+): the same entry with options reordered; NodePorts and load balancers go through KUBE-EXT-X,
 *   which jumps to KUBE-SVC-X (Cluster) or KUBE-SVL-X (Local endpoints only); KUBE-FW-X only for
 *   loadBalancerSourceRanges; KUBE-SVC-X rules carry comments `"ns/svc:port -> IP:PORT"`; 10 decimals.
 * Either way iptables-save prints the probability with 11 decimals of a 2^-31-quantized value (xt_statistic).
 */
import type { IptablesRuleset } from '../model/iptables.js';
import { factsOfRule, hostAddress, readRule, type RuleFacts } from './ruleFacts.js';

/** A rule with where it sits: the table, chain and 1-based position iptables-save printed it at. */
export interface RuleRef {
  readonly table: string;
  readonly chain: string;
  readonly index: number;
  readonly raw: string;
}

export interface NatIndex {
  /** Chains the capture contains (declared with `:NAME` or holding rules). */
  readonly present: ReadonlySet<string>;
  /** The rules of a chain, read on first use; undefined when the capture has no such chain. */
  readonly rules: { get(chain: string): readonly IndexedRule[] | undefined };
  /** Any kube-proxy chain at all (KUBE-SERVICES). */
  readonly hasKubeServices: boolean;
  /** KUBE-SERVICES jumps to service chains, by `ip:port` and by the comment's `ns/name:port`. */
  readonly servicesByDest: ReadonlyMap<string, readonly IndexedRule[]>;
  readonly servicesByKey: ReadonlyMap<string, readonly IndexedRule[]>;
  /** KUBE-NODEPORTS jumps, by port and by comment key. */
  readonly nodePortsByPort: ReadonlyMap<number, readonly IndexedRule[]>;
  readonly nodePortsByKey: ReadonlyMap<string, readonly IndexedRule[]>;
  /** The KUBE-SVC chain whose own rules carry this comment key (read on first use). */
  svcChainFor(key: string): string | undefined;
}

export type IndexedRule = RuleFacts & { readonly ref: RuleRef };

/**
 * Rules are read on first use, chain by chain: a node with 10,000 services has 160,000 rules, and most analyses look
 * at a few chains (the bench shows the cost of reading them all).
 */
class LazyRules {
  private readonly cache = new Map<string, IndexedRule[]>();

  constructor(private readonly chains: IptablesRuleset['tables'][string]['chains']) {}

  get(chain: string): readonly IndexedRule[] | undefined {
    const hit = this.cache.get(chain);
    if (hit) return hit;
    const c = Object.prototype.hasOwnProperty.call(this.chains, chain) ? this.chains[chain] : undefined;
    if (!c) return undefined;
    const list: IndexedRule[] = [];
    for (let i = 0; i < c.rules.length; i++) {
      const rule = c.rules[i]!;
      const raw = rule.raw;
      // The parser's fields when it filled them; the text otherwise (a ruleset built by other means).
      const facts = (
        Array.isArray(rule.matches) && rule.negations !== undefined
          ? factsOfRule(rule, chain)
          : readRule(raw, chain)
      ) as IndexedRule & { ref: RuleRef };
      facts.ref = { table: 'nat', chain, index: i + 1, raw };
      list.push(facts);
    }
    this.cache.set(chain, list);
    return list;
  }

  names(): string[] {
    return Object.keys(this.chains);
  }
}

export function indexNat(ruleset: IptablesRuleset): NatIndex {
  const nat = ruleset.tables['nat'];
  const present = new Set<string>(nat ? Object.keys(nat.chains) : []);
  const rules = new LazyRules(nat ? nat.chains : {});
  const servicesByDest = new Map<string, IndexedRule[]>();
  const servicesByKey = new Map<string, IndexedRule[]>();
  for (const r of rules.get('KUBE-SERVICES') ?? []) {
    if (r.target === 'KUBE-MARK-MASQ' || chainKind(r.target) === undefined) continue;
    if (r.destination !== undefined && r.dport !== undefined && !r.negated.includes('-d'))
      push(servicesByDest, `${hostAddress(r.destination)}:${r.dport}`, r);
    const key = splitComment(r.comment)?.key;
    if (key !== undefined) push(servicesByKey, key, r);
  }
  const nodePortsByPort = new Map<number, IndexedRule[]>();
  const nodePortsByKey = new Map<string, IndexedRule[]>();
  for (const r of rules.get('KUBE-NODEPORTS') ?? []) {
    if (r.target === 'KUBE-MARK-MASQ' || chainKind(r.target) === undefined) continue;
    if (r.dport !== undefined && !r.negated.includes('--dport')) push(nodePortsByPort, r.dport, r);
    const key = splitComment(r.comment)?.key;
    if (key !== undefined) push(nodePortsByKey, key, r);
  }
  let svcChainByKey: Map<string, string> | undefined;
  const svcChainFor = (key: string): string | undefined => {
    if (!svcChainByKey) {
      svcChainByKey = new Map();
      for (const chain of rules.names()) {
        if (!chain.startsWith('KUBE-SVC-')) continue;
        for (const r of rules.get(chain) ?? []) {
          const k = splitComment(r.comment)?.key;
          if (k !== undefined && !svcChainByKey.has(k)) svcChainByKey.set(k, chain);
        }
      }
    }
    return svcChainByKey.get(key);
  };
  return {
    present,
    rules,
    hasKubeServices: present.has('KUBE-SERVICES'),
    servicesByDest,
    servicesByKey,
    nodePortsByPort,
    nodePortsByKey,
    svcChainFor,
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `"default/kuard:http cluster IP"` → {key "default/kuard:http", rest "cluster IP"}. */
export function splitComment(comment: string | undefined): { key: string; rest: string } | undefined {
  if (comment === undefined) return undefined;
  const m = /^([^\s/]+\/[^\s:]+:\S*)(?:\s+(.*))?$/.exec(comment);
  if (!m) return undefined;
  return { key: m[1]!, rest: m[2] ?? '' };
}

/** kube-proxy's name for a service port in comments: `namespace/name:portName` (portName may be empty). */
export function servicePortKey(namespace: string, name: string, portName: string): string {
  return `${namespace}/${name}:${portName}`;
}

export interface SepTarget {
  readonly chain: string;
  readonly present: boolean;
  readonly dnat?: IndexedRule;
  readonly ip?: string;
  readonly port?: number;
  readonly setsAffinity: boolean;
}

export interface SvcBackendRule {
  readonly rule: IndexedRule;
  /** The rule's own --probability; undefined = taken by every connection that reaches it. */
  readonly probability?: number;
  /** The chance that a new connection entering the chain takes this rule: p_i × Π(1 − p_j), j < i. */
  readonly effective: number;
  readonly sep: SepTarget;
}

export interface ServiceChain {
  readonly chain: string;
  readonly present: boolean;
  /** The `-m statistic` spread over KUBE-SEP chains, in order. */
  readonly backends: readonly SvcBackendRule[];
  /** `-m recent --rcheck` rules that keep a client on the backend it had (sessionAffinity: ClientIP). */
  readonly affinityRules: readonly IndexedRule[];
  /** Rules that end the chain without a backend (REJECT/DROP for no endpoints, `KUBE-MARK-DROP`). */
  readonly otherRules: readonly IndexedRule[];
}

export function readSep(nat: NatIndex, chain: string): SepTarget {
  const rules = nat.rules.get(chain) ?? [];
  const dnat = rules.find((r) => r.target === 'DNAT');
  let ip: string | undefined;
  let port: number | undefined;
  if (dnat?.toDestination) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(dnat.toDestination);
    if (m) {
      ip = m[1];
      port = Number(m[2]);
    } else ip = dnat.toDestination;
  }
  return {
    chain,
    present: nat.present.has(chain),
    ...(dnat && { dnat }),
    ...(ip !== undefined && { ip }),
    ...(port !== undefined && { port }),
    setsAffinity: rules.some((r) => r.recent?.set === true),
  };
}

/** Walk a KUBE-SVC / KUBE-SVL / KUBE-XLB chain: its spread over SEP chains with effective probabilities. */
export function readServiceChain(nat: NatIndex, chain: string): ServiceChain {
  const rules = nat.rules.get(chain) ?? [];
  const backends: SvcBackendRule[] = [];
  const affinityRules: IndexedRule[] = [];
  const otherRules: IndexedRule[] = [];
  let remaining = 1;
  for (const r of rules) {
    if (r.target.startsWith('KUBE-SEP-')) {
      if (r.recent?.rcheck) {
        affinityRules.push(r);
        continue;
      }
      const p = r.probability;
      const taken = p === undefined ? 1 : p;
      backends.push({
        rule: r,
        ...(p !== undefined && { probability: p }),
        effective: remaining * taken,
        sep: readSep(nat, r.target),
      });
      remaining *= 1 - taken;
    } else if (r.target !== 'KUBE-MARK-MASQ') {
      otherRules.push(r);
    }
  }
  return { chain, present: nat.present.has(chain), backends, affinityRules, otherRules };
}

export interface PortLookup {
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly port: number;
  readonly protocol: string;
  readonly clusterIP?: string;
  readonly nodePort?: number;
  readonly externalAddresses: readonly string[];
}

export interface PortRules {
  /** The KUBE-SERVICES rule for ClusterIP:port (by address and port). */
  readonly clusterIPRule?: IndexedRule;
  /** KUBE-SERVICES rules whose comment names this service port as `cluster IP` but at another address or port. */
  readonly clusterIPRuleElsewhere: readonly IndexedRule[];
  readonly nodePortRule?: IndexedRule;
  /** KUBE-NODEPORTS rules naming this service port but at another port. */
  readonly nodePortRuleElsewhere: readonly IndexedRule[];
  /** `loadbalancer IP` / `external IP` entries in KUBE-SERVICES. */
  readonly externalRules: readonly IndexedRule[];
  readonly svc?: ServiceChain;
  /** KUBE-SVL (current) or KUBE-XLB (2019): local endpoints only, for externalTrafficPolicy: Local. */
  readonly local?: ServiceChain;
  readonly extChain?: string;
  readonly fwChain?: string;
}

const chainKinds = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-XLB-', 'KUBE-EXT-', 'KUBE-FW-'] as const;

function chainKind(target: string): (typeof chainKinds)[number] | undefined {
  return chainKinds.find((k) => target.startsWith(k));
}

function protoMatches(r: RuleFacts, protocol: string): boolean {
  return r.protocol === undefined || r.protocol.toLowerCase() === protocol.toLowerCase();
}

/** Follow EXT/FW chains down to the SVC and SVL/XLB chains they lead to. */
function followChains(
  nat: NatIndex,
  start: string,
  found: { svc?: string; local?: string; ext?: string; fw?: string },
  depth = 0,
): void {
  if (depth > 4) return;
  const kind = chainKind(start);
  if (kind === 'KUBE-SVC-') found.svc ??= start;
  else if (kind === 'KUBE-SVL-' || kind === 'KUBE-XLB-') found.local ??= start;
  else if (kind === 'KUBE-EXT-' || kind === 'KUBE-FW-') {
    if (kind === 'KUBE-EXT-') found.ext ??= start;
    else found.fw ??= start;
    for (const r of nat.rules.get(start) ?? []) {
      if (chainKind(r.target)) followChains(nat, r.target, found, depth + 1);
    }
  }
}

export function lookupPort(nat: NatIndex, p: PortLookup): PortRules {
  const key = servicePortKey(p.namespace, p.name, p.portName);
  const clusterIPRule =
    p.clusterIP === undefined
      ? undefined
      : (nat.servicesByDest.get(`${p.clusterIP}:${p.port}`) ?? []).find((r) => protoMatches(r, p.protocol));
  const named = (nat.servicesByKey.get(key) ?? []).filter((r) => protoMatches(r, p.protocol));
  const clusterIPRuleElsewhere = named.filter(
    (r) => r !== clusterIPRule && /cluster IP/.test(r.comment ?? ''),
  );
  const externalRules = named.filter((r) => /(loadbalancer|external) IP/.test(r.comment ?? ''));

  const nodePortRule =
    p.nodePort === undefined
      ? undefined
      : (nat.nodePortsByPort.get(p.nodePort) ?? []).find((r) => protoMatches(r, p.protocol));
  const nodePortRuleElsewhere = (nat.nodePortsByKey.get(key) ?? []).filter(
    (r) => r !== nodePortRule && protoMatches(r, p.protocol),
  );

  const found: { svc?: string; local?: string; ext?: string; fw?: string } = {};
  const entry = clusterIPRule ?? clusterIPRuleElsewhere[0];
  if (entry) followChains(nat, entry.target, found);
  if (nodePortRule) followChains(nat, nodePortRule.target, found);
  for (const r of externalRules) followChains(nat, r.target, found);
  // A service with no ClusterIP entry: find its SVC chain by the comments on the chain's own rules.
  found.svc ??= nat.svcChainFor(key);
  return {
    ...(clusterIPRule && { clusterIPRule }),
    clusterIPRuleElsewhere,
    ...(nodePortRule && { nodePortRule }),
    nodePortRuleElsewhere,
    externalRules,
    ...(found.svc !== undefined && { svc: readServiceChain(nat, found.svc) }),
    ...(found.local !== undefined && { local: readServiceChain(nat, found.local) }),
    ...(found.ext !== undefined && { extChain: found.ext }),
    ...(found.fw !== undefined && { fwChain: found.fw }),
  };
}
