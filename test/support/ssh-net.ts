/**
 * A small, self-contained SSH lab for integration tests: real OpenSSH `sshd` in network namespaces.
 *
 *   root ns ──veth (10.254.x.y/29, derived from the pid)── bastion ns ──veth 10.201.0.0/29── node ns
 *                                                                     [──veth 10.202.0.0/29── third ns]
 *
 * Each namespace runs its own `sshd -D -f <config> -E <log>` with its own ed25519 host key, an absolute
 * AuthorizedKeysFile in the temp dir, UsePAM no, LogLevel VERBOSE. The root namespace has a route to the
 * bastion only, so anything deeper is reachable only through real jumps. Everything is removed by
 * `dispose()` (namespaces, veths, processes, temp dir, the throwaway user), even after failures.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSshConfigEnv, resolveProfile, type SshProfile } from '../../src/ssh/index.js';

export interface SshNetHop {
  readonly name: string;
  readonly ns: string;
  /** The address the previous hop (or the root namespace, for the bastion) dials. */
  readonly ip: string;
  readonly hostKeyFile: string;
  readonly dir: string;
  readonly logFile: string;
  readonly configFile: string;
  process: ChildProcess | undefined;
}

/** Per-suite names, so that suites running at the same moment never collide. */
export interface SshNetOptions {
  /** Namespace and interface name prefix (default `ldssh`); the pid and a run counter follow. */
  readonly prefix?: string;
  /** Second octet of the root-namespace /16 the bastion's veth takes a /29 from (default 254: 10.254.0.0/16). */
  readonly rootOctet?: number;
}

let runCounter = 0;

function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: readonly string[]): void {
  try {
    run(cmd, args);
  } catch {
    // best effort during cleanup
  }
}

