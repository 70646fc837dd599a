import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseDestination,
  parseLocalForward,
  resolveProfile,
  type SshConfigEnv,
} from '../../src/ssh/index.js';
import { matchPattern, matchPatternList } from '../../src/ssh/pattern.js';

// Fixture: test/fixtures/ssh/config/home/.ssh/config (+ conf.d/10-lab.conf). Expected values were checked
// against `ssh -G -F <file> <host>` (OpenSSH_9.2p1); where we differ on purpose the test says so.
const home = fileURLToPath(new URL('../fixtures/ssh/config/home', import.meta.url));
const env: SshConfigEnv = {
  home,
  localUser: 'learner',
  localHost: 'laptop.example',
  uid: 1000,
  sshAuthSock: '/run/agent.sock',
  configFile: undefined,
};

function resolve(dest: string, overrides: [string, string][] = []) {
  const r = resolveProfile(dest, env, overrides);
  return r;
}

describe('ssh_config resolution', () => {
  it("reads the seed's ProxyCommand nc form as a jump through the bastion with its own options", () => {
    const { profile, diagnostics } = resolve('master');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(profile?.target).toMatchObject({
      name: 'master',
      host: '10.0.18.181',
      port: 22,
      user: 'ubuntu',
      forwardAgent: true,
      transport: { kind: 'tcp' },
    });
    expect(profile?.target.auth).toEqual([
      { kind: 'agent', socket: '/run/agent.sock' },
      { kind: 'publickey', identityFile: join(home, '.ssh/lab.pem') },
      { kind: 'keyboard-interactive' },
      { kind: 'password' },
    ]);
    expect(profile?.forwards).toEqual([
      { bindAddress: '127.0.0.1', bindPort: 8080, remoteHost: 'localhost', remotePort: 8080 },
    ]);
    // The jump is 13.125.51.126 as ubuntu with -i ~/.ssh/lab.pem, and no agent forwarding (not asked there).
    expect(profile?.jumps).toHaveLength(1);
    expect(profile?.jumps[0]).toMatchObject({
      host: '13.125.51.126',
      user: 'ubuntu',
      port: 22,
      forwardAgent: false,
    });
    expect(profile?.jumps[0]?.auth).toContainEqual({
      kind: 'publickey',
      identityFile: join(home, '.ssh/lab.pem'),
    });
  });

  it('reads ProxyCommand ssh -W %h:%p with -p and -l, resolving the jump host through the config', () => {
    const { profile } = resolve('node-w');
    expect(profile?.target).toMatchObject({ host: '10.0.18.182', user: 'fallback' });
    expect(profile?.jumps.map((h) => `${h.user}@${h.host}:${h.port}`)).toEqual(['admin@13.125.51.126:2222']);
  });

  it('takes whichever of ProxyCommand and ProxyJump comes first, as OpenSSH does', () => {
    // `ssh -o ProxyCommand=… deep`: the command line comes before the config's ProxyJump, so it wins.
    const { profile } = resolve('deep', [['ProxyCommand', 'ssh -W %h:%p -p 2200 admin@13.125.51.126']]);
    expect(profile?.jumps.map((h) => `${h.user}@${h.host}:${h.port}`)).toEqual(['admin@13.125.51.126:2200']);
  });

  it('reads ProxyJump chains with user@host:port forms', () => {
    const { profile } = resolve('deep');
    expect(profile?.jumps.map((h) => `${h.name}=${h.user}@${h.host}:${h.port}`)).toEqual([
      'bastion=admin@13.125.51.126:2200',
      '10.0.0.9=fallback@10.0.0.9:22',
    ]);
    expect(profile?.target.host).toBe('10.0.0.20');
  });

  it('honours ! negation and ? in Host patterns, and first value wins', () => {
    expect(resolve('web.internal').profile?.target).toMatchObject({ user: 'ops', port: 2022 });
    expect(resolve('db.internal').profile?.target).toMatchObject({ user: 'fallback', port: 22 });
    expect(resolve('one1').profile?.target.user).toBe('single-char');
    expect(resolve('one12').profile?.target.user).toBe('fallback');
  });

  it('follows Include (relative to ~/.ssh, globbed)', () => {
    expect(resolve('included').profile?.target).toMatchObject({
      host: '192.0.2.10',
      user: 'inc',
      port: 2200,
    });
  });

  it('reads keepalive, StrictHostKeyChecking, UserKnownHostsFile, HashKnownHosts', () => {
    const { profile } = resolve('alive');
    expect(profile?.target).toMatchObject({
      keepalive: { intervalMs: 5000, countMax: 2 },
      hostKeyPolicy: 'accept-new',
      hashKnownHosts: true,
    });
    expect(profile?.target.knownHostsFiles.slice(0, 2)).toEqual([join(home, '.ssh/kh_lab'), '/tmp/kh2']);
  });

  it('reports Match and unknown keywords instead of ignoring them silently', () => {
    const { profile, diagnostics } = resolve('alive');
    // OpenSSH would apply "Match host alive → User matched"; we do not evaluate Match, and say so.
    expect(profile?.target.user).toBe('fallback');
    const codes = diagnostics.map((d) => `${d.code} ${d.line}`);
    expect(codes).toContain('ssh-config-match-unsupported 45');
    expect(codes).toContain('ssh-config-unsupported-keyword 53');
    expect(diagnostics.find((d) => d.code === 'ssh-config-unsupported-keyword')?.message).toMatch(
      /PermitLocalCommand/,
    );
  });

  it('runs any other ProxyCommand as a process, substituting per argument, and refuses shells', () => {
    const piped = resolve('piped');
    expect(piped.profile?.target.transport).toEqual({
      kind: 'command',
      argv: ['/usr/bin/nc', '-X', 'connect', '-x', 'proxy.example:3128', 'piped', '22'],
    });
    const shelly = resolve('shelly');
    expect(shelly.profile).toBeUndefined();
    expect(shelly.diagnostics.map((d) => d.code)).toContain('ssh-config-bad-value');
    // Destination text never reaches a shell: odd characters stay one argument.
    const odd = resolve('piped', [['hostname', 'x;rm -rf ~']]);
    expect(odd.profile?.target.transport).toMatchObject({ argv: expect.arrayContaining(['x;rm -rf ~']) });
  });

  it('command-line options win over the file, defaults apply when nothing is set', () => {
    const { profile } = resolve('plain.example', [
      ['user', 'cli'],
      ['port', '2200'],
    ]);
    expect(profile?.target).toMatchObject({
      user: 'cli',
      port: 2200,
      hostKeyPolicy: 'ask',
      forwardAgent: false,
    });
    expect(profile?.target.keepalive).toEqual({ intervalMs: 15_000, countMax: 3 });
    expect(
      profile?.target.auth
        .filter((a) => a.kind === 'publickey')
        .every((a) => a.kind === 'publickey' && a.optional),
    ).toBe(true);
    expect(resolve('user2@plain.example:2201').profile?.target).toMatchObject({ user: 'user2', port: 2201 });
  });

  it('fails with a clear message on a missing -F file and on bad values', () => {
    const r = resolveProfile('x', { ...env, configFile: join(home, 'nope') });
    expect(r.profile).toBeUndefined();
    expect(r.diagnostics[0]?.message).toMatch(/cannot read ssh config .*nope/);
    const bad = resolve('x', [['port', 'http']]);
    expect(bad.profile).toBeUndefined();
    expect(bad.diagnostics.find((d) => d.severity === 'error')?.message).toBe(
      '(command line): port bad port "http"',
    );
  });
});

