// A terminal over a real ssh channel (OpenSSH sshd on 127.0.0.1, ssh2 client): the remote bash runs our
// hooks via remoteBashCommand, the channel is the flow-control producer.
import type { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOW_CONTROL_HIGH_WATERMARK } from '../../src/terminal/flowControl.js';
import { newNonce, remoteBashCommand } from '../../src/terminal/shellIntegration.js';
import { SshChannelBackend } from '../../src/terminal/sshChannelBackend.js';
import { TerminalManager } from '../../src/terminal/terminalManager.js';
import type { TerminalBlock, TerminalSession } from '../../src/terminal/types.js';
import { descendants, ready, waitUntil } from '../support/terminal-harness.js';
import { execWithPty, startLoopbackSshd, type LoopbackSshd } from '../support/terminal-sshd.js';

describe('terminal over ssh (real sshd on loopback)', () => {
  let sshd: LoopbackSshd;
  let client: Client;
  let manager: TerminalManager;

  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    client = await sshd.connect();
    manager = new TerminalManager();
  });

  afterAll(async () => {
    manager?.dispose();
    client?.end();
    await sshd?.dispose();
  });

  async function open(): Promise<{ session: TerminalSession; closed: Promise<void> }> {
    const nonce = newNonce();
    const channel = await execWithPty(client, remoteBashCommand(nonce), 80, 24);
    const closed = new Promise<void>((r) => channel.once('close', () => r()));
    const session = manager.attach({
      kind: 'ssh',
      shell: 'bash on 127.0.0.1',
      backend: new SshChannelBackend(channel),
      cols: 80,
      rows: 24,
      nonce,
    });
    return { session, closed };
  }

  it('makes blocks from the remote shell, ignores forged marks, follows cwd, and exits with the status', async () => {
    const { session, closed } = await open();
    const blocks: TerminalBlock[] = [];
    session.onBlock((b) => blocks.push(b));
    session.onData((d) => session.acknowledge(d.length));
    await ready(session, 30_000);
    await expect(session.run('echo hello; (exit 3)')).resolves.toMatchObject({
      output: 'hello',
      exitCode: 3,
    });
    await expect(session.run(`printf '\\e]133;D;0\\a'; cd /tmp`)).resolves.toMatchObject({ exitCode: 0 });
    await waitUntil(() => session.info().cwd === '/tmp', 5_000, 'remote cwd /tmp');
    expect(blocks.length).toBe(2);
    session.resize(100, 30);
    await expect(session.run('stty size')).resolves.toMatchObject({ output: '30 100' });
    const exit = new Promise((r) => session.onExit(r));
    session.write('exit 5\r');
    await expect(exit).resolves.toEqual({ exitCode: 5, signal: null });
    await closed;
    expect(() => session.resize(90, 20)).not.toThrow();
  });

  it('carries 20 MB intact through a paused and resumed channel, and Ctrl-C brings the prompt back', async () => {
    const { session, closed } = await open();
    // A consumer that stalls until the producer is paused, then acknowledges a turn later.
    let ys = 0;
    let stalled = true;
    let violations = 0;
    let sawPaused = false;
    const pending: number[] = [];
    session.onData((d) => {
      for (let i = d.indexOf('y'); i !== -1; i = d.indexOf('y', i + 1)) ys++;
      const unacked = (session as unknown as { unacknowledged: number }).unacknowledged;
      const paused = session.info().paused;
      if (paused) sawPaused = true;
      if (unacked > FLOW_CONTROL_HIGH_WATERMARK && !paused) violations++;
      pending.push(d.length);
      if (paused) stalled = false;
      if (!stalled) {
        setImmediate(() => {
          while (pending.length) session.acknowledge(pending.shift() as number);
        });
      }
    });
    await ready(session, 30_000);
    const bytes = 20_000_000;
    const command = `yes | head -c ${bytes}`;
    const block = await session.run(command);
    const expectedYs = bytes / 2 + (command.split('y').length - 1);
    await waitUntil(() => ys >= expectedYs, 10_000, 'all output');
    expect(block.exitCode).toBe(0);
    expect(ys).toBe(expectedYs);
    expect(sawPaused).toBe(true);
    expect(violations).toBe(0);

    const running = session.run('yes');
    await waitUntil(() => ys > expectedYs + 1_000_000, 30_000, '1 MB of yes');
    session.write('\x03');
    await expect(running).resolves.toMatchObject({ command: 'yes', exitCode: 130 });
    session.dispose();
    await closed;
  });

  it('leaves no remote process behind after dispose', async () => {
    const { session, closed } = await open();
    session.onData((d) => session.acknowledge(d.length));
    await ready(session, 30_000);
    session.write('sleep 300\r');
    await waitUntil(() => descendants(sshd.pid).length >= 3, 5_000, 'the remote sleep');
    session.dispose();
    await closed;
    client.end();
    await waitUntil(() => descendants(sshd.pid).length === 0, 10_000, 'sshd children to end');
  });
});
