/**
 * Snapshot → service views + findings. Pure: the same snapshot always gives the same answer, in the same order.
 */
import type { Finding, FindingEvidence, FindingSubject } from '../model/finding.js';
import type { Pod } from '../model/pod.js';
import type { Service } from '../model/service.js';
import type { CaptureSource, Snapshot } from '../model/snapshot.js';
import { chiSquareTest } from './chiSquare.js';
import {
  indexNat,
  lookupPort,
  servicePortKey,
  type IndexedRule,
  type NatIndex,
  type PortRules,
  type ServiceChain,
} from './kubeProxy.js';
import { hostAddress } from './ruleFacts.js';
import {
  defaultNamespace,
  mergeSnapshot,
  objectKey,
  podReady,
  primaryRuleset,
  type Merged,
  type MergedEndpoints,
  type NodeRuleset,
} from './normalize.js';
import type {
  BackendView,
  EndpointView,
  NodePortChainsView,
  NodeServiceView,
  PodView,
  ServicePortView,
  ServiceView,
} from './view.js';

export interface Analysis {
  readonly services: readonly ServiceView[];
  readonly findings: readonly Finding[];
}

/**
 * How far a printed rule probability may sit from 1/(n−i) before it counts as skewed: kube-proxy before v1.22
 * printed 5 decimals (`%0.5f`, error ≤ 5e-6), xt_statistic stores it in 2^-31 steps (4.7e-10), iptables-save
 * prints 11 decimals. 1e-5 covers both roundings; anything beyond was not written by a uniform spread.
 */
export const probabilityTolerance = 1e-5;

/** distribution-unexpected fires below this p-value. */
export const distributionPValue = 0.001;

interface Ctx {
  readonly merged: Merged;
  readonly findings: Finding[];
  readonly podsByIp: ReadonlyMap<string, Pod>;
  readonly podNamespaces: ReadonlySet<string>;
  /** `namespace|key=value` → pods with that label, so a selector looks at its candidates only. */
  readonly podsByLabel: ReadonlyMap<string, readonly Pod[]>;
  readonly nodeIps: ReadonlyMap<string, string>;
  /** Per node: the nat index of its primary ruleset. */
  readonly nat: ReadonlyMap<string, { readonly index: NatIndex; readonly rs: NodeRuleset }>;
}

function capture(source: CaptureSource): string {
  return [source.command, source.node && `on ${source.node}`, source.origin && `(${source.origin})`]
    .filter(Boolean)
    .join(' ');
}

function ruleEvidence(r: IndexedRule, node: string, field?: string): FindingEvidence {
  return {
    kind: 'rule',
    text: r.ref.raw,
    object: `iptables ${r.ref.table} ${r.ref.chain} rule ${r.ref.index}`,
    ...(field !== undefined && { field }),
    node,
  };
}

function portLabel(p: { name: string | null; port: number }): string {
  return p.name !== null && p.name !== '' ? p.name : String(p.port);
}

