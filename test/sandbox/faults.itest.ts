/**
 * Each `labdeck sandbox fault` is really there (seen with OpenSSH, kubectl, iptables-save and curl) and goes away
 * again. One small shared instance: 4 kuard pods on 2 workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultTargets } from '../../src/sandbox/cluster-state.js';
import type { Harness } from './sandbox-harness.js';
import { curlMany, ssh, startSandbox, tally } from './sandbox-harness.js';

const PODS = 4;
let h: Harness;

beforeAll(async () => {
  h = await startSandbox('ldf', PODS);
});

afterAll(async () => {
  await h?.dispose();
});

const kuardUrl = () => `http://${h.sandbox.plan.services.find((s) => s.name === 'kuard')!.clusterIP}/env/api`;

async function endpointIps(): Promise<string[]> {
  const r = await ssh(h, 'master', "kubectl get endpoints kuard -o jsonpath='{.subsets[*].addresses[*].ip}'");
  expect(r.code).toBe(0);
  return r.stdout.trim().split(/\s+/).filter(Boolean).sort();
}

describe('sandbox faults', () => {
  it('stale-sep: a KUBE-SEP for a gone pod, so a share of curls fail', async () => {
    await h.sandbox.fault('stale-sep', true);
    const phantom = h.sandbox.plan.phantomPodIp;
    const save = await ssh(h, 'worker-2', 'iptables-save -t nat');
    expect(save.stdout).toContain(`--to-destination ${phantom}:8080`);
    expect(await endpointIps()).not.toContain(phantom);
    const answers = await curlMany(h, 'worker-1', kuardUrl(), 50, 1);
    const fails = tally(answers).get('FAIL') ?? 0;
    expect(fails).toBeGreaterThan(0); // expected 1/5 of 50; P(0) = 0.8^50 ≈ 1.4e-5
    await h.sandbox.fault('stale-sep', false);
    expect((await ssh(h, 'worker-2', 'iptables-save -t nat')).stdout).not.toContain(phantom);
  });

  it('missing-endpoint: a running matching pod is not in Endpoints and gets no traffic', async () => {
    const pod = faultTargets(h.sandbox.plan).missingEndpointPod;
    await h.sandbox.fault('missing-endpoint', true);
    const pods = await ssh(h, 'master', 'kubectl get pods -l app=kuard -o wide');
    expect(pods.stdout).toMatch(new RegExp(`${pod.name}\\s+1/1\\s+Running`));
    await expectEventually(async () => expect(await endpointIps()).not.toContain(pod.ip));
    const answers = await curlMany(h, 'master', kuardUrl(), 40);
    expect(answers).not.toContain(pod.name);
    expect(answers).not.toContain('FAIL');
    await h.sandbox.fault('missing-endpoint', false);
    await expectEventually(async () => expect(await endpointIps()).toContain(pod.ip));
  });

  it('skewed-probability: the first endpoint takes about half of the traffic', async () => {
    await h.sandbox.fault('skewed-probability', true);
    const save = await ssh(h, 'worker-1', 'iptables-save -t nat');
    const first = save.stdout
      .split('\n')
      .find((l) => l.includes('"default/kuard -> ') && l.includes('--probability'));
    expect(first).toContain('--probability 0.50000000000');
    const firstIp = /-> ([\d.]+):8080/.exec(first!)![1];
    const firstPod = h.sandbox.plan.pods.find((p) => p.ip === firstIp)!;
    const answers = await curlMany(h, 'master', kuardUrl(), 150);
    // 1/4 without the fault, 1/2 with it; P(share < 0.38 | p = 0.5, n = 150) ≈ 0.002.
    expect((tally(answers).get(firstPod.name) ?? 0) / answers.length).toBeGreaterThan(0.38);
    await h.sandbox.fault('skewed-probability', false);
    const after = (await ssh(h, 'worker-1', 'iptables-save -t nat')).stdout
      .split('\n')
      .find((l) => l.includes('"default/kuard -> ') && l.includes('--probability'));
    expect(after).toContain(`--probability 0.25000000000`); // 1/4 again
  });

  it('dead-pod: the server is gone, the pod is still Running and still an endpoint', async () => {
    const pod = faultTargets(h.sandbox.plan).deadPod;
    await h.sandbox.fault('dead-pod', true);
    expect(await endpointIps()).toContain(pod.ip);
    const direct = await curlMany(h, pod.node, `http://${pod.ip}:8080/env/api`, 3, 1);
    expect(direct).toEqual(['FAIL', 'FAIL', 'FAIL']);
    await h.sandbox.fault('dead-pod', false);
    expect(await curlMany(h, pod.node, `http://${pod.ip}:8080/env/api`, 1)).toEqual([pod.name]);
  });

  it('node-drift: one node has one kuard endpoint fewer than the others', async () => {
    const t = faultTargets(h.sandbox.plan);
    await h.sandbox.fault('node-drift', true);
    const count = async (node: string) =>
      (await ssh(h, node, 'iptables-save -t nat')).stdout
        .split('\n')
        .filter((l) => l.includes('"default/kuard -> ')).length;
    expect(await count('worker-1')).toBe(PODS);
    expect(await count(t.driftNode.name)).toBe(PODS - 1);
    await h.sandbox.fault('node-drift', false);
    expect(await count(t.driftNode.name)).toBe(PODS);
  });

  it('hostkey-change: OpenSSH refuses the node until the key is back', async () => {
    const node = faultTargets(h.sandbox.plan).hostkeyNode.name;
    await h.sandbox.fault('hostkey-change', true);
    const r = await ssh(h, node, 'true');
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    await h.sandbox.fault('hostkey-change', false);
    expect((await ssh(h, node, 'hostname')).stdout.trim()).toBe(node);
  });

  it('bastion-down: nothing is reachable until it is back', async () => {
    await h.sandbox.fault('bastion-down', true);
    const r = await ssh(h, 'master', 'true', 20_000);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Connection refused|closed by|Connection closed/);
    await h.sandbox.fault('bastion-down', false);
    expect((await ssh(h, 'master', 'hostname')).stdout.trim()).toBe('master');
  });

  it('reports a healthy instance once every fault is off', async () => {
    const st = await h.sandbox.status();
    expect(st.problems).toEqual([]);
    expect(st.info.faults).toEqual([]);
  });
});

async function expectEventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
