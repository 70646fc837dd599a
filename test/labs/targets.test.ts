import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalTarget } from '../../src/targets/localTarget.js';
import { RecordingWriter, loadRecording, redactSecrets } from '../../src/targets/recording.js';
import { ReplayTarget } from '../../src/targets/replayTarget.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-targets-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('local target', () => {
  it('runs the command with bash -c; cwd and env are spawn options', async () => {
    const t = new LocalTarget({ cwd: tmp, env: { LAB_VALUE: '$(echo not expanded)' } });
    const r = await t.run('pwd; printf %s "$LAB_VALUE"; echo oops >&2; exit 7', {});
    t.dispose();
    expect(r.stdout).toBe(`${tmp}\n$(echo not expanded)`);
    expect(r.stderr).toBe('oops\n');
    expect(r.exitCode).toBe(7);
    expect(r.endedAt).toBeGreaterThanOrEqual(r.startedAt);
  });

  it('an abort kills the whole process group and reports exit code null', async () => {
    const t = new LocalTarget();
    const ac = new AbortController();
    const p = t.run('sleep 30 & sleep 30; echo never', { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const r = await p;
    t.dispose();
    expect(r.exitCode).toBeNull();
    expect(r.stdout).toBe('');
    expect(r.endedAt - r.startedAt).toBeLessThan(10_000);
  });

  it('a timeout stops a command', async () => {
    const t = new LocalTarget({ timeoutMs: 100 });
    const r = await t.run('sleep 30', {});
    t.dispose();
    expect(r.exitCode).toBeNull();
  });
});

describe('recordings', () => {
  it("redacts tokens and keys, as in the seed's calico-kubeconfig", () => {
    const kubeconfig = [
      'users:',
      '- name: calico',
      '  user:',
      '    token: "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc..."',
      '    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JS...S0tLQo=',
      'Authorization: Bearer abc.def.ghi',
    ].join('\n');
    const out = redactSecrets(kubeconfig);
    expect(out).toBe(
      [
        'users:',
        '- name: calico',
        '  user:',
        '    token: "<redacted>"',
        '    certificate-authority-data: <redacted>',
        'Authorization: Bearer <redacted>',
      ].join('\n'),
    );
  });

  it('replays commands in order per role instance, and says so when a command was never recorded', async () => {
    let now = 1_000_000;
    const w = new RecordingWriter(
      join(tmp, 'rec'),
      { lab: { id: 'l', title: 'L' }, name: 'rec', environment: 'test' },
      () => now,
    );
    w.step('s', 'S');
    for (const [instance, out] of [
      ['worker1', 'a\n'],
      ['worker2', 'b\n'],
      ['worker1', 'c\n'],
    ] as const) {
      w.command({
        step: 's',
        block: 'b',
        role: 'node',
        instance,
        command: 'cat x',
        stdout: out,
        stderr: '',
        exitCode: 0,
        startedAt: now,
        endedAt: now + 5,
      });
      now += 10;
    }
    await w.close();
    const rec = loadRecording(join(tmp, 'rec'));
    expect(rec.casts.map((c) => c.file).sort()).toEqual(['node-worker1.cast', 'node-worker2.cast']);
    const t1 = new ReplayTarget(rec, 'node', 'worker1');
    expect(t1.recorded).toBe(true);
    expect((await t1.run('cat x', {})).stdout).toBe('a\n');
    expect((await t1.run('cat x', {})).stdout).toBe('c\n');
    // Every run played: asking again answers with the last one (the cluster as the recording left it).
    expect(await t1.run('cat x', {})).toMatchObject({ stdout: 'c\n', exitCode: 0 });
    const none = await t1.run('cat y', {});
    expect(none.exitCode).toBeNull();
    expect(none.stderr).toBe('replay: the recording has no run of this command on node/worker1: cat y\n');
    expect((await new ReplayTarget(rec, 'node', 'worker2').run('cat x', {})).stdout).toBe('b\n');
  });

  it('rejects a file that is not a recording, naming the field', () => {
    const dir = join(tmp, 'notrec');
    rmSync(dir, { recursive: true, force: true });
    expect(() => loadRecording(dir)).toThrow(/cannot read the recording/);
  });
});
