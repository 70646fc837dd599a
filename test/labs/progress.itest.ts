import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { progressFile, progressSchema, ProgressStore } from '../../src/labs/progress.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-progress-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('progress store', () => {
  it('keeps done/failed/skipped per step and check, per lab and environment, across reopen', async () => {
    const file = progressFile(tmp, 'pod-network-anatomy', 'sandbox');
    expect(file).toBe(join(tmp, 'progress', 'pod-network-anatomy', 'sandbox.json'));
    const a = ProgressStore.open(file, 'pod-network-anatomy', 'sandbox', () => 1_000);
    await a.setCheck('dns', 'dns-nameserver', 'done', 1);
    await a.setCheck('dns', 'dns-search-cluster', 'failed', 3, 'no search line');
    await a.setStep('dns', 'failed');
    await a.setStep('who-am-i', 'skipped');
    const b = ProgressStore.open(file, 'pod-network-anatomy', 'sandbox');
    expect(b.step('dns')).toEqual({
      status: 'failed',
      at: new Date(1_000).toISOString(),
      checks: {
        'dns-nameserver': { status: 'done', at: new Date(1_000).toISOString(), attempts: 1 },
        'dns-search-cluster': {
          status: 'failed',
          at: new Date(1_000).toISOString(),
          attempts: 3,
          message: 'no search line',
        },
      },
    });
    // Non-linear: any step may be done in any order; resume goes to the first one not done or skipped.
    expect(b.resumeAt(['start-pod', 'who-am-i', 'dns'])).toBe('start-pod');
    await b.setStep('start-pod', 'done');
    expect(b.resumeAt(['start-pod', 'who-am-i', 'dns'])).toBe('dns');
    await b.resetStep('dns');
    expect(b.step('dns')).toBeUndefined();
    // Another environment is a separate record.
    const other = ProgressStore.open(
      progressFile(tmp, 'pod-network-anatomy', 'replay-x'),
      'pod-network-anatomy',
      'replay-x',
    );
    expect(other.get().steps).toEqual({});
  });

  it('moves an unreadable file aside instead of overwriting it', async () => {
    const file = join(tmp, 'corrupt.json');
    writeFileSync(file, '{"format":"labdeck-progress","version":1,"lab":');
    const s = ProgressStore.open(file, 'l', 'e', () => 42);
    expect(s.recoveredFrom).toBe(`${file}.corrupt-42`);
    expect(readFileSync(`${file}.corrupt-42`, 'utf8')).toContain('"lab":');
    await s.setStep('a', 'done');
    expect(progressSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).steps['a']?.status).toBe('done');
  });

  it('a process killed mid-write leaves an intact file that a new process resumes from', async () => {
    const file = join(tmp, 'crash', 'progress.json');
    const runChild = (start: number): ReturnType<typeof spawn> =>
      spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'support/progressWriter.ts'), file, String(start)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
    for (let round = 0; round < 3; round++) {
      const before = (() => {
        try {
          return (
            progressSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).steps['dns']?.checks[
              'dns-nameserver'
            ]?.attempts ?? 0
          );
        } catch {
          return 0;
        }
      })();
      const child = runChild(before);
      try {
        // Wait until it has written a good number of updates past where it started, then kill it hard.
        const deadline = Date.now() + 15_000;
        for (;;) {
          await new Promise((r) => setTimeout(r, 25 + round * 17));
          let attempts = 0;
          try {
            attempts =
              progressSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).steps['dns']?.checks[
                'dns-nameserver'
              ]?.attempts ?? 0;
          } catch (e) {
            // A reader must never see a torn file while the writer runs either.
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          }
          if (attempts > before + 20 || Date.now() > deadline) break;
        }
      } finally {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      const text = readFileSync(file, 'utf8');
      const parsed = progressSchema.parse(JSON.parse(text));
      const attempts = parsed.steps['dns']?.checks['dns-nameserver']?.attempts ?? 0;
      expect(attempts).toBeGreaterThan(before);
      // Resumable: the next open reads it without recovery and carries on.
      const store = ProgressStore.open(file, 'pod-network-anatomy', 'crash-test');
      expect(store.recoveredFrom).toBeUndefined();
      expect(store.step('dns')?.checks['dns-nameserver']?.message).toBe(
        `attempt ${attempts} ${'x'.repeat(attempts % 500)}`,
      );
    }
    // write-file-atomic's temp files of the killed writers are the only leftovers; the record itself is whole.
    expect(readdirSync(join(tmp, 'crash')).filter((f) => f === 'progress.json')).toHaveLength(1);
  });
});
