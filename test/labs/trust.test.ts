import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLab } from '../../src/labs/loadLab.js';
import { hashLabDir, TrustStore } from '../../src/labs/trust.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-trust-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const appLabs = join(import.meta.dirname, '../../labs');

describe('trust', () => {
  it("the app's own labs are trusted; a copy elsewhere is not, until the user trusts it", async () => {
    const store = new TrustStore(join(tmp, 'data', 'trust.json'), appLabs, () => 5);
    expect(store.state(join(appLabs, 'pod-network-anatomy'))).toEqual({ trusted: true, reason: 'builtin' });
    const copy = join(tmp, 'copy');
    cpSync(join(appLabs, 'pod-network-anatomy'), copy, { recursive: true });
    const before = store.state(copy);
    expect(before).toMatchObject({ trusted: false, reason: 'never-trusted' });
    const hash = await store.trust(copy);
    expect(hash).toBe(before.hash);
    expect(store.state(copy)).toEqual({ trusted: true, reason: 'trusted-by-user', hash });
    // Any change (here one byte in lab.md) makes it untrusted again.
    appendFileSync(join(copy, 'lab.md'), '\n');
    expect(store.state(copy)).toMatchObject({ trusted: false, reason: 'changed-since-trusted' });
    await store.trust(copy);
    // A new file, even outside lab.md, changes the hash too.
    writeFileSync(join(copy, 'extra.sh'), 'echo hi\n');
    expect(store.state(copy).trusted).toBe(false);
    await store.revoke(copy);
    expect(store.state(copy)).toMatchObject({ reason: 'never-trusted' });
  });

  it('a symlink out of the app labs folder does not make a lab built-in, and links are hashed, not followed', () => {
    const store = new TrustStore(join(tmp, 'data2', 'trust.json'), appLabs);
    const outside = mkdtempSync(join(tmp, 'outside-'));
    writeFileSync(join(outside, 'lab.md'), 'x');
    const link = join(tmp, 'link-to-outside');
    symlinkSync(outside, link);
    expect(store.isBuiltin(link)).toBe(false);
    const withLink = mkdtempSync(join(tmp, 'withlink-'));
    writeFileSync(join(withLink, 'lab.md'), 'x');
    symlinkSync('/etc/hostname', join(withLink, 'target'));
    const h1 = hashLabDir(withLink);
    rmSync(join(withLink, 'target'));
    symlinkSync('/etc/hosts', join(withLink, 'target'));
    expect(hashLabDir(withLink)).not.toBe(h1);
  });

  it('a lab cannot switch trust off: unknown front-matter keys are errors', () => {
    const r = parseLab(
      '---\nid: x\ntitle: X\nsummary: S\nestimatedTime: 1m\ntrusted: true\nconfirm: false\nroles: {w: {description: d}}\n---\n## S\n',
    );
    expect(r.lab).toBeUndefined();
    expect(r.errors.map((e) => e.message)).toEqual(['unknown fields "trusted", "confirm"']);
  });
});
