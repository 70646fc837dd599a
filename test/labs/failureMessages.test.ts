import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../../src/cli/commands/lab.js';
import type { Lab } from '../../src/labs/model.js';
import { failureExcerpt, LabRunner } from '../../src/labs/runner.js';
import type { Recording } from '../../src/targets/recording.js';
import { ReplayTarget } from '../../src/targets/replayTarget.js';
import { inlineLab as inlineLabWith, localTargets } from '../support/inline-lab.js';

/** What a failed command's message says: why it failed, and the lines of its output that matter. */

const tmp = mkdtempSync(join(tmpdir(), `labdeck-failmsg-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const inlineLab = (body: string): Lab => inlineLabWith(body, 'roles: {w: {description: w}}');

const recording: Recording = {
  format: 'labdeck-recording',
  version: 1,
  lab: { id: 't', title: 'T' },
  name: 'rec',
  recordedAt: '2026-01-01T00:00:00.000Z',
  environment: 'test',
  casts: [],
  entries: [
    {
      seq: 1,
      step: 's',
      block: 's-1',
      role: 'w',
      instance: 'w',
      command: 'kubectl get pods',
      stdout: 'NAME READY\n',
      stderr: '',
      exitCode: 0,
      startedAt: 0,
      endedAt: 10,
    },
  ],
};

describe('failure messages', () => {
  it('a command a replay has no run of is reported as missing from the recording, not as stopped', async () => {
    const lab = inlineLab(
      '## S\n\n```sh {role=w}\nkubectl get pods\n```\n\n```yaml {checks}\n- id: svc\n  run: {role: w, command: kubectl get svc}\n```\n',
    );
    const runner = new LabRunner({
      lab,
      targets: (role) => [{ instance: role, target: new ReplayTarget(recording, role, role) }],
      parse: parseOutput,
      trusted: true,
    });
    const r = await runner.runStep('s');
    runner.dispose();
    const msg = r.checks[0]?.message ?? '';
    expect(msg).toMatch(
      /^on w \(replay of recording "rec" .*\): `kubectl get svc` has no run in the recording: /,
    );
    expect(msg).toContain('replay: the recording has no run of this command on w/w: kubectl get svc');
    expect(msg).not.toContain('stopped');
  });

  it('a real command that outlives its timeout says so', async () => {
    const lab = inlineLab('## S\n\n```sh {role=w timeout=1s}\nsleep 5\n```\n');
    const runner = new LabRunner({
      lab,
      targets: localTargets(tmp),
      parse: parseOutput,
      trusted: true,
    });
    const r = await runner.runStep('s');
    runner.dispose();
    expect(r.blocks[0]?.message).toMatch(/`sleep 5` was stopped by its timeout \(1s\)$/);
  });

  it('keeps the first stderr line, the first error-like line and the tail, each line and the count bounded', async () => {
    const lab = inlineLab(
      [
        '## S',
        '',
        '```sh {role=w}',
        'echo "Error from server (NotFound): services \\"kuard\\" not found" >&2',
        'for i in $(seq 1 200); do echo "noise line $i with some padding to make it long" >&2; done',
        'echo "last words" >&2; exit 1',
        '```',
      ].join('\n'),
    );
    const runner = new LabRunner({
      lab,
      targets: localTargets(tmp),
      parse: parseOutput,
      trusted: true,
    });
    const r = await runner.runStep('s');
    runner.dispose();
    expect(r.blocks[0]?.message).toMatch(
      /exited 1 \(expected 0\): Error from server \(NotFound\): services "kuard" not found \| … \| noise line 200 with some padding to make it long \| last words$/,
    );
  });

  it('failureExcerpt: stdout when stderr is empty, an error line from the middle, long lines cut in the middle', () => {
    expect(failureExcerpt('', 'a\nb\nc\nd\n')).toBe('a | … | c | d');
    expect(failureExcerpt('', '')).toBe('');
    expect(failureExcerpt('start\nx\nfatal: bad thing\ny\nz\nend\n', 'ignored')).toBe(
      'start | … | fatal: bad thing | … | z | end',
    );
    const long = `${'a'.repeat(300)}TAIL`;
    const out = failureExcerpt(long, '');
    expect(out.length).toBe(200);
    expect(out.startsWith('aaa')).toBe(true);
    expect(out.endsWith('TAIL')).toBe(true);
    const huge = failureExcerpt(Array.from({ length: 5000 }, () => 'e'.repeat(1000)).join('\n'), '');
    expect(huge.length).toBeLessThanOrEqual(4 * 200 + 2 * 4 + 3 * 3);
  });
});

describe('a cancelled run', () => {
  it('says the command was cancelled and skips the checks instead of running them', async () => {
    const lab = inlineLab(
      '## S\n\n```sh {role=w}\nsleep 5\n```\n\n```yaml {checks}\n- id: after\n  run: {role: w, command: "touch after-cancel"}\n```\n',
    );
    const stop = new AbortController();
    const runner = new LabRunner({
      lab,
      targets: localTargets(tmp),
      parse: parseOutput,
      trusted: true,
      signal: stop.signal,
      observer: { step: () => setTimeout(() => stop.abort(), 100) },
    });
    const r = await runner.runStep('s');
    runner.dispose();
    expect(r.blocks[0]?.message).toMatch(/`sleep 5` was stopped: the run was cancelled$/);
    expect(r.checks[0]).toMatchObject({ status: 'skipped', message: 'skipped: the run was cancelled' });
    expect(existsSync(join(tmp, 'after-cancel'))).toBe(false);
  });
});
