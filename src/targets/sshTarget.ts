import { quote } from 'shell-quote';
import {
  defaultSshConfigEnv,
  describeHop,
  resolveProfile,
  type SshConfigEnv,
  type SshConnection,
  type SshConnectionFactory,
  type SshHop,
  type SshProfile,
} from '../ssh/index.js';
import type { CommandResult, RunOptions, Target } from './target.js';

/** How unknown host keys are treated: refused (the default), or added to known_hosts on first sight. */
export type SshTargetHostKeys = 'strict' | 'accept-new';

export interface SshTargetOptions {
  /** The OpenSSH client config to read (`ssh -F FILE`). */
  readonly config: string;
  /** The `Host` to reach, resolved through that config (HostName, User, ProxyJump/ProxyCommand, …). */
  readonly host: string;
  /**
   * Host-key policy for every hop. Keys are checked against the known_hosts files the config names
   * (UserKnownHostsFile, default ~/.ssh/known_hosts); a changed key is always refused.
   */
  readonly hostKeys?: SshTargetHostKeys;
  /** The shared connection factory: targets on the same chain share one connection. */
  readonly factory: SshConnectionFactory;
  /** Kill the command after this many milliseconds (exit code null). Default 5 minutes. */
  readonly timeoutMs?: number;
  readonly clock?: () => number;
  /** Where `~`, `%u` and friends point (default: this process's user). */
  readonly configEnv?: SshConfigEnv;
}

/** Stdout and stderr together are kept up to this size per command (as for local targets). */
const maxSshOutputBytes = 16 * 1024 * 1024;

/**
 * Reads `host` from an OpenSSH config into a profile, or throws one error naming every problem (bind time).
 * The inventory, not the config, decides whether unknown keys may be accepted: lab runs never ask.
 */
function sshTargetProfile(opts: {
  readonly config: string;
  readonly host: string;
  readonly hostKeys?: SshTargetHostKeys;
  readonly configEnv?: SshConfigEnv;
}): { profile: SshProfile; warnings: string[] } {
  const env = opts.configEnv
    ? { ...opts.configEnv, configFile: opts.config }
    : defaultSshConfigEnv(opts.config);
  const r = resolveProfile(opts.host, env);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.profile || errors.length)
    throw new Error(
      `ssh host "${opts.host}" in ${opts.config}: ${errors.map((d) => d.message).join('; ') || 'cannot be resolved'} (fix the ssh config)`,
    );
  const policy = opts.hostKeys === 'accept-new' ? 'accept-new' : 'yes';
  const fix = (h: SshHop): SshHop => ({ ...h, hostKeyPolicy: policy });
  return {
    profile: { ...r.profile, jumps: r.profile.jumps.map(fix), target: fix(r.profile.target) },
    warnings: r.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message),
  };
}

/**
 * Runs a lab's commands over SSH (exec requests on one shared connection through the whole jump chain).
 * The command is the lab's own shell text, run by the remote user's login shell as `ssh host CMD` would;
 * `runArgv` quotes each argument for that shell (SSH carries one command string, so quoting is the protocol).
 */
export class SshTarget implements Target {
  readonly description: string;
  readonly recorded = false;
  readonly warnings: readonly string[];
  readonly profile: SshProfile;
  private connection: Promise<SshConnection> | undefined;
  private disposed = false;
  private readonly running = new Set<AbortController>();

  constructor(private readonly opts: SshTargetOptions) {
    const { profile, warnings } = sshTargetProfile(opts);
    this.profile = profile;
    this.warnings = warnings;
    const via = profile.jumps.map((h) => h.name);
    this.description = `ssh ${describeHop(profile.target)}${via.length ? ` via ${via.join(' → ')}` : ''}`;
  }

  /** The shared connection, opened on first use; a dropped one is rebuilt (keys verified again) before a command. */
  private async connect(): Promise<SshConnection> {
    if (!this.connection) {
      const pending = this.opts.factory.connect(this.profile);
      this.connection = pending;
      pending.catch(() => {
        if (this.connection === pending) this.connection = undefined;
      });
    }
    const conn = await this.connection;
    if (this.disposed) throw new Error(`${this.description}: target is disposed`);
    if (!conn.isOpen) await conn.reconnect();
    return conn;
  }

  async run(command: string, runOpts: RunOptions): Promise<CommandResult> {
    const now = this.opts.clock ?? Date.now;
    const startedAt = now();
    if (this.disposed) throw new Error(`${this.description}: target is disposed`);
    const fail = (message: string): CommandResult => ({
      stdout: '',
      stderr: `labdeck: ${message}\n`,
      exitCode: null,
      startedAt,
      endedAt: now(),
    });
    let conn: SshConnection;
    try {
      conn = await this.connect();
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    }
    const ac = new AbortController();
    this.running.add(ac);
    const onAbort = (): void => ac.abort();
    runOpts.signal?.addEventListener('abort', onAbort, { once: true });
    if (runOpts.signal?.aborted) ac.abort();
    const timeoutMs = this.opts.timeoutMs ?? 300_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeoutMs);
    let kept = 0;
    let dropped = 0;
    const count = (b: Buffer): void => {
      if (kept + b.length > maxSshOutputBytes) dropped += b.length;
      else kept += b.length;
    };
    try {
      const r = await conn.exec(command, { signal: ac.signal, onStdout: count, onStderr: count });
      const cut = (b: Buffer, limit: number): string => b.subarray(0, Math.max(0, limit)).toString('utf8');
      const stdout = cut(r.stdout, maxSshOutputBytes);
      const stderr =
        cut(r.stderr, maxSshOutputBytes - Math.min(r.stdout.length, maxSshOutputBytes)) +
        (dropped
          ? `labdeck: output cut after ${maxSshOutputBytes} bytes (${dropped} more bytes dropped)\n`
          : '') +
        (ac.signal.aborted
          ? `labdeck: ${timedOut ? `timed out after ${timeoutMs} ms` : 'aborted'}; the remote command was sent SIGKILL\n`
          : r.code === null && r.signal
            ? `labdeck: the command was killed by SIG${r.signal}\n`
            : '');
      return { stdout, stderr, exitCode: ac.signal.aborted ? null : r.code, startedAt, endedAt: now() };
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
      runOpts.signal?.removeEventListener('abort', onAbort);
      this.running.delete(ac);
    }
  }

  runArgv(argv: readonly string[], runOpts: RunOptions): Promise<CommandResult> {
    if (argv.length === 0) return Promise.reject(new Error('runArgv(): empty argv'));
    return this.run(quote(argv), runOpts);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ac of this.running) ac.abort();
    this.running.clear();
    const pending = this.connection;
    this.connection = undefined;
    pending?.then(
      (c) => c.dispose(),
      () => undefined,
    );
  }
}
