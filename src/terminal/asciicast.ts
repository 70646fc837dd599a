/* eslint-disable no-control-regex -- terminal escape sequences are made of control characters */
// asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): one JSON header line, then one JSON array
// per event: [seconds since start, code, data]; codes "o" output, "i" input, "r" resize ("COLSxROWS"),
// "m" marker (label). Files are created 0600: terminal output can hold secrets.
import { createWriteStream, type WriteStream } from 'node:fs';

export interface AsciicastHeader {
  readonly version: 2;
  readonly width: number;
  readonly height: number;
  /** Unix seconds. */
  readonly timestamp?: number;
  readonly title?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export type AsciicastEventCode = 'o' | 'i' | 'r' | 'm';

export function formatAsciicastHeader(header: AsciicastHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** `seconds` is rounded to microseconds, as asciinema writes it. */
export function formatAsciicastEvent(seconds: number, code: AsciicastEventCode, data: string): string {
  const t = Math.max(0, Math.round(seconds * 1e6) / 1e6);
  return `${JSON.stringify([t, code, data])}\n`;
}

export interface ParsedAsciicast {
  readonly header: AsciicastHeader;
  readonly events: ReadonlyArray<readonly [number, AsciicastEventCode, string]>;
}

/** Reads an asciicast v2 text (for tests and replay). Throws a specific error on the first bad line. */
export function parseAsciicast(text: string): ParsedAsciicast {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) throw new Error('asciicast: empty file (expected a JSON header line)');
  const header = JSON.parse(lines[0] as string) as AsciicastHeader;
  if (header.version !== 2)
    throw new Error(`asciicast: line 1: version ${String(header.version)}, expected 2`);
  const events = lines.slice(1).map((line, i) => {
    const ev: unknown = JSON.parse(line);
    if (
      !Array.isArray(ev) ||
      ev.length !== 3 ||
      typeof ev[0] !== 'number' ||
      !['o', 'i', 'r', 'm'].includes(ev[1] as string) ||
      typeof ev[2] !== 'string'
    ) {
      throw new Error(`asciicast: line ${i + 2}: expected [time, "o"|"i"|"r"|"m", data]`);
    }
    return ev as [number, AsciicastEventCode, string];
  });
  return { header, events };
}

// A prompt asking for a secret, at the end of the output so far: input is not recorded until Enter.
const SECRET_PROMPT = /(pass(word|phrase|code)|\bPIN\b|token|secret)[^\n]*[:?]\s*$/i;

/**
 * Writes one recording. Input events are written only when asked for (`input`), never while `inputPaused`,
 * and never after a prompt that looks like a password prompt until the next Enter (node-pty cannot tell us
 * the tty's ECHO flag; see docs/terminal.md).
 */
export class AsciicastRecorder {
  private readonly stream: WriteStream;
  private readonly start: number;
  private tail = '';
  private secretInput = false;
  inputPaused = false;
  private closed: Promise<void> | null = null;
  private failure: Error | null = null;

  private constructor(
    readonly file: string,
    stream: WriteStream,
    private readonly now: () => number,
    private readonly recordInput: boolean,
  ) {
    this.stream = stream;
    this.start = now();
    stream.on('error', (err) => {
      this.failure = err;
    });
  }

  static async open(
    file: string,
    header: Omit<AsciicastHeader, 'version'>,
    opts: { now: () => number; input: boolean },
  ): Promise<AsciicastRecorder> {
    const stream = createWriteStream(file, { flags: 'w', mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err) =>
        reject(new Error(`cannot record to ${file}: ${err.message} (choose a writable path)`)),
      );
    });
    const rec = new AsciicastRecorder(file, stream, opts.now, opts.input);
    rec.write(formatAsciicastHeader({ version: 2, ...header }));
    return rec;
  }

  get error(): Error | null {
    return this.failure;
  }

  output(data: string): void {
    this.event('o', data);
    this.tail = (this.tail + data).slice(-256);
    if (SECRET_PROMPT.test(this.tail.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, ''))) this.secretInput = true;
  }

  input(data: string): void {
    const secret = this.secretInput;
    if (/[\r\n]/.test(data)) {
      this.secretInput = false;
      this.tail = '';
    }
    if (!this.recordInput || this.inputPaused || secret) return;
    this.event('i', data);
  }

  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  marker(label: string): void {
    this.event('m', label);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = new Promise<void>((resolve) => {
        this.stream.end(() => resolve());
      });
    }
    return this.closed;
  }

  private event(code: AsciicastEventCode, data: string): void {
    if (this.closed || data.length === 0) return;
    this.write(formatAsciicastEvent((this.now() - this.start) / 1000, code, data));
  }

  private write(line: string): void {
    if (!this.closed) this.stream.write(line);
  }
}
