/* eslint-disable no-control-regex -- terminal escape sequences are made of control characters */
// Streaming parser for the shell-integration marks (docs/terminal.md#shell-integration-protocol).
//
// Our hooks print OSC 133 (FinalTerm/iTerm2 semantic prompt marks) and OSC 633 (VS Code's extension for the
// command line and properties), each with a last field `k=<nonce>`:
//   ESC ] 133 ; A ; k=N BEL          prompt start
//   ESC ] 133 ; B ; k=N BEL          command start (end of prompt, user types here)
//   ESC ] 133 ; C ; k=N BEL          command executed (output follows)
//   ESC ] 133 ; D ; <exit> ; k=N BEL command finished
//   ESC ] 633 ; E ; <cmdline> ; k=N BEL   the command line (escaped: \\ and \xHH)
//   ESC ] 633 ; P ; Cwd=<dir> ; k=N BEL   the working directory (escaped likewise)
// A mark whose nonce is missing or wrong is not ours (it was printed by a program, or `cat` of a hostile file):
// it makes no event and passes through as ordinary output. Our own marks are removed from the stream.
// Both introducers count: ESC ] and the 8-bit U+009D, ended by BEL, ESC \ or U+009C (xterm.js takes all of them).
// OSC 0/2 (window title) pass through and also report the title. OSC 52 (clipboard) is removed: a program must
// not read or write the user's clipboard through the terminal (refused here, and the renderer loads no
// clipboard addon either).
// Sequences may be split across chunks at any byte: an unterminated OSC that matters is held back until its
// terminator arrives (at most MAX_OSC_LENGTH characters, after which it is passed on as text).

export const MAX_OSC_LENGTH = 64 * 1024;

export type ShellMark =
  | { readonly type: 'promptStart' }
  | { readonly type: 'commandStart' }
  | { readonly type: 'commandExecuted' }
  | { readonly type: 'commandFinished'; readonly exitCode: number | null }
  | { readonly type: 'commandLine'; readonly commandLine: string }
  | { readonly type: 'cwd'; readonly cwd: string };

export type StreamEvent = ShellMark | { readonly type: 'title'; readonly title: string };

/** Output in order: strings are text for the terminal, objects are events at that point of the stream. */
export type ParsedItem = string | StreamEvent;

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;
const ST8 = 0x9c;

/** Identifiers of the OSC sequences this parser looks at; everything else is passed through untouched. */
const INTERESTING = new Set(['133', '633', '0', '2', '52']);

export class ShellIntegrationParser {
  private pending = '';
  private readonly nonceField: string;

  constructor(nonce: string) {
    if (!/^[A-Za-z0-9]{8,}$/.test(nonce)) throw new Error('shell integration nonce must be 8+ alphanumerics');
    this.nonceField = `k=${nonce}`;
  }

  /** Characters held back waiting for the rest of a sequence. */
  get pendingLength(): number {
    return this.pending.length;
  }