export function pubKeyOf(privateKeyFile: string): string {
  return readFileSync(`${privateKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

export class SshNet {
  readonly dir: string;
  readonly base: string;
  readonly hops: SshNetHop[] = [];
  /** Client key (ed25519, OpenSSH format, no passphrase) authorized on every hop for root. */
  readonly clientKey: string;
  readonly authorizedKeys: string;
  readonly rootIp: string;
  private readonly links: string[] = [];
  private readonly namespaces: string[] = [];
  private users: string[] = [];

  private constructor(hopCount: number, opts: SshNetOptions) {
    const counter = runCounter++;
    this.base = `${opts.prefix ?? 'ldssh'}${process.pid}${counter.toString(36)}`;
    if (this.base.length > 13) throw new Error(`interface prefix ${this.base} too long`);
    // A /29 per run inside 10.<octet>.0.0/16 (default 10.254), from the pid and the run counter.
    const idx = (process.pid * 8 + counter) % 8192;
    const net = `10.${opts.rootOctet ?? 254}.${idx >> 5}.${(idx & 31) * 8}`;
    const [a, b, c, d] = net.split('.').map(Number) as [number, number, number, number];
    this.rootIp = `${a}.${b}.${c}.${d + 1}`;
    const bastionIp = `${a}.${b}.${c}.${d + 2}`;
    this.dir = mkdtempSync(join(tmpdir(), 'ldssh-'));
    this.clientKey = join(this.dir, 'client_ed25519');
    this.authorizedKeys = join(this.dir, 'authorized_keys');
    try {
      run('mkdir', ['-p', '/run/sshd']); // sshd's privilege separation directory (Debian creates it at boot)
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'labdeck-test-client', '-f', this.clientKey]);
      writeFileSync(this.authorizedKeys, `${pubKeyOf(this.clientKey)}\n`, { mode: 0o600 });
      const names = ['bastion', 'node', 'third'].slice(0, hopCount);
      const ips = [bastionIp, '10.201.0.2', '10.202.0.2'];
      names.forEach((name, i) => {
        const ns = `${this.base}-${name}`;
        run('ip', ['netns', 'add', ns]);
        this.namespaces.push(ns);
        run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        const hopDir = join(this.dir, name);
        run('mkdir', ['-p', hopDir]);
        this.hops.push({
          name,
          ns,
          ip: ips[i] as string,
          hostKeyFile: join(hopDir, 'ssh_host_ed25519_key'),
          dir: hopDir,
          logFile: join(hopDir, 'sshd.log'),
          configFile: join(hopDir, 'sshd_config'),
          process: undefined,
        });
      });
      // root ↔ bastion
      const [bastion] = this.hops as [SshNetHop];
      this.veth(
        `${this.base}r`,
        undefined,
        `${this.rootIp}/29`,
        `${this.base}b`,
        bastion.ns,
        `${bastionIp}/29`,
      );
      // bastion ↔ node ↔ third: inner networks that exist only inside our namespaces.
      for (let i = 1; i < this.hops.length; i++) {
        const prev = this.hops[i - 1] as SshNetHop;
        const hop = this.hops[i] as SshNetHop;
        const subnet = `10.20${i}.0`;
        this.veth(
          `${this.base}${i}p`,
          prev.ns,
          `${subnet}.1/29`,
          `${this.base}${i}n`,
          hop.ns,
          `${subnet}.2/29`,
        );
      }
      for (const hop of this.hops) {
        run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${hop.name}-host`, '-f', hop.hostKeyFile]);
        this.writeSshdConfig(hop);
        this.startSshd(hop);
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  static async create(hopCount: 2 | 3 = 2, opts: SshNetOptions = {}): Promise<SshNet> {
    const net = new SshNet(hopCount, opts);
    try {
      for (const hop of net.hops) await net.waitListening(hop);
    } catch (err) {
      net.dispose();
      throw err;
    }
    return net;
  }

  hop(name: string): SshNetHop {
    const h = this.hops.find((x) => x.name === name);
    if (!h) throw new Error(`no hop ${name}`);
    return h;
  }

  private veth(a: string, nsA: string | undefined, ipA: string, b: string, nsB: string, ipB: string): void {
    run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    this.links.push(a);
    if (nsA) run('ip', ['link', 'set', a, 'netns', nsA]);
    run('ip', ['link', 'set', b, 'netns', nsB]);
    const inA = nsA ? ['-n', nsA] : [];
    run('ip', [...inA, 'addr', 'add', ipA, 'dev', a]);
    run('ip', [...inA, 'link', 'set', a, 'up']);
    run('ip', ['-n', nsB, 'addr', 'add', ipB, 'dev', b]);
    run('ip', ['-n', nsB, 'link', 'set', b, 'up']);
  }

  private writeSshdConfig(hop: SshNetHop, extra = ''): void {
    writeFileSync(
      hop.configFile,
      [
        'Port 22',
        `HostKey ${hop.hostKeyFile}`,
        `AuthorizedKeysFile ${this.authorizedKeys}`,
        'PidFile none',
        'UsePAM no',
        'StrictModes no',
        'LogLevel VERBOSE',
        'PermitRootLogin yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'AllowAgentForwarding yes',
        'AllowTcpForwarding yes',
        'X11Forwarding no',
        'PrintMotd no',
        'AcceptEnv LANG',
        // Debian's bash sources ~/.bashrc for commands run by sshd when SHLVL < 2; this machine's root
        // .bashrc runs `pyenv init` (~450 ms per session), which would swamp every test and benchmark.
        'SetEnv SHLVL=2',
        extra,
        '',
      ].join('\n'),
    );
  }

  startSshd(hop: SshNetHop): void {
    hop.process = spawn(
      'ip',
      ['netns', 'exec', hop.ns, '/usr/sbin/sshd', '-D', '-f', hop.configFile, '-E', hop.logFile],
      {
        stdio: 'ignore',
      },
    );
    hop.process.on('error', () => undefined);
  }

  async waitListening(hop: SshNetHop): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const out = run('ip', ['netns', 'exec', hop.ns, 'ss', '-ltnH', 'sport = :22']);
      if (out.includes(':22')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd in ${hop.ns} did not start; log:\n${this.log(hop)}`);
  }

  /** All sshd processes of a hop (listener and per-connection children). */
  pids(hop: SshNetHop): number[] {
    const out = run('ip', ['netns', 'pids', hop.ns]);
    return out
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  }

  signal(hop: SshNetHop, sig: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void {
    for (const pid of this.pids(hop)) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  }

  async restartSshd(hop: SshNetHop): Promise<void> {
    this.signal(hop, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    this.startSshd(hop);
    await this.waitListening(hop);
  }

  /** A new host key for the hop (the old one is gone): what a re-keyed or impersonated host presents. */
  async rekey(hop: SshNetHop): Promise<void> {
    rmSync(hop.hostKeyFile, { force: true });
    rmSync(`${hop.hostKeyFile}.pub`, { force: true });
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${hop.name}-host-new`, '-f', hop.hostKeyFile]);
    await this.restartSshd(hop);
  }

  log(hop: SshNetHop): string {
    try {
      return readFileSync(hop.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** known_hosts text for the given hops, as OpenSSH writes plain entries: `host keytype base64`. */
  knownHostsFor(names: readonly string[]): string {
    return names.map((n) => `${this.hop(n).ip} ${pubKeyOf(this.hop(n).hostKeyFile)}\n`).join('');
  }

  /** `<dir>/known_hosts` trusting the host keys of `names`, and the client config that checks against it. */
  writeClientFiles(names: readonly string[] = ['bastion', 'node']): { knownHosts: string; config: string } {
    const knownHosts = join(this.dir, 'known_hosts');
    writeFileSync(knownHosts, this.knownHostsFor(names));
    return { knownHosts, config: this.writeClientConfig(knownHosts) };
  }

  /**
   * One OpenSSH client config used by both OpenSSH and LabDeck in the tests: ProxyJump and the seed's
   * `ProxyCommand ssh … nc %h %p` forms, strict host key checking against `knownHostsFile`.
   */
  writeClientConfig(knownHostsFile: string, extra = ''): string {
    const file = join(this.dir, 'ssh_config');
    const has = (n: string): boolean => this.hops.some((h) => h.name === n);
    const lines = [
      `Host bastion`,
      `  HostName ${this.hop('bastion').ip}`,
      `Host node`,
      `  HostName 10.201.0.2`,
      `  ProxyJump bastion`,
      `Host node-nc`,
      `  HostName 10.201.0.2`,
      `  ProxyCommand ssh -F ${file} -i ${this.clientKey} root@bastion nc %h %p`,
      ...(has('third')
        ? [
            `Host third`,
            `  HostName 10.202.0.2`,
            `  ProxyJump node`,
            `Host third-nc`,
            `  HostName 10.202.0.2`,
            `  ProxyCommand ssh -F ${file} node-nc nc %h %p`,
          ]
        : []),
      extra,
      `Host *`,
      `  User root`,
      `  IdentityFile ${this.clientKey}`,
      `  IdentitiesOnly yes`,
      `  UserKnownHostsFile ${knownHostsFile}`,
      `  GlobalKnownHostsFile /dev/null`,
      `  StrictHostKeyChecking yes`,
      `  BatchMode yes`,
      `  KexAlgorithms curve25519-sha256`,
      `  HostKeyAlgorithms ssh-ed25519`,
      `  ConnectTimeout 10`,
      '',
    ];
    writeFileSync(file, lines.join('\n'));
    return file;
  }

  /** A throwaway system user with a password, for password auth; removed by dispose(). */
  addPasswordUser(password: string): string {
    const user = `ldsshu${process.pid % 100000}${this.users.length}`;
    run('useradd', ['-M', '-d', '/nonexistent', '-s', '/bin/sh', user]);
    this.users.push(user);
    run('chpasswd', [], `${user}:${password}\n`);
    return user;
  }

  dispose(): void {
    for (const hop of this.hops) {
      try {
        this.signal(hop, 'SIGCONT');
        this.signal(hop, 'SIGKILL');
      } catch {
        // namespace may be gone
      }
      hop.process?.kill('SIGKILL');
    }
    for (const ns of this.namespaces) tryRun('ip', ['netns', 'del', ns]);
    for (const l of this.links) tryRun('ip', ['link', 'del', l]);
    for (const u of this.users) tryRun('userdel', [u]);
    this.users = [];
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The `node` profile as LabDeck resolves it from `configFile` (no ssh-agent), with `keepalive` on every hop: the
 * liveness tests use a short one (e.g. 300 ms × 3) so that a dead hop is noticed quickly.
 */
export function nodeProfileWithKeepalive(
  configFile: string,
  keepalive: { readonly intervalMs: number; readonly countMax: number },
): SshProfile {
  const r = resolveProfile('node', { ...defaultSshConfigEnv(configFile), sshAuthSock: undefined });
  if (!r.profile) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return {
    ...r.profile,
    jumps: r.profile.jumps.map((h) => ({ ...h, keepalive })),
    target: { ...r.profile.target, keepalive },
  };
}
