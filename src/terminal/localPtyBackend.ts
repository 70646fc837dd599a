import { readlinkSync } from 'node:fs';
import { spawn, type IPty } from 'node-pty';
import type { TerminalBackend } from './terminalSession.js';
import type { Disposable, TerminalExit } from './types.js';

export interface LocalPtySpawn {
  readonly file: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly cols: number;
  readonly rows: number;
}

/** A local pty through node-pty. */
export class LocalPtyBackend implements TerminalBackend {
  private readonly pty: IPty;
  private exited = false;
  private released = false;

  constructor(opts: LocalPtySpawn) {
    this.pty = spawn(opts.file, opts.args, {
      name: 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: opts.cwd,
      env: opts.env,
      encoding: 'utf8',
    });
    this.pty.onExit(() => {
      this.exited = true;
    });
  }

  get pid(): number | null {
    return this.pty.pid;
  }

  processName(): string | null {
    if (this.exited || this.released) return null;
    return this.pty.process || null;
  }

  cwd(): string | null {
    if (this.exited || this.released) return null;
    try {
      return readlinkSync(`/proc/${this.pty.pid}/cwd`);
    } catch {
      return null; // not Linux, or gone
    }
  }

  onData(listener: (data: string) => void): Disposable {
    return this.pty.onData(listener);
  }

  onExit(listener: (exit: TerminalExit) => void): Disposable {
    return this.pty.onExit(({ exitCode, signal }) =>
      // node-pty reports signal 0 for "no signal"; a signal death reports exit code 0 too.
      listener(signal ? { exitCode: null, signal } : { exitCode, signal: null }),
    );
  }

  write(data: string): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    // node-pty throws EBADF ("ioctl(2) failed") once the pty is gone.
    if (!this.exited && !this.released) this.pty.resize(cols, rows);
  }

  pause(): void {
    if (!this.released) this.pty.pause();
  }

  resume(): void {
    if (!this.released) this.pty.resume();
  }

  kill(signal?: string): void {
    if (!this.exited) this.pty.kill(signal);
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    if (!this.exited) {
      (this.pty as IPty & { destroy?: () => void }).destroy?.();
    }
  }
}
