// SSH terminal sessions through a real jump chain: OpenSSH sshd in network namespaces (test/support/ssh-net.ts),
// bastion → node, src/ssh's connection factory, TerminalManager.createSsh. The node's shell gets our hooks over
// the exec channel; nothing is written on the node.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshConnectionFactory, batchPrompts, type SshProfile } from '../../src/ssh/index.js';
import { TerminalManager } from '../../src/terminal/terminalManager.js';
import type { TerminalBlock, TerminalExit, TerminalSession } from '../../src/terminal/types.js';
import { SshNet, nodeProfileWithKeepalive } from '../support/ssh-net.js';
import { collect, ready, waitUntil } from '../support/terminal-harness.js';

let net: SshNet;
let profile: SshProfile;
let knownHosts: string;

beforeAll(async () => {
  net = await SshNet.create(2);
  const files = net.writeClientFiles();
  knownHosts = files.knownHosts;
  // Short keepalives so a dead bastion is noticed quickly: 300 ms × 3.
  profile = nodeProfileWithKeepalive(files.config, { intervalMs: 300, countMax: 3 });
});

afterAll(() => net?.dispose());

async function openTerminal(
  manager: TerminalManager,
  factory: SshConnectionFactory,
): Promise<TerminalSession> {
  const session = await manager.createSsh({ connection: await factory.connect(profile), cols: 80, rows: 24 });
  return session;
}

