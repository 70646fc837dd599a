import { describe, expect, it } from 'vitest';
import {
  analyzeSnapshot,
  chiSquareTest,
  diffSnapshots,
  hostOfPrompt,
  requestTarget,
} from '../../src/analyze/index.js';
import { readRule } from '../../src/analyze/ruleFacts.js';
import { kubeProxyNat, sepChain, svcChain } from './support/kubeProxyRules.js';
import { parseRuleset } from './support/parseRuleset.js';
import {
  captured,
  endpoints,
  genService,
  kuardClusterIP,
  kuardPods,
  manyKuardPods,
  node,
  pod,
  service,
  snapshotOf,
  type WorldPod,
} from './support/world.js';

describe('chiSquareTest', () => {
  it('matches tabulated chi-square quantiles', () => {
    // χ²(1) 0.95 quantile 3.841459; χ²(2) 0.999 quantile 13.815511 (NIST/SEMATECH e-Handbook, table 1.3.6.7.4).
    // Counts chosen so that the statistic is exactly those values.
    const oneDf = chiSquareTest([50 + Math.sqrt(3.841459 * 25), 50 - Math.sqrt(3.841459 * 25)], [1, 1])!;
    expect(oneDf.statistic).toBeCloseTo(3.841459, 6);
    expect(oneDf.pValue).toBeCloseTo(0.05, 5);
    expect(oneDf.degreesOfFreedom).toBe(1);
    const even = chiSquareTest([100, 100, 100], [1, 1, 1])!;
    expect(even.statistic).toBe(0);
    expect(even.pValue).toBe(1);
  });

  it('gives p ≈ 0.001 at the χ²(2) 0.999 quantile and uses the shares it is given', () => {
    // Two categories with shares 1/2, 1/4, 1/4 of 400: expected 200, 100, 100.
    const r = chiSquareTest(
      [200, 100 + Math.sqrt(13.815511 * 50), 100 - Math.sqrt(13.815511 * 50)],
      [0.5, 0.25, 0.25],
    )!;
    expect(r.expected).toEqual([200, 100, 100]);
    expect(r.statistic).toBeCloseTo(13.815511, 5);
    expect(r.pValue).toBeCloseTo(0.001, 6);
  });

  it('refuses what it cannot test', () => {
    expect(chiSquareTest([], [])).toBeNull();
    expect(chiSquareTest([5], [1])).toBeNull();
    expect(chiSquareTest([0, 0], [1, 1])).toBeNull();
    expect(chiSquareTest([3, 1], [1, 0])!.pValue).toBe(0);
  });
});

describe('readRule', () => {
  it('reads the 2019 layout of the seed', () => {
    const r = readRule(
      '-A KUBE-SERVICES ! -s 192.168.0.0/16 -d 10.97.169.67/32 -p tcp -m comment --comment "default/kuard: cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
    );
    expect(r).toMatchObject({
      chain: 'KUBE-SERVICES',
      source: '192.168.0.0/16',
      destination: '10.97.169.67/32',
      protocol: 'tcp',
      comment: 'default/kuard: cluster IP',
      dport: 80,
      target: 'KUBE-MARK-MASQ',
      negated: ['-s'],
    });
  });

  it('reads probability, DNAT, recent and quoted escapes', () => {
    expect(
      readRule(
        '-A KUBE-SVC-X -m comment --comment "default/kuard:" -m statistic --mode random --probability 0.11110999994 -j KUBE-SEP-Y',
      ).probability,
    ).toBe(0.11110999994);
    const sep = readRule(
      '-A KUBE-SEP-Y -p tcp -m comment --comment "a \\"b\\"" -m recent --set --name KUBE-SEP-Y --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.1.0.2:8080',
    );
    expect(sep).toMatchObject({
      comment: 'a "b"',
      toDestination: '10.1.0.2:8080',
      target: 'DNAT',
      recent: { set: true, name: 'KUBE-SEP-Y' },
    });
  });
});

const three = kuardPods.slice(0, 3);
const four = [...kuardPods];
const kuard = kuardClusterIP;

