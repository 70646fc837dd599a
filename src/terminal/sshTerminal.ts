// SSH terminal sessions: a shell channel from src/ssh (through the whole jump chain) as a terminal backend,
// with our shell-integration hooks injected over the channel and nothing installed on the node
// (docs/terminal.md, "SSH terminals").
import type { SshConnection, SshError, SshShell } from '../ssh/index.js';
import { newNonce, remoteBashCommand } from './shellIntegration.js';
import { SshChannelBackend, type SshShellChannel } from './sshChannelBackend.js';
import type { AttachOptions } from './terminalManager.js';
import type { Disposable, TerminalExit, TerminalSession } from './types.js';

export interface CreateSshOptions {
  /**
   * A lease on the chain (`SshConnectionFactory.connect(profile)`). The terminal owns it from here on: it is
   * disposed with the session (or at once if the shell cannot be opened), and kept across `reconnectSsh`.
   */
  readonly connection: SshConnection;
  readonly cols: number;
  readonly rows: number;
  /** Inject the bash hooks when the remote login shell is bash (default true). */
  readonly shellIntegration?: boolean;
  /** Pause the channel until the consumer acknowledges (default true). */
  readonly flowControl?: boolean;
  readonly term?: string;
  /** Sent as env requests; sshd drops what its AcceptEnv does not list. */
  readonly env?: Record<string, string>;
}

/** The line a terminal shows when its connection went away underneath it. */
export function droppedMessage(reason: SshError): string {
  return `\r\n\x1b[0m[${reason.message}]\r\n`;
}

/**
 * `SshShell` (src/ssh) in the shape `SshChannelBackend` drives (an ssh2 channel's events). When the shell ends
 * because the connection died, the reason is shown in the terminal before the exit.
 */
class ShellChannel implements SshShellChannel {
  reason: SshError | undefined;
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];
  private readonly exitListeners: ((code: number | null, signal?: string) => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private readonly subs: Disposable[];

  constructor(private readonly shell: SshShell) {
    this.subs = [
      shell.onData((d) => this.dataListeners.forEach((l) => l(d))),
      shell.onExit((e) => {
        // A shell we closed ourselves ends with reason "disposed": that is no news to the user.
        if (e.reason && e.reason.code !== 'disposed' && e.code === null && e.signal === undefined) {
          this.reason = e.reason;
          const msg = Buffer.from(droppedMessage(e.reason));
          this.dataListeners.forEach((l) => l(msg));
        }
        this.exitListeners.forEach((l) => l(e.code, e.signal));
        this.closeListeners.forEach((l) => l());
        this.subs.forEach((s) => s.dispose());
      }),
    ];
  }

  write(data: string): void {
    this.shell.write(data);
  }
  pause(): void {
    this.shell.pause();
  }
  resume(): void {
    this.shell.resume();
  }
  setWindow(rows: number, cols: number): void {
    this.shell.resize(cols, rows);
  }
  signal(name: string): void {
    this.shell.signal(name);
  }
  close(): void {
    this.shell.dispose();
  }
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'data' | 'exit' | 'close', listener: (...args: never[]) => void): this {
    if (event === 'data') this.dataListeners.push(listener as (chunk: Buffer) => void);
    else if (event === 'exit')
      this.exitListeners.push(listener as (code: number | null, signal?: string) => void);
    else this.closeListeners.push(listener as () => void);
    return this;
  }
}

/** `SshChannelBackend` over an `SshShell`, whose exit carries why the connection closed, if it did. */
export class SshShellBackend extends SshChannelBackend {
  private readonly shellChannel: ShellChannel;

  constructor(shell: SshShell) {
    const channel = new ShellChannel(shell);
    super(channel);
    this.shellChannel = channel;
  }

  override onExit(listener: (exit: TerminalExit) => void): Disposable {
    return super.onExit((e) => {
      const reason = this.shellChannel.reason;
      listener(reason ? { ...e, reason: reason.message } : e);
    });
  }
}

