// The public shape of src/terminal: what the API service (src/api) codes against.
import type { ShellMark } from './shellIntegrationParser.js';

export type { ShellMark };

export interface Disposable {
  dispose(): void;
}

export interface TerminalExit {
  readonly exitCode: number | null;
  readonly signal: number | null;
  /** Why the session ended when it was not the process's own doing (e.g. an ssh connection dropped). */
  readonly reason?: string;
}

/** One finished command, cut out of the output between the shell-integration marks C and D. */
export interface TerminalBlock {
  /** 1, 2, 3 … per session. */
  readonly seq: number;
  /** The command line as the shell reported it (or as `run()` typed it). */
  readonly command: string;
  /**
   * Plain text between C and D: escape sequences removed, CR LF → LF, one trailing newline dropped.
   * Capped at `maxBlockOutput` characters (the head is kept); see `truncated`.
   */
  readonly output: string;
  readonly truncated: boolean;
  readonly exitCode: number | null;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** The shell's working directory when the command started (from the nonce-carrying cwd mark). */
  readonly cwd: string | null;
}

export type TerminalKind = 'local' | 'ssh' | 'replay';

export interface TerminalInfo {
  readonly id: string;
  readonly kind: TerminalKind;
  /** OSC 0/2 title if the program set one, else the foreground process name. */
  readonly title: string;
  readonly shell: string;
  readonly cwd: string | null;
  readonly pid: number | null;
  readonly cols: number;
  readonly rows: number;
  readonly exit: TerminalExit | null;
  /** Path of the asciicast file being written, if recording. */
  readonly recording: string | null;
  /** True once the injected hooks have reported (a nonce-carrying mark was seen). */
  readonly shellIntegration: boolean;
  /** True while the producer is paused by flow control (unacknowledged output above the high watermark). */
  readonly paused: boolean;
}

export interface RecordingOptions {
  /** Record user input as `i` events. Off by default: input can hold passwords (see docs/terminal.md). */
  readonly input?: boolean;
}

export interface TerminalSession extends Disposable {
  readonly id: string;
  info(): TerminalInfo;
  /** User input; a no-op after exit. */
  write(data: string): void;
  /** Never touches the pty after exit (node-pty throws EBADF there). */
  resize(cols: number, rows: number): void;
  /** Flow control: the consumer acknowledges characters after its terminal parsed them. */
  acknowledge(chars: number): void;
  /** Turn flow control off when no consumer acknowledges (e.g. no renderer attached); on by default. */
  setFlowControl(enabled: boolean): void;
  kill(signal?: string): void;
  blocks(): readonly TerminalBlock[];
  /** Types a command and resolves with its block at the end mark (for lab steps). */
  run(command: string, opts?: { signal?: AbortSignal }): Promise<TerminalBlock>;
  /** Recent output (up to the replay window), for a consumer that attaches late. */
  recentOutput(): string;
  onData(listener: (data: string) => void): Disposable;
  onExit(listener: (exit: TerminalExit) => void): Disposable;
  onInfo(listener: (info: TerminalInfo) => void): Disposable;
  onBlock(listener: (block: TerminalBlock) => void): Disposable;
  /** Every nonce-verified shell-integration mark (prompt start, command start, …), e.g. for decorations. */
  onMark(listener: (mark: ShellMark) => void): Disposable;
  /** asciicast v2. */
  startRecording(file: string, opts?: RecordingOptions): Promise<void>;
  /** Resolves with the file written, or null if not recording. */
  stopRecording(): Promise<string | null>;
  /** Suspend/resume recording of input events (e.g. while a password prompt is open). */
  setInputRecording(enabled: boolean): void;
}
