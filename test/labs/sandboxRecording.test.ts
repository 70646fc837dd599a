import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli.js';

// The TGIK-002 lab's shipped recording of a real run against `labdeck sandbox` (made by
// scripts/record-tgik-sandbox.sh), replayed with no cluster, no root and no network.
const lab = join(import.meta.dirname, '../../labs/tgik-002-networking-and-services');
const rec = join(lab, 'recordings/sandbox');
const tmp = mkdtempSync(join(tmpdir(), `labdeck-sbrec-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the shipped sandbox recording of TGIK-002', () => {
  it('replays with every check passing, labelled recorded, and opens no connection', async () => {
    const connect = vi.spyOn(Socket.prototype, 'connect');
    const { code, out: text } = await runCli([
      'lab',
      'run',
      lab,
      '--replay',
      rec,
      '--data-dir',
      tmp,
      '--json',
    ]);
    expect(connect).not.toHaveBeenCalled();
    connect.mockRestore();
    const r = JSON.parse(text) as {
      recorded: boolean;
      steps: { id: string; status: string; checks: { id: string; status: string }[] }[];
    };
    expect(code).toBe(0);
    expect(r.recorded).toBe(true);
    expect(r.steps).toHaveLength(12);
    const checks = r.steps.flatMap((s) => s.checks);
    expect(checks).toHaveLength(32);
    expect(checks.filter((c) => c.status !== 'done')).toEqual([]);
  });

  it('holds no keys, certificates or credentials', () => {
    for (const f of readdirSync(rec)) {
      const text = readFileSync(join(rec, f), 'utf8');
      expect(text, f).not.toMatch(
        /PRIVATE KEY|BEGIN CERTIFICATE|-data: [A-Za-z0-9+/]{20}|token: [A-Za-z0-9]/,
      );
    }
  });
});
