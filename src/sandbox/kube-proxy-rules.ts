/**
 * kube-proxy's iptables mode, as text: Services + ready endpoints → the exact payload kube-proxy hands to
 * `iptables-restore --noflush`, plus the jump rules it ensures in the built-in chains.
 *
 * Format follows kubernetes/kubernetes `pkg/proxy/iptables/proxier.go` (syncProxyRules / writeServiceToEndpointRules,
 * v1.28+ layout with KUBE-EXT-* chains and the KUBE-POSTROUTING RETURN/xor-mark/MASQUERADE triple) and the expected
 * dumps in its `proxier_test.go` (e.g. "ns1/svc1:p80" + "tcp" → KUBE-SVC-XPGD46QRK7WJZT7O,
 * "ns1/svc1:p80" + "tcp" + "10.180.0.1:80" → KUBE-SEP-SXIVWICOYRO3J4NJ).
 *
 * Pure apart from hashing: no I/O, no clock. Fast enough for a 5,000-service ruleset (one sha256 per chain, one
 * array join at the end), so `bench/` can reuse it to make large realistic inputs for the parsers.
 */
import { createHash } from 'node:crypto';

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface EndpointSpec {
  readonly ip: string;
  readonly port: number;
  /** The endpoint runs on the node the rules are for (what `externalTrafficPolicy: Local` sends to). */
  readonly local?: boolean;
}

/** One port of one Service (kube-proxy works per ServicePortName). */
export interface ServicePortSpec {
  readonly namespace: string;
  readonly name: string;
  /** `spec.ports[].name`; empty for an unnamed single port. */
  readonly portName: string;
  readonly protocol: ServiceProtocol;
  readonly clusterIP: string;
  readonly port: number;
  /** 0 or absent: no NodePort. */
  readonly nodePort?: number;
  /** Ready endpoints, in any order (kube-proxy sorts them, see `sortEndpoints`). */
  readonly endpoints: readonly EndpointSpec[];
  /** `status.loadBalancer.ingress[].ip`: each gets a "loadbalancer IP" rule in KUBE-SERVICES → KUBE-EXT-*. */
  readonly loadBalancerIPs?: readonly string[];
  /**
   * `externalTrafficPolicy: Local`: KUBE-EXT-* sends pod and node-local traffic to KUBE-SVC-*, the rest to
   * KUBE-SVL-* over the endpoints marked `local` (proxier.go "pod traffic for … external destinations").
   */
  readonly externalTrafficPolicyLocal?: boolean;
  /** `sessionAffinity: ClientIP` with this timeout: `-m recent` rules ahead of the random ones, `--set` in each SEP. */
  readonly affinitySeconds?: number;
}

export interface KubeProxyRulesOptions {
  /**
   * kube-proxy's `--cluster-cidr` (the pod network). When set, KUBE-SVC-* chains start with the
   * "masquerade off-cluster traffic" rule `! -s <cidr> -j KUBE-MARK-MASQ` (localDetector.IfNotLocal()).
   */
  readonly clusterCIDR?: string;
  /** `--masquerade-all`: mark all service traffic for SNAT instead. */
  readonly masqueradeAll?: boolean;
  /** The masquerade mark as kube-proxy prints it; iptables-save shows `0x4000` for the default bit 14. */
  readonly masqueradeMark?: string;
  /**
   * `--iptables-localhost-nodeports` (default true, IPv4): kube-proxy then also writes KUBE-FIREWALL's "block
   * incoming localnet connections" rule (proxier_test.go TestLoadBalancer's expected filter table).
   */
  readonly localhostNodePorts?: boolean;
  /** iptables supports `--random-fully` (true for any iptables ≥ 1.6.2, as on this machine). */
  readonly randomFully?: boolean;
  /** `nf_conntrack_tcp_be_liberal` set: kube-proxy then omits the INVALID DROP rule in KUBE-FORWARD. */
  readonly conntrackTCPLiberal?: boolean;
  /**
   * Override the `--probability` text of the i-th (0-based) of n rules in one service chain. For faults
   * (a skewed chain). Default: kube-proxy's own `%0.10f` of 1/(n-i). `null` leaves the statistic match out.
   */
  readonly probability?: (svc: ServicePortSpec, index: number, n: number) => string | null;
  /**
   * Force kube-proxy's "large cluster mode" (no per-endpoint comments) on or off. Default: on above
   * LARGE_CLUSTER_ENDPOINTS_THRESHOLD endpoints in total, as kube-proxy decides it.
   */
  readonly largeClusterMode?: boolean;
}

