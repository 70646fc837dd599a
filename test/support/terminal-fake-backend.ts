// A test double of a pty backend (not a real pty): records what the session does to it and lets a test
// push output and an exit. Integration tests use the real node-pty backend instead.
import type { TerminalBackend } from '../../src/terminal/terminalSession.js';
import type { Disposable, TerminalExit } from '../../src/terminal/types.js';

export class FakeTerminalBackend implements TerminalBackend {
  readonly pid = 4242;
  readonly calls: string[] = [];
  readonly written: string[] = [];
  processTitle: string | null = 'bash';
  paused = false;
  private dataListeners: Array<(d: string) => void> = [];
  private exitListeners: Array<(e: TerminalExit) => void> = [];

  processName(): string | null {
    return this.processTitle;
  }
  onData(listener: (data: string) => void): Disposable {
    this.dataListeners.push(listener);
    return { dispose: () => (this.dataListeners = this.dataListeners.filter((l) => l !== listener)) };
  }
  onExit(listener: (exit: TerminalExit) => void): Disposable {
    this.exitListeners.push(listener);
    return { dispose: () => (this.exitListeners = this.exitListeners.filter((l) => l !== listener)) };
  }
  write(data: string): void {
    this.written.push(data);
  }
  resize(cols: number, rows: number): void {
    this.calls.push(`resize ${cols}x${rows}`);
  }
  pause(): void {
    this.paused = true;
    this.calls.push('pause');
  }
  resume(): void {
    this.paused = false;
    this.calls.push('resume');
  }
  kill(signal?: string): void {
    this.calls.push(`kill ${signal ?? ''}`.trim());
  }
  dispose(): void {
    this.calls.push('dispose');
  }

  /** The shell prints. */
  emit(data: string): void {
    for (const l of this.dataListeners) l(data);
  }
  /** The shell exits. */
  exit(exit: TerminalExit): void {
    for (const l of this.exitListeners) l(exit);
  }
}
