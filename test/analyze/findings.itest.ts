/**
 * Every finding code, built for real: kube-proxy-format rules (current layout) are loaded with iptables-restore into
 * a throwaway network namespace, dumped with iptables-save, parsed and analysed together with the objects they were
 * written for. The healthy cases yield no findings. The distribution check sends real requests inside the namespace.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeSnapshot, snapshotFromParsed, type ParsedCapture } from '../../src/analyze/index.js';
import { parse } from '../../src/parse/parse.js';
import type { Finding, FindingCode } from '../../src/model/finding.js';
import type { Endpoints } from '../../src/model/endpoints.js';
import type { Pod } from '../../src/model/pod.js';
import type { Service } from '../../src/model/service.js';
import type { Captured, Samples, Snapshot } from '../../src/model/snapshot.js';
import { kubeProxyNat, sepChain, svcChain, type GenService } from './support/kubeProxyRules.js';
import { Netns } from './support/netns.js';
import { parseRuleset } from './support/parseRuleset.js';
import {
  captured,
  endpoints,
  genService,
  kuardPods,
  node,
  pod,
  service,
  snapshotOf,
  type WorldPod,
  type WorldService,
} from './support/world.js';

const prefix = 'ldan';
let ns: Netns;

beforeAll(() => {
  ns = Netns.create(prefix);
});
afterAll(() => {
  ns?.dispose();
});

const pods = kuardPods.slice(0, 3);
const kuard: WorldService = {
  name: 'kuard',
  clusterIP: '10.96.100.10',
  port: 80,
  portName: 'http',
  targetPort: 8080,
  nodePort: 30080,
};
const nodes = [node('node-a', '172.18.0.2'), node('node-b', '172.18.0.3')];
/** A double of `kubectl get svc kuard -o yaml` (no API server here), read by the real kubectl-object parser. */
const kubectlServiceYaml = `apiVersion: v1
kind: Service
metadata:
  name: kuard
  namespace: default
spec:
  clusterIP: 10.96.100.10
  ports:
  - name: http
    port: 80
    protocol: TCP
    targetPort: 8080
  selector:
    app: kuard
  type: ClusterIP
`;

/** Load the rules into the namespace, dump them with iptables-save, parse the dump. */
function dump(
  services: readonly GenService[],
  netns = ns,
  restore?: string,
  save?: string,
): ReturnType<typeof parseRuleset> {
  return parseRuleset(netns.restoreAndSave(kubeProxyNat(services), restore, save));
}

interface Scenario {
  readonly pods?: readonly Pod[];
  readonly services?: readonly Service[];
  readonly endpoints?: readonly Endpoints[];
  /** Rules per node. */
  readonly rules: Readonly<Record<string, readonly GenService[]>>;
  readonly samples?: readonly Captured<Samples>[];
}

function run(s: Scenario): { snapshot: Snapshot; findings: readonly Finding[] } {
  const snapshot = snapshotOf({
    pods: [captured(s.pods ?? pods.map(pod), null, 'kubectl get pods -o yaml')],
    nodes: [captured(nodes, null, 'kubectl get nodes -o yaml')],
    services: [captured(s.services ?? [service(kuard)], null, 'kubectl get svc -o yaml')],
    endpoints: [
      captured(
        s.endpoints ?? [endpoints('kuard', 'http', 8080, pods)],
        null,
        'kubectl get endpoints -o yaml',
      ),
    ],
    rulesets: Object.entries(s.rules).map(([n, gen]) => captured(dump(gen), n, 'iptables-save')),
    samples: s.samples ?? [],
  });
  return { snapshot, findings: analyzeSnapshot(snapshot).findings };
}

const codes = (f: readonly Finding[]): FindingCode[] => [...new Set(f.map((x) => x.code))].sort();
const only = (f: readonly Finding[], code: FindingCode): Finding[] => f.filter((x) => x.code === code);
const healthyRules = (): Record<string, GenService[]> => ({
  'node-a': [genService(kuard, pods, 'node-a')],
  'node-b': [genService(kuard, pods, 'node-b')],
});

