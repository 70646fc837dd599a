import type { AsciicastEventCode, ParsedAsciicast } from './asciicast.js';
import { escapeMarkValue } from './shellIntegrationParser.js';
import { Emitter } from './emitter.js';
import type { TerminalBackend } from './terminalSession.js';
import type { Disposable, TerminalExit } from './types.js';

export interface ReplayOptions {
  /** The session's nonce: the replay turns the recording's command markers back into marks carrying it. */
  readonly nonce: string;
  /** 1 = real time, 2 = twice as fast, 0 = as fast as flow control allows. */
  readonly speed?: number;
  /** Pauses longer than this (ms, after speed) are shortened to it, as `asciinema play -i`. */
  readonly maxIdleMs?: number;
}

/**
 * Plays an asciicast recording (ours: `m` markers "$ <command>" at C and "exit <code>" at D) as a terminal:
 * output events become data, and the markers become shell-integration marks with the session's nonce, so the
 * same pipeline rebuilds the blocks. Input is ignored (a replay is read-only). Honours pause/resume.
 */
export class ReplayBackend implements TerminalBackend {
  readonly pid = null;
  private readonly events: ReadonlyArray<readonly [number, AsciicastEventCode, string]>;
  private readonly dataEmitter = new Emitter<string>();
  private readonly exitEmitter = new Emitter<TerminalExit>();
  private index = 0;
  private paused = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private started = false;
  private done = false;
  private clock = 0;

  constructor(
    cast: ParsedAsciicast,
    private readonly opts: ReplayOptions,
  ) {
    this.events = cast.events;
  }

  /** Starts playing (after the session has subscribed). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule();
  }

  processName(): string | null {
    return null;
  }

  onData(listener: (data: string) => void): Disposable {
    return this.dataEmitter.event(listener);
  }

  onExit(listener: (exit: TerminalExit) => void): Disposable {
    return this.exitEmitter.event(listener);
  }

  write(): void {}

  resize(): void {}

  pause(): void {
    this.paused = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.started) this.schedule();
  }

  kill(): void {
    this.finish();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.done = true;
  }

  private schedule(): void {
    if (this.paused || this.done || this.timer) return;
    const next = this.events[this.index];
    if (!next) {
      this.timer = setTimeout(() => this.finish(), 0);
      return;
    }
    const speed = this.opts.speed ?? 1;
    let wait = speed > 0 ? ((next[0] - this.clock) * 1000) / speed : 0;
    wait = Math.max(0, Math.min(wait, this.opts.maxIdleMs ?? Number.POSITIVE_INFINITY));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.step();
    }, wait);
  }

  private step(): void {
    // Play every event due now in one go, stopping early if flow control pauses us.
    const first = this.events[this.index];
    if (!first) return this.schedule();
    const dueAt = first[0];
    while (!this.paused && !this.done) {
      const ev = this.events[this.index];
      if (!ev || ev[0] > dueAt) break;
      this.index++;
      this.clock = ev[0];
      const data = this.render(ev[1], ev[2]);
      if (data) this.dataEmitter.fire(data);
    }
    this.schedule();
  }

  private render(code: AsciicastEventCode, data: string): string {
    const k = `k=${this.opts.nonce}`;
    if (code === 'o') return data;
    if (code !== 'm') return '';
    if (data.startsWith('$ ')) {
      return `\x1b]633;E;${escapeMarkValue(data.slice(2))};${k}\x07\x1b]133;C;${k}\x07`;
    }
    const exit = /^exit (\d{1,3}|\?)$/.exec(data);
    if (exit) return exit[1] === '?' ? `\x1b]133;D;${k}\x07` : `\x1b]133;D;${exit[1]};${k}\x07`;
    return '';
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.exitEmitter.fire({ exitCode: 0, signal: null });
  }
}