describe('patterns, destinations, forwards', () => {
  it('matches like OpenSSH match_pattern', () => {
    expect(matchPattern('*.lab', 'a.LAB')).toBe(true);
    expect(matchPattern('10.0.0.?', '10.0.0.1')).toBe(true);
    expect(matchPattern('10.0.0.?', '10.0.0.12')).toBe(false);
    expect(matchPattern('a*b*c', 'aXXbYYc')).toBe(true);
    expect(matchPatternList(['*', '!db'], 'db')).toBe(-1);
    expect(matchPatternList(['web', 'db'], 'x')).toBe(0);
  });

  it('parses destinations and -L specs', () => {
    expect(parseDestination('ubuntu@10.0.18.181')).toEqual({
      user: 'ubuntu',
      host: '10.0.18.181',
      port: undefined,
    });
    expect(parseDestination('ssh://a@[::1]:2222')).toEqual({ user: 'a', host: '::1', port: 2222 });
    expect(parseLocalForward('8080:localhost:8080')).toEqual({
      bindAddress: '127.0.0.1',
      bindPort: 8080,
      remoteHost: 'localhost',
      remotePort: 8080,
    });
    expect(parseLocalForward('0.0.0.0:80:[::1]:8080')).toMatchObject({
      bindAddress: '0.0.0.0',
      remoteHost: '::1',
    });
    expect(parseLocalForward('8080:localhost')).toMatch(/expected \[bind_address:\]port:host:hostport/);
  });
});
