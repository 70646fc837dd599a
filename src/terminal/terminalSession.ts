import { basename } from 'node:path';
import { AsciicastRecorder } from './asciicast.js';
import { BlockTracker } from './blockTracker.js';
import { DataCoalescer, DEFAULT_COALESCE_MS } from './dataCoalescer.js';
import { Emitter } from './emitter.js';
import { FlowControl, type FlowControlOptions, type PausableProducer } from './flowControl.js';
import {
  ShellIntegrationParser,
  type ParsedItem,
  type ShellMark,
  type StreamEvent,
} from './shellIntegrationParser.js';
import type {
  Disposable,
  RecordingOptions,
  TerminalBlock,
  TerminalExit,
  TerminalInfo,
  TerminalKind,
  TerminalSession,
} from './types.js';

/** The key the shell-integration hooks bind to "clear the line" (shellScripts.ts); no terminal sends it. */
export const CLEAR_LINE = '\x1b[5311~';

/**
 * What a session drives: a local pty (node-pty) today, an ssh shell channel or a replay later. The producer
 * side of flow control is its pause/resume.
 */
export interface TerminalBackend extends PausableProducer {
  readonly pid: number | null;
  /** Name of the foreground process, if the backend can tell. */
  processName(): string | null;
  onData(listener: (data: string) => void): Disposable;
  onExit(listener: (exit: TerminalExit) => void): Disposable;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
  /** Releases native resources; called once, after exit or on dispose. */
  dispose(): void;
  /** The process's working directory, for shells without our hooks (local: /proc/<pid>/cwd). */
  cwd?(): string | null;
}

export interface TerminalSessionOptions {
  readonly id: string;
  readonly kind: TerminalKind;
  readonly shell: string;
  readonly cols: number;
  readonly rows: number;
  readonly backend: TerminalBackend;
  /** The nonce the injected hooks carry; null when the shell runs without our hooks. */
  readonly nonce: string | null;
  readonly now?: () => number;
  readonly flowControl?: FlowControlOptions & { readonly enabled?: boolean };
  readonly coalesceMs?: number;
  readonly maxBlockOutput?: number;
  /** Characters of recent output kept for a consumer that attaches late. */
  readonly replayWindow?: number;
  /** Called once when the session is disposed or its process exited (e.g. remove a temp dir). */
  readonly cleanup?: () => void;
  /**
   * Called once when the session is disposed, not when its process exits: for what the session holds for its
   * whole life, such as an ssh connection lease that a reconnect reuses after the shell died.
   */
  readonly release?: () => void;
  /** How long dispose() waits after SIGHUP before SIGKILL. */
  readonly killGraceMs?: number;
  /** Resizes within this many ms are merged into the last one (default 0: applied at once). */
  readonly resizeDebounceMs?: number;
  /** Below this many unacknowledged characters output is not held back for coalescing (default 16 Ki). */
  readonly consumerIdleChars?: number;
}

export const DEFAULT_REPLAY_WINDOW = 256 * 1024;
const TITLE_POLL_MS = 250;
/** How far past the cut recentOutput() looks for a line start. */
const LINE_START_SLACK = 4096;
/** Below this many unacknowledged characters the consumer counts as (nearly) idle: data is not held back. */
const CONSUMER_IDLE_CHARS = 16 * 1024;

