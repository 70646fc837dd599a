import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultOutDir, labDir, makeSeedRecording } from '../../scripts/make-seed-recording.js';
import { runCli as run } from '../support/cli.js';
import { loadRecording } from '../../src/targets/recording.js';
import { TGIK_002_STEP_IDS } from '../support/tgik-002.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-seedrec-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** How a replay says that the recording does not have a command (src/targets/replayTarget.ts). */
const notRecorded = /replay: (the recording has no run of this command|next recorded commands here)/;

interface JsonCheck {
  id: string;
  status: string;
  message?: string;
  evidence: string[];
}
interface JsonResult {
  ok: boolean;
  recorded: boolean;
  environment: string;
  steps: { id: string; status: string; message?: string; checks: JsonCheck[] }[];
  findings: { code: string; message: string }[];
}

describe('the seed-2019 recording of TGIK 002', () => {
  it('is what scripts/make-seed-recording.ts generates (regenerating gives identical files)', async () => {
    const out = join(tmp, 'regenerated');
    await makeSeedRecording(out);
    const shipped = readdirSync(defaultOutDir).sort();
    expect(readdirSync(out).sort()).toEqual(shipped);
    expect(shipped).toEqual([
      'master-ip-10-0-23-3.cast',
      'node-ip-10-0-18-181.cast',
      'pod-kuard-dbdd7955d-4kdbr.cast',
      'recording.json',
      'workstation.cast',
    ]);
    for (const f of shipped)
      expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(defaultOutDir, f), 'utf8'));
  });

  it('keeps the seed text and says where it comes from', () => {
    const rec = loadRecording(defaultOutDir);
    expect(rec.environment).toMatch(/AWS heptio-quickstart/);
    expect(rec.environment).toMatch(/2019/);
    expect(rec.note).toMatch(/different moments/);
    const byBlock = new Map(rec.entries.map((e) => [e.check ?? e.block, e]));
    // Outputs are the seed's lines, e.g. the conflist and the KUBE-SEP chain whose DNAT is stale.
    expect(byBlock.get('cni-conflist')?.stdout).toContain('"etcd_endpoints": "http://10.96.232.136:6666"');
    expect(byBlock.get('nat-table')?.stdout).toContain(
      '-A KUBE-SEP-AOUKRORADL3ZFT3D -p tcp -m comment --comment "default/kuard:" -m tcp -j DNAT --to-destination 192.168.236.133:8080\n',
    );
    expect(byBlock.get('pod-to-pod')).toMatchObject({
      command: 'wget -q -O - 192.168.49.6:8080/env/api',
      instance: 'kuard-dbdd7955d-4kdbr',
    });
    // Nothing the seed never printed: no JSON lists, no EndpointSlices, no loops of requests.
    const commands = rec.entries.map((e) => e.command);
    expect(commands.filter((c) => /-o json|endpointslices|seq 1/.test(c))).toEqual([]);
  });

  it('replays with no cluster: every step runs, recorded, and the seed inconsistencies fail their checks', async () => {
    const r = await run([
      'lab',
      'run',
      labDir,
      '--replay',
      defaultOutDir,
      '--data-dir',
      join(tmp, 'data'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out) as JsonResult;
    expect(res.recorded).toBe(true);
    expect(res.environment).toBe('replay-seed-2019');
    expect(res.steps.map((s) => s.id)).toEqual(TGIK_002_STEP_IDS);
    const checks = new Map(res.steps.flatMap((s) => s.checks.map((c) => [c.id, c])));
    const text = (id: string): string => {
      const c = checks.get(id);
      return `${c?.message ?? ''} ${(c?.evidence ?? []).join(' ')}`;
    };

    // The step the seed answers completely passes.
    expect(res.steps.find((s) => s.id === 'cni')?.status).toBe('done');
    // Checks answered by the seed pass, wherever they are.
    for (const id of [
      'ten-kuard-running',
      'pod-hostname-is-a-kuard-pod',
      'cni-config-present',
      'cni-plugins-installed',
      'cni-plugin-needs-env',
      'service-exists',
      'cluster-ip-assigned',
      'kuard-in-kube-services',
      'master-reaches-pod',
    ])
      expect(checks.get(id)?.status, id).toBe('done');

    // The seed's inconsistencies, each failing with its evidence.
    const inconsistent = res.steps
      .flatMap((s) => s.checks)
      .filter((c) => c.status === 'failed' && !notRecorded.test(text(c.id)))
      .map((c) => c.id);
    expect(inconsistent).toEqual([
      'pod-to-pod-answer',
      'service-selects-kuard',
      'cluster-ip-unchanged',
      'node-port-unchanged',
      'kube-proxy-agrees',
    ]);
    expect(text('kube-proxy-agrees')).toContain('sep-stale');
    expect(text('kube-proxy-agrees')).toContain('192.168.236.133:8080');
    expect(text('cluster-ip-unchanged')).toContain('is now 10.110.41.209, but step 5 saw 10.97.169.67');
    expect(text('node-port-unchanged')).toContain('is now 30361, but step 5 saw 31986');
    // The pod-to-pod answer names a pod that is in no pod list of the seed.
    expect(text('pod-to-pod-answer')).toContain('kuard-dbdd7955d-c48g5');
    // The 2019 `kubectl run` labelled the pods run=kuard.
    expect(text('service-selects-kuard')).toContain('(known: run)');

    // What the seed never printed fails saying the recording does not have it, not with invented output
    // (and not as "stopped": a replay's missing command is no timeout). The message keeps the replay's first
    // stderr line, whatever the command's length.
    const missing = [
      'node-ips',
      'headless-dry-run',
      'kube-proxy-on-every-node',
      'endpoint-ips',
      'probabilities-one-in-n',
      'load-balancer-feeds-node-port',
    ];
    for (const id of missing) expect(checks.get(id)?.status, id).toBe('failed');
    for (const id of missing) {
      expect(text(id), id).toMatch(
        /` has no run in the recording: replay: the recording has no run of this command/,
      );
      expect(text(id), id).not.toMatch(/stopped/);
    }
    // A failed block skips only the checks that read its capture: the master still reaches the pod while the
    // node's request (never in the seed) fails, and the kube-proxy check runs its own command.
    expect(checks.get('master-reaches-pod')?.status).toBe('done');
    expect(checks.get('every-node-reaches-pod')).toMatchObject({
      status: 'skipped',
      message:
        'skipped: it reads "fromNodes", which block 3 (node-to-pod) should have captured, but that block failed',
    });
    expect(checks.get('deployment-ten-available')?.message).toBe(
      'skipped: it reads "deployment", which block 2 (deployment-json) should have captured, but that block did not run (block 1 (lb-service) failed before it)',
    );
    for (const id of ['node-to-pod', 'endpoints', 'kube-proxy', 'spread', 'node-port', 'load-balancer'])
      expect(res.steps.find((s) => s.id === id)?.message, id).toMatch(notRecorded);

    // The analysed snapshot names the same disagreements across captures.
    const codes = res.findings.map((f) => f.code);
    expect(codes).toContain('sep-stale');
    expect(codes).toContain('capture-conflict');
    expect(res.findings.find((f) => f.code === 'clusterip-missing')?.message).toContain('10.110.41.209');
  });

  it('labels the human output as recorded, with the environment', async () => {
    const r = await run(['lab', 'run', labDir, '--replay', defaultOutDir, '--data-dir', join(tmp, 'data2')]);
    expect(r.out).toContain('[RECORDED] Nothing runs: results come from the replay of recording "seed-2019"');
    expect(r.out).toContain('AWS heptio-quickstart');
    expect(r.out).toMatch(/\[RECORDED\] FAIL: 1\/12 steps done/);
  });
});