describe('healthy clusters', () => {
  it('a NodePort service with three ready pods on two nodes: no findings, effective share 1/3 each', () => {
    const { snapshot, findings } = run({ rules: healthyRules() });
    expect(findings).toEqual([]);
    const view = analyzeSnapshot(snapshot).services[0]!;
    expect(Object.keys(view.nodes)).toEqual(['node-a', 'node-b']);
    const backends = view.nodes['node-a']!.backends;
    expect(backends.map((b) => `${b.ip}:${b.port}`)).toEqual([
      '10.244.1.11:8080',
      '10.244.1.12:8080',
      '10.244.2.13:8080',
    ]);
    // iptables-save prints the quantized value: 0.33333333349, 0.50000000000, then no probability.
    expect(backends.map((b) => b.probability)).toEqual([0.33333333349, 0.5, null]);
    for (const b of backends) expect(b.effectiveProbability).toBeCloseTo(1 / 3, 8);
    expect(backends.every((b) => b.isEndpoint && b.pod !== null)).toBe(true);
    expect(view.nodes['node-a']!.ports[0]!.nodePortRule).toMatch(
      /^-A KUBE-NODEPORTS .*--dport 30080 -j KUBE-EXT-/,
    );
  });

  it('LoadBalancer with externalTrafficPolicy Local and ClientIP affinity: shown for what they are, no findings', () => {
    const lb: WorldService = {
      ...kuard,
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      sessionAffinity: 'ClientIP',
      loadBalancerIngress: ['203.0.113.10'],
    };
    const { snapshot, findings } = run({
      services: [service(lb)],
      rules: { 'node-a': [genService(lb, pods, 'node-a')], 'node-b': [genService(lb, pods, 'node-b')] },
    });
    expect(findings).toEqual([]);
    const view = analyzeSnapshot(snapshot).services[0]!;
    const a = view.nodes['node-a']!.ports[0]!;
    expect(a.extChain).toMatch(/^KUBE-EXT-/);
    expect(a.localChain).toMatch(/^KUBE-SVL-/);
    expect(a.localBackends.map((b) => b.ip)).toEqual(['10.244.1.11', '10.244.1.12']);
    expect(view.nodes['node-b']!.ports[0]!.localBackends.map((b) => b.ip)).toEqual(['10.244.2.13']);
    expect(a.externalRules[0]).toMatch(
      /^-A KUBE-SERVICES -d 203\.0\.113\.10\/32 .*"default\/kuard:http loadbalancer IP"/,
    );
    expect(a.affinity?.seconds).toBe(10800);
    expect(view.notes.join('\n')).toMatch(/externalTrafficPolicy: Local[\s\S]*sessionAffinity: ClientIP/);
  });
});

describe('a service without endpoints', () => {
  it("shows kube-proxy's REJECT in the filter table, and no missing-rule findings", () => {
    const { snapshot, findings } = run({
      endpoints: [endpoints('kuard', 'http', 8080, [])],
      pods: [],
      rules: { 'node-a': [genService(kuard, [], 'node-a')] },
    });
    expect(findings).toEqual([]);
    const v = analyzeSnapshot(snapshot).services[0]!.nodes['node-a']!.ports[0]!;
    expect(v.clusterIPRule).toBeNull();
    expect(v.noEndpointsRules[0]).toMatch(
      /^-A KUBE-SERVICES -d 10\.96\.100\.10\/32 .*"default\/kuard:http has no endpoints".* -j REJECT/,
    );
    expect(v.noEndpointsRules).toHaveLength(2);
  });
});

