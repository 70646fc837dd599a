import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HostKeyChangedError,
  SshConnectionFactory,
  SshError,
  batchPrompts,
  defaultSshConfigEnv,
  fingerprintSha256,
  resolveProfile,
  type SshPrompts,
} from '../../src/ssh/index.js';
import { SshNet, pubKeyOf } from '../support/ssh-net.js';

let net: SshNet;
let knownHosts: string;
let configFile: string;

function fp(pub: string): string {
  return fingerprintSha256(Buffer.from(pub.split(' ')[1] as string, 'base64'));
}

async function tryConnect(prompts: SshPrompts = batchPrompts, dest = 'node'): Promise<true | SshError> {
  const r = resolveProfile(dest, { ...defaultSshConfigEnv(configFile), sshAuthSock: undefined });
  if (!r.profile) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const factory = new SshConnectionFactory({ prompts });
  try {
    const conn = await factory.connect(r.profile);
    const res = await conn.exec('true');
    conn.dispose();
    return res.code === 0 ? true : new SshError('channel-failed', dest, `exit ${res.code}`);
  } catch (err) {
    if (err instanceof SshError) return err;
    throw err;
  }
}

function openssh(dest = 'node'): boolean {
  const r = spawnSync('ssh', ['-F', configFile, '-o', 'BatchMode=yes', dest, 'true'], { timeout: 20_000 });
  return r.status === 0;
}

beforeAll(async () => {
  net = await SshNet.create(2);
  knownHosts = join(net.dir, 'known_hosts');
  configFile = net.writeClientConfig(knownHosts);
});

afterAll(() => net?.dispose());