function labelsMatch(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

export function analyzeSnapshot(snapshot: Snapshot): Analysis {
  const merged = mergeSnapshot(snapshot);
  const podsByIp = new Map<string, Pod>();
  for (const { value } of merged.pods.values())
    if (value.ip !== null && !podsByIp.has(value.ip)) podsByIp.set(value.ip, value);
  const podsByLabel = new Map<string, Pod[]>();
  for (const { value } of merged.pods.values())
    for (const [k, v] of Object.entries(value.labels ?? {})) {
      const key = `${value.namespace ?? defaultNamespace}|${k}=${v}`;
      const list = podsByLabel.get(key);
      if (list) list.push(value);
      else podsByLabel.set(key, [value]);
    }
  const nodeIps = new Map<string, string>();
  for (const n of merged.nodes.values()) {
    if (n.internalIP !== null) nodeIps.set(n.internalIP, n.name);
    if (n.externalIP !== null) nodeIps.set(n.externalIP, n.name);
  }
  const nat = new Map<string, { index: NatIndex; rs: NodeRuleset }>();
  for (const [node, list] of [...merged.rulesets].sort(([a], [b]) => a.localeCompare(b))) {
    const rs = primaryRuleset(list);
    if (rs) nat.set(node, { index: indexNat(rs.ruleset), rs });
  }
  const podNamespaces = new Set([...merged.pods.values()].map((p) => p.value.namespace ?? defaultNamespace));
  const ctx: Ctx = { merged, findings: [], podsByIp, podNamespaces, podsByLabel, nodeIps, nat };

  checkBackendMode(ctx, snapshot);
  checkConflicts(ctx);
  const services: ServiceView[] = [];
  const keys = [...merged.services.keys()].sort();
  for (const key of keys) services.push(serviceView(ctx, merged.services.get(key)!.value));
  checkHostNetwork(ctx);
  checkSamples(ctx, snapshot, services);
  checkIncompleteCaptures(ctx, services);
  return { services, findings: ctx.findings };
}

// ---------------------------------------------------------------------------------------------------------------
// The service view, and the checks that read it.

function serviceView(ctx: Ctx, svc: Service): ServiceView {
  const namespace = svc.namespace ?? defaultNamespace;
  const subject: FindingSubject = { namespace, name: svc.name };
  const svcObject = `Service ${namespace}/${svc.name}`;
  const eps = ctx.merged.endpoints.get(objectKey(namespace, svc.name));
  const headless = svc.clusterIP === 'None';
  const externalName = svc.type === 'ExternalName';
  const notes: string[] = [];
  if (headless)
    notes.push(
      'Headless (clusterIP: None): no virtual IP and no kube-proxy rules; DNS answers with the pod IPs.',
    );
  if (externalName)
    notes.push(
      `ExternalName: DNS answers with a CNAME to ${svc.externalName ?? '(unknown)'}; no endpoints, no rules.`,
    );
  if (svc.type === 'LoadBalancer')
    notes.push(
      `LoadBalancer: an outside load balancer (${(svc.loadBalancerIngress ?? []).join(', ') || 'no ingress yet'}) sends traffic to every node's NodePort.`,
    );
  if (svc.externalTrafficPolicy === 'Local')
    notes.push(
      'externalTrafficPolicy: Local: NodePort and load-balancer traffic only reaches pods on the node it arrived at (KUBE-SVL / KUBE-XLB), keeping the client address.',
    );
  if (svc.sessionAffinity === 'ClientIP')
    notes.push(
      'sessionAffinity: ClientIP: `-m recent` rules send a client back to the pod it reached first; the probabilities only apply to new clients.',
    );
  const selector = svc.selector;
  if (selector !== null && Object.keys(selector).length === 0 && !externalName)
    notes.push('No selector: endpoints are managed by hand (or by a controller), not from pod labels.');

  // Pods: by selector (when labels were captured), plus any pod an endpoint names or has the IP of.
  const pods: PodView[] = [];
  const seen = new Set<string>();
  const firstKey = selector === null ? undefined : Object.keys(selector).sort()[0];
  const candidates =
    firstKey === undefined
      ? []
      : (ctx.podsByLabel.get(`${namespace}|${firstKey}=${selector![firstKey]}`) ?? []);
  for (const pod of candidates) {
    if (!pod.labels || !labelsMatch(selector!, pod.labels)) continue;
    seen.add(pod.name);
    pods.push({ name: pod.name, ip: pod.ip, node: pod.node, ready: podReady(pod), matchedBy: 'selector' });
  }
  const endpoints: EndpointView[] = [];
  for (const { address, ready } of eps?.addresses ?? []) {
    const pod =
      (address.targetRef?.name
        ? ctx.merged.pods.get(objectKey(namespace, address.targetRef.name))?.value
        : undefined) ?? ctx.podsByIp.get(address.ip);
    const podName = address.targetRef?.name ?? pod?.name ?? null;
    if (pod && !seen.has(pod.name)) {
      seen.add(pod.name);
      pods.push({ name: pod.name, ip: pod.ip, node: pod.node, ready: podReady(pod), matchedBy: 'endpoint' });
    }
    const ports = eps!.ports.length > 0 ? eps!.ports : [{ name: null, port: NaN, protocol: 'TCP' }];
    for (const p of ports)
      endpoints.push({
        ip: address.ip,
        port: Number.isNaN(p.port) ? null : p.port,
        portName: p.name ?? '',
        ready,
        node: address.nodeName ?? pod?.node ?? null,
        pod: podName,
      });
  }
  pods.sort((a, b) => a.name.localeCompare(b.name));
  for (const ip of new Set(endpoints.map((e) => e.ip))) {
    const nodeName = ctx.nodeIps.get(ip);
    if (nodeName !== undefined)
      notes.push(
        `Endpoint ${ip} is node ${nodeName}'s own address: a hostNetwork pod (or a process on the node, like the API server behind "kubernetes") serves this service.`,
      );
  }

  checkEndpoints(ctx, svc, subject, svcObject, eps, pods);

  const ports: ServicePortView[] = svc.ports.map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: p.protocol,
    targetPort: p.targetPort,
    nodePort: p.nodePort,
  }));
  const nodes: Record<string, NodeServiceView> = {};
  if (!headless && !externalName && svc.clusterIP !== null) {
    for (const [node, { index }] of ctx.nat) {
      if (!index.hasKubeServices) continue;
      const portViews: NodePortChainsView[] = [];
      for (const p of svc.ports) {
        const label = portLabel(p);
        const rules = lookupPort(index, {
          namespace,
          name: svc.name,
          portName: p.name ?? '',
          port: p.port,
          protocol: p.protocol,
          clusterIP: svc.clusterIP,
          ...(p.nodePort !== null && { nodePort: p.nodePort }),
          onlyPort: svc.ports.length === 1,
        });
        const pv = portChainsView(ctx, label, rules, eps ? endpoints : null, p.name ?? '');
        portViews.push(pv);
        checkPortOnNode(
          ctx,
          svc,
          { ...subject, port: label, node },
          svcObject,
          node,
          index,
          p,
          rules,
          endpoints,
        );
      }
      nodes[node] = { backends: portViews.flatMap((v) => v.backends), ports: portViews };
    }
    checkDrift(ctx, subject, nodes);
  }
  return {
    namespace,
    name: svc.name,
    type: svc.type,
    clusterIP: svc.clusterIP,
    headless,
    externalName: svc.externalName ?? null,
    loadBalancerIngress: svc.loadBalancerIngress ?? [],
    externalTrafficPolicy: svc.externalTrafficPolicy,
    sessionAffinity: svc.sessionAffinity,
    selector,
    ports,
    pods,
    endpoints,
    nodes,
    notes,
  };
}

