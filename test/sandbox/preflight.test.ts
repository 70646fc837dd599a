import { describe, expect, it } from 'vitest';
import { preflight } from '../../src/sandbox/sandbox.js';

const all = (t: string) => `/usr/sbin/${t}`;

describe('sandbox preflight', () => {
  it('says it needs root on Linux on another OS, and that nothing changed', () => {
    const e = preflight({ platform: 'darwin', uid: 0, which: all });
    expect(e?.code).toBe('not-linux');
    expect(e?.message).toMatch(/needs root on Linux.*darwin.*Nothing was changed/);
  });
  it('says it needs root when not root', () => {
    const e = preflight({ platform: 'linux', uid: 1000, which: all });
    expect(e?.code).toBe('not-root');
    expect(e?.message).toMatch(/needs root on Linux.*sudo.*Nothing was changed/);
  });
  it('names the missing tools and their packages', () => {
    const e = preflight({ platform: 'linux', uid: 0, which: (t) => (t === 'sshd' ? undefined : all(t)) });
    expect(e?.code).toBe('missing-tool');
    expect(e?.message).toMatch(/needs sshd .*openssh-server/);
  });
  it('passes when everything is there', () => {
    expect(preflight({ platform: 'linux', uid: 0, which: all })).toBeUndefined();
  });
});
