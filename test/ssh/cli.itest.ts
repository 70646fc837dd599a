import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshNet, pubKeyOf } from '../support/ssh-net.js';
import { fingerprintSha256 } from '../../src/ssh/index.js';

let net: SshNet;
let configFile: string;
let knownHosts: string;

function labdeck(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', 'src/cli/run.ts', 'ssh', ...args], {
    cwd: join(import.meta.dirname, '../..'),
    encoding: 'utf8',
    timeout: 60_000,
    input: '',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  net = await SshNet.create(2);
  knownHosts = join(net.dir, 'known_hosts');
  writeFileSync(knownHosts, net.knownHostsFor(['bastion', 'node']));
  configFile = net.writeClientConfig(knownHosts);
});

afterAll(() => net?.dispose());

describe('labdeck ssh (real sshd)', () => {
  it('runs a remote command through -J and returns its exit code', () => {
    const r = labdeck(['-F', configFile, '-J', 'bastion', '10.201.0.2', '--', 'hostname -I; exit 3']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('10.201.0.2');
    expect(r.code).toBe(3);
  });

  it('--check prints each hop, its fingerprint and trust', () => {
    const r = labdeck(['-F', configFile, '--check', 'node']);
    const fp = (n: string) =>
      fingerprintSha256(Buffer.from(pubKeyOf(net.hop(n).hostKeyFile).split(' ')[1] as string, 'base64'));
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `bastion (root@${net.hop('bastion').ip}:22)\tssh-ed25519\t${fp('bastion')}\ttrusted\ttrusted (${knownHosts}:1)`,
      `node (root@10.201.0.2:22)\tssh-ed25519\t${fp('node')}\ttrusted\ttrusted (${knownHosts}:2)`,
    ]);
    expect(r.code).toBe(0);
  });

  it('opens an interactive shell with a PTY when run in a terminal, exit code passed through', async () => {
    const pty = await import('node-pty');
    const term = pty.spawn('npx', ['tsx', 'src/cli/run.ts', 'ssh', '-F', configFile, 'node'], {
      cols: 100,
      rows: 30,
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
    });
    let out = '';
    term.onData((d) => (out += d));
    const code = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => term.kill(), 60_000);
      let sent = false;
      const poll = setInterval(() => {
        // Wait for the remote prompt, then type.
        if (!sent && /[#$] $/.test(out)) {
          sent = true;
          term.write('echo "answer $((6*7))"; stty size; exit 5\r');
        }
      }, 50);
      term.onExit((e) => {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(e.exitCode);
      });
    });
    expect(out).toContain('answer 42');
    expect(out).toMatch(/30 100/);
    expect(code).toBe(5);
  });

  it('exits 255 with a named refusal when a hop is unknown and there is no terminal to ask', () => {
    writeFileSync(knownHosts, net.knownHostsFor(['bastion']));
    const r = labdeck(['-F', configFile, 'node', '--', 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/node \(root@10\.201\.0\.2:22\) is not in known_hosts \(ssh-ed25519 SHA256:/);
  });
});
