/* eslint-disable no-control-regex -- terminal escape sequences are made of control characters */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeMarkValue,
  MAX_OSC_LENGTH,
  ShellIntegrationParser,
  unescapeMarkValue,
  type ParsedItem,
} from '../../src/terminal/shellIntegrationParser.js';

const N = '0123456789abcdef0123456789abcdef';
const mark = (body: string, term = '\x07'): string => `\x1b]${body};k=${N}${term}`;

/** Feeds the chunks and returns the text joined and the events in order. */
function run(chunks: string[], nonce = N): { text: string; events: unknown[] } {
  const p = new ShellIntegrationParser(nonce);
  const items: ParsedItem[] = chunks.flatMap((c) => p.feed(c));
  return {
    text: items.filter((i): i is string => typeof i === 'string').join('') + p.flush(),
    events: items.filter((i) => typeof i !== 'string'),
  };
}

describe('ShellIntegrationParser', () => {
  const session =
    mark('133;A') +
    'user@host:~$ ' +
    mark('133;B') +
    'echo hello\r\n' +
    mark(`633;E;${escapeMarkValue('echo hello; (exit 3)')}`) +
    mark('133;C') +
    'hello\r\n' +
    mark('133;D;3') +
    mark(`633;P;Cwd=${escapeMarkValue('/tmp/a;b')}`, '\x1b\\');

  const expectedEvents = [
    { type: 'promptStart' },
    { type: 'commandStart' },
    { type: 'commandLine', commandLine: 'echo hello; (exit 3)' },
    { type: 'commandExecuted' },
    { type: 'commandFinished', exitCode: 3 },
    { type: 'cwd', cwd: '/tmp/a;b' },
  ];

  it('reports our marks in order and removes them from the text', () => {
    const r = run([session]);
    expect(r.events).toEqual(expectedEvents);
    expect(r.text).toBe('user@host:~$ echo hello\r\nhello\r\n');
  });

  it('gives the same result for a split at every position', () => {
    for (let i = 0; i <= session.length; i++) {
      const r = run([session.slice(0, i), session.slice(i)]);
      expect(r.events, `split at ${i}`).toEqual(expectedEvents);
      expect(r.text, `split at ${i}`).toBe('user@host:~$ echo hello\r\nhello\r\n');
    }
  });

  it('gives the same result fed one character at a time', () => {
    const r = run([...session]);
    expect(r.events).toEqual(expectedEvents);
  });

  it('ignores marks with no nonce or a wrong one and passes them through as text', () => {
    const fake = '\x1b]133;D;0\x07' + '\x1b]133;C;k=deadbeefdeadbeef\x07' + '\x1b]633;E;rm -rf /\x07';
    const r = run(['before ', fake, ' after']);
    expect(r.events).toEqual([]);
    expect(r.text).toBe(`before ${fake} after`);
  });

  it('does not take a nonce that is only a prefix or suffix of ours', () => {
    const r = run([`\x1b]133;D;0;k=${N}x\x07`, `\x1b]133;D;0;k=${N.slice(1)}\x07`, `\x1b]133;D;0;${N}\x07`]);
    expect(r.events).toEqual([]);
  });

  it('recovers after nested junk: an OSC aborted by ESC, CAN or SUB, then a real mark', () => {
    const junk = '\x1b]133;A;k=\x1b]133;B' + '\x1b]133;C;x\x18' + '\x1b]633;E;\x1a' + '\x1b]\x1b]';
    const r = run([junk + mark('133;C') + 'out' + mark('133;D;0')]);
    expect(r.events).toEqual([{ type: 'commandExecuted' }, { type: 'commandFinished', exitCode: 0 }]);
    expect(r.text).toBe(junk + 'out');
  });

  it('ignores a mark with a valid nonce but a malformed body', () => {
    const r = run([
      mark('133;Z'),
      mark('133;D;abc'),
      mark('133;D;1;2'),
      mark('633;P;Home=/x'),
      mark('633;E'),
    ]);
    expect(r.events).toEqual([{ type: 'commandFinished', exitCode: null }]);
  });

  it('reports OSC 0/2 titles and keeps them in the stream', () => {
    const r = run(['a\x1b]0;my title\x07b\x1b]2;other\x1b\\c']);
    expect(r.events).toEqual([
      { type: 'title', title: 'my title' },
      { type: 'title', title: 'other' },
    ]);
    expect(r.text).toBe('a\x1b]0;my title\x07b\x1b]2;other\x1b\\c');
  });

  it('removes OSC 52 clipboard requests, also when split', () => {
    const osc52 = '\x1b]52;c;aGVsbG8=\x07';
    expect(run(['x', osc52, 'y']).text).toBe('xy');
    expect(run(['x\x1b]5', '2;c;?', '\x1b', '\\y']).text).toBe('xy');
  });

  it('knows the 8-bit forms xterm.js also parses: U+009D introducer, U+009C terminator', () => {
    expect(run(['x\u009d52;c;aGk=\u0007y', 'a\u009d52;c;?\u009cb']).text).toBe('xyab');
    const r = run(['\u009d0;c1 title\u009c', `\u009d133;C;k=${N}\u009c`, 'out', `\x1b]133;D;0;k=${N}\u009c`]);
    expect(r.events).toEqual([
      { type: 'title', title: 'c1 title' },
      { type: 'commandExecuted' },
      { type: 'commandFinished', exitCode: 0 },
    ]);
    expect(r.text).toBe('\u009d0;c1 title\u009cout');
    // Without the nonce an 8-bit mark is as foreign as a 7-bit one.
    expect(run(['\u009d133;D;0\u0007']).events).toEqual([]);
  });

  it('passes other OSCs (hyperlinks) and CSI through untouched without holding them back', () => {
    const p = new ShellIntegrationParser(N);
    const link = '\x1b]8;;http://example.com\x1b\\link\x1b]8;;\x1b\\\x1b[31mred\x1b[0m';
    expect(p.feed(link)).toEqual([link]);
    expect(p.pendingLength).toBe(0);
  });

  it('holds back an unfinished mark and a trailing ESC only', () => {
    const p = new ShellIntegrationParser(N);
    expect(p.feed('abc\x1b')).toEqual(['abc']);
    expect(p.pendingLength).toBe(1);
    expect(p.feed(']133;A;k=')).toEqual([]);
    expect(p.feed(`${N}\x07$ `)).toEqual([{ type: 'promptStart' }, '$ ']);
  });

  it('gives up on an overlong unterminated OSC and passes it on as text', () => {
    const p = new ShellIntegrationParser(N);
    const long = '\x1b]633;E;' + 'x'.repeat(MAX_OSC_LENGTH + 10);
    const items = p.feed(long);
    expect(items.join('') + p.flush()).toBe(long);
  });

  it('refuses a weak nonce', () => {
    expect(() => new ShellIntegrationParser('abc')).toThrow(/nonce/);
  });

  it('escapes and unescapes mark values', () => {
    const s = 'a\\b;c\nd\x07e\x1bf\x7f';
    expect(escapeMarkValue(s)).not.toMatch(/[;\x00-\x1f\x7f]/);
    expect(unescapeMarkValue(escapeMarkValue(s))).toBe(s);
    expect(unescapeMarkValue('\\q\\x4')).toBe('\\q\\x4');
  });

  it('property: any split of any mix of text and marks gives the unsplit result', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(
        '\x1b',
        '\x1b]',
        '\x1b]13',
        '\x07',
        '\x1b\\',
        '\x1b]133;D;0\x07',
        '\x1b]0;t\x07',
        '\u009d',
        '\u009c',
        '\u009d52;c;x\u009c',
      ),
      fc.constantFrom(mark('133;A'), mark('133;C'), mark('133;D;7'), mark('633;E;ls'), mark('633;P;Cwd=/')),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (pieces, cuts) => {
          const whole = pieces.join('');
          const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(whole.slice(last, p));
            last = p;
          }
          chunks.push(whole.slice(last));
          expect(run(chunks)).toEqual(run([whole]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