describe('host keys on every hop (real sshd)', () => {
  it('asks about an unknown key with its SHA256 fingerprint, sends nothing when rejected, remembers when accepted', async () => {
    writeFileSync(knownHosts, net.knownHostsFor(['bastion']));
    // BatchMode in the shared config means StrictHostKeyChecking yes: make it ask here.
    const cfg = readFileSync(configFile, 'utf8');
    writeFileSync(
      configFile,
      cfg
        .replace('  StrictHostKeyChecking yes', '  StrictHostKeyChecking ask')
        .replace('  BatchMode yes\n', ''),
    );
    try {
      const asked: string[] = [];
      const logBefore = net.log(net.hop('node')).length;
      const rejected = await tryConnect({
        ...batchPrompts,
        hostKey: async (q) => {
          asked.push(`${q.hop} ${q.keyType} ${q.fingerprint}`);
          return 'reject';
        },
      });
      expect(rejected).toBeInstanceOf(SshError);
      expect((rejected as SshError).code).toBe('host-key-unknown');
      const nodeFp = fp(pubKeyOf(net.hop('node').hostKeyFile));
      expect(asked).toEqual([`node (root@10.201.0.2:22) ssh-ed25519 ${nodeFp}`]);
      await waitForLog(logBefore, /Connection closed|Connection reset|Disconnected/);
      expect(net.log(net.hop('node')).slice(logBefore)).not.toMatch(
        /authenticat|Accepted|Failed|Postponed|userauth/i,
      );
      const accepted = await tryConnect({ ...batchPrompts, hostKey: async () => 'accept-and-remember' });
      expect(accepted).toBe(true);
      expect(readFileSync(knownHosts, 'utf8')).toBe(
        net.knownHostsFor(['bastion']) + `10.201.0.2 ${pubKeyOf(net.hop('node').hostKeyFile)}\n`,
      );
    } finally {
      writeFileSync(configFile, cfg);
    }
  });

  it('accept-new remembers an unknown key without asking (hashed when HashKnownHosts is yes)', async () => {
    writeFileSync(knownHosts, net.knownHostsFor(['bastion']));
    const cfg = readFileSync(configFile, 'utf8');
    writeFileSync(
      configFile,
      cfg.replace('  StrictHostKeyChecking yes', '  StrictHostKeyChecking accept-new\n  HashKnownHosts yes'),
    );
    try {
      const prompts = { ...batchPrompts, hostKey: async () => 'reject' as const };
      expect(await tryConnect(prompts)).toBe(true);
      const lines = readFileSync(knownHosts, 'utf8').split('\n');
      expect(lines[0]).toBe(net.knownHostsFor(['bastion']).trim());
      expect(lines[1]).toMatch(/^\|1\|\S+\|\S+ ssh-ed25519 /);
      // OpenSSH reads what we wrote.
      writeFileSync(configFile, cfg);
      expect(openssh()).toBe(true);
    } finally {
      writeFileSync(configFile, cfg);
    }
  });

  it('refuses a changed key on the second hop: named, no authentication attempt, known_hosts untouched; replace key works', async () => {
    writeFileSync(knownHosts, net.knownHostsFor(['bastion', 'node']));
    const oldFp = fp(pubKeyOf(net.hop('node').hostKeyFile));
    await net.rekey(net.hop('node'));
    const newFp = fp(pubKeyOf(net.hop('node').hostKeyFile));
    const before = readFileSync(knownHosts);
    const mtime = statSync(knownHosts).mtimeMs;
    const logBefore = net.log(net.hop('node')).length;
    const err = await tryConnect();
    expect(err).toBeInstanceOf(HostKeyChangedError);
    const e = err as HostKeyChangedError;
    expect(e.hop).toBe('node (root@10.201.0.2:22)');
    expect(e.knownFingerprints).toEqual([oldFp]);
    expect(e.presentedFingerprint).toBe(newFp);
    expect(e.known.map((k) => `${k.file}:${k.line}`)).toEqual([`${knownHosts}:2`]);
    expect(e.message).toContain(oldFp);
    expect(e.message).toContain(newFp);
    expect(e.message).toContain(`${knownHosts}:2`);
    // The node saw a connection, and it ended before any authentication.
    await waitForLog(logBefore, /Connection closed|Connection reset|Disconnected/);
    const log = net.log(net.hop('node')).slice(logBefore);
    expect(log).toMatch(/Connection from 10\.201\.0\.1/);
    expect(log).not.toMatch(/authenticat|Accepted|Failed|Postponed|userauth|Invalid user/i);
    expect(readFileSync(knownHosts).equals(before)).toBe(true);
    expect(statSync(knownHosts).mtimeMs).toBe(mtime);
    // OpenSSH agrees.
    expect(openssh()).toBe(false);
    // The explicit replace-key action, then it connects.
    await new SshConnectionFactory({ prompts: batchPrompts }).replaceHostKey(e);
    expect(readFileSync(knownHosts, 'utf8')).toBe(
      net.knownHostsFor(['bastion']) + `10.201.0.2 ${pubKeyOf(net.hop('node').hostKeyFile)}\n`,
    );
    expect(await tryConnect()).toBe(true);
  });

  it('never accepts where OpenSSH (BatchMode=yes) refuses, over the same known_hosts cases', async () => {
    const bastionLine = net.knownHostsFor(['bastion']);
    const nodeKey = pubKeyOf(net.hop('node').hostKeyFile);
    const other = join(net.dir, 'other_ed25519');
    rmSync(other, { force: true });
    rmSync(`${other}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherEcdsa = join(net.dir, 'other_ecdsa');
    rmSync(otherEcdsa, { force: true });
    rmSync(`${otherEcdsa}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', otherEcdsa]);
    const otherKey = pubKeyOf(other);
    const cases: { name: string; text: string; hash?: boolean; expectOurs: boolean }[] = [
      { name: 'plain entry', text: `10.201.0.2 ${nodeKey}\n`, expectOurs: true },
      { name: 'hashed entry (ssh-keygen -H)', text: `10.201.0.2 ${nodeKey}\n`, hash: true, expectOurs: true },
      { name: 'wildcard', text: `10.201.0.* ${nodeKey}\n`, expectOurs: true },
      {
        name: 'wildcard with negation of this host',
        text: `10.201.0.*,!10.201.0.2 ${nodeKey}\n`,
        expectOurs: false,
      },
      {
        name: 'several key types, right one present',
        text: `10.201.0.2 ${pubKeyOf(otherEcdsa)}\n10.201.0.2 ${nodeKey}\n`,
        expectOurs: true,
      },
      { name: 'different key', text: `10.201.0.2 ${otherKey}\n`, expectOurs: false },
      {
        name: 'different key and the right one',
        text: `10.201.0.2 ${otherKey}\n10.201.0.2 ${nodeKey}\n`,
        expectOurs: true,
      },
      { name: 'only another key type', text: `10.201.0.2 ${pubKeyOf(otherEcdsa)}\n`, expectOurs: false },
      { name: 'missing', text: '', expectOurs: false },
      { name: 'revoked', text: `@revoked * ${nodeKey}\n10.201.0.2 ${nodeKey}\n`, expectOurs: false },
      { name: 'cert-authority only', text: `@cert-authority 10.201.0.* ${nodeKey}\n`, expectOurs: false },
      { name: 'bracketed port 22', text: `[10.201.0.2]:22 ${nodeKey}\n`, expectOurs: false },
      { name: 'other port', text: `[10.201.0.2]:2222 ${nodeKey}\n`, expectOurs: false },
      {
        name: 'key filed under the bastion only',
        text: `${net.hop('bastion').ip},10.201.0.3 ${nodeKey}\n`,
        expectOurs: false,
      },
      {
        name: 'malformed line beside the right one',
        text: `10.201.0.2 ssh-ed25519 !!!notbase64\n10.201.0.2 ${nodeKey}\n`,
        expectOurs: false,
      },
    ];
    const rows: string[] = [];
    for (const c of cases) {
      writeFileSync(knownHosts, bastionLine + c.text);
      if (c.hash) {
        execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' });
        rmSync(`${knownHosts}.old`, { force: true });
        expect(readFileSync(knownHosts, 'utf8')).toMatch(/^\|1\|/m);
      }
      const bytes = readFileSync(knownHosts);
      const ours = (await tryConnect()) === true;
      const theirs = openssh();
      rows.push(`${c.name}: ours=${ours} openssh=${theirs}`);
      expect(readFileSync(knownHosts).equals(bytes), c.name).toBe(true);
      if (ours) expect(theirs, `${c.name}: we accepted where OpenSSH refused`).toBe(true);
      expect(ours, c.name).toBe(c.expectOurs);
    }
    console.log(rows.join('\n'));
  });
});

async function waitForLog(offset: number, re: RegExp): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (re.test(net.log(net.hop('node')).slice(offset))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
