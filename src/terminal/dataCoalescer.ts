import type { Disposable } from './types.js';

export const DEFAULT_COALESCE_MS = 5;
const DEFAULT_COALESCE_MAX = 64 * 1024;
/** Characters per window that still go out at once: typing, echo, a prompt redraw. */
const DEFAULT_SMALL_BURST = 1024;

export interface CoalescerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: CoalescerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Batches many tiny pty chunks into fewer events without delaying interactive output. The first chunk after a
 * quiet spell goes out at once, and so does any chunk while less than `smallBurst` characters went out in the
 * current window (keystroke echo, a prompt); only once a burst is under way are chunks joined and sent when
 * the window closes (or when `maxBuffered` characters have piled up, or on `flush()`, e.g. when flow control
 * pauses the producer). VS Code's TerminalDataBufferer always waits 5 ms.
 */
export class DataCoalescer implements Disposable {
  private parts: string[] = [];
  private size = 0;
  private timer: unknown = undefined;
  private sentInWindow = 0;
  private disposed = false;

  constructor(
    private readonly emit: (data: string) => void,
    private readonly windowMs = DEFAULT_COALESCE_MS,
    private readonly maxBuffered = DEFAULT_COALESCE_MAX,
    private readonly timers: CoalescerTimers = realTimers,
    private readonly smallBurst = DEFAULT_SMALL_BURST,
  ) {}

  get buffered(): number {
    return this.size;
  }

  push(data: string): void {
    if (this.disposed || data.length === 0) return;
    if (this.windowMs <= 0) {
      this.emit(data);
      return;
    }
    if (this.timer === undefined) {
      this.sentInWindow = data.length;
      this.emit(data);
      this.timer = this.timers.setTimeout(this.tick, this.windowMs);
      return;
    }
    if (this.size === 0 && this.sentInWindow + data.length <= this.smallBurst) {
      this.sentInWindow += data.length;
      this.emit(data);
      return;
    }
    this.parts.push(data);
    this.size += data.length;
    if (this.size >= this.maxBuffered) this.drain();
  }

  /** Sends whatever is buffered now (e.g. before an exit event, or when the producer is paused). */
  flush(): void {
    this.drain();
  }

  dispose(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.drain();
    this.disposed = true;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.sentInWindow = 0;
    if (this.size > 0) {
      this.sentInWindow = this.size;
      this.drain();
      this.timer = this.timers.setTimeout(this.tick, this.windowMs);
    }
  };

  private drain(): void {
    if (this.size === 0) return;
    const data = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.emit(data);
  }
}
