import { describe, expect, it } from 'vitest';
import type { ClientChannel } from 'ssh2';
import { SshChannelBackend, type SshShellChannel } from '../../src/terminal/sshChannelBackend.js';
import { TerminalSessionImpl } from '../../src/terminal/terminalSession.js';
import { FakeShellChannel } from '../support/terminal-fake-channel.js';

describe('SshChannelBackend (with a fake channel)', () => {
  it('decodes UTF-8 split across chunks and merges stderr', () => {
    const ch = new FakeShellChannel();
    const b = new SshChannelBackend(ch);
    const out: string[] = [];
    b.onData((d) => out.push(d));
    const bytes = Buffer.from('héllo ✓', 'utf8');
    for (let i = 0; i < bytes.length; i++) ch.emit('data', bytes.subarray(i, i + 1));
    ch.stderr.emit('data', Buffer.from('!'));
    expect(out.join('')).toBe('héllo ✓!');
  });

  it('maps resize, pause/resume and signals onto the channel, and stops after close', () => {
    const ch = new FakeShellChannel();
    const b = new SshChannelBackend(ch);
    b.resize(100, 30);
    b.pause();
    b.resume();
    b.kill('SIGINT');
    b.kill();
    ch.emit('close');
    b.write('ls\r');
    b.resize(1, 1);
    expect(ch.calls).toEqual(['setWindow 30 100 0 0', 'pause', 'resume', 'signal INT', 'close']);
  });

  it('reports the exit status, or the signal as a number, when the channel closes', () => {
    const ch = new FakeShellChannel();
    const b = new SshChannelBackend(ch);
    const exits: unknown[] = [];
    b.onExit((e) => exits.push(e));
    ch.emit('exit', 3);
    expect(exits).toEqual([]);
    ch.emit('close');
    ch.emit('close');
    expect(exits).toEqual([{ exitCode: 3, signal: null }]);

    const ch2 = new FakeShellChannel();
    const b2 = new SshChannelBackend(ch2);
    b2.onExit((e) => exits.push(e));
    ch2.emit('exit', null, 'KILL');
    ch2.emit('close');
    expect(exits[1]).toEqual({ exitCode: null, signal: 9 });
  });

  it('is a flow-control producer: a session pauses the channel above the high watermark', () => {
    const ch = new FakeShellChannel();
    const session = new TerminalSessionImpl({
      id: 's',
      kind: 'ssh',
      shell: 'bash on node-1',
      cols: 80,
      rows: 24,
      backend: new SshChannelBackend(ch),
      nonce: null,
      coalesceMs: 0,
      flowControl: { high: 10, low: 2 },
    });
    session.onData(() => {});
    ch.emit('data', Buffer.from('x'.repeat(11)));
    expect(ch.calls).toEqual(['pause']);
    session.acknowledge(9);
    expect(ch.calls).toEqual(['pause', 'resume']);
    expect(session.info()).toMatchObject({ kind: 'ssh', pid: null, paused: false });
  });
});

// Compile-time check: a real ssh2 channel fits the structural type the backend takes.
export const sshChannelFits = (c: ClientChannel): SshShellChannel => c;
