import type { Disposable } from './types.js';

export const DEFAULT_COALESCE_MS = 5;
export const DEFAULT_COALESCE_MAX = 256 * 1024;

export interface CoalescerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: CoalescerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Batches many tiny pty chunks into fewer events without delaying a lone one: the first chunk after a quiet
 * spell goes out at once (keystroke echo), chunks that follow within `windowMs` are joined and sent when the
 * window closes (or when `maxBuffered` characters have piled up). VS Code's TerminalDataBufferer always waits
 * 5 ms; this keeps the leading edge immediate.
 */
export class DataCoalescer implements Disposable {
  private parts: string[] = [];
  private size = 0;
  private timer: unknown = undefined;
  private disposed = false;

  constructor(
    private readonly emit: (data: string) => void,
    private readonly windowMs = DEFAULT_COALESCE_MS,
    private readonly maxBuffered = DEFAULT_COALESCE_MAX,
    private readonly timers: CoalescerTimers = realTimers,
  ) {}

  get buffered(): number {
    return this.size;
  }

  push(data: string): void {
    if (this.disposed || data.length === 0) return;
    if (this.timer === undefined && this.windowMs > 0) {
      this.emit(data);
      this.timer = this.timers.setTimeout(this.tick, this.windowMs);
      return;
    }
    if (this.windowMs <= 0) {
      this.emit(data);
      return;
    }
    this.parts.push(data);
    this.size += data.length;
    if (this.size >= this.maxBuffered) this.drain();
  }

  /** Sends whatever is buffered now (e.g. before an exit event). */
  flush(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.drain();
  }

  dispose(): void {
    this.flush();
    this.disposed = true;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.size > 0) {
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
