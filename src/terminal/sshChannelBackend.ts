import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { Emitter } from './emitter.js';
import type { TerminalBackend } from './terminalSession.js';
import type { Disposable, TerminalExit } from './types.js';

/**
 * The part of an ssh2 `ClientChannel` (from `client.shell()` or `client.exec(cmd, { pty })`) a terminal uses.
 * Structural, so src/terminal needs no ssh2 import; src/ssh hands the channel over.
 */
export interface SshShellChannel {
  write(data: string): unknown;
  pause(): unknown;
  resume(): unknown;
  /** ssh2: rows, cols, height px, width px. */
  setWindow(rows: number, cols: number, height: number, width: number): unknown;
  /** ssh2: a signal name without "SIG" (RFC 4254 §6.9); many servers ignore it. */
  signal(name: string): unknown;
  close(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'exit', listener: (code: number | null, signal?: string) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  readonly stderr?: { on(event: 'data', listener: (chunk: Buffer) => void): unknown };
}

/**
 * A remote shell over an ssh channel as a terminal backend. Flow control pauses the channel's stream, which
 * stops ssh2 from reading it and, with the channel window not adjusted, makes the server stop sending.
 * Output is UTF-8 decoded across chunk boundaries; stderr (only without a pty) is merged into the output.
 */
export class SshChannelBackend implements TerminalBackend {
  readonly pid = null;
  private readonly decoder = new StringDecoder('utf8');
  private readonly dataEmitter = new Emitter<string>();
  private readonly exitEmitter = new Emitter<TerminalExit>();
  private exitInfo: TerminalExit = { exitCode: null, signal: null };
  private closed = false;

  constructor(private readonly channel: SshShellChannel) {
    const onData = (chunk: Buffer): void => this.emitData(this.decoder.write(chunk));
    channel.on('data', onData);
    channel.stderr?.on('data', onData);
    channel.on('exit', (code, signal) => {
      this.exitInfo = signal
        ? { exitCode: null, signal: signalNumber(signal) }
        : { exitCode: code, signal: null };
    });
    channel.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      const rest = this.decoder.end();
      if (rest) this.emitData(rest);
      this.exitEmitter.fire(this.exitInfo);
    });
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

  write(data: string): void {
    if (!this.closed) this.channel.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.closed) this.channel.setWindow(rows, cols, 0, 0);
  }

  pause(): void {
    if (!this.closed) this.channel.pause();
  }

  resume(): void {
    if (!this.closed) this.channel.resume();
  }

  kill(signal = 'SIGHUP'): void {
    if (this.closed) return;
    // SIGHUP is what a closing terminal means; closing the channel is the one way every server honours.
    if (signal === 'SIGHUP' || signal === 'SIGKILL') this.channel.close();
    else this.channel.signal(signal.replace(/^SIG/, ''));
  }

  dispose(): void {
    if (!this.closed) this.channel.close();
  }

  private emitData(data: string): void {
    if (data) this.dataEmitter.fire(data);
  }
}

function signalNumber(name: string): number | null {
  const key = (name.startsWith('SIG') ? name : `SIG${name}`) as keyof typeof constants.signals;
  return constants.signals[key] ?? null;
}
