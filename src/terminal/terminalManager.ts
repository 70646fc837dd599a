import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { parseAsciicast } from './asciicast.js';
import { LocalPtyBackend } from './localPtyBackend.js';
import { ReplayBackend } from './replayBackend.js';
import { newNonce, shellFlavour, shellLaunch } from './shellIntegration.js';
import { SshTerminals, type CreateSshOptions } from './sshTerminal.js';
import { TerminalSessionImpl, type TerminalBackend } from './terminalSession.js';
import type { FlowControlOptions } from './flowControl.js';
import type { Disposable, TerminalInfo, TerminalKind, TerminalSession } from './types.js';

export interface TerminalManagerDeps {
  /** The environment shells inherit (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Clock (epoch ms). */
  readonly now?: () => number;
  /** Makes the session ids (default: random UUIDs). */
  readonly newId?: () => string;
  /** Starts a local pty (default: node-pty); a seam for tests of the manager itself. */
  readonly spawnLocal?: (opts: {
    file: string;
    args: string[];
    env: Record<string, string>;
    cwd: string;
    cols: number;
    rows: number;
  }) => TerminalBackend;
  readonly flowControl?: FlowControlOptions;
  readonly coalesceMs?: number;
  readonly maxBlockOutput?: number;
  /** Merge resizes within this many ms (default 0); see TerminalSessionOptions.resizeDebounceMs. */
  readonly resizeDebounceMs?: number;
}

export interface CreateLocalOptions {
  /** Absolute path or name on PATH; default $SHELL, else bash. */
  readonly shell?: string;
  readonly cwd?: string;
  /** Added to (and overriding) the inherited environment. */
  readonly env?: Record<string, string>;
  readonly cols: number;
  readonly rows: number;
  /** Inject the bash/zsh hooks (default true). */
  readonly shellIntegration?: boolean;
  /** Pause the pty until the consumer acknowledges (default true); see TerminalSession.setFlowControl. */
  readonly flowControl?: boolean;
}

export interface AttachOptions {
  readonly kind: TerminalKind;
  /** What runs there, for display (e.g. "bash on node-1"). */
  readonly shell: string;
  readonly backend: TerminalBackend;
  readonly cols: number;
  readonly rows: number;
  /** The nonce the process's hooks carry; omit when it runs none. */
  readonly nonce?: string | null;
  readonly flowControl?: boolean;
  readonly cleanup?: () => void;
}

// Variables of the host terminal that would confuse ours (as node-pty's own _sanitizeEnv).
const HOST_TERMINAL_VARS = ['TMUX', 'TMUX_PANE', 'STY', 'WINDOW', 'WINDOWID', 'TERMCAP', 'COLUMNS', 'LINES'];

/** Owns every terminal session; disposing it disposes them all. */
export class TerminalManager implements Disposable {
  private readonly sessions = new Map<string, TerminalSessionImpl>();
  private readonly deps: TerminalManagerDeps;
  private disposed = false;

  constructor(deps: TerminalManagerDeps = {}) {
    this.deps = deps;
  }

  createLocal(opts: CreateLocalOptions): TerminalSession {
    if (this.disposed) throw new Error('TerminalManager is disposed');
    const inherited = this.deps.env ?? process.env;
    const shell = opts.shell || inherited.SHELL || 'bash';
    const cwd = opts.cwd ?? inherited.HOME ?? homedir();
    if (!existsSync(cwd)) {
      throw new Error(
        `cannot open a terminal in ${cwd}: no such directory (pick an existing working directory)`,
      );
    }
    const shellPath = resolveExecutable(shell, inherited.PATH ?? '');
    if (!shellPath) {
      throw new Error(
        `cannot open a terminal: shell "${shell}" not found${shell.includes('/') ? '' : ' on PATH'} (install it, or choose another shell)`,
      );
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(inherited)) if (v !== undefined) env[k] = v;
    for (const k of HOST_TERMINAL_VARS) delete env[k];
    Object.assign(env, opts.env ?? {}, {
      TERM: 'xterm-256color',
      COLORTERM: 'truecolor',
      TERM_PROGRAM: 'LabDeck',
    });
    const integrate = opts.shellIntegration !== false && shellFlavour(shellPath) !== 'other';
    const nonce = integrate ? newNonce() : null;
    const launch = nonce
      ? shellLaunch(shellPath, nonce, env)
      : { file: shellPath, args: [], env, cleanup: () => {} };
    const spawnLocal = this.deps.spawnLocal ?? ((o) => new LocalPtyBackend(o));
    let backend: TerminalBackend;
    try {
      backend = spawnLocal({
        file: launch.file,
        args: launch.args,
        env: launch.env,
        cwd,
        cols: opts.cols,
        rows: opts.rows,
      });
    } catch (err) {
      launch.cleanup();
      throw new Error(
        `cannot start ${shell}: ${err instanceof Error ? err.message : String(err)} (is it installed?)`,
      );
    }
    const id = this.deps.newId?.() ?? randomUUID();
    const session = new TerminalSessionImpl({
      id,
      kind: 'local',
      shell,
      cols: opts.cols,
      rows: opts.rows,
      backend,
      nonce,
      now: this.deps.now,
      flowControl: { ...this.deps.flowControl, enabled: opts.flowControl !== false },
      coalesceMs: this.deps.coalesceMs,
      maxBlockOutput: this.deps.maxBlockOutput,
      resizeDebounceMs: this.deps.resizeDebounceMs,
      cleanup: launch.cleanup,
    });
    this.sessions.set(id, session);
    return session;
  }

