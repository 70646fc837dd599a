// A test double of a pty backend (not a real pty): records what the session does to it and lets a test
// push output and an exit. Integration tests use the real node-pty backend instead.
import { Emitter } from '../../src/terminal/emitter.js';
import type { TerminalBackend } from '../../src/terminal/terminalSession.js';
import type { Disposable, TerminalExit } from '../../src/terminal/types.js';

export class FakeTerminalBackend implements TerminalBackend {
  readonly pid = 4242;
  readonly calls: string[] = [];
  readonly written: string[] = [];
  processTitle: string | null = 'bash';
  paused = false;
  private readonly dataEmitter = new Emitter<string>();
  private readonly exitEmitter = new Emitter<TerminalExit>();

  processName(): string | null {
    return this.processTitle;
  }
  onData(listener: (data: string) => void): Disposable {
    return this.dataEmitter.event(listener);
  }
  onExit(listener: (exit: TerminalExit) => void): Disposable {
    return this.exitEmitter.event(listener);
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
    this.dataEmitter.fire(data);
  }
  /** The shell exits. */
  exit(exit: TerminalExit): void {
    this.exitEmitter.fire(exit);
  }
}
