import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KnownHostsStore,
  fingerprintSha256,
  formatKnownHostsLine,
  hostKeyFromBlob,
  judgeHostKey,
  knownKeyTypes,
  parseKnownHosts,
  type HostKey,
  kexAlgorithms,
} from '../../src/ssh/index.js';

// Fixtures: test/fixtures/ssh/known_hosts (real ssh-keygen keys, `ssh-keygen -H` hashing; see SOURCE.md there).
const dir = fileURLToPath(new URL('../fixtures/ssh/known_hosts/', import.meta.url));
const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
const key = (name: string): HostKey => {
  const k = hostKeyFromBlob(Buffer.from(read(`${name}.pub`).split(' ')[1] as string, 'base64'));
  if (!k) throw new Error(name);
  return k;
};
const tmp = mkdtempSync(join(tmpdir(), 'ldssh-kh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// `ssh-keygen -H` splits "web.example,10.0.0.5" into two hashed lines, so line numbers shift by one there.
describe.each([
  { file: 'known_hosts.plain', entries: 7, ca: 8, port: 5, wild: 6 },
  { file: 'known_hosts.hashed', entries: 8, ca: 9, port: 6, wild: 7 },
])('$file', ({ file, entries, ca, port, wild }) => {
  const parsed = parseKnownHosts(read(file), file);
  const judge = (host: string, port: number, name: string) =>
    judgeHostKey(parsed.entries, host, port, key(name));

  it('parses every line, reporting @cert-authority as unsupported', () => {
    expect(parsed.entries).toHaveLength(entries);
    expect(parsed.problems.map((p) => `${p.code}:${p.line}`)).toEqual([
      `known-hosts-cert-authority-unsupported:${ca}`,
    ]);
  });

  it('trusts each of several key types for one host, under every name on the line', () => {
    expect(judge('web.example', 22, 'web_ed25519')).toMatchObject({ status: 'trusted', entry: { line: 2 } });
    expect(judge('10.0.0.5', 22, 'web_ed25519')).toMatchObject({ status: 'trusted' });
    expect(judge('WEB.example', 22, 'web_ecdsa').status).toBe(file.endsWith('plain') ? 'trusted' : 'unknown');
    expect(judge('web.example', 22, 'web_rsa').status).toBe('trusted');
  });

  it('a different key of a known type is "changed" and names the line', () => {
    const v = judge('web.example', 22, 'old_ed25519');
    // old_ed25519 is @revoked everywhere: revocation comes first.
    expect(v.status).toBe('revoked');
    const fake = hostKeyFromBlob(
      Buffer.from(read('ca_ed25519.pub').split(' ')[1] as string, 'base64'),
    ) as HostKey;
    const c = judgeHostKey(parsed.entries, 'web.example', 22, fake);
    expect(c).toMatchObject({ status: 'changed', known: [{ line: 2 }] });
  });

  it('[host]:port entries apply to that port only', () => {
    expect(judge('web.example', 2222, 'web_ed25519')).toMatchObject({
      status: 'changed',
      known: [{ line: port }],
    });
    expect(judge('web.example', 2200, 'web_ed25519')).toEqual({ status: 'unknown', otherTypes: [] });
    expect(judge('web.example', 2222, 'old_ed25519').status).toBe('revoked');
  });

  it('wildcards and negation', () => {
    expect(judge('a.lab.example', 22, 'web_ed25519').status).toBe('trusted');
    expect(judge('secret.lab.example', 22, 'web_ed25519').status).toBe('unknown');
    expect(judge('a.lab.example', 22, 'web_ecdsa')).toMatchObject({
      status: 'unknown',
      otherTypes: [{ line: wild }],
    });
  });

  it('orders known key types for a host', () => {
    expect(knownKeyTypes(parsed.entries, 'web.example', 22)).toEqual([
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ssh-rsa',
    ]);
  });
});

describe('known_hosts details', () => {
  it('fingerprints match ssh-keygen -lf', () => {
    for (const n of ['web_ed25519', 'web_ecdsa', 'web_rsa', 'old_ed25519'])
      expect(fingerprintSha256(key(n).blob)).toBe(read(`${n}.fingerprint`).trim());
  });

  it('malformed lines are reported with their line numbers', () => {
    const p = parseKnownHosts(read('known_hosts.malformed'), 'm');
    expect(p.entries).toEqual([]);
    expect(p.problems.map((x) => `${x.line}: ${x.message}`)).toEqual([
      '1: m:1: expected "hosts keytype base64-key"',
      '2: m:2: the key is not base64',
      '3: m:3: unknown marker "@bogus"',
      "4: m:4: key type ssh-rsa does not match the key's own type ssh-ed25519",
    ]);
  });

  it('the store fails closed on malformed or unreadable files', async () => {
    const bad = join(tmp, 'bad');
    writeFileSync(bad, read('known_hosts.plain') + read('known_hosts.malformed'));
    expect((await new KnownHostsStore([bad]).judge('web.example', 22, key('web_ed25519'))).status).toBe(
      'unreadable',
    );
    const dirAsFile = join(tmp, 'adir');
    rmSync(dirAsFile, { recursive: true, force: true });
    writeFileSync(join(tmp, 'x'), '');
    const v = await new KnownHostsStore([tmp]).judge('web.example', 22, key('web_ed25519'));
    expect(v).toMatchObject({ status: 'unreadable' });
    const missing = await new KnownHostsStore([join(tmp, 'missing')]).judge(
      'web.example',
      22,
      key('web_ed25519'),
    );
    expect(missing).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('adds plain and hashed lines that OpenSSH-format readers match, atomically, and replaces only the old line', async () => {
    const f = join(tmp, 'kh');
    writeFileSync(f, '# keep me\nweb.example ' + read('old_ed25519.pub').split(' ').slice(0, 2).join(' '));
    chmodSync(f, 0o644);
    const store = new KnownHostsStore([f]);
    await store.add('10.0.0.7', 2222, key('web_ecdsa'), true);
    const text = readFileSync(f, 'utf8');
    expect(text.split('\n')[2]).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ecdsa-sha2-nistp256 /);
    expect((await store.judge('10.0.0.7', 2222, key('web_ecdsa'))).status).toBe('trusted');
    const changed = await store.judge('web.example', 22, key('web_ed25519'));
    expect(changed.status).toBe('changed');
    if (changed.status !== 'changed') return;
    await store.replace('web.example', 22, key('web_ed25519'), changed.known);
    const after = readFileSync(f, 'utf8').split('\n');
    expect(after[0]).toBe('# keep me');
    expect(after).not.toContain(expect.stringContaining(key('old_ed25519').blob.toString('base64')));
    expect(after.at(-2)).toBe(formatKnownHostsLine('web.example', 22, key('web_ed25519'), false));
    expect((await store.judge('web.example', 22, key('web_ed25519'))).status).toBe('trusted');
  });
});

describe('algorithms', () => {
  it('prefers curve25519-sha256 and never offers a group-exchange KEX', () => {
    expect(kexAlgorithms[0]).toBe('curve25519-sha256');
    expect(kexAlgorithms.some((k) => k.includes('group-exchange'))).toBe(false);
  });
});

describe('known_hosts edits at the same moment', () => {
  it('keeps every line when several keys are accepted at once (no lost read-modify-write)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labdeck-kh-'));
    try {
      const file = join(dir, 'known_hosts');
      const keys = Array.from({ length: 8 }, (): HostKey => {
        const spki = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
        // The SSH wire form of an ed25519 key: the type string, then the raw 32 bytes (SPKI's tail).
        return {
          type: 'ssh-ed25519',
          blob: Buffer.concat([sshString('ssh-ed25519'), sshString(spki.subarray(-32))]),
        };
      });
      const stores = [new KnownHostsStore([file]), new KnownHostsStore([file])];
      await Promise.all(keys.map((k, i) => stores[i % 2]!.add(`node${i}`, 22, k)));
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(8);
      expect(new Set(lines.map((l) => l.split(' ')[0]))).toEqual(new Set(keys.map((_, i) => `node${i}`)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