/** Reads the remote login shell from `$SHELL` (one exec on the shared connection, no pty). */
async function remoteLoginShell(conn: SshConnection): Promise<string> {
  const r = await conn.exec('printf "%s" "$SHELL"');
  return r.code === 0 ? r.stdout.toString('utf8').trim() : '';
}

/**
 * Opens the shell channel. With integration and a bash login shell: an exec request with a PTY running
 * `remoteBashCommand(nonce)` (bash reads the hooks from a pipe, sources the login files as `ssh host` would,
 * and keeps the user's prompt). Any other login shell gets a plain `shell` request: the user's own shell,
 * exactly as OpenSSH gives it, without blocks.
 */
async function openShell(
  conn: SshConnection,
  opts: CreateSshOptions,
  cols: number,
  rows: number,
): Promise<AttachOptions> {
  const loginShell = opts.shellIntegration === false ? '' : await remoteLoginShell(conn);
  const base = loginShell.slice(loginShell.lastIndexOf('/') + 1);
  const nonce = base === 'bash' ? newNonce() : null;
  const shell = await conn.openShell({
    cols,
    rows,
    ...(opts.term ? { term: opts.term } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(nonce ? { command: remoteBashCommand(nonce) } : {}),
  });
  return {
    kind: 'ssh',
    shell: `${base || 'shell'} on ${conn.name}`,
    backend: new SshShellBackend(shell),
    cols,
    rows,
    nonce,
    flowControl: opts.flowControl !== false,
  };
}

interface Entry {
  readonly connection: SshConnection;
  readonly opts: CreateSshOptions;
  /** Set when a reconnect hands the lease to the next session. */
  handedOver: boolean;
}

export interface SshTerminalsDeps {
  readonly attach: (opts: AttachOptions) => TerminalSession;
  readonly get: (id: string) => TerminalSession | undefined;
  readonly close: (id: string) => void;
}

/** The ssh terminals of one TerminalManager: which lease each holds, and reconnect. */
export class SshTerminals {
  private readonly byId = new Map<string, Entry>();

  constructor(private readonly deps: SshTerminalsDeps) {}

  async create(opts: CreateSshOptions): Promise<TerminalSession> {
    let opened: AttachOptions;
    try {
      opened = await openShell(opts.connection, opts, opts.cols, opts.rows);
    } catch (err) {
      opts.connection.dispose();
      throw err;
    }
    return this.register({ connection: opts.connection, opts, handedOver: false }, opened);
  }

  /**
   * After the connection dropped (or the shell ended): rebuild the chain if it is dead — every hop connected
   * and its host key verified again — and open a fresh shell in a new session that takes over the lease; the
   * old session is closed. Nothing typed before is sent again. If reconnecting fails, the old session stays.
   */
  async reconnect(id: string): Promise<TerminalSession> {
    const entry = this.byId.get(id);
    if (!entry) throw new Error(`terminal ${id} is not an open ssh terminal; open a new one`);
    const old = this.deps.get(id);
    const size = old?.info() ?? entry.opts;
    await entry.connection.reconnect();
    const opened = await openShell(entry.connection, entry.opts, size.cols, size.rows);
    entry.handedOver = true;
    this.byId.delete(id);
    this.deps.close(id);
    return this.register({ ...entry, handedOver: false }, opened);
  }

  private register(entry: Entry, opened: AttachOptions): TerminalSession {
    let session: TerminalSession;
    try {
      session = this.deps.attach({
        ...opened,
        // At dispose, not at exit: after the shell died the lease is what reconnect rebuilds the chain from.
        release: () => {
          if (this.byId.get(session.id) === entry) this.byId.delete(session.id);
          if (!entry.handedOver) entry.connection.dispose();
        },
      });
    } catch (err) {
      opened.backend.dispose();
      entry.connection.dispose();
      throw err;
    }
    this.byId.set(session.id, entry);
    return session;
  }
}