/** Above this many endpoints in total kube-proxy runs in "large cluster mode" and drops per-endpoint comments. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** First 16 characters of Go's `base32.StdEncoding.EncodeToString(sha256(s))` (10 bytes → 16 chars). */
export function hashPrefix16(s: string): string {
  const h = createHash('sha256').update(s).digest();
  let out = '';
  for (let g = 0; g < 2; g++) {
    // 5 bytes → 8 chars
    const o = g * 5;
    const b0 = h[o]!,
      b1 = h[o + 1]!,
      b2 = h[o + 2]!,
      b3 = h[o + 3]!,
      b4 = h[o + 4]!;
    out +=
      BASE32[b0 >> 3]! +
      BASE32[((b0 & 7) << 2) | (b1 >> 6)]! +
      BASE32[(b1 >> 1) & 31]! +
      BASE32[((b1 & 1) << 4) | (b2 >> 4)]! +
      BASE32[((b2 & 15) << 1) | (b3 >> 7)]! +
      BASE32[(b3 >> 2) & 31]! +
      BASE32[((b3 & 3) << 3) | (b4 >> 5)]! +
      BASE32[b4 & 31]!;
  }
  return out;
}

/** `proxy.ServicePortName.String()`: `ns/name` plus `:port` when the port is named. */
export function servicePortNameString(svc: Pick<ServicePortSpec, 'namespace' | 'name' | 'portName'>): string {
  return svc.portName === ''
    ? `${svc.namespace}/${svc.name}`
    : `${svc.namespace}/${svc.name}:${svc.portName}`;
}

/** `servicePortChainNameBase`: sha256 of ServicePortName + lower-case protocol. */
export function serviceChainBase(
  svc: Pick<ServicePortSpec, 'namespace' | 'name' | 'portName' | 'protocol'>,
): string {
  return hashPrefix16(servicePortNameString(svc) + svc.protocol.toLowerCase());
}

export function serviceChainName(
  svc: Pick<ServicePortSpec, 'namespace' | 'name' | 'portName' | 'protocol'>,
): string {
  return `KUBE-SVC-${serviceChainBase(svc)}`;
}

export function externalChainName(
  svc: Pick<ServicePortSpec, 'namespace' | 'name' | 'portName' | 'protocol'>,
): string {
  return `KUBE-EXT-${serviceChainBase(svc)}`;
}

/** `servicePortEndpointChainName`: sha256 of ServicePortName + protocol + "ip:port". */
export function endpointChainName(
  svc: Pick<ServicePortSpec, 'namespace' | 'name' | 'portName' | 'protocol'>,
  ep: EndpointSpec,
): string {
  return `KUBE-SEP-${hashPrefix16(servicePortNameString(svc) + svc.protocol.toLowerCase() + endpointString(ep))}`;
}