describe('ssh terminal through bastion → node (real sshd in namespaces)', () => {
  it('blocks with output and exit status; a forged mark without the nonce makes no block; resize; exit', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const manager = new TerminalManager();
    try {
      const session = await openTerminal(manager, factory);
      const out = collect(session);
      const blocks: TerminalBlock[] = [];
      session.onBlock((b) => blocks.push(b));
      await ready(session, 30_000);
      expect(session.info()).toMatchObject({ kind: 'ssh', shellIntegration: true });
      expect(session.info().shell).toMatch(/^bash on node \(root@10\.201\.0\.2:22\)$/);

      const b1 = await session.run('echo hello; (exit 3)');
      expect(b1).toMatchObject({ command: 'echo hello; (exit 3)', output: 'hello', exitCode: 3 });
      // It ran on the node: the node's inner address is on its interface.
      const where = await session.run('ip -o -4 addr show');
      expect(where.output).toContain('10.201.0.2/29');

      // Marks without our nonce (as a hostile file or program could print them) are plain output.
      const before = blocks.length;
      const forged = await session.run(
        String.raw`printf '\e]133;C\a\e]133;D;0\a\e]133;A\a\e]133;B\a\e]633;P;Cwd=/forged\a'; echo after`,
      );
      expect(blocks.length).toBe(before + 1);
      expect(forged.exitCode).toBe(0);
      expect(forged.output).toContain('after');
      expect(session.info().cwd).not.toBe('/forged');

      await session.run('cd /tmp');
      await waitUntil(() => session.info().cwd === '/tmp', 5_000, 'cwd /tmp from the node');
      session.resize(100, 30);
      expect((await session.run('stty size')).output).toBe('30 100');

      const exited = new Promise<TerminalExit>((r) => session.onExit(r));
      session.write('exit 7\r');
      const exit = await exited;
      expect(exit).toMatchObject({ exitCode: 7, signal: null });
      expect(exit.reason).toBeUndefined();
      expect(out.text()).toContain('hello');
    } finally {
      manager.dispose();
    }
    await waitUntil(() => factory.openConnectionCount === 0, 5_000, 'the lease released');
  });

  it('flow control pauses the channel with a slow consumer; no byte is lost', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const manager = new TerminalManager({ flowControl: { high: 20_000, low: 2_000 } });
    try {
      const session = await openTerminal(manager, factory);
      const parts: string[] = [];
      let unackedMax = 0;
      let pending = 0;
      let pauses = 0;
      let dataWhilePaused = 0;
      let wasPaused = false;
      session.onInfo((i) => {
        if (i.paused && !wasPaused) pauses++;
        wasPaused = i.paused;
      });
      session.onData((d) => {
        // While paused the channel is not read: the only delivery is the flush of what was already buffered.
        if (session.info().paused) dataWhilePaused++;
        parts.push(d);
        pending += d.length;
        unackedMax = Math.max(unackedMax, pending);
      });
      // A slow consumer: acknowledges at most 16,000 characters every 10 ms.
      const timer = setInterval(() => {
        const n = Math.min(pending, 16_000);
        pending -= n;
        session.acknowledge(n);
      }, 10);
      try {
        await ready(session, 30_000);
        const lines = 150_000; // 1,088,895 bytes of seq output, far above the watermark
        const block = await session.run(`seq 1 ${lines}; echo seq-done`);
        expect(block.exitCode).toBe(0);
        // The block ends at the mark; the coalesced data behind it arrives a moment later.
        await waitUntil(() => parts.join('').lastIndexOf('seq-done') > 100, 10_000, 'the tail of the output');
        const text = parts.join('');
        const start = text.indexOf('\r1\r\n2\r\n') + 1;
        const end = text.lastIndexOf('seq-done');
        const got = text
          .slice(start, end)
          .split('\r\n')
          .filter((l) => l !== '');
        expect(got.length).toBe(lines);
        let inOrder = true;
        got.forEach((l, i) => (inOrder &&= l === String(i + 1)));
        expect(inOrder).toBe(true);
        expect(pauses).toBeGreaterThan(0);
        expect(dataWhilePaused).toBeLessThanOrEqual(pauses);
        // Bounded: what the consumer had not acknowledged never ran far past the high watermark
        // (the last chunk that crossed it, at most one ssh2 read).
        expect(unackedMax).toBeLessThan(20_000 + 70_000);
        console.log(
          `ssh terminal flow control: ${text.length} chars, ${pauses} pauses, max unacknowledged ${unackedMax} (high 20000)`,
        );
      } finally {
        clearInterval(timer);
      }
    } finally {
      manager.dispose();
    }
  });

  it('bastion killed: the terminal says so and exits with the reason; reconnect re-verifies keys and re-runs nothing', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const manager = new TerminalManager();
    const marker = join(net.dir, 'ran-once');
    try {
      const session = await openTerminal(manager, factory);
      const out = collect(session);
      await ready(session, 30_000);
      expect((await session.run(`echo run >> ${marker}`)).exitCode).toBe(0);
      const exited = new Promise<TerminalExit>((r) => session.onExit(r));
      const killedAt = Date.now();
      net.signal(net.hop('bastion'), 'SIGKILL');
      const exit = await exited;
      const reportedIn = Date.now() - killedAt;
      expect(exit.exitCode).toBeNull();
      const dropped = `connection to bastion (root@${net.hop('bastion').ip}:22) closed by remote`;
      expect(exit.reason?.slice(0, dropped.length)).toBe(dropped);
      expect(out.text()).toMatch(/\[connection to bastion \(root@[\d.]+:22\) closed by remote[^\]]*\]\r\n/);
      expect(manager.get(session.id)?.info().exit).toMatchObject({ exitCode: null });
      expect(reportedIn).toBeLessThan(10_000);

      // The bastion comes back with a different host key: reconnect verifies it again and refuses.
      await net.rekey(net.hop('bastion'));
      await expect(manager.reconnectSsh(session.id)).rejects.toThrow(/^HOST KEY CHANGED for bastion \(/);
      expect(manager.get(session.id)).toBe(session); // the old session stays until a reconnect succeeds

      // The user accepts the new key (here: known_hosts now holds it); reconnect gives a fresh shell.
      writeFileSync(knownHosts, net.knownHostsFor(['bastion', 'node']));
      const fresh = await manager.reconnectSsh(session.id);
      expect(manager.get(session.id)).toBeUndefined();
      const out2 = collect(fresh);
      await ready(fresh, 30_000);
      expect(await fresh.run('echo again')).toMatchObject({ output: 'again', exitCode: 0 });
      expect(out2.text()).not.toContain('ran-once');
      expect(readFileSync(marker, 'utf8')).toBe('run\n'); // nothing re-ran
      console.log(`ssh terminal: bastion death reported in ${reportedIn} ms (keepalive 300 ms × 3)`);
    } finally {
      manager.dispose();
    }
    await waitUntil(() => factory.openConnectionCount === 0, 5_000, 'the leases released');
  });
});
