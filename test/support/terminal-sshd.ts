// A real OpenSSH sshd on 127.0.0.1 for the terminal's ssh tests: throwaway host and client keys, an absolute
// AuthorizedKeysFile, no PAM, HISTFILE accepted from the client so the remote bash writes no history file.
// Everything (process, temp dir) goes away in dispose(), also after failures.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientChannel } from 'ssh2';

export interface LoopbackSshd {
  readonly port: number;
  readonly pid: number;
  /** The throwaway folder: keys, sshd_config, pid file. Gone after dispose(). */
  readonly dir: string;
  /** The client's private key (root may log in with it) and the host's public key file. */
  readonly clientKeyFile: string;
  readonly hostKeyPubFile: string;
  /** Connects as root with the throwaway key, verifying the host key against the one generated here. */
  connect(): Promise<Client>;
  dispose(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startLoopbackSshd(): Promise<LoopbackSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'labdeck-terminal-sshd-'));
  let proc: ChildProcess | undefined;
  const dispose = async (): Promise<void> => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc?.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync('/run/sshd', { recursive: true });
    const hostKey = join(dir, 'host_ed25519');
    const clientKey = join(dir, 'client_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
    const hostKeyBlob = Buffer.from(
      readFileSync(`${hostKey}.pub`, 'utf8').split(/\s+/)[1] as string,
      'base64',
    );
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'AcceptEnv HISTFILE',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null || Date.now() - started > 10_000) {
        throw new Error(`sshd did not start on 127.0.0.1:${port}: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const privateKey = readFileSync(clientKey);
    const pid = proc.pid as number;
    return {
      port,
      pid,
      dir,
      clientKeyFile: clientKey,
      hostKeyPubFile: `${hostKey}.pub`,
      dispose,
      connect: () =>
        new Promise<Client>((resolve, reject) => {
          const client = new Client();
          client.once('ready', () => resolve(client));
          client.once('error', reject);
          client.connect({
            host: '127.0.0.1',
            port,
            username: 'root',
            privateKey,
            hostVerifier: (key: Buffer) => key.equals(hostKeyBlob),
            readyTimeout: 10_000,
          });
        }),
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** `client.exec(command)` with a pty, as a terminal uses it. */
export function execWithPty(
  client: Client,
  command: string,
  cols: number,
  rows: number,
): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(
      command,
      { pty: { term: 'xterm-256color', cols, rows, width: 0, height: 0 }, env: { HISTFILE: '/dev/null' } },
      (err, channel) => (err ? reject(err) : resolve(channel)),
    );
  });
}

/**
 * An OpenSSH client config naming the loopback sshd `alias`, with its own empty known_hosts and
 * `StrictHostKeyChecking ask` (so the app asks about the host key, as on first contact). Files go in sshd.dir.
 */
export function writeLoopbackSshConfig(
  sshd: LoopbackSshd,
  alias: string,
): { config: string; knownHosts: string } {
  const knownHosts = join(sshd.dir, 'known_hosts');
  const config = join(sshd.dir, 'ssh_config');
  writeFileSync(
    config,
    [
      `Host ${alias}`,
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      '  User root',
      `  IdentityFile ${sshd.clientKeyFile}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  StrictHostKeyChecking ask',
      '',
    ].join('\n'),
  );
  return { config, knownHosts };
}
