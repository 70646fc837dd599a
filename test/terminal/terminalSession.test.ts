import { describe, expect, it, vi } from 'vitest';
import { CLEAR_LINE, TerminalSessionImpl } from '../../src/terminal/terminalSession.js';
import type { TerminalBlock, TerminalInfo } from '../../src/terminal/types.js';
import { FakeTerminalBackend } from '../support/terminal-fake-backend.js';

const N = 'feedfacefeedfacefeedfacefeedface';
const m = (body: string): string => `\x1b]${body};k=${N}\x07`;
const prompt = m('133;D;0') + m('133;A') + '$ ' + m('133;B');

function make(opts: { nonce?: string | null; high?: number; low?: number } = {}) {
  const backend = new FakeTerminalBackend();
  let t = 0;
  const session = new TerminalSessionImpl({
    id: 't1',
    kind: 'local',
    shell: '/bin/bash',
    cols: 80,
    rows: 24,
    backend,
    nonce: opts.nonce === undefined ? N : opts.nonce,
    now: () => (t += 1),
    coalesceMs: 0,
    flowControl: { high: opts.high ?? 100, low: opts.low ?? 10 },
  });
  const data: string[] = [];
  session.onData((d) => data.push(d));
  return { backend, session, data };
}

describe('TerminalSessionImpl (with a fake backend)', () => {
  it('delivers output without our marks and makes blocks', () => {
    const { backend, session, data } = make();
    const blocks: TerminalBlock[] = [];
    session.onBlock((b) => blocks.push(b));
    backend.emit(prompt);
    backend.emit('echo hi\r\n' + m('633;E;echo hi') + m('133;C') + 'hi\r\n' + prompt);
    expect(data.join('')).toBe('$ echo hi\r\nhi\r\n$ ');
    expect(blocks.map((b) => [b.command, b.output, b.exitCode])).toEqual([['echo hi', 'hi', 0]]);
    expect(session.info().shellIntegration).toBe(true);
  });

  it('run() waits for the prompt, types the command and resolves with its block', async () => {
    const { backend, session } = make();
    const p = session.run('kubectl get pods');
    expect(backend.written).toEqual([]);
    backend.emit(prompt);
    expect(backend.written).toEqual([`${CLEAR_LINE}kubectl get pods\r`]);
    // History gave no command line (e.g. HISTCONTROL=ignorespace): the typed one is used.
    backend.emit('kubectl get pods\r\n' + m('633;E;') + m('133;C') + 'No resources found\r\n' + m('133;D;1'));
    await expect(p).resolves.toMatchObject({
      command: 'kubectl get pods',
      output: 'No resources found',
      exitCode: 1,
    });
  });

  it('run() refuses bad input clearly, and aborting interrupts the command', async () => {
    const { backend, session } = make();
    await expect(session.run('a\nb')).rejects.toThrow(/one non-empty line/);
    const ac = new AbortController();
    const p = session.run('sleep 100', { signal: ac.signal });
    backend.emit(prompt);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(backend.written).toEqual([`${CLEAR_LINE}sleep 100\r`, '\x03']);
    const noHooks = make({ nonce: null });
    await expect(noHooks.session.run('ls')).rejects.toThrow(/without shell integration/);
  });

  it('pauses the backend above the high watermark and resumes when acknowledged', () => {
    const { backend, session } = make({ high: 100, low: 10 });
    const infos: TerminalInfo[] = [];
    session.onInfo((i) => infos.push(i));
    backend.emit('x'.repeat(150));
    expect(backend.paused).toBe(true);
    expect(session.info().paused).toBe(true);
    session.acknowledge(100);
    expect(backend.paused).toBe(true);
    session.acknowledge(45);
    expect(backend.paused).toBe(false);
    expect(infos.map((i) => i.paused)).toEqual([true, false]);
  });

  it('never resizes or writes after exit, and reports the exit once', () => {
    const { backend, session } = make();
    const exits: unknown[] = [];
    session.onExit((e) => exits.push(e));
    session.resize(100, 30);
    backend.exit({ exitCode: 0, signal: null });
    backend.exit({ exitCode: 0, signal: null });
    session.resize(120, 40);
    session.write('ls\r');
    expect(backend.calls).toEqual(['resize 100x30']);
    expect(backend.written).toEqual([]);
    expect(exits).toEqual([{ exitCode: 0, signal: null }]);
    expect(session.info().exit).toEqual({ exitCode: 0, signal: null });
    expect(() => session.resize(0, 10)).toThrow(/1\.\.4096/);
  });

  it('fails pending runs on exit and on dispose; dispose kills with SIGHUP and releases once', async () => {
    const { backend, session } = make();
    const p = session.run('sleep 1');
    session.dispose();
    await expect(p).rejects.toThrow(/closed/);
    expect(backend.calls).toEqual(['kill SIGHUP']);
    backend.exit({ exitCode: null, signal: 1 });
    expect(backend.calls).toEqual(['kill SIGHUP', 'dispose']);
    await expect(session.whenExited()).resolves.toBeUndefined();
  });

  it('takes the title from OSC 0/2, else the process name', () => {
    const { backend, session } = make();
    backend.emit('x');
    expect(session.info().title).toBe('bash');
    backend.emit('\x1b]0;vim README\x07');
    expect(session.info().title).toBe('vim README');
  });

  it('keeps recent output for a late consumer, bounded', () => {
    const backend = new FakeTerminalBackend();
    const session = new TerminalSessionImpl({
      id: 't2',
      kind: 'local',
      shell: 'bash',
      cols: 80,
      rows: 24,
      backend,
      nonce: null,
      coalesceMs: 0,
      replayWindow: 10,
      flowControl: { enabled: false },
    });
    for (let i = 0; i < 10; i++) backend.emit(`${i}abc`);
    expect(session.recentOutput()).toBe('abc8abc9abc'.slice(-10));
    // With a line start near the cut, it starts there (not inside an escape sequence).
    backend.emit('\x1b[31mred\r\nok');
    expect(session.recentOutput()).toBe('ok');
  });
});

