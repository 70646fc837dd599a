import { createServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HostKeyChangedError,
  SshConnectionFactory,
  batchPrompts,
  type SshError,
  type SshProfile,
} from '../../src/ssh/index.js';
import { SshNet, nodeProfileWithKeepalive } from '../support/ssh-net.js';

let net: SshNet;
let base: SshProfile;

beforeAll(async () => {
  net = await SshNet.create(2);
  // A short keepalive so the test is quick: 300 ms × 3.
  base = nodeProfileWithKeepalive(net.writeClientFiles().config, { intervalMs: 300, countMax: 3 });
});

afterAll(() => net?.dispose());

function nextClose(conn: {
  onClose(l: (r: SshError) => void): { dispose(): void };
}): Promise<{ reason: SshError; at: number }> {
  return new Promise((resolve) => {
    const sub = conn.onClose((reason) => {
      sub.dispose();
      resolve({ reason, at: Date.now() });
    });
  });
}

describe('liveness through a bastion (real sshd)', () => {
  it('a shell channel with a PTY: write, data, resize, exit', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const conn = await factory.connect(base);
    try {
      const shell = await conn.openShell({ cols: 80, rows: 24, term: 'xterm-256color' });
      let out = '';
      shell.onData((d) => (out += d.toString()));
      const exited = new Promise<number | null>((res) => shell.onExit((e) => res(e.code)));
      shell.resize(132, 40);
      shell.pause();
      shell.resume();
      shell.write('stty size; tty; exit 3\n');
      expect(await exited).toBe(3);
      expect(out).toMatch(/40 132/);
      expect(out).toMatch(/\/dev\/pts\/\d+/);
    } finally {
      conn.dispose();
    }
  });

  it('bastion killed: named error, process lives, reconnect works and re-runs nothing, the forward survives', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const marker = join(net.dir, 'ran-once');
    // A local echo-ish target: the node's sshd port seen from the node itself, through -L.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const freePort = (probe.address() as { port: number }).port;
    probe.close();
    const conn = await factory.connect(base);
    try {
      expect((await conn.exec(`echo run >> ${marker}`)).code).toBe(0);
      const fwd = await conn.openLocalForward({
        bindAddress: '127.0.0.1',
        bindPort: freePort,
        remoteHost: '127.0.0.1',
        remotePort: 22,
      });
      expect(await banner(freePort)).toMatch(/^SSH-2\.0-OpenSSH/);

      // 1. The bastion's processes are killed: the remote end closes.
      const closed = nextClose(conn);
      net.signal(net.hop('bastion'), 'SIGKILL');
      const { reason } = await closed;
      expect(reason.message).toContain(
        `connection to bastion (root@${net.hop('bastion').ip}:22) closed by remote`,
      );
      expect(reason.message).toContain('node (root@10.201.0.2:22) was reached through it');
      expect(conn.isOpen).toBe(false);
      await expect(conn.exec('true')).rejects.toThrow(/bastion/);
      expect(fwd.info().state).toBe('listening');

      // Reconnect verifies keys again: the bastion came back with a different key → refused, named.
      await net.rekey(net.hop('bastion'));
      const refused = await conn.reconnect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(HostKeyChangedError);
      expect((refused as HostKeyChangedError).hop).toMatch(/^bastion /);
      await factory.replaceHostKey(refused as HostKeyChangedError);
      let reconnected = 0;
      conn.onReconnect(() => reconnected++);
      await conn.reconnect();
      expect(reconnected).toBe(1);
      expect((await conn.exec('echo back')).stdout.toString()).toBe('back\n');
      expect(await banner(freePort)).toMatch(/^SSH-2\.0-OpenSSH/);

      // 2. The bastion freezes (no replies at all): keepalive notices within its window and names the bastion.
      const frozen = nextClose(conn);
      const t0 = Date.now();
      net.signal(net.hop('bastion'), 'SIGSTOP');
      const f = await frozen;
      const elapsed = f.at - t0;
      console.log(`freeze detected after ${elapsed} ms: ${f.reason.message}`);
      expect(f.reason.message).toContain(
        `connection to bastion (root@${net.hop('bastion').ip}:22) timed out`,
      );
      // Window: interval × (countMax + 1), the grace we give the parent to speak first, and slack for a loaded CI box.
      expect(elapsed).toBeLessThan(300 * 4 + 600 + 2200);
      net.signal(net.hop('bastion'), 'SIGCONT');
      await net.restartSshd(net.hop('bastion'));
      await conn.reconnect();
      expect((await conn.exec('cat ' + marker)).stdout.toString()).toBe('run\n');
      expect(await banner(freePort)).toMatch(/^SSH-2\.0-OpenSSH/);
      fwd.dispose();
    } finally {
      conn.dispose();
    }
    expect(factory.openConnectionCount).toBe(0);
  });
});

function banner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no banner'));
    }, 5000);
    s.once('data', (d) => {
      clearTimeout(timer);
      s.destroy();
      resolve(d.toString());
    });
    s.on('error', reject);
  });
}
