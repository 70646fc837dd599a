import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { progressFile, progressSchema } from '../../src/labs/progress.js';
import { runCli as quiet } from '../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-resume-${process.pid}-`));
const work = join(tmp, 'work');
afterAll(() => {
  // Let a command orphaned by the kill finish at once (it waits for this file), then clean up.
  try {
    writeFileSync(join(work, 'go'), '');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

const lab = `---
id: resume-test
title: Resume test
summary: Three steps; the second waits for a file.
estimatedTime: 1m
roles:
  w:
    description: local shell
---

## One

\`\`\`sh {role=w}
touch one
\`\`\`

\`\`\`yaml {checks}
- id: one
  run: {role: w, command: test -f one}
\`\`\`

## Two

\`\`\`sh {role=w}
for i in $(seq 1 100); do test -f go && exit 0; sleep 0.1; done; exit 1
\`\`\`

\`\`\`yaml {checks}
- id: two
  run: {role: w, command: test -f go}
\`\`\`

## Three

\`\`\`yaml {checks}
- id: three
  run: {role: w, command: test -f one}
\`\`\`
`;

describe('progress survives killing labdeck mid-run', () => {
  it('a run killed during step two keeps step one done; --resume continues at step two', async () => {
    const labDir = join(tmp, 'resume-lab');
    mkdirSync(labDir);
    mkdirSync(work);
    writeFileSync(join(labDir, 'lab.md'), lab);
    const inv = join(tmp, 'inv.yaml');
    writeFileSync(inv, `environment: local\nroles:\n  w: {local: {cwd: ${JSON.stringify(work)}}}\n`);
    const data = join(tmp, 'data');
    expect((await quiet(['lab', 'trust', labDir, '--data-dir', data])).code).toBe(0);
    const file = progressFile(data, 'resume-test', 'local');

    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, '../../src/cli/run.ts'),
        'lab',
        'run',
        labDir,
        '--inventory',
        inv,
        '--data-dir',
        data,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        let one: string | undefined;
        try {
          one = progressSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).steps['one']?.status;
        } catch {
          one = undefined;
        }
        if (one === 'done') break;
        if (Date.now() > deadline) throw new Error('the child never finished step one');
      }
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const after = progressSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(after.steps['one']).toMatchObject({
      status: 'done',
      checks: { one: { status: 'done', attempts: 1 } },
    });
    expect(after.steps['two']).toBeUndefined();

    writeFileSync(join(work, 'go'), '');
    const resumed = await quiet([
      'lab',
      'run',
      labDir,
      '--inventory',
      inv,
      '--data-dir',
      data,
      '--resume',
      '--json',
    ]);
    expect(resumed.code).toBe(0);
    const r = JSON.parse(resumed.out) as { ok: boolean; steps: { id: string; status: string }[] };
    expect(r.steps.map((s) => [s.id, s.status])).toEqual([
      ['two', 'done'],
      ['three', 'done'],
    ]);
    const done = await quiet(['lab', 'run', labDir, '--inventory', inv, '--data-dir', data, '--resume']);
    expect(done.out).toBe('Every step is already done or skipped in this environment.\n');
  });
});