describe("the 2019 layout (the seed's kube-proxy, v1.11–1.13)", () => {
  it('LoadBalancer through KUBE-FW and externalTrafficPolicy Local through KUBE-XLB, 5-decimal probabilities: no findings', () => {
    const lb: WorldService = {
      ...kuard,
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      loadBalancerIngress: ['203.0.113.10'],
    };
    const [svc, xlb, fw] = ['KUBE-SVC-', 'KUBE-XLB-', 'KUBE-FW-'].map((p) =>
      svcChain(p, 'default/kuard:http', 'tcp'),
    );
    const seps = pods.map((p) => ({ p, chain: sepChain('default/kuard:http', 'tcp', `${p.ip}:8080`) }));
    // Written as pkg/proxy/iptables/proxier.go of v1.13 wrote them (probabilities with "%0.5f").
    const text = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-MARK-DROP - [0:0]',
      `:${svc} - [0:0]`,
      `:${xlb} - [0:0]`,
      `:${fw} - [0:0]`,
      ...seps.map((s) => `:${s.chain} - [0:0]`),
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
      '-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000',
      `-A KUBE-SERVICES ! -s 10.244.0.0/16 -d 10.96.100.10/32 -p tcp -m comment --comment "default/kuard:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`,
      `-A KUBE-SERVICES -d 10.96.100.10/32 -p tcp -m comment --comment "default/kuard:http cluster IP" -m tcp --dport 80 -j ${svc}`,
      `-A KUBE-SERVICES -d 203.0.113.10/32 -p tcp -m comment --comment "default/kuard:http loadbalancer IP" -m tcp --dport 80 -j ${fw}`,
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/kuard:http" -m tcp --dport 30080 -j ${xlb}`,
      `-A ${fw} -m comment --comment "default/kuard:http loadbalancer IP" -j ${xlb}`,
      `-A ${fw} -m comment --comment "default/kuard:http loadbalancer IP" -j KUBE-MARK-DROP`,
      `-A ${xlb} -s 10.244.0.0/16 -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -j ${svc}`,
      `-A ${xlb} -m comment --comment "Balancing rule 0 for default/kuard:http" -m statistic --mode random --probability 0.50000 -j ${seps[0]!.chain}`,
      `-A ${xlb} -m comment --comment "Balancing rule 1 for default/kuard:http" -j ${seps[1]!.chain}`,
      `-A ${svc} -m comment --comment "default/kuard:http" -m statistic --mode random --probability 0.33333 -j ${seps[0]!.chain}`,
      `-A ${svc} -m comment --comment "default/kuard:http" -m statistic --mode random --probability 0.50000 -j ${seps[1]!.chain}`,
      `-A ${svc} -m comment --comment "default/kuard:http" -j ${seps[2]!.chain}`,
      ...seps.flatMap((s) => [
        `-A ${s.chain} -s ${s.p.ip}/32 -m comment --comment "default/kuard:http" -j KUBE-MARK-MASQ`,
        `-A ${s.chain} -p tcp -m comment --comment "default/kuard:http" -m tcp -j DNAT --to-destination ${s.p.ip}:8080`,
      ]),
      'COMMIT',
      '',
    ].join('\n');
    const snapshot = snapshotOf({
      pods: [captured(pods.map(pod), null, 'kubectl get pods -o yaml')],
      services: [captured([service(lb)], null, 'kubectl get svc -o yaml')],
      endpoints: [captured([endpoints('kuard', 'http', 8080, pods)], null, 'kubectl get ep -o yaml')],
      rulesets: [captured(parseRuleset(ns.restoreAndSave(text)), 'node-a', 'iptables-save')],
    });
    const { services, findings } = analyzeSnapshot(snapshot);
    expect(findings).toEqual([]);
    const v = services[0]!.nodes['node-a']!.ports[0]!;
    expect(v).toMatchObject({ svcChain: svc, fwChain: fw, localChain: xlb, extChain: null });
    expect(v.backends.map((b) => b.probability)).toEqual([0.33332999982, 0.5, null]);
    expect(v.localBackends.map((b) => [b.ip, b.effectiveProbability])).toEqual([
      ['10.244.1.11', 0.5],
      ['10.244.1.12', 0.5],
    ]);
  });
});