export function endpointString(ep: EndpointSpec): string {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

/** kube-proxy's `probability(n)`: `fmt.Sprintf("%0.10f", 1.0/float64(n))`. */
export function probabilityString(n: number): string {
  return (1 / n).toFixed(10);
}

/** The endpoint slice cache keeps endpoints sorted by their "ip:port" string (byAddress), so chains are stable. */
export function sortEndpoints(eps: readonly EndpointSpec[]): EndpointSpec[] {
  return eps
    .map((e) => ({ e, k: endpointString(e) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.e);
}

/** Quote a comment the way kube-proxy writes it: in double quotes when it has spaces. */
function comment(text: string): string {
  return /[\s"]/.test(text) ? `"${text}"` : text;
}

/**
 * The restore payload of one full sync, in kube-proxy's write order: `*filter` chain lines then rules, `COMMIT`,
 * `*nat` chain lines then rules, `COMMIT`. Services are written in the order given (kube-proxy iterates a Go map,
 * so its own order varies from sync to sync).
 */
export function kubeProxyRestoreText(
  services: readonly ServicePortSpec[],
  opts: KubeProxyRulesOptions = {},
): string {
  const p = kubeProxySyncParts(services, opts);
  const block = (lines: readonly string[]): string => (lines.length ? `${lines.join('\n')}\n` : '');
  return `*filter\n${block(p.filterChains)}${block(p.filterRules)}COMMIT\n*nat\n${block(p.natChains)}${block(p.natRules)}COMMIT\n`;
}

/** The four buffers of one sync (chain lines and rules per table), without table headers. */
export interface KubeProxySyncParts {
  readonly filterChains: readonly string[];
  readonly filterRules: readonly string[];
  readonly natChains: readonly string[];
  readonly natRules: readonly string[];
}

export function kubeProxySyncParts(
  services: readonly ServicePortSpec[],
  opts: KubeProxyRulesOptions = {},
): KubeProxySyncParts {
  const mark = opts.masqueradeMark ?? '0x4000';
  const markMask = `${mark}/${mark}`;
  const totalEndpoints = services.reduce((n, s) => n + s.endpoints.length, 0);
  const largeClusterMode = opts.largeClusterMode ?? totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;

  const filterChains: string[] = [];
  const filterRules: string[] = [];
  const natChains: string[] = [];
  const natRules: string[] = [];

  for (const c of [
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-FORWARD',
    'KUBE-NODEPORTS',
    'KUBE-PROXY-FIREWALL',
  ]) {
    filterChains.push(`:${c} - [0:0]`);
  }
  if (opts.localhostNodePorts !== false) {
    filterChains.push(':KUBE-FIREWALL - [0:0]');
    filterRules.push(
      '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
  }
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) {
    natChains.push(`:${c} - [0:0]`);
  }

  natRules.push(`-A KUBE-POSTROUTING -m mark ! --mark ${markMask} -j RETURN`);
  natRules.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`);
  natRules.push(
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE` +
      (opts.randomFully === false ? '' : ' --random-fully'),
  );
  natRules.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);

  for (const svc of services) {
    const name = servicePortNameString(svc);
    const proto = svc.protocol.toLowerCase();
    const base = hashPrefix16(name + proto);
    const svcChain = `KUBE-SVC-${base}`;
    const extChain = `KUBE-EXT-${base}`;
    const localChain = `KUBE-SVL-${base}`;
    const endpoints = sortEndpoints(svc.endpoints);
    const hasEndpoints = endpoints.length > 0;
    const nodePort = svc.nodePort ?? 0;
    const loadBalancerIPs = svc.loadBalancerIPs ?? [];
    const usesExternal = hasEndpoints && (nodePort !== 0 || loadBalancerIPs.length > 0);
    const usesLocal = usesExternal && svc.externalTrafficPolicyLocal === true;
    const affinity = svc.affinitySeconds;
    const nameComment = comment(name);
    const clusterIPMatch = `-m comment --comment "${name} cluster IP" -m ${proto} -p ${proto} -d ${svc.clusterIP} --dport ${svc.port}`;

    // Capture the clusterIP.
    if (hasEndpoints) {
      natRules.push(`-A KUBE-SERVICES ${clusterIPMatch} -j ${svcChain}`);
      // Capture load-balancer ingress.
      for (const ip of loadBalancerIPs) {
        natRules.push(
          `-A KUBE-SERVICES -m comment --comment "${name} loadbalancer IP" -m ${proto} -p ${proto} -d ${ip} --dport ${svc.port} -j ${extChain}`,
        );
      }
    } else {
      filterRules.push(
        `-A KUBE-SERVICES -m comment --comment "${name} has no endpoints" -m ${proto} -p ${proto} -d ${svc.clusterIP} --dport ${svc.port} -j REJECT`,
      );
    }

    // Capture nodeports.
    if (nodePort !== 0) {
      if (hasEndpoints) {
        natRules.push(
          `-A KUBE-NODEPORTS -m comment --comment ${nameComment} -m ${proto} -p ${proto} --dport ${nodePort} -j ${extChain}`,
        );
      } else {
        filterRules.push(
          `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${name} has no endpoints" -m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${nodePort} -j REJECT`,
        );
      }
    }

    if (!hasEndpoints) continue;

    // Internal traffic handling: masquerade off-cluster traffic to the VIP.
    if (opts.masqueradeAll) {
      natRules.push(`-A ${svcChain} ${clusterIPMatch} -j KUBE-MARK-MASQ`);
    } else if (opts.clusterCIDR) {
      natRules.push(`-A ${svcChain} ${clusterIPMatch} ! -s ${opts.clusterCIDR} -j KUBE-MARK-MASQ`);
    }

    // External traffic handling.
    if (usesLocal) {
      natChains.push(`:${extChain} - [0:0]`);
      if (opts.clusterCIDR) {
        natRules.push(
          `-A ${extChain} -m comment --comment "pod traffic for ${name} external destinations" -s ${opts.clusterCIDR} -j ${svcChain}`,
        );
      }
      natRules.push(
        `-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
        `-A ${extChain} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`,
        `-A ${extChain} -j ${localChain}`,
      );
    } else if (usesExternal) {
      natChains.push(`:${extChain} - [0:0]`);
      natRules.push(
        `-A ${extChain} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`,
      );
      natRules.push(`-A ${extChain} -j ${svcChain}`);
    }

    // Cluster policy chain → endpoints.
    natChains.push(`:${svcChain} - [0:0]`);
    const n = endpoints.length;
    const sepChains = endpoints.map((ep) => `KUBE-SEP-${hashPrefix16(name + proto + endpointString(ep))}`);
    const epComment = (ep: EndpointSpec): string =>
      largeClusterMode ? '' : ` -m comment --comment "${name} -> ${endpointString(ep)}"`;
    if (affinity !== undefined) {
      for (let i = 0; i < n; i++) {
        const sep = sepChains[i]!;
        natRules.push(
          `-A ${svcChain}${epComment(endpoints[i]!)} -m recent --name ${sep} --rcheck --seconds ${affinity} --reap -j ${sep}`,
        );
      }
    }
    for (let i = 0; i < n; i++) {
      let line = `-A ${svcChain}${epComment(endpoints[i]!)}`;
      if (i < n - 1) {
        const p = opts.probability ? opts.probability(svc, i, n) : probabilityString(n - i);
        if (p !== null) line += ` -m statistic --mode random --probability ${p}`;
      }
      natRules.push(`${line} -j ${sepChains[i]}`);
    }

    // Local policy chain → the endpoints on this node.
    if (usesLocal) {
      natChains.push(`:${localChain} - [0:0]`);
      const local = endpoints.flatMap((ep, i) => (ep.local ? [{ ep, sep: sepChains[i]! }] : []));
      for (let i = 0; i < local.length; i++) {
        const { ep, sep } = local[i]!;
        const left = local.length - i;
        const stat = left > 1 ? ` -m statistic --mode random --probability ${probabilityString(left)}` : '';
        natRules.push(`-A ${localChain}${epComment(ep)}${stat} -j ${sep}`);
      }
    }

    // Per-endpoint chains.
    for (let i = 0; i < n; i++) {
      const ep = endpoints[i]!;
      const sep = sepChains[i]!;
      natChains.push(`:${sep} - [0:0]`);
      const head = largeClusterMode ? `-A ${sep}` : `-A ${sep} -m comment --comment ${nameComment}`;
      natRules.push(`${head} -s ${ep.ip} -j KUBE-MARK-MASQ`);
      const recent = affinity === undefined ? '' : ` -m recent --name ${sep} --set`;
      natRules.push(
        `${head}${recent} -m ${proto} -p ${proto} -j DNAT --to-destination ${endpointString(ep)}`,
      );
    }
  }

  // Tail-call to the nodeports chain; must be the last rule in KUBE-SERVICES.
  natRules.push(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );

  if (!opts.conntrackTCPLiberal) filterRules.push('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
  filterRules.push(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${markMask} -j ACCEPT`,
  );
  filterRules.push(
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );

  return { filterChains, filterRules, natChains, natRules };
}

export interface JumpRule {
  readonly table: 'filter' | 'nat';
  readonly chain: string;
  /** Rule spec without `-A chain`. */
  readonly spec: string;
}

/**
 * The jump rules kube-proxy ensures in the built-in chains (`iptablesJumpChains` in proxier.go), in the order they
 * end up after each is inserted with `-I` (EnsureRule Prepend), so the last one listed upstream comes first.
 */
export function kubeProxyJumpRules(): JumpRule[] {
  const upstream: [JumpRule['table'], string, string, string, string][] = [
    [
      'filter',
      'KUBE-EXTERNAL-SERVICES',
      'INPUT',
      'kubernetes externally-visible service portals',
      '-m conntrack --ctstate NEW',
    ],
    [
      'filter',
      'KUBE-EXTERNAL-SERVICES',
      'FORWARD',
      'kubernetes externally-visible service portals',
      '-m conntrack --ctstate NEW',
    ],
    ['filter', 'KUBE-NODEPORTS', 'INPUT', 'kubernetes health check service ports', ''],
    ['filter', 'KUBE-SERVICES', 'FORWARD', 'kubernetes service portals', '-m conntrack --ctstate NEW'],
    ['filter', 'KUBE-SERVICES', 'OUTPUT', 'kubernetes service portals', '-m conntrack --ctstate NEW'],
    ['filter', 'KUBE-FORWARD', 'FORWARD', 'kubernetes forwarding rules', ''],
    [
      'filter',
      'KUBE-PROXY-FIREWALL',
      'INPUT',
      'kubernetes load balancer firewall',
      '-m conntrack --ctstate NEW',
    ],
    [
      'filter',
      'KUBE-PROXY-FIREWALL',
      'OUTPUT',
      'kubernetes load balancer firewall',
      '-m conntrack --ctstate NEW',
    ],
    [
      'filter',
      'KUBE-PROXY-FIREWALL',
      'FORWARD',
      'kubernetes load balancer firewall',
      '-m conntrack --ctstate NEW',
    ],
    ['nat', 'KUBE-SERVICES', 'OUTPUT', 'kubernetes service portals', ''],
    ['nat', 'KUBE-SERVICES', 'PREROUTING', 'kubernetes service portals', ''],
    ['nat', 'KUBE-POSTROUTING', 'POSTROUTING', 'kubernetes postrouting rules', ''],
  ];
  const byChain = new Map<string, JumpRule[]>();
  for (const [table, target, chain, text, extra] of upstream) {
    const key = `${table} ${chain}`;
    const spec = `${extra ? `${extra} ` : ''}-m comment --comment "${text}" -j ${target}`;
    const list = byChain.get(key) ?? [];
    list.unshift({ table, chain, spec });
    byChain.set(key, list);
  }
  // The kubelet's KUBE-FIREWALL jumps (iptablesKubeletJumpChains), there before kube-proxy prepends its own, so
  // they end up last: the seed's `iptables -L` shows INPUT → KUBE-EXTERNAL-SERVICES, KUBE-FIREWALL.
  byChain.get('filter INPUT')!.push({ table: 'filter', chain: 'INPUT', spec: '-j KUBE-FIREWALL' });
  byChain.get('filter OUTPUT')!.push({ table: 'filter', chain: 'OUTPUT', spec: '-j KUBE-FIREWALL' });
  return [...byChain.values()].flat();
}

/**
 * A complete restore file for a fresh network namespace: the built-in chains with kube-proxy's jump rules, the
 * KUBE-PROXY-CANARY chains kube-proxy creates in mangle/nat/filter, then the sync payload. Feed it to
 * `iptables-restore` (without --noflush) to get a node's state as a real kube-proxy would leave it.
 */
export function nodeRestoreText(
  services: readonly ServicePortSpec[],
  opts: KubeProxyRulesOptions = {},
): string {
  const p = kubeProxySyncParts(services, opts);
  const jumps = kubeProxyJumpRules();
  const jumpLines = (table: 'filter' | 'nat'): string[] =>
    jumps.filter((j) => j.table === table).map((j) => `-A ${j.chain} ${j.spec}`);
  return [
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-PROXY-CANARY - [0:0]',
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-PROXY-CANARY - [0:0]',
    ...p.filterChains,
    ...(p.filterChains.includes(':KUBE-FIREWALL - [0:0]') ? [] : [':KUBE-FIREWALL - [0:0]']),
    ...jumpLines('filter'),
    ...p.filterRules,
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-PROXY-CANARY - [0:0]',
    ...p.natChains,
    ...jumpLines('nat'),
    ...p.natRules,
    'COMMIT',
    '',
  ].join('\n');
}

// -----------------------------------------------------------------------------------------------------------------
// iptables-save rendering

export interface IptablesSaveOptions {
  /** Text after "on " in the `# Generated by` / `# Completed on` lines; omit to leave those comment lines out. */
  readonly timestamp?: string;
  /** As iptables-save prints its own version, e.g. "v1.8.9 (nf_tables)". */
  readonly version?: string;
}

const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

/**
 * What `iptables-save` (nf_tables backend, v1.8.x) prints after loading `restoreText` into empty tables: built-in
 * chains first, user chains sorted by name, rules grouped by chain, each rule in iptables' canonical order
 * (`[!] -s`, `[!] -d`, `-p`, then the matches, then `-j`), addresses with their prefix length, comments quoted,
 * MARK shorthands expanded, REJECT's default `--reject-with`, and `--probability` as the kernel's fixed-point value
 * printed with 11 decimals (1/10 → 0.10000000009, as in the seed). Covers the rule shapes kube-proxy writes; checked
 * against the real iptables-save by test/sandbox/kube-proxy-rules.itest.ts.
 */
export function iptablesSaveText(restoreText: string, opts: IptablesSaveOptions = {}): string {
  const out: string[] = [];
  let table: string | undefined;
  let chains: { name: string; policy: string }[] = [];
  let rules = new Map<string, string[]>();
  const version = opts.version ?? 'v1.8.9 (nf_tables)';
  const flush = () => {
    if (!table) return;
    const builtins = BUILTIN_CHAINS[table] ?? [];
    const declared = new Map(chains.map((c) => [c.name, c.policy]));
    const user = chains
      .map((c) => c.name)
      .filter((c) => !builtins.includes(c))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (opts.timestamp) out.push(`# Generated by iptables-save ${version} on ${opts.timestamp}`);
    out.push(`*${table}`);
    for (const c of builtins) out.push(`:${c} ${declared.get(c) ?? 'ACCEPT'} [0:0]`);
    for (const c of user) out.push(`:${c} - [0:0]`);
    for (const c of [...builtins, ...user]) for (const r of rules.get(c) ?? []) out.push(r);
    out.push('COMMIT');
    if (opts.timestamp) out.push(`# Completed on ${opts.timestamp}`);
    table = undefined;
  };
  for (const line of restoreText.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      chains = [];
      rules = new Map();
    } else if (line === 'COMMIT') {
      flush();
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ') as [string, string];
      if (!chains.some((c) => c.name === name)) chains.push({ name, policy });
    } else if (line.startsWith('-A ')) {
      const tokens = tokenize(line);
      const chain = tokens[1]!;
      const list = rules.get(chain) ?? [];
      list.push(canonicalRule(chain, tokens.slice(2)));
      rules.set(chain, list);
    }
  }
  flush();
  return `${out.join('\n')}\n`;
}

function tokenize(line: string): string[] {
  const tokens: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) tokens.push(m[1] !== undefined ? m[1] : m[2]!);
  return tokens;
}

function withPrefix(addr: string): string {
  return addr.includes('/') ? addr : `${addr}/32`;
}

/** The kernel keeps `--probability` as round(p * 2^31) and iptables prints that back with %.11f. */
export function savedProbability(p: string): string {
  return (Math.round(Number(p) * 0x80000000) / 0x80000000).toFixed(11);
}

function canonicalRule(chain: string, t: readonly string[]): string {
  let src = '';
  let dst = '';
  let proto = '';
  const matches: { name: string; opts: string[] }[] = [];
  let target = '';
  const targetOpts: string[] = [];
  let neg = false;
  let i = 0;
  const value = () => t[++i] ?? '';
  for (; i < t.length; i++) {
    const tok = t[i]!;
    if (tok === '!') {
      neg = true;
      continue;
    }
    const bang = neg ? '! ' : '';
    neg = false;
    if (tok === '-s') src = `${bang}-s ${withPrefix(value())}`;
    else if (tok === '-d') dst = `${bang}-d ${withPrefix(value())}`;
    else if (tok === '-p') proto = `${bang}-p ${value()}`;
    else if (tok === '-m') matches.push({ name: value(), opts: [] });
    else if (tok === '-j') {
      target = value();
      for (i++; i < t.length; i++) targetOpts.push(t[i]!);
    } else {
      const m = matches[matches.length - 1];
      const opts = m ? m.opts : targetOpts;
      const args: string[] = [];
      while (i + 1 < t.length && !t[i + 1]!.startsWith('-') && t[i + 1] !== '!') args.push(t[++i]!);
      if (tok === '--comment') opts.push(`${bang}--comment "${args.join(' ')}"`);
      else if (tok === '--probability') opts.push(`${bang}--probability ${savedProbability(args[0] ?? '0')}`);
      else opts.push([`${bang}${tok}`, ...args].join(' '));
    }
  }
  // Target shorthands as the kernel stores them.
  let targetText = targetOpts.join(' ');
  if (target === 'MARK') {
    const or = /^--or-mark (\S+)$/.exec(targetText);
    const xor = /^--xor-mark (\S+)$/.exec(targetText);
    if (or) targetText = `--set-xmark ${or[1]}/${or[1]}`;
    else if (xor) targetText = `--set-xmark ${xor[1]}/0x0`;
  } else if (target === 'REJECT' && !targetText) {
    targetText = '--reject-with icmp-port-unreachable';
  }
  const parts = [`-A ${chain}`];
  if (src) parts.push(src);
  if (dst) parts.push(dst);
  if (proto) parts.push(proto);
  for (const m of matches) parts.push([`-m ${m.name}`, ...m.opts].join(' '));
  if (target) parts.push(targetText ? `-j ${target} ${targetText}` : `-j ${target}`);
  return parts.join(' ');
}