interface PendingRun {
  readonly command: string;
  readonly resolve: (block: TerminalBlock) => void;
  readonly reject: (err: Error) => void;
  typed: boolean;
  /** The shell reported C (command executed) since we typed. */
  executed: boolean;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export class TerminalSessionImpl implements TerminalSession {
  readonly id: string;
  private readonly kind: TerminalKind;
  private readonly shell: string;
  private readonly backend: TerminalBackend;
  private readonly now: () => number;
  private readonly parser: ShellIntegrationParser | null;
  private readonly tracker: BlockTracker;
  private readonly flow: FlowControl;
  private readonly coalescer: DataCoalescer;
  private readonly replayWindow: number;
  private readonly killGraceMs: number;
  private readonly resizeDebounceMs: number;
  private readonly consumerIdleChars: number;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private cleanup: (() => void) | undefined;
  private release: (() => void) | undefined;
  private readonly subscriptions: Disposable[] = [];

  private readonly dataEmitter = new Emitter<string>();
  private readonly exitEmitter = new Emitter<TerminalExit>();
  private readonly infoEmitter = new Emitter<TerminalInfo>();
  private readonly blockEmitter = new Emitter<TerminalBlock>();
  private readonly markEmitter = new Emitter<ShellMark>();

  private cols: number;
  private rows: number;
  private exitState: TerminalExit | null = null;
  private oscTitle: string | null = null;
  private processTitle: string | null = null;
  private titleTimer: ReturnType<typeof setTimeout> | undefined;
  private fallbackCwd: string | null = null;
  private integrated = false;
  private recorder: AsciicastRecorder | null = null;
  private recent: string[] = [];
  private recentSize = 0;
  private runs: PendingRun[] = [];
  private disposed = false;
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  private lastInfo: TerminalInfo | null = null;
  private resolveExited: () => void = () => {};
  private readonly exited = new Promise<void>((resolve) => (this.resolveExited = resolve));

  constructor(opts: TerminalSessionOptions) {
    this.id = opts.id;
    this.kind = opts.kind;
    this.shell = opts.shell;
    this.cols = opts.cols;
    this.rows = opts.rows;
    this.backend = opts.backend;
    this.now = opts.now ?? Date.now;
    this.parser = opts.nonce ? new ShellIntegrationParser(opts.nonce) : null;
    this.tracker = new BlockTracker({ now: this.now, maxOutput: opts.maxBlockOutput });
    this.replayWindow = opts.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.resizeDebounceMs = opts.resizeDebounceMs ?? 0;
    this.consumerIdleChars = opts.consumerIdleChars ?? CONSUMER_IDLE_CHARS;
    this.cleanup = opts.cleanup;
    this.release = opts.release;
    this.flow = new FlowControl(this.backend, opts.flowControl, () => this.infoChanged());
    if (opts.flowControl?.enabled === false) this.flow.setEnabled(false);
    this.coalescer = new DataCoalescer(
      (data) => this.dataEmitter.fire(data),
      opts.coalesceMs ?? DEFAULT_COALESCE_MS,
    );
    this.subscriptions.push(
      this.backend.onData((chunk) => this.handleData(chunk)),
      this.backend.onExit((exit) => this.handleExit(exit)),
    );
  }

  readonly onData = this.dataEmitter.event;
  readonly onExit = this.exitEmitter.event;
  readonly onInfo = this.infoEmitter.event;
  readonly onBlock = this.blockEmitter.event;
  readonly onMark = this.markEmitter.event;

  info(): TerminalInfo {
    return {
      id: this.id,
      kind: this.kind,
      title: this.oscTitle || this.processTitle || basename(this.shell),
      shell: this.shell,
      cwd: this.tracker.cwd ?? this.fallbackCwd,
      pid: this.backend.pid,
      cols: this.cols,
      rows: this.rows,
      exit: this.exitState,
      recording: this.recorder?.file ?? null,
      shellIntegration: this.integrated,
      paused: this.flow.paused,
    };
  }

  write(data: string): void {
    if (this.exitState || this.disposed || data.length === 0) return;
    this.recorder?.input(data);
    this.backend.write(data);
  }

  resize(cols: number, rows: number): void {
    if (
      !Number.isInteger(cols) ||
      !Number.isInteger(rows) ||
      cols < 1 ||
      rows < 1 ||
      cols > 4096 ||
      rows > 4096
    ) {
      throw new RangeError(
        `terminal ${this.id}: resize to ${cols}x${rows}: columns and rows must be integers 1..4096`,
      );
    }
    if (this.exitState || this.disposed) return;
    if (this.resizeDebounceMs <= 0) return this.applyResize(cols, rows);
    // A window being dragged resizes many times a second: only the last size reaches the shell.
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      this.resizeTimer = undefined;
      this.applyResize(cols, rows);
    }, this.resizeDebounceMs);
  }

  private applyResize(cols: number, rows: number): void {
    // Checked again when a debounced resize fires: the process may have exited meanwhile.
    if (this.exitState || this.disposed) return;
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    try {
      this.backend.resize(cols, rows);
    } catch (err) {
      // The process may exit between our check and the ioctl (EBADF); the exit event follows.
      if (!isBadFd(err)) throw err;
    }
    this.recorder?.resize(cols, rows);
    this.infoChanged();
  }

  acknowledge(chars: number): void {
    this.flow.acknowledge(chars);
  }

  setFlowControl(enabled: boolean): void {
    this.flow.setEnabled(enabled);
    this.infoChanged();
  }

  /** Unacknowledged characters (for tests and diagnostics). */
  get unacknowledged(): number {
    return this.flow.unacknowledged;
  }

  kill(signal?: string): void {
    if (this.exitState || this.disposed) return;
    this.backend.kill(signal);
  }

  blocks(): readonly TerminalBlock[] {
    return this.tracker.blocks();
  }

  recentOutput(): string {
    if (this.recent.length > 1) this.recent = [this.recent.join('')];
    const all = this.recent[0] ?? '';
    if (all.length <= this.replayWindow) return all;
    // Start at a line start if one is near, so a replay does not begin inside an escape sequence.
    const cut = all.length - this.replayWindow;
    const nl = all.indexOf('\n', cut);
    return all.slice(nl !== -1 && nl - cut < LINE_START_SLACK ? nl + 1 : cut);
  }

  run(command: string, opts: { signal?: AbortSignal } = {}): Promise<TerminalBlock> {
    if (this.exitState || this.disposed) {
      return Promise.reject(
        new Error(`terminal ${this.id} has exited; open a new terminal to run "${command}"`),
      );
    }
    if (!this.parser) {
      return Promise.reject(
        new Error(
          `terminal ${this.id} runs ${this.shell} without shell integration (bash or zsh needed) to run commands`,
        ),
      );
    }
    if (/[\r\n]/.test(command) || command.trim() === '') {
      return Promise.reject(new Error('run(): the command must be one non-empty line (no CR or LF)'));
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise<TerminalBlock>((resolve, reject) => {
      const pending: PendingRun = {
        command,
        resolve,
        reject,
        typed: false,
        executed: false,
        signal,
        onAbort: () => {
          this.runs = this.runs.filter((r) => r !== pending);
          // Interrupt it if we already typed it; the shell prints a prompt again.
          if (pending.typed) this.write('\x03');
          reject(abortError());
          this.typeNextRun();
        },
      };
      signal?.addEventListener('abort', pending.onAbort, { once: true });
      this.runs.push(pending);
      this.typeNextRun();
    });
  }

  async startRecording(file: string, opts: RecordingOptions = {}): Promise<void> {
    if (this.disposed) throw new Error(`terminal ${this.id} is disposed`);
    if (this.recorder) throw new Error(`terminal ${this.id} is already recording to ${this.recorder.file}`);
    const rec = await AsciicastRecorder.open(
      file,
      {
        width: this.cols,
        height: this.rows,
        timestamp: Math.floor(this.now() / 1000),
        title: this.info().title,
        env: { SHELL: this.shell, TERM: 'xterm-256color' },
      },
      { now: this.now, input: opts.input === true },
    );
    this.recorder = rec;
    this.infoChanged();
  }

  async stopRecording(): Promise<string | null> {
    const rec = this.recorder;
    if (!rec) return null;
    this.recorder = null;
    await rec.close();
    this.infoChanged();
    if (rec.error) throw new Error(`recording to ${rec.file} failed: ${rec.error.message}`);
    return rec.file;
  }

  setInputRecording(enabled: boolean): void {
    if (this.recorder) this.recorder.inputPaused = !enabled;
  }

  dispose(): void {
    if (this.disposed) return;
    if (!this.exitState) {
      try {
        this.backend.kill('SIGHUP');
      } catch {
        // already gone
      }
      this.killTimer = setTimeout(() => {
        if (!this.exitState && this.backend.pid) {
          try {
            process.kill(this.backend.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }, this.killGraceMs);
      this.killTimer.unref?.();
    }
    this.disposed = true;
    if (this.titleTimer) clearTimeout(this.titleTimer);
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.failRuns(new Error(`terminal ${this.id} was closed`));
    void this.stopRecording().catch(() => {});
    this.coalescer.dispose();
    this.flow.setEnabled(false);
    for (const s of this.subscriptions) s.dispose();
    // Keep listening for the exit so the backend is released and the grace timer stops.
    if (!this.exitState) {
      this.subscriptions.push(this.backend.onExit(() => this.releaseBackend()));
    } else {
      this.releaseBackend();
    }
    this.dataEmitter.dispose();
    this.exitEmitter.dispose();
    this.infoEmitter.dispose();
    this.blockEmitter.dispose();
    this.markEmitter.dispose();
  }

  /** Resolves once the process has exited (or the backend was released), e.g. to wait for it after dispose(). */
  whenExited(): Promise<void> {
    return this.exited;
  }

  private releaseBackend(): void {
    this.resolveExited();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = undefined;
    this.backend.dispose();
    this.cleanup?.();
    this.cleanup = undefined;
    this.release?.();
    this.release = undefined;
  }

  private handleData(chunk: string): void {
    if (this.disposed) return;
    const items: ParsedItem[] = this.parser ? this.parser.feed(chunk) : [chunk];
    let out = '';
    for (const item of items) {
      if (typeof item === 'string') {
        out = out ? out + item : item;
        this.tracker.text(item);
        this.recorder?.output(item);
      } else {
        this.handleEvent(item);
      }
    }
    this.deliver(out);
    // The foreground process name (a /proc read) is looked up off the data path, at most every 250 ms.
    if (!this.titleTimer) {
      this.titleTimer = setTimeout(() => {
        this.titleTimer = undefined;
        if (!this.exitState && !this.disposed) this.pollProcessTitle();
      }, TITLE_POLL_MS);
      this.titleTimer.unref?.();
    }
  }

  private deliver(out: string): void {
    if (out.length === 0) return;
    this.remember(out);
    // Count before delivering: a consumer may acknowledge synchronously from its data listener. With no data
    // listener at all nobody could acknowledge, so nothing is counted (e.g. run() with no renderer attached).
    if (this.dataEmitter.size > 0) this.flow.produced(out.length);
    this.coalescer.push(out);
    // Hold data back only while the consumer has plenty left to parse. When paused, nothing more comes until
    // it catches up; when it has (almost) nothing left, holding data back would leave it idle.
    if (
      this.flow.enabled &&
      (this.flow.paused || this.flow.unacknowledged - out.length < this.consumerIdleChars)
    ) {
      this.coalescer.flush();
    }
  }

  private remember(out: string): void {
    if (this.replayWindow <= 0) return;
    this.recent.push(out);
    this.recentSize += out.length;
    if (this.recentSize > this.replayWindow * 2) {
      const all = this.recent.join('');
      // Keep a little more than the window so that recentOutput() can start at a line start.
      const kept = all.slice(Math.max(0, all.length - this.replayWindow - LINE_START_SLACK));
      this.recent = [kept];
      this.recentSize = kept.length;
    }
  }

  private handleEvent(ev: StreamEvent): void {
    if (ev.type === 'title') {
      if (ev.title !== this.oscTitle) {
        this.oscTitle = ev.title;
        this.infoChanged();
      }
      return;
    }
    const firstMark = !this.integrated;
    this.integrated = true;
    const cwdBefore = this.tracker.cwd;
    if (ev.type === 'commandExecuted') {
      const run = this.runs[0];
      if (run?.typed) run.executed = true;
      if (run?.typed && this.tracker.pendingCommand === '') {
        // History gave nothing (e.g. HISTCONTROL=ignorespace): we know what we typed.
        this.tracker.mark({ type: 'commandLine', commandLine: run.command });
      }
      this.recorder?.marker(`$ ${this.tracker.pendingCommand ?? ''}`);
    }
    const block = this.tracker.mark(ev);
    this.markEmitter.fire(ev);
    if (ev.type === 'commandFinished' && block) this.recorder?.marker(`exit ${block.exitCode ?? '?'}`);
    if (block) {
      this.blockEmitter.fire(block);
      const run = this.runs[0];
      if (run?.typed) {
        this.runs.shift();
        run.signal?.removeEventListener('abort', run.onAbort);
        run.resolve(block);
      }
    }
    if (ev.type === 'commandFinished' && !block) {
      const run = this.runs[0];
      if (run?.typed && !run.executed) {
        // Back at a prompt without a C: nothing ran (a comment line), or the shell cannot report it (bash < 4.4
        // has no PS0). Do not wait for a block that will never come.
        this.runs.shift();
        run.signal?.removeEventListener('abort', run.onAbort);
        run.reject(
          new Error(
            `terminal ${this.id}: the shell returned to its prompt without reporting that "${run.command}" started ` +
              '(nothing to run, or a shell without PS0 support such as bash < 4.4)',
          ),
        );
      }
    }
    if (ev.type === 'commandStart') {
      this.pollProcessTitle();
      this.typeNextRun();
    }
    if (firstMark || this.tracker.cwd !== cwdBefore) this.infoChanged();
  }

  private typeNextRun(): void {
    const run = this.runs[0];
    if (!run || run.typed || this.tracker.phase !== 'input' || this.exitState || this.disposed) return;
    run.typed = true;
    // Whatever the user had typed at this prompt is cleared first, so the command is not glued onto it: the
    // shell-integration hooks bind CLEAR_LINE to kill-whole-line in the emacs and vi keymaps (the text goes to
    // the kill ring, where Ctrl-Y brings it back in emacs mode).
    this.write(`${CLEAR_LINE}${run.command}\r`);
  }

  private pollProcessTitle(): void {
    let name: string | null = null;
    let cwd: string | null = null;
    try {
      const raw = this.backend.processName();
      // node-pty reports argv[0], e.g. "/usr/bin/bash" or "-zsh": show the program's name.
      name = raw ? basename(raw).replace(/^-/, '') : null;
      if (!this.integrated) cwd = this.backend.cwd?.() ?? null;
    } catch {
      name = null;
    }
    let changed = false;
    if (name && name !== this.processTitle) {
      this.processTitle = name;
      changed = true;
    }
    if (cwd && cwd !== this.fallbackCwd) {
      this.fallbackCwd = cwd;
      changed = true;
    }
    if (changed) this.infoChanged();
  }

  private handleExit(exit: TerminalExit): void {
    if (this.exitState) return;
    const rest = this.parser?.flush() ?? '';
    if (rest) {
      this.tracker.text(rest);
      this.recorder?.output(rest);
      this.deliver(rest);
    }
    this.coalescer.flush();
    this.exitState = exit;
    this.flow.setEnabled(false);
    this.failRuns(
      new Error(`terminal ${this.id} exited (code ${exit.exitCode ?? '?'}) before the command finished`),
    );
    this.infoChanged();
    this.exitEmitter.fire(exit);
    this.resolveExited();
    // Whatever the launch left (zsh's temp ZDOTDIR if zsh died before reading it) goes now, not at dispose.
    this.cleanup?.();
    this.cleanup = undefined;
    if (this.disposed) this.releaseBackend();
  }

  private failRuns(err: Error): void {
    const runs = this.runs;
    this.runs = [];
    for (const run of runs) {
      run.signal?.removeEventListener('abort', run.onAbort);
      run.reject(err);
    }
  }

  private infoChanged(): void {
    if (this.disposed) return;
    const info = this.info();
    const last = this.lastInfo;
    if (
      last &&
      last.title === info.title &&
      last.cwd === info.cwd &&
      last.cols === info.cols &&
      last.rows === info.rows &&
      last.exit === info.exit &&
      last.recording === info.recording &&
      last.shellIntegration === info.shellIntegration &&
      last.paused === info.paused
    ) {
      return;
    }
    this.lastInfo = info;
    this.infoEmitter.fire(info);
  }
}

function abortError(): Error {
  const err = new Error('The command was aborted');
  err.name = 'AbortError';
  return err;
}

function isBadFd(err: unknown): boolean {
  return err instanceof Error && /EBADF|ioctl\(2\) failed|bad file descriptor/i.test(err.message);
}