describe('each finding code from real iptables-save output', () => {
  it('endpoint-missing: a ready pod matching the selector that is no endpoint', () => {
    const extra: WorldPod = { name: 'kuard-d', ip: '10.244.2.14', node: 'node-b' };
    const { findings } = run({ pods: [...pods, extra].map(pod), rules: healthyRules() });
    expect(codes(findings)).toEqual(['endpoint-missing']);
    const f = only(findings, 'endpoint-missing')[0]!;
    expect(f.subject).toEqual({ namespace: 'default', name: 'kuard', node: 'node-b' });
    expect(f.message).toContain('kuard-d');
    expect(f.evidence.map((e) => e.field)).toEqual(['spec.selector', 'status.podIP', 'subsets[].addresses']);
  });

  it('endpoint-not-ready: a pod listed under notReadyAddresses', () => {
    const slow: WorldPod = { name: 'kuard-d', ip: '10.244.2.14', node: 'node-b', ready: false };
    const { findings } = run({
      pods: [...pods, slow].map(pod),
      endpoints: [endpoints('kuard', 'http', 8080, pods, [slow])],
      rules: healthyRules(),
    });
    expect(codes(findings)).toEqual(['endpoint-not-ready']);
    const f = findings[0]!;
    expect(f.subject).toEqual({ namespace: 'default', name: 'kuard', node: 'node-b' });
    expect(f.evidence[0]).toMatchObject({
      text: 'notReadyAddresses: ip: 10.244.2.14',
      field: 'subsets[].notReadyAddresses',
    });
  });

  it('endpoint-orphan: an endpoint IP no pod has (kube-proxy still routes to it)', () => {
    const ghost: WorldPod = { name: 'kuard-gone', ip: '10.244.2.99', node: 'node-b' };
    const all = [...pods, ghost];
    const { findings } = run({
      endpoints: [endpoints('kuard', 'http', 8080, all)],
      rules: { 'node-a': [genService(kuard, all, 'node-a')], 'node-b': [genService(kuard, all, 'node-b')] },
    });
    expect(codes(findings)).toEqual(['endpoint-orphan']);
    expect(findings[0]!.subject).toEqual({ namespace: 'default', name: 'kuard' });
    expect(findings[0]!.evidence[0]!.text).toBe('ip: 10.244.2.99 targetRef: Pod kuard-gone');
  });

  it('sep-missing: an endpoint without a KUBE-SEP chain on one node', () => {
    const { findings } = run({
      rules: {
        'node-a': [genService(kuard, pods, 'node-a')],
        'node-b': [genService(kuard, pods.slice(0, 2), 'node-b')],
      },
    });
    expect(codes(findings)).toEqual(['node-drift', 'sep-missing']);
    const f = only(findings, 'sep-missing')[0]!;
    expect(f.subject).toEqual({ namespace: 'default', name: 'kuard', port: 'http', node: 'node-b' });
    expect(f.message).toContain('10.244.2.13');
    expect(f.evidence[1]!.text).toMatch(
      /^-A KUBE-SVC-\S+ -m comment --comment "default\/kuard:http -> 10\.244\.1\.11:8080"/,
    );
  });

  it('sep-stale: a SEP whose DNAT target is no endpoint', () => {
    const stale: WorldPod = { name: 'old', ip: '10.244.2.77', node: 'node-b' };
    const rules = [...pods, stale];
    const { findings } = run({
      rules: {
        'node-a': [genService(kuard, rules, 'node-a')],
        'node-b': [genService(kuard, rules, 'node-b')],
      },
    });
    expect(codes(findings)).toEqual(
      ['probability-skewed', 'sep-stale'].filter((c) => c !== 'probability-skewed'),
    );
    const f = only(findings, 'sep-stale');
    expect(f.map((x) => x.subject.node)).toEqual(['node-a', 'node-b']);
    expect(f[0]!.evidence[0]).toMatchObject({ kind: 'rule', field: '--to-destination', node: 'node-a' });
    expect(f[0]!.evidence[0]!.text).toMatch(
      /^-A KUBE-SEP-\S+ -p tcp -m comment --comment "default\/kuard:http" -m tcp -j DNAT --to-destination 10\.244\.2\.77:8080$/,
    );
    expect(f[0]!.message).toContain('25.0%');
  });

  it('sep-port-mismatch: DNAT to a port the endpoint does not serve', () => {
    const { findings } = run({
      rules: {
        'node-a': [genService(kuard, pods, 'node-a', 9090)],
        'node-b': [genService(kuard, pods, 'node-b')],
      },
    });
    expect(codes(findings)).toEqual(['node-drift', 'sep-port-mismatch']);
    const f = only(findings, 'sep-port-mismatch');
    expect(f).toHaveLength(3);
    expect(f[0]!.subject).toEqual({ namespace: 'default', name: 'kuard', port: 'http', node: 'node-a' });
    expect(f[0]!.evidence[0]!.text).toMatch(/--to-destination 10\.244\.1\.11:9090$/);
    expect(f[0]!.evidence[1]).toMatchObject({
      text: 'ports: port: 8080 name: http',
      field: 'subsets[].ports',
    });
  });

  it('clusterip-missing: no KUBE-SERVICES entry for ClusterIP:port', () => {
    const { findings } = run({
      rules: {
        'node-a': [{ ...genService(kuard, pods, 'node-a'), omitClusterIPRule: true }],
        'node-b': [genService(kuard, pods, 'node-b')],
      },
    });
    expect(codes(findings)).toEqual(['clusterip-missing']);
    expect(findings[0]!.subject).toEqual({
      namespace: 'default',
      name: 'kuard',
      port: 'http',
      node: 'node-a',
    });
    expect(findings[0]!.evidence[0]).toMatchObject({
      text: 'spec.clusterIP: 10.96.100.10; port: 80',
      field: 'spec.clusterIP',
    });
  });

  it('clusterip-missing names the rule when it catches another ClusterIP (the service was re-created)', () => {
    const { findings } = run({
      rules: { 'node-a': [genService({ ...kuard, clusterIP: '10.96.200.20' }, pods, 'node-a')] },
    });
    expect(codes(findings)).toEqual(['clusterip-missing']);
    expect(findings[0]!.message).toContain('10.96.200.20:80');
    expect(findings[0]!.evidence[1]!.text).toMatch(/-d 10\.96\.200\.20\/32 .*--dport 80 -j KUBE-SVC-/);
  });

  it('nodeport-missing: no KUBE-NODEPORTS entry for the nodePort', () => {
    const { findings } = run({
      rules: {
        'node-a': [genService(kuard, pods, 'node-a')],
        'node-b': [{ ...genService(kuard, pods, 'node-b'), omitNodePortRule: true }],
      },
    });
    expect(codes(findings)).toEqual(['nodeport-missing']);
    expect(findings[0]!.subject).toEqual({
      namespace: 'default',
      name: 'kuard',
      port: 'http',
      node: 'node-b',
    });
    expect(findings[0]!.evidence[0]).toMatchObject({
      text: 'nodePort: 30080',
      field: 'spec.ports[].nodePort',
    });
  });

  it('probability-skewed: rule probabilities that do not spread evenly', () => {
    const skewed = (n: string): GenService => ({
      ...genService(kuard, pods, n),
      probabilities: { http: [0.5, 0.5, null] },
    });
    const { findings } = run({ rules: { 'node-a': [skewed('node-a')], 'node-b': [skewed('node-b')] } });
    expect(codes(findings)).toEqual(['probability-skewed']);
    const f = findings[0]!;
    expect(f.subject).toEqual({ namespace: 'default', name: 'kuard', port: 'http', node: 'node-a' });
    expect(f.message).toContain('shares 50.0%, 25.0%, 25.0%');
    expect(f.evidence).toHaveLength(1);
    expect(f.evidence[0]).toMatchObject({ kind: 'rule', field: '--probability' });
    expect(f.evidence[0]!.text).toMatch(/--probability 0\.50000000000 -j KUBE-SEP-/);
  });

  it('node-drift: the same service spread over different backends on two nodes', () => {
    const { findings } = run({
      endpoints: [endpoints('kuard', 'http', 8080, pods.slice(0, 2))],
      rules: {
        'node-a': [genService(kuard, pods.slice(0, 2), 'node-a')],
        'node-b': [genService(kuard, pods, 'node-b')],
      },
    });
    expect(codes(findings)).toEqual(['endpoint-missing', 'node-drift', 'sep-stale']);
    const f = only(findings, 'node-drift')[0]!;
    expect(f.subject).toEqual({ namespace: 'default', name: 'kuard', port: 'http' });
    expect(f.evidence.map((e) => e.node)).toEqual(['node-a', 'node-b']);
    expect(f.evidence[1]!.text).toContain('10.244.2.13:8080');
  });

  it('backend-mode-unknown: kube-proxy wrote with iptables-legacy, the nft dump has no kube chains', () => {
    const legacy = Netns.create(prefix);
    try {
      const text = kubeProxyNat([genService(kuard, pods, 'node-a')]);
      legacy.exec('iptables-legacy-restore', [], text);
      // iptables-nft-save prints its legacy warning on stderr; a terminal (and LabDeck's capture) shows both.
      const nftDump = legacy.execAll('iptables-nft-save', []);
      const legacyDump = legacy.exec('iptables-legacy-save', []);
      expect(nftDump).toContain('# Warning: iptables-legacy tables present');
      const snapshot = snapshotOf({
        pods: [captured(pods.map(pod), null, 'kubectl get pods')],
        services: [captured([service(kuard)], null, 'kubectl get svc')],
        endpoints: [captured([endpoints('kuard', 'http', 8080, pods)], null, 'kubectl get ep')],
        rulesets: [
          captured(parseRuleset(nftDump), 'node-a', 'iptables-nft-save'),
          captured(parseRuleset(legacyDump), 'node-a', 'iptables-legacy-save'),
        ],
      });
      const { findings, services } = analyzeSnapshot(snapshot);
      expect(codes(findings)).toEqual(['backend-mode-unknown']);
      expect(findings[0]!.subject).toEqual({ namespace: 'kube-system', name: 'kube-proxy', node: 'node-a' });
      expect(findings[0]!.evidence[0]!.text).toBe(
        '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them',
      );
      // The view is still read from the dump that has the chains.
      expect(services[0]!.nodes['node-a']!.backends).toHaveLength(3);
    } finally {
      legacy.dispose();
    }
  });

  it('backend-mode-unknown: a node dump without KUBE-SERVICES while services exist', () => {
    const dumped = parseRuleset(
      ns.restoreAndSave('*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'),
    );
    const snapshot = snapshotOf({
      services: [captured([service(kuard)], null, 'kubectl get svc')],
      rulesets: [captured(dumped, 'node-a', 'iptables-save')],
    });
    const { findings } = analyzeSnapshot(snapshot);
    expect(codes(findings)).toEqual(['backend-mode-unknown']);
    expect(findings[0]!.message).toMatch(/no KUBE-SERVICES chain/);
  });

  it('backend-mode-unknown: kube-proxy in nftables mode (nft list ruleset shows its table)', () => {
    const nftMode = Netns.create(prefix);
    try {
      // The layout of kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go), cut to one service.
      nftMode.exec(
        'nft',
        ['-f', '-'],
        [
          'table ip kube-proxy {',
          '  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }',
          '  chain services { ip daddr . meta l4proto . th dport vmap @service-ips; }',
          '  chain endpoint-5OJB2BLT-default/kuard/tcp/http__10.244.1.11/8080 { meta l4proto tcp dnat to 10.244.1.11:8080; }',
          '  chain service-ULMVA6XW-default/kuard/tcp/http { numgen random mod 1 vmap { 0 : goto endpoint-5OJB2BLT-default/kuard/tcp/http__10.244.1.11/8080 }; }',
          '}',
          'add element ip kube-proxy service-ips { 10.96.100.10 . tcp . 80 : goto service-ULMVA6XW-default/kuard/tcp/http }',
          '',
        ].join('\n'),
      );
      const captures: ParsedCapture[] = [
        ['nft list ruleset', nftMode.exec('nft', ['list', 'ruleset'])],
        ['iptables-save', nftMode.exec('iptables-save', [])],
        ['kubectl get svc kuard -o yaml', kubectlServiceYaml],
      ].map(([command, text]) => {
        const r = parse({ text: text!, command: command! });
        return {
          kind: r.kind,
          value: r.value,
          source: {
            node: command!.startsWith('kubectl') ? null : 'node-a',
            command: command!,
            takenAt: null,
          },
        };
      });
      const snapshot = snapshotFromParsed(captures);
      expect(snapshot.backendHints.map((h) => h.value.kind)).toEqual(['nftables']);
      const { findings } = analyzeSnapshot(snapshot);
      expect(codes(findings)).toEqual(['backend-mode-unknown']);
      expect(findings[0]!.subject).toEqual({ namespace: 'kube-system', name: 'kube-proxy', node: 'node-a' });
      expect(findings[0]!.message).toContain('nftables mode');
      expect(findings[0]!.evidence[0]).toMatchObject({
        kind: 'capture',
        text: 'table ip kube-proxy {',
        object: 'nft list ruleset on node-a',
      });
    } finally {
      nftMode.dispose();
    }
  });

  it('pod-ip-equals-node-ip: a hostNetwork pod has its node IP', () => {
    const hostPod = pod({
      name: 'kube-proxy-x1',
      ip: '172.18.0.3',
      node: 'node-b',
      labels: { k8s: 'proxy' },
    });
    const { findings } = run({ pods: [...pods.map(pod), hostPod], rules: healthyRules() });
    expect(codes(findings)).toEqual(['pod-ip-equals-node-ip']);
    expect(findings[0]!.subject).toEqual({ namespace: 'default', name: 'kube-proxy-x1', node: 'node-b' });
    expect(findings[0]!.evidence.map((e) => e.object)).toEqual(['Pod default/kube-proxy-x1', 'Node node-b']);
  });

  it('capture-conflict: two captures of the service disagree on its ClusterIP', () => {
    const snapshot = snapshotOf({
      pods: [captured(pods.map(pod), null, 'kubectl get pods')],
      services: [
        captured([service(kuard)], null, 'kubectl get svc kuard -o yaml'),
        captured([service({ ...kuard, clusterIP: '10.96.0.99' })], null, 'kubectl get svc kuard -o yaml'),
      ],
      endpoints: [captured([endpoints('kuard', 'http', 8080, pods)], null, 'kubectl get ep')],
      rulesets: [captured(dump([genService(kuard, pods, 'node-a')]), 'node-a', 'iptables-save')],
    });
    const { findings } = analyzeSnapshot(snapshot);
    expect(codes(findings)).toEqual(['capture-conflict', 'clusterip-missing']);
    const f = only(findings, 'capture-conflict')[0]!;
    expect(f.evidence.map((e) => e.text)).toEqual([
      'spec.clusterIP: 10.96.100.10',
      'spec.clusterIP: 10.96.0.99',
    ]);
  });

  it('capture-incomplete: an excerpt of iptables-save (grep) lacks the SEP chains', () => {
    const full = ns.restoreAndSave(kubeProxyNat([genService(kuard, pods, 'node-a')]));
    const excerpt = full
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('*') ||
          l === 'COMMIT' ||
          /^-A KUBE-(SERVICES|SVC|NODEPORTS|EXT)|^:KUBE-(SERVICES|SVC|NODEPORTS|EXT)/.test(l),
      )
      .join('\n');
    const snapshot = snapshotOf({
      pods: [captured(pods.map(pod), null, 'kubectl get pods')],
      services: [captured([service(kuard)], null, 'kubectl get svc')],
      endpoints: [captured([endpoints('kuard', 'http', 8080, pods)], null, 'kubectl get ep')],
      rulesets: [captured(parseRuleset(excerpt), 'node-a', 'iptables-save | grep')],
    });
    const { findings } = analyzeSnapshot(snapshot);
    expect(codes(findings)).toEqual(['capture-incomplete']);
    expect(findings[0]!.evidence[0]!.text.split(', ')).toHaveLength(3);
  });
});