function world(ps: WorldPod[]) {
  return snapshotOf({
    pods: [captured(ps.map(pod), null, 'kubectl get pods -o wide')],
    services: [captured([service(kuard)], null, 'kubectl get svc kuard -o yaml')],
    endpoints: [captured([endpoints('kuard', '', 8080, ps)], null, 'kubectl get endpoints kuard -o yaml')],
    rulesets: [
      captured(parseRuleset(kubeProxyNat([genService(kuard, ps, 'node-a')])), 'node-a', 'iptables-save'),
    ],
  });
}

describe('effective probabilities', () => {
  it('p_i × Π(1 − p_j): every one of n backends gets 1/n', () => {
    const { services, findings } = analyzeSnapshot(world(four));
    expect(findings).toEqual([]);
    const b = services[0]!.nodes['node-a']!.backends;
    expect(b.map((x) => x.probability)).toEqual(
      [0.25, 1 / 3, 0.5, null].map((p) => (p === null ? null : Number(p.toFixed(10)))),
    );
    for (const x of b) expect(x.effectiveProbability).toBeCloseTo(0.25, 9);
  });
});

describe('diffSnapshots', () => {
  it('scaling kuard from 3 to 4 shows the new pod, endpoint, SEP and probabilities 1/4, 1/3, 1/2', () => {
    const d = diffSnapshots(world(three), world(four));
    expect(d.pods).toEqual({
      added: [{ namespace: 'default', name: 'kuard-d', ip: '10.244.2.14', node: 'node-b' }],
      removed: [],
    });
    expect(d.endpoints).toEqual([
      { namespace: 'default', name: 'kuard', added: ['10.244.2.14:8080'], removed: [] },
    ]);
    const svc = d.nodes['node-a']!.services[0]!;
    expect(svc).toMatchObject({ namespace: 'default', name: 'kuard', port: '80' });
    expect(svc.added.map((s) => s.ip)).toEqual(['10.244.2.14']);
    expect(svc.removed).toEqual([]);
    expect(svc.changed.map((c) => [c.ip, c.before, c.after])).toEqual([
      ['10.244.1.11', 0.3333333333, 0.25],
      ['10.244.1.12', 0.5, 0.3333333333],
      ['10.244.2.13', null, 0.5],
    ]);
    expect(svc.after.map((s) => s.probability)).toEqual([0.25, 0.3333333333, 0.5, null]);
  });

  it('no change, no diff', () => {
    expect(diffSnapshots(world(three), world(three))).toEqual({
      pods: { added: [], removed: [] },
      endpoints: [],
      nodes: {},
    });
  });
});

describe('capture sources', () => {
  it('reads the machine from a prompt and the address from a curl line', () => {
    expect(hostOfPrompt('ubuntu@ip-10-0-18-181:~$')).toBe('ip-10-0-18-181');
    expect(hostOfPrompt('~ $')).toBeNull();
    expect(requestTarget('curl 10.110.41.209:80/env/api')).toBe('10.110.41.209:80');
    expect(requestTarget('curl localhost:30361/env/api')).toBe('localhost:30361');
    expect(requestTarget('wget -O - 192.168.49.6:8080/env/api')).toBe('192.168.49.6:8080');
  });
});

describe('kinds of service, shown for what they are', () => {
  it('headless and ExternalName services get notes, no node chains and no findings', () => {
    const headless = { ...service({ ...kuard, name: 'kuard-headless' }), clusterIP: 'None' };
    const external = {
      ...service({ ...kuard, name: 'search' }),
      type: 'ExternalName',
      clusterIP: null,
      selector: null,
      externalName: 'www.example.com',
    };
    const snap = snapshotOf({
      pods: [captured(three.map(pod), null, 'kubectl get pods')],
      services: [captured([headless, external], null, 'kubectl get svc -o yaml')],
      endpoints: [captured([endpoints('kuard-headless', '', 8080, three)], null, 'kubectl get ep -o yaml')],
      rulesets: [captured(parseRuleset(kubeProxyNat([])), 'node-a', 'iptables-save')],
    });
    const { services, findings } = analyzeSnapshot(snap);
    expect(findings).toEqual([]);
    const [h, e] = services;
    expect(h).toMatchObject({ name: 'kuard-headless', headless: true, nodes: {} });
    expect(h!.endpoints).toHaveLength(3);
    expect(h!.notes[0]).toMatch(/^Headless/);
    expect(e).toMatchObject({ name: 'search', externalName: 'www.example.com', nodes: {} });
    expect(e!.notes[0]).toBe(
      'ExternalName: DNS answers with a CNAME to www.example.com; no endpoints, no rules.',
    );
  });
});