function describeSpread(pv: NodePortChainsView): string {
  return pv.backends
    .map((b) => `${b.ip ?? '?'}:${b.port ?? '?'}@${b.probability === null ? '1' : b.probability.toFixed(5)}`)
    .join(' ');
}

function backendViews(
  ctx: Ctx,
  label: string,
  chain: ServiceChain | undefined,
  /** null when the service's endpoints were not captured: then nobody can say whether a target is one. */
  endpoints: readonly EndpointView[] | null,
  portName: string,
  via: 'svc' | 'local',
): BackendView[] {
  if (!chain) return [];
  const epsCaptured = endpoints !== null;
  return chain.backends.map((b) => {
    const ip = b.sep.ip ?? null;
    return {
      servicePort: label,
      chain: b.sep.chain,
      ip,
      port: b.sep.port ?? null,
      probability: b.probability ?? null,
      effectiveProbability: b.effective,
      isEndpoint:
        ip === null || !epsCaptured
          ? null
          : endpoints!.some((e) => e.ip === ip && e.ready && e.portName === portName),
      pod: ip === null ? null : (ctx.podsByIp.get(ip)?.name ?? null),
      via,
      rule: b.rule.ref.raw,
      dnatRule: b.sep.dnat?.ref.raw ?? null,
    };
  });
}

function portChainsView(
  ctx: Ctx,
  label: string,
  rules: PortRules,
  endpoints: readonly EndpointView[] | null,
  portName: string,
): NodePortChainsView {
  const affinity = rules.svc && rules.svc.affinityRules.length > 0 ? rules.svc.affinityRules : null;
  return {
    servicePort: label,
    clusterIPRule: (rules.clusterIPRule ?? null)?.ref.raw ?? null,
    nodePortRule: rules.nodePortRule?.ref.raw ?? null,
    noEndpointsRules: rules.noEndpointsRules.map((r) => r.ref.raw),
    externalRules: rules.externalRules.map((r) => r.ref.raw),
    svcChain: rules.svc?.chain ?? null,
    extChain: rules.extChain ?? null,
    fwChain: rules.fwChain ?? null,
    localChain: rules.local?.chain ?? null,
    affinity: affinity && {
      seconds: affinity[0]!.recent?.seconds ?? null,
      rules: affinity.map((r) => r.ref.raw),
    },
    backends: backendViews(ctx, label, rules.svc, endpoints, portName, 'svc'),
    localBackends: backendViews(ctx, label, rules.local, endpoints, portName, 'local'),
  };
}

