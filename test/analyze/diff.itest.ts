/**
 * `labdeck analyze --diff` on two directories captured around "scale kuard from 3 to 4": the iptables-save dumps
 * are real (rules loaded with iptables-restore into a throwaway netns); the kubectl YAML is a double of
 * `kubectl get pods,svc,endpoints -o yaml` (no API server here), parsed by the real kubectl-object parser.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { SnapshotDiff } from '../../src/analyze/index.js';
import { runCli } from '../support/cli.js';
import { kubeProxyNat } from './support/kubeProxyRules.js';
import { Netns } from './support/netns.js';
import { genService, kuardClusterIP, kuardPods, type WorldPod } from './support/world.js';

let ns: Netns;
let dir: string;
beforeAll(() => {
  ns = Netns.create('ldan');
  dir = mkdtempSync(join(tmpdir(), 'ldan-diff-'));
});
afterAll(() => {
  ns?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const kuard = kuardClusterIP;
const four = [...kuardPods];

function kubectlYaml(pods: WorldPod[]): string {
  const items = [
    ...pods.map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: 'default', labels: { run: 'kuard' } },
      spec: { nodeName: p.node, containers: [{ name: 'kuard', image: 'gcr.io/kuar-demo/kuard-amd64:1' }] },
      status: { phase: 'Running', podIP: p.ip, conditions: [{ type: 'Ready', status: 'True' }] },
    })),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kuard', namespace: 'default' },
      spec: {
        clusterIP: kuard.clusterIP,
        type: 'ClusterIP',
        selector: { run: 'kuard' },
        ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }],
        sessionAffinity: 'None',
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kuard', namespace: 'default' },
      subsets: [
        {
          addresses: pods.map((p) => ({
            ip: p.ip,
            nodeName: p.node,
            targetRef: { kind: 'Pod', name: p.name, namespace: 'default' },
          })),
          ports: [{ port: 8080, protocol: 'TCP' }],
        },
      ],
    },
  ];
  return stringify({ apiVersion: 'v1', kind: 'List', items });
}

function capture(name: string, pods: WorldPod[]): string {
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(join(d, 'kubectl-get.yaml'), kubectlYaml(pods));
  writeFileSync(
    join(d, 'iptables-save@node-a.txt'),
    ns.restoreAndSave(kubeProxyNat([genService(kuard, pods, 'node-a')])),
  );
  return d;
}

describe('labdeck analyze --diff', () => {
  it('scaling kuard 3 → 4: a new pod, endpoint and SEP, probabilities 1/4, 1/3, 1/2', async () => {
    const before = capture('before', four.slice(0, 3));
    const after = capture('after', four);
    const json = await runCli(['analyze', '--diff', before, after]);
    expect(json.code).toBe(0);
    const d = JSON.parse(json.out) as SnapshotDiff;
    expect(d.pods.added.map((p) => p.name)).toEqual(['kuard-d']);
    expect(d.endpoints).toEqual([
      { namespace: 'default', name: 'kuard', added: ['10.244.2.14:8080'], removed: [] },
    ]);
    const svc = d.nodes['node-a']!.services[0]!;
    expect(svc.added.map((s) => [s.ip, s.port])).toEqual([['10.244.2.14', 8080]]);
    // As iptables-save prints them (2^-31 steps, 11 decimals).
    expect(svc.changed.map((c) => [c.ip, c.before, c.after])).toEqual([
      ['10.244.1.11', 0.33333333349, 0.25],
      ['10.244.1.12', 0.5, 0.33333333349],
      ['10.244.2.13', null, 0.5],
    ]);
    expect(svc.after.map((s) => s.probability)).toEqual([0.25, 0.33333333349, 0.5, null]);
    for (const s of svc.after) expect(s.effectiveProbability).toBeCloseTo(0.25, 8);

    const text = await runCli(['analyze', '--diff', before, after, '--format', 'text']);
    expect(text.code).toBe(0);
    const report = text.out;
    expect(report).toContain('+ pod default/kuard-d 10.244.2.14 node-b');
    expect(report).toMatch(/\+ KUBE-SEP-\S+ → 10\.244\.2\.14:8080/);
    expect(report).toMatch(/~ KUBE-SEP-\S+ → 10\.244\.1\.11: p 0\.33333 → 0\.25000/);
  });
});
