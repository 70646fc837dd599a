import { describe, expect, it } from 'vitest';
import { BlockTracker, plainText } from '../../src/terminal/blockTracker.js';

function clock(): () => number {
  let t = 1_000;
  return () => (t += 10);
}

describe('plainText', () => {
  it('removes escape sequences, turns CR LF into LF and drops one trailing newline', () => {
    expect(plainText('\x1b[01;34mdir\x1b[0m\r\nfile\r\n')).toBe('dir\nfile');
    expect(plainText('a\x1b]8;;http://x\x1b\\link\x1b]8;;\x07b\x1b(B\x1b=\x1b>\n\n')).toBe('alinkb\n');
  });

  it('keeps what a carriage return wrote over (progress output)', () => {
    expect(plainText('10%\r50%\r100%\r\ndone\n')).toBe('100%\ndone');
    expect(plainText('abcdef\rXY\n')).toBe('XYcdef');
  });

  it('removes other control characters but keeps tabs', () => {
    expect(plainText('a\tb\x07c\x00d\n')).toBe('a\tbcd');
  });
});

describe('BlockTracker', () => {
  it('makes one block from E, C, output, D', () => {
    const t = new BlockTracker({ now: clock() });
    t.mark({ type: 'cwd', cwd: '/root' });
    t.mark({ type: 'promptStart' });
    t.text('$ ');
    t.mark({ type: 'commandStart' });
    t.text('echo hello; (exit 3)\r\n');
    t.mark({ type: 'commandLine', commandLine: 'echo hello; (exit 3)' });
    t.mark({ type: 'commandExecuted' });
    expect(t.phase).toBe('running');
    t.text('hel');
    t.text('lo\r\n');
    const b = t.mark({ type: 'commandFinished', exitCode: 3 });
    expect(b).toEqual({
      seq: 1,
      command: 'echo hello; (exit 3)',
      output: 'hello',
      truncated: false,
      exitCode: 3,
      startedAt: 1010,
      endedAt: 1020,
      cwd: '/root',
    });
    expect(t.blocks()).toEqual([b]);
  });

  it('makes no block from a D without a C (empty line, Ctrl-C at the prompt, first prompt)', () => {
    const t = new BlockTracker({ now: clock() });
    expect(t.mark({ type: 'commandFinished', exitCode: 0 })).toBeUndefined();
    t.mark({ type: 'commandStart' });
    expect(t.mark({ type: 'commandFinished', exitCode: 130 })).toBeUndefined();
    expect(t.blocks()).toEqual([]);
  });

  it('keeps the head of a long output and says it was truncated', () => {
    const t = new BlockTracker({ now: clock(), maxOutput: 10 });
    t.mark({ type: 'commandExecuted' });
    t.text('0123456');
    t.text('789abcdef');
    t.text('more');
    const b = t.mark({ type: 'commandFinished', exitCode: 0 });
    expect(b?.output).toBe('0123456789');
    expect(b?.truncated).toBe(true);
  });

  it('keeps at most maxBlocks blocks, the newest', () => {
    const t = new BlockTracker({ now: clock(), maxBlocks: 2 });
    for (let i = 0; i < 3; i++) {
      t.mark({ type: 'commandLine', commandLine: `c${i}` });
      t.mark({ type: 'commandExecuted' });
      t.mark({ type: 'commandFinished', exitCode: i });
    }
    expect(t.blocks().map((b) => [b.seq, b.command])).toEqual([
      [2, 'c1'],
      [3, 'c2'],
    ]);
  });
});