  /**
   * Wraps a backend someone else started: an ssh shell channel (SshChannelBackend), a replay, or a local pty
   * with a custom command. Pass the nonce if the process runs our hooks (e.g. remoteBashCommand(nonce)).
   */
  attach(opts: AttachOptions): TerminalSession {
    if (this.disposed) throw new Error('TerminalManager is disposed');
    const id = this.deps.newId?.() ?? randomUUID();
    const session = new TerminalSessionImpl({
      id,
      kind: opts.kind,
      shell: opts.shell,
      cols: opts.cols,
      rows: opts.rows,
      backend: opts.backend,
      nonce: opts.nonce ?? null,
      now: this.deps.now,
      flowControl: { ...this.deps.flowControl, enabled: opts.flowControl !== false },
      coalesceMs: this.deps.coalesceMs,
      maxBlockOutput: this.deps.maxBlockOutput,
      resizeDebounceMs: this.deps.resizeDebounceMs,
      cleanup: opts.cleanup,
    });
    this.sessions.set(id, session);
    return session;
  }

  /** Plays a recording (asciicast v2 text) as a read-only terminal whose blocks come from its markers. */
  createReplay(opts: { cast: string; title?: string; speed?: number; maxIdleMs?: number }): TerminalSession {
    const cast = parseAsciicast(opts.cast);
    const nonce = newNonce();
    const backend = new ReplayBackend(cast, { nonce, speed: opts.speed, maxIdleMs: opts.maxIdleMs });
    const session = this.attach({
      kind: 'replay',
      shell: opts.title ?? cast.header.title ?? 'recording',
      backend,
      cols: cast.header.width,
      rows: cast.header.height,
      nonce,
      flowControl: true,
    });
    backend.start();
    return session;
  }

  private readonly ssh = new SshTerminals({
    attach: (o) => this.attach(o),
    get: (id) => this.get(id),
    close: (id) => this.close(id),
  });

  /** A shell through an ssh chain; the session owns the lease in `opts.connection` (see sshTerminal.ts). */
  createSsh(opts: CreateSshOptions): Promise<TerminalSession> {
    if (this.disposed) return Promise.reject(new Error('TerminalManager is disposed'));
    return this.ssh.create(opts);
  }

  /** A fresh shell for an ssh terminal whose connection dropped: the chain rebuilt, keys verified, nothing re-run. */
  reconnectSsh(id: string): Promise<TerminalSession> {
    return this.ssh.reconnect(id);
  }

  get(id: string): TerminalSession | undefined {
    return this.sessions.get(id);
  }

  list(): TerminalInfo[] {
    return [...this.sessions.values()].map((s) => s.info());
  }

  /** Disposes one session and forgets it. */
  close(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.dispose();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}

/** `name` as an executable file: a path as given, else the first match on PATH. */
export function resolveExecutable(name: string, pathVar: string): string | null {
  const candidates = name.includes('/')
    ? [isAbsolute(name) ? name : resolve(name)]
    : pathVar
        .split(delimiter)
        .filter((d) => d !== '')
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}