  /** Gives up on a held-back partial sequence (e.g. at exit) and returns it as text. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  feed(chunk: string): ParsedItem[] {
    const data = this.pending ? this.pending + chunk : chunk;
    this.pending = '';
    const items: ParsedItem[] = [];
    let textStart = 0;
    let pos = 0;
    const len = data.length;
    const emitText = (end: number): void => {
      if (end > textStart) items.push(data.slice(textStart, end));
      textStart = end;
    };
    // Next 7-bit (ESC ]) and 8-bit (U+009D, which xterm.js also takes as OSC) introducers; -2 = not looked up.
    let nextEsc = -2;
    let nextC1 = -2;
    for (;;) {
      if (nextEsc !== -1 && nextEsc < pos) nextEsc = data.indexOf('\x1b]', pos);
      if (nextC1 !== -1 && nextC1 < pos) nextC1 = data.indexOf('\x9d', pos);
      if (nextEsc === -1 && nextC1 === -1) {
        // A lone ESC at the very end may begin an OSC: hold it back.
        const end = len > textStart && data.charCodeAt(len - 1) === ESC ? len - 1 : len;
        emitText(end);
        this.pending = data.slice(end);
        return items;
      }
      const c1 = nextEsc === -1 || (nextC1 !== -1 && nextC1 < nextEsc);
      const i = c1 ? nextC1 : nextEsc;
      const introEnd = i + (c1 ? 1 : 2);
      let j = introEnd;
      while (j < len && j - introEnd < 6 && isDigit(data.charCodeAt(j))) j++;
      if (j === len) {
        emitText(i);
        this.pending = data.slice(i);
        return items;
      }
      const ident = data.slice(introEnd, j);
      if (data.charCodeAt(j) !== SEMICOLON || !INTERESTING.has(ident)) {
        pos = introEnd;
        continue;
      }
      // Find the terminator: BEL, ST (ESC \) or 8-bit ST (U+009C). Any other ESC, CAN or SUB aborts the
      // sequence (as in xterm).
      const limit = Math.min(len, i + MAX_OSC_LENGTH);
      let k = j + 1;
      let termEnd = -1;
      let bodyEnd = -1;
      let aborted = false;
      let incomplete = false;
      for (; k < limit; k++) {
        const c = data.charCodeAt(k);
        if (c === BEL || c === ST8) {
          bodyEnd = k;
          termEnd = k + 1;
          break;
        }
        if (c === ESC) {
          if (k + 1 >= len) incomplete = true;
          else if (data.charCodeAt(k + 1) === BACKSLASH) {
            bodyEnd = k;
            termEnd = k + 2;
          } else aborted = true;
          break;
        }
        if (c === CAN || c === SUB) {
          aborted = true;
          break;
        }
      }
      if (termEnd === -1 && !aborted && (incomplete || k === len) && len - i < MAX_OSC_LENGTH) {
        emitText(i);
        this.pending = data.slice(i);
        return items;
      }
      if (termEnd === -1) {
        // Aborted or overlong: not a sequence we act on; keep scanning after its introducer.
        pos = introEnd;
        continue;
      }
      const body = data.slice(j + 1, bodyEnd);
      if (ident === '52') {
        emitText(i);
        textStart = termEnd;
      } else if (ident === '0' || ident === '2') {
        emitText(i);
        items.push({ type: 'title', title: body });
      } else {
        const mark = this.readMark(ident, body);
        if (mark) {
          emitText(i);
          items.push(mark);
          textStart = termEnd;
        }
      }
      pos = termEnd;
    }
  }

  private readMark(ident: string, body: string): ShellMark | undefined {
    const fields = body.split(';');
    if (fields.length < 2 || fields[fields.length - 1] !== this.nonceField) return undefined;
    const kind = fields[0];
    if (ident === '133') {
      if (fields.length === 2) {
        if (kind === 'A') return { type: 'promptStart' };
        if (kind === 'B') return { type: 'commandStart' };
        if (kind === 'C') return { type: 'commandExecuted' };
        if (kind === 'D') return { type: 'commandFinished', exitCode: null };
      } else if (fields.length === 3 && kind === 'D') {
        const code = fields[1] ?? '';
        return { type: 'commandFinished', exitCode: /^\d{1,3}$/.test(code) ? Number(code) : null };
      }
      return undefined;
    }
    if (fields.length !== 3) return undefined;
    const value = fields[1] ?? '';
    if (kind === 'E') return { type: 'commandLine', commandLine: unescapeMarkValue(value) };
    if (kind === 'P' && value.startsWith('Cwd='))
      return { type: 'cwd', cwd: unescapeMarkValue(value.slice(4)) };
    return undefined;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Reverses the hooks' escaping: `\\` → `\`, `\xHH` → that character; anything else is kept as is. */
export function unescapeMarkValue(value: string): string {
  if (!value.includes('\\')) return value;
  return value.replace(/\\(\\|x([0-9a-fA-F]{2}))/g, (_m, what: string, hex: string | undefined) =>
    hex ? String.fromCharCode(parseInt(hex, 16)) : what,
  );
}

/** The hooks' escaping, for tests and for other producers of marks (e.g. a replay). */
export function escapeMarkValue(value: string): string {
  return value.replace(/[\\;\x00-\x1f\x7f]/g, (c) =>
    c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