describe('run() against a shell that never reports the command start', () => {
  it('rejects when the prompt comes back without a C mark instead of waiting forever', async () => {
    const { backend, session } = make();
    backend.emit(prompt);
    const p = session.run('# only a comment');
    backend.emit('# only a comment\r\n' + prompt);
    await expect(p).rejects.toThrow(/without reporting that "# only a comment" started/);
    // The next run still works.
    const q = session.run('true');
    backend.emit('true\r\n' + m('633;E;true') + m('133;C') + prompt);
    await expect(q).resolves.toMatchObject({ command: 'true', exitCode: 0 });
  });
});

describe('debounced resize', () => {
  it('sends only the last size, and nothing once the process exited', () => {
    vi.useFakeTimers();
    try {
      const backend = new FakeTerminalBackend();
      const session = new TerminalSessionImpl({
        id: 'd',
        kind: 'local',
        shell: 'bash',
        cols: 80,
        rows: 24,
        backend,
        nonce: null,
        resizeDebounceMs: 50,
        flowControl: { enabled: false },
      });
      session.resize(81, 24);
      session.resize(90, 30);
      vi.advanceTimersByTime(49);
      expect(backend.calls).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(backend.calls).toEqual(['resize 90x30']);
      expect(session.info()).toMatchObject({ cols: 90, rows: 30 });
      session.resize(100, 40);
      backend.exit({ exitCode: 0, signal: null });
      vi.advanceTimersByTime(100);
      expect(backend.calls).toEqual(['resize 90x30']);
      session.dispose();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('flow control without a consumer', () => {
  it('does not pause while nobody listens for data, so run() works with no renderer attached', async () => {
    const backend = new FakeTerminalBackend();
    const session = new TerminalSessionImpl({
      id: 'n',
      kind: 'local',
      shell: 'bash',
      cols: 80,
      rows: 24,
      backend,
      nonce: N,
      coalesceMs: 0,
      flowControl: { high: 100, low: 10 },
    });
    backend.emit(prompt);
    const p = session.run('iptables-save');
    backend.emit('iptables-save\r\n' + m('633;E;iptables-save') + m('133;C') + 'x'.repeat(10_000) + prompt);
    await expect(p).resolves.toMatchObject({ exitCode: 0 });
    expect(backend.calls).toEqual([]);
    expect(session.info().paused).toBe(false);
  });
});