function checkEndpoints(
  ctx: Ctx,
  svc: Service,
  subject: FindingSubject,
  svcObject: string,
  eps: MergedEndpoints | undefined,
  pods: readonly PodView[],
): void {
  if (svc.type === 'ExternalName') return;
  const epObject = `Endpoints ${subject.namespace}/${subject.name}`;
  const epIps = new Map<string, boolean>();
  for (const { address, ready } of eps?.addresses ?? [])
    epIps.set(address.ip, ready || (epIps.get(address.ip) ?? false));
  const selectorText = svc.selector
    ? Object.entries(svc.selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '';
  // endpoint-missing: a ready pod the selector picks that no endpoint lists (only when endpoints were captured
  // whole: a table that cut the list, `+ 7 more...`, proves nothing).
  if (eps && eps.omitted === 0) {
    for (const p of pods) {
      if (p.matchedBy !== 'selector' || p.ready !== true || p.ip === null || epIps.has(p.ip)) continue;
      ctx.findings.push({
        code: 'endpoint-missing',
        severity: 'error',
        message: `Pod ${p.name} (${p.ip}) is ready and matches the selector of ${subject.name}, but is not one of its endpoints, so it gets no service traffic.`,
        subject: { ...subject, ...(p.node !== null && { node: p.node }) },
        evidence: [
          {
            kind: 'object',
            text: `spec.selector: ${selectorText}`,
            object: svcObject,
            field: 'spec.selector',
          },
          {
            kind: 'object',
            text: `status.podIP: ${p.ip}; ready`,
            object: `Pod ${subject.namespace}/${p.name}`,
            field: 'status.podIP',
          },
          {
            kind: 'object',
            text: `addresses: ${listUpTo([...epIps.keys()]) || '(none)'}`,
            object: epObject,
            field: 'subsets[].addresses',
          },
        ],
      });
    }
  }
  for (const { address, ready } of eps?.addresses ?? []) {
    const who = address.targetRef?.name ?? ctx.podsByIp.get(address.ip)?.name;
    if (!ready)
      ctx.findings.push({
        code: 'endpoint-not-ready',
        severity: 'warning',
        message: `Endpoint ${address.ip}${who ? ` (pod ${who})` : ''} of ${subject.name} is not ready: kube-proxy sends it no new connections until its readiness probe passes.`,
        subject: { ...subject, ...(address.nodeName !== null && { node: address.nodeName }) },
        evidence: [
          {
            kind: 'object',
            text: `notReadyAddresses: ip: ${address.ip}`,
            object: epObject,
            field: 'subsets[].notReadyAddresses',
          },
        ],
      });
    // Only when pods of this namespace were captured: a `kubectl get pods -n kube-system` says nothing of default.
    if (!ctx.podNamespaces.has(subject.namespace)) continue;
    const byName = address.targetRef?.name
      ? ctx.merged.pods.get(
          objectKey(address.targetRef.namespace ?? subject.namespace, address.targetRef.name),
        )
      : undefined;
    if (!ctx.podsByIp.has(address.ip) && !(byName && byName.value.ip === null))
      ctx.findings.push({
        code: 'endpoint-orphan',
        severity: 'warning',
        message: `Endpoint ${address.ip} of ${subject.name} belongs to no pod in the captured pod list: a pod that is gone, a hand-made endpoint, or a capture from another moment.`,
        subject,
        evidence: [
          {
            kind: 'object',
            text: `ip: ${address.ip}${address.targetRef?.name ? ` targetRef: Pod ${address.targetRef.name}` : ''}`,
            object: epObject,
            field: ready ? 'subsets[].addresses' : 'subsets[].notReadyAddresses',
          },
          { kind: 'capture', text: `pod IPs: ${listUpTo([...ctx.podsByIp.keys()].sort())}`, object: 'pods' },
        ],
      });
  }
}

function checkPortOnNode(
  ctx: Ctx,
  svc: Service,
  subject: FindingSubject,
  svcObject: string,
  node: string,
  index: NatIndex,
  p: Service['ports'][number],
  rules: PortRules,
  endpoints: readonly EndpointView[],
): void {
  const label = subject.port!;
  const key = servicePortKey(subject.namespace, subject.name, p.name ?? '');
  // kube-proxy writes no nat entry for a port without ready endpoints (a filter-table REJECT instead), so the
  // "missing" checks need endpoints that were captured and ready.
  const hasReady = endpoints.some((e) => e.ready && e.portName === (p.name ?? ''));
  // clusterip-missing: no KUBE-SERVICES entry for ClusterIP:port.
  if (hasReady && !rules.clusterIPRule && svc.clusterIP !== null && svc.clusterIP !== 'None') {
    const elsewhere = rules.clusterIPRuleElsewhere[0];
    ctx.findings.push({
      code: 'clusterip-missing',
      severity: 'error',
      message: elsewhere
        ? `On ${node}, KUBE-SERVICES sends "${key}" to ${elsewhere.destination === undefined ? '?' : hostAddress(elsewhere.destination)}:${elsewhere.dport ?? '?'}, not to the service's ClusterIP ${svc.clusterIP}:${p.port}: the rules and the Service come from different moments (the service was re-created) or kube-proxy is behind.`
        : `On ${node}, no KUBE-SERVICES rule catches ${svc.clusterIP}:${p.port}/${p.protocol}, so connections to the ClusterIP of ${subject.name} are not load-balanced there.`,
      subject,
      evidence: [
        {
          kind: 'object',
          text: `spec.clusterIP: ${svc.clusterIP}; port: ${p.port}`,
          object: svcObject,
          field: 'spec.clusterIP',
        },
        ...(elsewhere ? [ruleEvidence(elsewhere, node, '-d')] : []),
      ],
    });
  }
  if (hasReady && p.nodePort !== null && index.present.has('KUBE-NODEPORTS') && !rules.nodePortRule) {
    const elsewhere = rules.nodePortRuleElsewhere[0];
    ctx.findings.push({
      code: 'nodeport-missing',
      severity: 'error',
      message: elsewhere
        ? `On ${node}, KUBE-NODEPORTS sends "${key}" on port ${elsewhere.dport ?? '?'}, not on the service's nodePort ${p.nodePort}.`
        : `On ${node}, no KUBE-NODEPORTS rule catches port ${p.nodePort}, so the NodePort of ${subject.name} does not answer on that node.`,
      subject,
      evidence: [
        {
          kind: 'object',
          text: `nodePort: ${p.nodePort}`,
          object: svcObject,
          field: 'spec.ports[].nodePort',
        },
        ...(elsewhere ? [ruleEvidence(elsewhere, node, '--dport')] : []),
      ],
    });
  }
  // Without the service's endpoints in the snapshot, nothing can be said about where its SEPs should point.
  if (!rules.svc || !ctx.merged.endpoints.has(objectKey(subject.namespace, subject.name))) {
    if (rules.svc) checkProbabilities(ctx, subject, node, rules.svc);
    return;
  }
  const portName = p.name ?? '';
  const readyEps = endpoints.filter((e) => e.ready && e.portName === portName);
  const readyIps = new Set(readyEps.map((e) => e.ip));
  const chainBackends = rules.svc.backends;
  const resolved = chainBackends.every((b) => b.sep.present && b.sep.ip !== undefined);
  const epObject = `Endpoints ${subject.namespace}/${subject.name}`;
  for (const b of chainBackends) {
    if (b.sep.ip === undefined || !b.sep.dnat) continue;
    const dnat = b.sep.dnat;
    if (!readyIps.has(b.sep.ip)) {
      const pod = ctx.podsByIp.get(b.sep.ip);
      ctx.findings.push({
        code: 'sep-stale',
        severity: 'error',
        message: `On ${node}, ${b.sep.chain} sends ${(b.effective * 100).toFixed(1)}% of new connections to ${b.sep.ip}:${b.sep.port ?? '?'}, which is not a ready endpoint of ${subject.name}${pod ? ` (it is pod ${pod.name})` : ' (no known pod has that IP)'}: the rules are stale or from another moment.`,
        subject,
        evidence: [
          ruleEvidence(dnat, node, '--to-destination'),
          ruleEvidence(b.rule, node),
          {
            kind: 'object',
            text: `addresses: ${listUpTo([...readyIps]) || '(none)'}`,
            object: epObject,
            field: 'subsets[].addresses',
          },
        ],
      });
    } else {
      const ep = readyEps.find((e) => e.ip === b.sep.ip);
      const want = ep?.port ?? (typeof p.targetPort === 'number' ? p.targetPort : null);
      if (want !== null && b.sep.port !== undefined && b.sep.port !== want)
        ctx.findings.push({
          code: 'sep-port-mismatch',
          severity: 'error',
          message: `On ${node}, ${b.sep.chain} sends ${subject.name}:${label} to port ${b.sep.port} on ${b.sep.ip}, but the endpoint (targetPort) is port ${want}.`,
          subject,
          evidence: [
            ruleEvidence(dnat, node, '--to-destination'),
            ep?.port != null
              ? {
                  kind: 'object',
                  text: `ports: port: ${ep.port}${portName ? ` name: ${portName}` : ''}`,
                  object: epObject,
                  field: 'subsets[].ports',
                }
              : {
                  kind: 'object',
                  text: `targetPort: ${String(p.targetPort)}`,
                  object: svcObject,
                  field: 'spec.ports[].targetPort',
                },
          ],
        });
    }
  }
  if (resolved) {
    const sepIps = new Set(chainBackends.map((b) => b.sep.ip));
    for (const e of readyEps) {
      if (sepIps.has(e.ip)) continue;
      ctx.findings.push({
        code: 'sep-missing',
        severity: 'error',
        message: `On ${node}, ${rules.svc.chain} has no KUBE-SEP chain for endpoint ${e.ip}:${e.port ?? '?'}${e.pod ? ` (pod ${e.pod})` : ''}, so that pod gets no traffic through ${subject.name} from this node.`,
        subject,
        evidence: [
          { kind: 'object', text: `ip: ${e.ip}`, object: epObject, field: 'subsets[].addresses' },
          {
            kind: 'rule',
            text:
              chainBackends.map((b) => b.rule.ref.raw).join('\n') ||
              `(${rules.svc.chain} has no backend rules)`,
            object: `iptables nat ${rules.svc.chain}`,
            node,
          },
        ],
      });
    }
  }
  checkProbabilities(ctx, subject, node, rules.svc);
}

function checkProbabilities(ctx: Ctx, subject: FindingSubject, node: string, chain: ServiceChain): void {
  const n = chain.backends.length;
  if (n === 0) return;
  const bad: FindingEvidence[] = [];
  chain.backends.forEach((b, i) => {
    const want = 1 / (n - i);
    const got = b.probability ?? 1;
    if (Math.abs(got - want) > probabilityTolerance)
      bad.push({
        ...ruleEvidence(b.rule, node, '--probability'),
        text: `${b.rule.ref.raw}\n  → rule probability ${got.toFixed(5)} (uniform needs ${want.toFixed(5)}), share ${(b.effective * 100).toFixed(2)}% (uniform: ${(100 / n).toFixed(2)}%)`,
      });
  });
  if (bad.length === 0) return;
  const shares = chain.backends.map((b) => `${(b.effective * 100).toFixed(1)}%`).join(', ');
  ctx.findings.push({
    code: 'probability-skewed',
    severity: 'warning',
    message: `On ${node}, ${chain.chain} does not spread new connections evenly over its ${n} backends (shares ${shares}; even would be ${(100 / n).toFixed(1)}% each).`,
    subject,
    evidence: bad,
  });
}

function checkDrift(ctx: Ctx, subject: FindingSubject, nodes: Record<string, NodeServiceView>): void {
  const names = Object.keys(nodes);
  if (names.length < 2) return;
  const byPort = new Map<string, { node: string; text: string }[]>();
  for (const node of names)
    for (const pv of nodes[node]!.ports) {
      const list = byPort.get(pv.servicePort) ?? [];
      list.push({
        node,
        text:
          pv.svcChain === null
            ? '(no service chain)'
            : `${pv.svcChain}: ${describeSpread(pv) || '(no backends)'}`,
      });
      byPort.set(pv.servicePort, list);
    }
  for (const [port, list] of byPort) {
    const distinct = new Set(list.map((l) => l.text.replace(/^KUBE-SVC-\S+: /, '')));
    if (distinct.size < 2) continue;
    ctx.findings.push({
      code: 'node-drift',
      severity: 'warning',
      message: `The nodes disagree on where ${subject.name}:${port} goes: kube-proxy on some node has not caught up (or the dumps were taken at different moments).`,
      subject: { ...subject, port },
      evidence: list.map((l) => ({
        kind: 'capture' as const,
        text: l.text,
        object: `iptables nat on ${l.node}`,
        node: l.node,
      })),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks over the whole snapshot.

function checkBackendMode(ctx: Ctx, snapshot: Snapshot): void {
  const nodes = new Set<string>([...ctx.merged.rulesets.keys()]);
  for (const h of snapshot.backendHints) nodes.add(h.source.node ?? 'node');
  for (const node of [...nodes].sort()) {
    const subject: FindingSubject = { namespace: 'kube-system', name: 'kube-proxy', node };
    const list = ctx.merged.rulesets.get(node) ?? [];
    const evidence: FindingEvidence[] = [];
    const reasons: string[] = [];
    for (const rs of list) {
      const nat = rs.ruleset.tables['nat'];
      // kube-proxy's IPVS mode matches its ipsets from KUBE-SERVICES (pkg/proxy/ipvs/proxier.go).
      const ipvs = ['KUBE-SERVICES', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER'].flatMap((name) =>
        (nat?.chains[name]?.rules ?? []).filter((r) =>
          /--match-set KUBE-(CLUSTER-IP|LOOP-BACK|NODE-PORT)|-j KUBE-LOAD-BALANCER/.test(r.raw),
        ),
      );
      if (ipvs.length > 0) {
        reasons.push('kube-proxy runs in IPVS mode (the ipset matches in KUBE-SERVICES)');
        evidence.push({ kind: 'rule', text: ipvs[0]!.raw, object: `iptables nat on ${node}`, node });
      }
      if (rs.ruleset.legacyTablesPresent) {
        reasons.push(
          'iptables-nft says legacy tables are present too: kube-proxy may have written its rules with iptables-legacy',
        );
        evidence.push({
          kind: 'capture',
          text: '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them',
          object: capture(rs.source),
          node,
        });
      }
    }
    const withKube = list.filter((rs) => rs.ruleset.tables['nat']?.chains['KUBE-SERVICES']);
    const backends = new Set(list.map((rs) => rs.ruleset.backend ?? 'unknown'));
    if (backends.size > 1 && withKube.length > 0 && withKube.length < list.length) {
      reasons.push('the legacy and nf_tables dumps disagree: only one of them holds kube-proxy chains');
      for (const rs of list)
        evidence.push({
          kind: 'capture',
          text: `${rs.ruleset.backend ?? 'unknown'} backend: ${rs.ruleset.tables['nat']?.chains['KUBE-SERVICES'] ? 'has' : 'no'} KUBE-SERVICES`,
          object: capture(rs.source),
          node,
        });
    }
    for (const { source, value: h } of snapshot.backendHints.filter(
      (x) => (x.source.node ?? 'node') === node,
    )) {
      if (h.kind === 'ipvs' && /TCP|UDP/.test(h.text)) {
        reasons.push('ipvsadm lists virtual servers (IPVS mode)');
        evidence.push({
          kind: 'capture',
          text: h.text.split('\n').slice(0, 4).join('\n'),
          object: capture(source),
          node,
        });
      }
      if (h.kind === 'nftables' && /table ip6? kube-proxy/.test(h.text)) {
        reasons.push('nft lists a kube-proxy table (nftables mode)');
        evidence.push({
          kind: 'capture',
          text: /table ip6? kube-proxy.*/.exec(h.text)![0],
          object: capture(source),
          node,
        });
      }
    }
    if (list.length > 0 && withKube.length === 0 && ctx.merged.services.size > 0 && reasons.length === 0) {
      reasons.push(
        'the dump has no KUBE-SERVICES chain: kube-proxy is not in iptables mode here (IPVS, nftables, or replaced, e.g. by Cilium)',
      );
      evidence.push({
        kind: 'capture',
        text: `nat chains: ${listUpTo(Object.keys(list[0]!.ruleset.tables['nat']?.chains ?? {})) || '(no nat table)'}`,
        object: capture(list[0]!.source),
        node,
      });
    }
    if (reasons.length === 0) continue;
    ctx.findings.push({
      code: 'backend-mode-unknown',
      severity: 'warning',
      message: `On ${node} ${[...new Set(reasons)].join('; ')}, so the iptables view of services there may be incomplete.`,
      subject,
      evidence,
    });
  }
}

function checkConflicts(ctx: Ctx): void {
  for (const c of ctx.merged.conflicts)
    ctx.findings.push({
      code: 'capture-conflict',
      severity: 'warning',
      message: `Two captures of ${c.kind} ${c.namespace}/${c.name} disagree on ${c.field} (${c.before} then ${c.after}): they were taken at different moments (the object was re-created), so they cannot both describe the cluster now.`,
      subject: { namespace: c.namespace, name: c.name },
      evidence: [
        {
          kind: 'object',
          text: `${c.field}: ${c.before}`,
          object: `${c.kind} ${c.namespace}/${c.name} from ${capture(c.beforeSource) || 'an earlier capture'}`,
          field: c.field,
        },
        {
          kind: 'object',
          text: `${c.field}: ${c.after}`,
          object: `${c.kind} ${c.namespace}/${c.name} from ${capture(c.afterSource) || 'a later capture'}`,
          field: c.field,
        },
      ],
    });
}

function checkHostNetwork(ctx: Ctx): void {
  for (const { value: pod } of [...ctx.merged.pods.values()].sort((a, b) =>
    a.value.name.localeCompare(b.value.name),
  )) {
    if (pod.ip === null) continue;
    const node = ctx.nodeIps.get(pod.ip);
    if (node === undefined) continue;
    ctx.findings.push({
      code: 'pod-ip-equals-node-ip',
      severity: 'info',
      message: `Pod ${pod.name} has its node's IP ${pod.ip}: it runs with hostNetwork, sharing the node's network namespace and ports instead of getting its own IP.`,
      subject: { namespace: pod.namespace ?? defaultNamespace, name: pod.name, node },
      evidence: [
        {
          kind: 'object',
          text: `status.podIP: ${pod.ip}`,
          object: `Pod ${pod.namespace ?? defaultNamespace}/${pod.name}`,
          field: 'status.podIP',
        },
        { kind: 'object', text: `address: ${pod.ip}`, object: `Node ${node}`, field: 'status.addresses' },
      ],
    });
  }
}

function checkSamples(ctx: Ctx, snapshot: Snapshot, services: readonly ServiceView[]): void {
  for (const { source, value: s } of snapshot.samples) {
    const view = s.service
      ? services.find((v) => v.namespace === s.service!.namespace && v.name === s.service!.name)
      : (services.find(
          (v) => s.target !== null && v.clusterIP !== null && s.target.startsWith(`${v.clusterIP}:`),
        ) ??
        services.find((v) =>
          v.ports.some(
            (p) => p.nodePort !== null && s.target !== null && s.target.endsWith(`:${p.nodePort}`),
          ),
        ));
    if (!view) continue;
    const subject: FindingSubject = {
      namespace: view.namespace,
      name: view.name,
      ...(source.node !== null && { node: source.node }),
    };
    const first = view.ports[0];
    const port = s.service?.port ?? (first ? first.name || String(first.port) : undefined);
    // Expected shares: the node the requests came from, else any node with the chain, else even over endpoints.
    const nodeView =
      (source.node !== null ? view.nodes[source.node] : undefined) ?? Object.values(view.nodes)[0];
    const portBackends = nodeView?.backends.filter((b) => b.servicePort === port) ?? [];
    // Shares come from the rules only when every SEP's target is known; else evenly over the ready endpoints.
    const backends = portBackends.every((b) => b.ip !== null) ? portBackends : [];
    const cats: { key: string; share: number; names: Set<string> }[] = backends.length
      ? backends.map((b) => ({
          key: `${b.ip}:${b.port ?? ''}`,
          share: b.effectiveProbability,
          names: new Set([b.ip!, ...(b.pod ? [b.pod] : [])]),
        }))
      : view.endpoints
          .filter((e) => e.ready)
          .map((e) => ({ key: e.ip, share: 1, names: new Set([e.ip, ...(e.pod ? [e.pod] : [])]) }));
    const counts = cats.map(() => 0);
    const unknown = new Map<string, number>();
    for (const v of s.values) {
      const i = cats.findIndex((c) => c.names.has(v));
      if (i >= 0) counts[i]!++;
      else unknown.set(v, (unknown.get(v) ?? 0) + 1);
    }
    const what = `${s.values.length} answers${s.target ? ` from ${s.target}` : ''}`;
    if (unknown.size > 0)
      ctx.findings.push({
        code: 'sample-unknown-backend',
        severity: 'warning',
        message: `${[...unknown.values()].reduce((a, b) => a + b, 0)} of ${what} came from ${listUpTo([...unknown.keys()])}, which is no backend of ${view.name} in this snapshot: the requests went to another service or another moment's pods.`,
        subject,
        evidence: [
          {
            kind: 'sample',
            text: listUpTo([...unknown].map(([k, n]) => `${k}: ${n}`)),
            object: capture(source) || 'samples',
            field: s.valueKind === 'hostname' ? 'env.HOSTNAME' : 'ip',
          },
          {
            kind: 'capture',
            text: `backends: ${cats.map((c) => [...c.names].join(' ')).join('; ') || '(none)'}`,
            object: `${view.namespace}/${view.name}`,
          },
        ],
      });
    if (view.sessionAffinity === 'ClientIP') continue; // one client sticks to one pod by design
    const result = chiSquareTest(
      counts,
      cats.map((c) => c.share),
    );
    if (!result || result.pValue >= distributionPValue) continue;
    ctx.findings.push({
      code: 'distribution-unexpected',
      severity: 'warning',
      message: `The ${counts.reduce((a, b) => a + b, 0)} answers from ${view.name} are spread too unevenly to be chance (chi-square p = ${result.pValue.toExponential(2)} < ${distributionPValue}): the rules seen are not the rules that served them, or something else balances the traffic.`,
      subject,
      evidence: [
        {
          kind: 'statistic',
          text: cats
            .map((c, i) => `${c.key}: observed ${counts[i]}, expected ${result.expected[i]!.toFixed(1)}`)
            .join('; '),
          object: capture(source) || 'samples',
        },
        {
          kind: 'statistic',
          text: `chi-square ${result.statistic.toFixed(2)}, df ${result.degreesOfFreedom}, p-value ${result.pValue.toExponential(3)}${Math.min(...result.expected.filter((e) => e > 0)) < 5 ? ' (some expected counts are under 5: take more samples for a sound test)' : ''}`,
          field: 'pValue',
        },
      ],
    });
  }
}

function checkIncompleteCaptures(ctx: Ctx, services: readonly ServiceView[]): void {
  for (const [node, { index, rs }] of ctx.nat) {
    if (!index.hasKubeServices) continue;
    const missing = new Set<string>();
    for (const v of services)
      for (const pv of v.nodes[node]?.ports ?? [])
        for (const b of [...pv.backends, ...pv.localBackends]) if (b.ip === null) missing.add(b.chain);
    const jumpsToNodePorts = (index.rules.get('KUBE-SERVICES') ?? []).find(
      (r) => r.target === 'KUBE-NODEPORTS',
    );
    const noNodePorts = jumpsToNodePorts !== undefined && !index.present.has('KUBE-NODEPORTS');
    if (missing.size === 0 && !noNodePorts) continue;
    const what = [
      ...(missing.size ? [`${missing.size} KUBE-SEP chain(s) that service chains jump to`] : []),
      ...(noNodePorts ? ['the KUBE-NODEPORTS chain'] : []),
    ];
    ctx.findings.push({
      code: 'capture-incomplete',
      severity: 'info',
      message: `The iptables dump from ${node} lacks ${what.join(' and ')}: it is an excerpt, so where those rules lead (and whether any are missing) cannot be told.`,
      subject: { namespace: 'kube-system', name: 'kube-proxy', node },
      evidence: [
        ...(missing.size
          ? [
              {
                kind: 'capture' as const,
                text: listUpTo([...missing].sort()),
                object: capture(rs.source) || 'iptables-save',
              },
            ]
          : []),
        ...(noNodePorts ? [ruleEvidence(jumpsToNodePorts, node, '-j')] : []),
      ],
    });
  }
}

/** Evidence lists stay readable and bounded (a finding per pod must not each carry every address of a big
 * service): the first `max` items, then how many more. */
function listUpTo(items: readonly string[], max = 20): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, … and ${items.length - max} more (${items.length} in all)`;
}
