import { describe, expect, it, vi } from 'vitest';
import { main, readVersion } from '../../src/cli/main.js';

describe('labdeck CLI entry', () => {
  it('prints the package version for --version and exits 0', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--version'])).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toBe(`${readVersion()}\n`);
    } finally {
      out.mockRestore();
    }
  });

  it('exits 2 with a hint on an unknown option', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--no-such-flag'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/unknown option '--no-such-flag'/);
    } finally {
      err.mockRestore();
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