describe('the test rule writer', () => {
  it('names chains as kube-proxy does (proxier_test.go: ns1/svc1:p80 → KUBE-SVC-XPGD46QRK7WJZT7O, 10.180.0.1:80 → KUBE-SEP-SXIVWICOYRO3J4NJ)', () => {
    expect(svcChain('KUBE-SVC-', 'ns1/svc1:p80', 'tcp')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(sepChain('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });
});

describe('what a capture does not say is not a finding', () => {
  it('no endpoint-orphan when only another namespace’s pods were captured', () => {
    const kubeSystem = three.map((p) => ({
      ...pod({ ...p, name: `coredns-${p.name}`, ip: `10.244.9.${p.ip.slice(-2)}` }),
      namespace: 'kube-system',
    }));
    const snap = snapshotOf({
      pods: [captured(kubeSystem, null, 'kubectl get pod --namespace=kube-system')],
      services: [captured([service(kuard)], null, 'kubectl get svc kuard -o yaml')],
      endpoints: [
        captured([endpoints('kuard', '', 8080, three)], null, 'kubectl get endpoints kuard -o yaml'),
      ],
    });
    expect(analyzeSnapshot(snap).findings).toEqual([]);
  });

  it('no SEP verdicts without the service’s endpoints', () => {
    const snap = snapshotOf({
      services: [captured([service(kuard)], null, 'kubectl get svc kuard -o yaml')],
      rulesets: [
        captured(parseRuleset(kubeProxyNat([genService(kuard, three, 'node-a')])), 'node-a', 'iptables-save'),
      ],
    });
    const { services, findings } = analyzeSnapshot(snap);
    expect(findings).toEqual([]);
    expect(services[0]!.nodes['node-a']!.backends.map((b) => b.ip)).toEqual(three.map((p) => p.ip));
  });
});

describe('hostNetwork teaching notes', () => {
  it('an endpoint at a node address is explained on the service', () => {
    const apiserver: WorldPod = { name: 'kube-apiserver-master', ip: '172.18.0.2', node: 'master' };
    const snap = snapshotOf({
      nodes: [captured([node('master', '172.18.0.2')], null, 'kubectl get nodes -o wide')],
      services: [
        captured(
          [service({ ...kuard, name: 'kubernetes', selector: {} })],
          null,
          'kubectl get svc kubernetes -o yaml',
        ),
      ],
      endpoints: [
        captured([endpoints('kubernetes', '', 6443, [apiserver])], null, 'kubectl get ep kubernetes -o yaml'),
      ],
    });
    const { services, findings } = analyzeSnapshot(snap);
    expect(findings).toEqual([]);
    expect(services[0]!.notes).toContain(
      'Endpoint 172.18.0.2 is node master\'s own address: a hostNetwork pod (or a process on the node, like the API server behind "kubernetes") serves this service.',
    );
  });
});

describe('findings stay bounded on a big service', () => {
  it('2,000 ready pods left out of 4,000 endpoints: one finding each, each naming at most 20 addresses', () => {
    const pods = manyKuardPods(6000, (i) => `node-${i % 20}`);
    const svc = service({
      name: 'kuard',
      clusterIP: '10.96.0.10',
      port: 80,
      portName: 'http',
      targetPort: 8080,
      selector: { app: 'kuard' },
    });
    const result = analyzeSnapshot(
      snapshotOf({
        pods: [captured(pods.map(pod), null, 'kubectl get pods -o yaml')],
        services: [captured([svc], null, 'kubectl get svc -o yaml')],
        endpoints: [captured([endpoints('kuard', 'http', 8080, pods.slice(0, 4000))], null, 'endpoints')],
      }),
    );
    const missing = result.findings.filter((f) => f.code === 'endpoint-missing');
    expect(missing).toHaveLength(2000);
    const list = missing[0]!.evidence.find((e) => e.text.startsWith('addresses: '))!.text;
    expect(list.split(', ').length).toBeLessThanOrEqual(21);
    expect(list).toMatch(/… and 3980 more \(4000 in all\)$/);
    // linear in the findings: it used to copy all 4,000 addresses into each of them (about 100 MB here)
    expect(JSON.stringify(result).length).toBeLessThan(10_000_000);
  });
});
