/**
 * The TGIK-002 lab, headless, against a fresh `labdeck sandbox` (real sshd through the bastion, real iptables,
 * kubectl against the kube-api double) with the inventory `sandbox up` writes: it passes; then each fault makes
 * the matching check fail with a message naming the fault's evidence, and goes away again. One shared instance.
 * The lab's later steps use values from earlier ones (the service, the endpoint IPs), so every run is the whole
 * lab: about 5 s, plus the retries of the checks that wait for the state to settle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { faultTargets } from '../../src/sandbox/cluster-state.js';
import type { FaultName } from '../../src/sandbox/cluster-state.js';
import type { Harness } from '../sandbox/sandbox-harness.js';
import { startSandbox } from '../sandbox/sandbox-harness.js';

const lab = join(import.meta.dirname, '../../labs/tgik-002-networking-and-services');
let h: Harness;
let data: string;

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), `labdeck-lab-sandbox-${process.pid}-`));
  h = await startSandbox('ldl', 10);
}, 180_000);

afterAll(async () => {
  try {
    await h?.dispose();
  } finally {
    if (data) rmSync(data, { recursive: true, force: true });
  }
});

interface CheckResult {
  readonly id: string;
  readonly status: string;
  readonly message?: string;
  readonly evidence?: readonly string[];
}
interface LabResult {
  readonly steps: readonly { id: string; status: string; checks: readonly CheckResult[] }[];
}

let runs = 0;
async function runLab(): Promise<{ code: number; result: LabResult; text: string }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main([
      'lab',
      'run',
      lab,
      '--inventory',
      h.sandbox.info().inventory,
      '--skip-setup',
      '--data-dir',
      join(data, String(runs++)),
      '--json',
    ]);
    const text = out.mock.calls.map((c) => String(c[0])).join('');
    return { code, result: JSON.parse(text) as LabResult, text };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

function check(r: LabResult, id: string): CheckResult {
  const c = r.steps.flatMap((s) => s.checks).find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
}

/** What a failed check says: its message and evidence, as one text. */
function said(c: CheckResult): string {
  return [c.message ?? '', ...(c.evidence ?? [])].join('\n');
}

async function withFault(name: FaultName, body: () => Promise<void>): Promise<void> {
  await h.sandbox.fault(name, true);
  try {
    await body();
  } finally {
    await h.sandbox.fault(name, false);
  }
}

describe('TGIK-002 against the sandbox', () => {
  it('passes headless with the inventory `sandbox up` wrote, setup skipped', async () => {
    const { code, result } = await runLab();
    const checks = result.steps.flatMap((s) => s.checks);
    expect(checks.filter((c) => c.status !== 'done')).toEqual([]);
    expect(checks).toHaveLength(32);
    expect(code).toBe(0);
  });

  it('stale-sep: no-stale-sep names the KUBE-SEP to the gone pod IP on every node', async () => {
    const phantom = h.sandbox.plan.phantomPodIp;
    await withFault('stale-sep', async () => {
      const { code, result } = await runLab();
      expect(code).toBe(1);
      const c = check(result, 'no-stale-sep');
      expect(c.status).toBe('failed');
      for (const node of ['worker-1', 'worker-2', 'master'])
        expect(said(c)).toMatch(
          new RegExp(
            `KUBE-SEP-\\w+ on ${node} sends kuard traffic to ${phantom}:8080, which is not an endpoint`,
          ),
        );
      expect(said(check(result, 'kube-proxy-agrees'))).toContain(`sep-stale: On worker-1`);
    });
  });

  it('missing-endpoint: ready-pods-are-endpoints names the Ready pod left out', async () => {
    const pod = faultTargets(h.sandbox.plan).missingEndpointPod;
    await withFault('missing-endpoint', async () => {
      const { result } = await runLab();
      const c = check(result, 'ready-pods-are-endpoints');
      expect(c.status).toBe('failed');
      expect(said(c)).toContain(`pod ${pod.name} (${pod.ip}) is Ready but not an endpoint of kuard`);
      expect(said(check(result, 'ten-ready-endpoints'))).toContain('found 9');
    });
  });

  it('skewed-probability: probabilities-one-in-n shows the 0.5 first rule', async () => {
    await withFault('skewed-probability', async () => {
      const { result } = await runLab();
      const c = check(result, 'probabilities-one-in-n');
      expect(c.status).toBe('failed');
      expect(said(c)).toContain('worker-1 (it[0]=0.50000000000');
      expect(said(check(result, 'kube-proxy-agrees'))).toContain('probability-skewed: On worker-1');
    });
  });

  it('dead-pod: every-endpoint-answers names the endpoint that does not answer', async () => {
    const pod = faultTargets(h.sandbox.plan).deadPod;
    await withFault('dead-pod', async () => {
      const { result } = await runLab();
      const c = check(result, 'every-endpoint-answers');
      expect(c.status).toBe('failed');
      expect(said(c)).toContain(`endpoint ${pod.ip}:8080 does not answer`);
    });
  });

  it('node-drift: sep-for-every-endpoint names the endpoint the drifted node lacks', async () => {
    const t = faultTargets(h.sandbox.plan);
    await withFault('node-drift', async () => {
      const { result } = await runLab();
      const c = check(result, 'sep-for-every-endpoint');
      expect(c.status).toBe('failed');
      expect(said(c)).toMatch(
        new RegExp(
          `endpoint ${t.driftDroppedPod.ip.replace(/\./g, '\\.')}:8080 has no KUBE-SEP in KUBE-SVC-\\w+ on ${t.driftNode.name}`,
        ),
      );
      expect(said(check(result, 'kube-proxy-agrees'))).toContain(`node-drift:`);
    });
  });

  it('hostkey-change: the node steps stop at the changed host key, nothing is sent there', async () => {
    const node = faultTargets(h.sandbox.plan).hostkeyNode.name;
    await withFault('hostkey-change', async () => {
      const { code, result, text } = await runLab();
      expect(code).toBe(1);
      expect(result.steps.find((s) => s.id === 'node-to-pod')?.status).toBe('failed');
      expect(check(result, 'every-node-reaches-pod').status).not.toBe('done');
      expect(text).toContain(`HOST KEY CHANGED for ${node}`);
    });
  });

  it('bastion-down: every step fails at the bastion, naming its address', async () => {
    await withFault('bastion-down', async () => {
      const { code, result, text } = await runLab();
      expect(code).toBe(1);
      expect(result.steps.every((s) => s.status !== 'done')).toBe(true);
      expect(text).toContain(`cannot connect to bastion (root@${h.sandbox.plan.bastionIp}:22)`);
    });
  });

  it('passes again once every fault is off', async () => {
    const { code } = await runLab();
    expect(code).toBe(0);
  });
});
