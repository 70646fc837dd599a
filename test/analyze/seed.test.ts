/**
 * The seed's own outputs (the parse branch's golden fixtures, test/fixtures/<kind>/seed-*.txt with their
 * .meta.json), analysed together through `labdeck analyze`: the kuard view the write-up explains, and the findings
 * its captures from different runs deserve.
 */
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/analyze/index.js';
import { runCli } from '../support/cli.js';

const f = 'test/fixtures';
const node = 'NODE=ip-10-0-18-181:';
const seedFiles = [
  `${f}/kubectl-table/seed-node-to-pod-get-po-wide.txt`,
  `${f}/kubectl-object/seed-none-endpoints-yaml.txt`,
  `${f}/kubectl-object/seed-clusterip-svc-yaml.txt`,
  `${f}/kubectl-object/seed-nodeport-svc-yaml.txt`,
  `${node}${f}/iptables-save/seed-clusterip-iptables-save-less.txt`,
  `${node}${f}/iptables-save/seed-clusterip-kube-svc-chain.txt`,
  `${node}${f}/iptables-save/seed-clusterip-kube-sep-chain.txt`,
  `${node}${f}/kuard-env/seed-clusterip-curl-cluster-ip.txt`,
];

describe('the seed, analysed', () => {
  it('shows kuard: 10 pods, 10 endpoints, rule probabilities 0.1 … 0.5, 10 % each', async () => {
    const r = await runCli(['analyze', ...seedFiles]);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.out) as Analysis;
    const kuard = a.services.find((s) => s.name === 'kuard')!;
    expect(kuard).toMatchObject({ namespace: 'default', type: 'LoadBalancer', clusterIP: '10.110.41.209' });
    expect(kuard.pods).toHaveLength(10);
    expect(kuard.endpoints).toHaveLength(10);
    expect(
      kuard.endpoints.every((e) => e.ready && e.port === 8080 && e.pod?.startsWith('kuard-dbdd7955d-')),
    ).toBe(true);
    const n = kuard.nodes['ip-10-0-18-181']!;
    expect(n.ports[0]!.svcChain).toBe('KUBE-SVC-CUXC5A3HHHVSSN62');
    expect(n.backends.map((b) => b.probability)).toEqual([
      0.10000000009,
      0.11110999994,
      0.125,
      0.14286000002,
      0.16667000018,
      0.20000000019,
      0.25,
      0.33332999982,
      0.5,
      null,
    ]);
    for (const b of n.backends) expect(b.effectiveProbability).toBeCloseTo(0.1, 4);
    expect(n.backends[9]).toMatchObject({
      chain: 'KUBE-SEP-AOUKRORADL3ZFT3D',
      ip: '192.168.236.133',
      port: 8080,
      isEndpoint: false,
    });
  });

  it('finds what its captures from different runs deserve, and nothing it cannot know', async () => {
    const a = JSON.parse((await runCli(['analyze', ...seedFiles])).out) as Analysis;
    expect(a.findings.map((x) => x.code).sort()).toEqual([
      'capture-conflict',
      'capture-conflict',
      'capture-incomplete',
      'clusterip-missing',
      'sample-unknown-backend',
      'sep-stale',
    ]);
    const stale = a.findings.find((x) => x.code === 'sep-stale')!;
    expect(stale.subject).toEqual({
      namespace: 'default',
      name: 'kuard',
      port: '80',
      node: 'ip-10-0-18-181',
    });
    expect(stale.message).toContain('192.168.236.133:8080');
    expect(stale.evidence[0]!.text).toBe(
      '-A KUBE-SEP-AOUKRORADL3ZFT3D -p tcp -m comment --comment "default/kuard:" -m tcp -j DNAT --to-destination 192.168.236.133:8080',
    );
    const conflict = a.findings.find(
      (x) => x.code === 'capture-conflict' && x.evidence[0]!.field === 'spec.clusterIP',
    )!;
    expect(conflict.evidence.map((e) => e.text)).toEqual([
      'spec.clusterIP: 10.97.169.67',
      'spec.clusterIP: 10.110.41.209',
    ]);
    const missing = a.findings.find((x) => x.code === 'clusterip-missing')!;
    expect(missing.message).toContain('10.97.169.67:80');
    expect(missing.evidence[1]!.text).toMatch(
      /^-A KUBE-SERVICES -d 10\.97\.169\.67\/32 .*-j KUBE-SVC-CUXC5A3HHHVSSN62$/,
    );
    // The excerpt jumps to 9 SEP chains and to KUBE-NODEPORTS it does not show: said once, no sep-missing guesses.
    expect(
      a.findings.find((x) => x.code === 'capture-incomplete')!.evidence[0]!.text.split(', '),
    ).toHaveLength(9);
  });

  it('prints a readable report with --format text', async () => {
    const text = (await runCli(['analyze', '--format', 'text', ...seedFiles])).out;
    expect(text).toContain(
      'KUBE-SEP-AOUKRORADL3ZFT3D  p=(rest)  share 10.0%  → 192.168.236.133:8080  NOT AN ENDPOINT',
    );
    expect(text).toMatch(/\[error\] sep-stale {2}default\/kuard:80 on ip-10-0-18-181/);
  });

  it('says clearly what is wrong with its input', async () => {
    const missing = await runCli(['analyze', 'no-such-file.txt']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read no-such-file\.txt: ENOENT/);
    expect((await runCli(['analyze', '--format', 'xml', seedFiles[0]!])).code).toBe(2);
  });
});
