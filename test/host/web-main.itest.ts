// The built web host (dist/web.js) as a newcomer runs it: its options, and bad ones refused in a line, not a stack.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const web = (...args: string[]) =>
  spawnSync(process.execPath, [join(repo, 'dist/web.js'), ...args], { encoding: 'utf8', timeout: 20_000 });

describe('node dist/web.js', () => {
  it('prints its usage with --help and exits 0', () => {
    const r = web('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: node dist\/web\.js .*--port N/);
  });

  it('refuses an unknown option and a bad port with one clear line and the usage, exit 2, no stack trace', () => {
    for (const [args, message] of [
      [['--bogus'], /labdeck web: Unknown option '--bogus'/],
      [['--port', 'x'], /labdeck web: --port x is not a port number/],
      [['--renderer-dir', '/nonexistent'], /no built renderer at \/nonexistent/],
    ] as const) {
      const r = web(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