describe('observed samples from real requests inside the namespace', () => {
  const backends = pods.map((p) => ({ ip: p.ip, name: p.name }));

  /** Serve kuard-like answers on each backend IP and ask the ClusterIP `n` times, from inside the namespace. */
  function sample(n: number): string[] {
    ns.exec('ip', ['link', 'set', 'lo', 'up']);
    for (const b of backends)
      if (!ns.exec('ip', ['-4', 'addr', 'show', 'dev', 'lo']).includes(`${b.ip}/32`))
        ns.exec('ip', ['addr', 'add', `${b.ip}/32`, 'dev', 'lo']);
    if (!ns.exec('ip', ['route', 'show']).includes('10.96.0.0/12'))
      ns.exec('ip', ['route', 'add', '10.96.0.0/12', 'dev', 'lo']);
    const script = `
      const http = require('node:http');
      const backends = ${JSON.stringify(backends)};
      const servers = backends.map((b) => http.createServer((q, r) => r.end(JSON.stringify({ env: { HOSTNAME: b.name } }))));
      Promise.all(servers.map((s, i) => new Promise((ok) => s.listen(8080, backends[i].ip, ok)))).then(async () => {
        const out = [];
        for (let i = 0; i < ${n}; i++) {
          out.push(await new Promise((ok, ko) => {
            const req = http.get({ host: '10.96.100.10', port: 80, path: '/env/api', agent: false, timeout: 2000 }, (res) => {
              let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => ok(JSON.parse(body).env.HOSTNAME));
            });
            req.on('timeout', () => req.destroy(new Error('timeout'))); req.on('error', ko);
          }));
        }
        console.log(JSON.stringify(out)); servers.forEach((s) => s.close());
      }).catch((e) => { console.error(e); process.exit(1); });`;
    return JSON.parse(
      execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      }),
    ) as string[];
  }

  function withSamples(values: string[]): readonly Finding[] {
    const captured_ = captured(dump([genService(kuard, pods, 'node-a')]), 'node-a', 'iptables-save');
    const snapshot = snapshotOf({
      pods: [captured(pods.map(pod), null, 'kubectl get pods')],
      services: [captured([service(kuard)], null, 'kubectl get svc')],
      endpoints: [captured([endpoints('kuard', 'http', 8080, pods)], null, 'kubectl get ep')],
      rulesets: [captured_],
      samples: [
        captured<Samples>(
          {
            target: '10.96.100.10:80',
            service: { namespace: 'default', name: 'kuard', port: 'http' },
            valueKind: 'hostname',
            values,
          },
          'node-a',
          'curl 10.96.100.10:80/env/api',
        ),
      ],
    });
    return analyzeSnapshot(snapshot).findings;
  }

  it('even answers under the even rules: no finding (a true uniform spread fails this only 0.1 % of the time)', () => {
    ns.restoreAndSave(kubeProxyNat([genService(kuard, pods, 'node-a')]));
    const values = sample(300);
    expect(new Set(values)).toEqual(new Set(pods.map((p) => p.name)));
    expect(withSamples(values)).toEqual([]);
  });

  it('distribution-unexpected: answers served by other rules than the captured ones', () => {
    ns.restoreAndSave(
      kubeProxyNat([{ ...genService(kuard, pods, 'node-a'), probabilities: { http: [0.9, 0.5, null] } }]),
    );
    const values = sample(300);
    const findings = withSamples(values);
    expect(codes(findings)).toEqual(['distribution-unexpected']);
    const f = findings[0]!;
    expect(f.subject).toEqual({ namespace: 'default', name: 'kuard', node: 'node-a' });
    expect(f.evidence[0]!.text).toMatch(/^10\.244\.1\.11:8080: observed \d+, expected 100\.0; /);
    expect(f.evidence[1]!.text).toMatch(/^chi-square [\d.]+, df 2, p-value /);
  });

  it('sample-unknown-backend: an answer from a pod that is no backend', () => {
    const findings = withSamples([...pods.map((p) => p.name), 'kuard-dbdd7955d-nv89q']);
    expect(codes(findings)).toEqual(['sample-unknown-backend']);
    expect(findings[0]!.evidence[0]!.text).toBe('kuard-dbdd7955d-nv89q: 1');
  });
});
