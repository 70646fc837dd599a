import { describe, expect, it } from 'vitest';
import { readVersion } from '../../src/cli/main.js';
import { runCli } from '../support/cli.js';

describe('labdeck CLI entry', () => {
  it('prints the package version for --version and exits 0', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${readVersion()}\n`);
  });

  it('exits 2 with a hint on an unknown option', async () => {
    const r = await runCli(['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--no-such-flag'/);
  });

  it('exits 2 on a usage error in a subcommand too (and does not end the calling process)', async () => {
    for (const [args, message] of [
      [['lab', 'run'], /missing required argument 'dir'/],
      [['parse', '--no-such-flag'], /unknown option '--no-such-flag'/],
      [['sandbox', 'fault', 'stale-sep'], /missing required argument 'state'/],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});

describe('the built labdeck command', () => {
  it('runs from dist/ through bin/labdeck.js and prints the version', async () => {
    const { execFileSync } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const root = new URL('../../', import.meta.url).pathname;
    // `npm test` builds before testing; run alone, build first (npm run build).
    expect(existsSync(`${root}dist/cli.js`), 'dist/cli.js exists (npm run build)').toBe(true);
    const out = execFileSync(process.execPath, [`${root}bin/labdeck.js`, '--version'], { encoding: 'utf8' });
    expect(out.trim()).toBe(readVersion());
  });
});
