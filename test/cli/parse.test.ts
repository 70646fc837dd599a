import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as cli } from '../support/cli.js';
import { parseKinds } from '../../src/parse/kinds.js';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'labdeck-parse-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('labdeck parse', () => {
  it('prints a detected kubectl table as JSON and exits 0', async () => {
    const r = await cli(['parse', join(fixtures, 'kubectl-table/seed-networking-get-pods-wide.txt')]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { kind: string; value: { pods: { name: string; ip: string }[] } };
    expect(json.kind).toBe('kubectl-table');
    expect(json.value.pods).toHaveLength(10);
    expect(json.value.pods[0]).toMatchObject({ name: 'kuard-dbdd7955d-4kdbr', ip: '192.168.3.140' });
    expect(r.err).toBe('');
  });

  it('uses --command to read output the text alone cannot explain (--no-headers)', async () => {
    const path = join(fixtures, 'kubectl-table/double-get-pods-no-headers.txt');
    const without = await cli(['parse', path]);
    expect(without.code).toBe(2);
    const r = await cli(['parse', '--command', 'kubectl get pods --no-headers', path]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { value: { pods: unknown[] } }).value.pods).toHaveLength(2);
  });

  it('exits 1 when the output parsed with error diagnostics, and says where', async () => {
    const r = await cli(['parse', '--as', 'iptables-save', file('bad.rules', '*nat\n-A\nCOMMIT\n')]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { diagnostics: { code: string; line: number; severity: string }[] };
    expect(json.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'iptables-bad-rule', line: 2, severity: 'error' }),
    );
  });

  it('exits 2 with one line on stderr when no parser applies; the JSON still carries the text', async () => {
    const r = await cli(['parse', file('prose.txt', 'just some words\n')]);
    expect(r.code).toBe(2);
    expect((JSON.parse(r.out) as { kind: string }).kind).toBe('unparsed');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/--as KIND/);
  });

  it('exits 2 for an unknown --as, a missing file, and binary input', async () => {
    const unknown = await cli(['parse', '--as', 'nope', file('x.txt', 'x')]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown kind "nope"/);
    const missing = await cli(['parse', join(tmp, 'missing.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no such file/);
    const binary = await cli(['parse', file('bin', Buffer.from([0, 1, 2, 0, 0, 0, 65, 0]))]);
    expect(binary.code).toBe(2);
    expect(binary.err).toMatch(/binary/);
  });

  it('--list prints every kind', async () => {
    const r = await cli(['parse', '--list']);
    expect(r.code).toBe(0);
    for (const k of parseKinds) expect(r.out).toMatch(new RegExp(`^${k} `, 'm'));
  });

  it('neutralises terminal escapes in what it prints', async () => {
    const evil =
      'NAME                 READY   STATUS    RESTARTS   AGE\nkuard\u001b]0;pwned\u0007   1/1     Running   0          1m\n';
    const r = await cli(['parse', '--command', 'kubectl get pods', file('evil.txt', evil)]);
    expect(r.out).not.toContain('\u001b');
    expect(r.out).not.toContain('\u0007');
  });

  it('reads stdin with "-" through the CLI entry point, in a child process', async () => {
    const input = readFileSync(join(fixtures, 'iptables-save/captured-kube-proxy-current.txt'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', 'parse', '--command', 'sudo iptables-save', '-'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stdin.end(input);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status).toBe(0);
    const json = JSON.parse(stdout) as { kind: string; value: { backend: string } };
    expect(json.kind).toBe('iptables-save');
    expect(json.value.backend).toBe('nf_tables');
  }, 60_000);
});
