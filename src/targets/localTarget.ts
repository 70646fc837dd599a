import { spawn } from 'node:child_process';
import type { CommandResult, RunOptions, Target } from './target.js';

export interface LocalTargetOptions {
  readonly cwd?: string;
  /** Added to (not replacing) the process environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the command after this many milliseconds (exit code null). Default 5 minutes. */
  readonly timeoutMs?: number;
  readonly clock?: () => number;
}

/** Stdout and stderr together are kept up to this size per command. */
export const maxOutputBytes = 16 * 1024 * 1024;

/**
 * Runs a lab's command with `bash -c`. The command is the lab's own shell text, meant for a shell; our own
 * parameters (cwd, env) travel as spawn options, never spliced into the string.
 */
export class LocalTarget implements Target {
  readonly description: string;
  readonly recorded = false;
  private readonly running = new Set<ReturnType<typeof spawn>>();
  private disposed = false;

  constructor(private readonly opts: LocalTargetOptions = {}) {
    this.description = `local bash${opts.cwd ? ` in ${opts.cwd}` : ''}`;
  }

  run(command: string, runOpts: RunOptions): Promise<CommandResult> {
    return this.spawnRun('bash', ['-c', command], runOpts);
  }

  /** A program with its arguments, no shell in between. */
  runArgv(argv: readonly string[], runOpts: RunOptions): Promise<CommandResult> {
    if (argv.length === 0) return Promise.reject(new Error('runArgv(): empty argv'));
    return this.spawnRun(argv[0] as string, argv.slice(1), runOpts);
  }

  private spawnRun(file: string, args: readonly string[], runOpts: RunOptions): Promise<CommandResult> {
    const now = this.opts.clock ?? Date.now;
    const startedAt = now();
    if (this.disposed) return Promise.reject(new Error('local target is disposed'));
    return new Promise((resolve) => {
      const child = spawn(file, args, {
        cwd: this.opts.cwd,
        env: { ...process.env, ...this.opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      this.running.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let kept = 0;
      let dropped = 0;
      // Output beyond the cap is counted, not kept: a runaway command must not exhaust memory.
      const collect =
        (into: Buffer[]) =>
        (b: Buffer): void => {
          if (kept + b.length > maxOutputBytes) {
            dropped += b.length;
            return;
          }
          kept += b.length;
          into.push(b);
        };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      const killGroup = (): void => {
        if (child.pid === undefined || child.exitCode !== null) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(killGroup, this.opts.timeoutMs ?? 300_000);
      const onAbort = (): void => killGroup();
      runOpts.signal?.addEventListener('abort', onAbort, { once: true });
      if (runOpts.signal?.aborted) killGroup();
      const finish = (exitCode: number | null, extraErr = ''): void => {
        clearTimeout(timer);
        runOpts.signal?.removeEventListener('abort', onAbort);
        this.running.delete(child);
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr:
            Buffer.concat(err).toString('utf8') +
            extraErr +
            (dropped
              ? `labdeck: output cut after ${maxOutputBytes} bytes (${dropped} more bytes dropped)\n`
              : ''),
          exitCode,
          startedAt,
          endedAt: now(),
        });
      };
      child.on('error', (e) => finish(null, `could not start ${file}: ${e.message}\n`));
      child.on('close', (code) => finish(code));
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const child of this.running) {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.running.clear();
  }
}
