import type { TerminalSession } from '../terminal/types.js';
import type { CommandResult, RunOptions, Target } from './target.js';

/**
 * Runs a lab's commands in a terminal the user sees: each command is typed at the prompt of that role's shell
 * and its output and exit code come back through the shell-integration marks, so the learner watches the lab
 * happen on the machine itself. The terminal mixes stdout and stderr (as a person sees them), so all output is
 * `stdout`. A command of several lines cannot be typed as one prompt line; it runs on `fallback` (the same
 * machine, without a terminal) instead. The terminal stays open when the lab ends: it belongs to the user.
 */
export class TerminalTarget implements Target {
  readonly recorded = false;
  readonly description: string;

  constructor(
    private readonly session: TerminalSession,
    private readonly fallback: Target,
  ) {
    this.description = `${fallback.description}, typed into terminal ${session.info().title || session.id}`;
  }

  async run(command: string, opts: RunOptions): Promise<CommandResult> {
    if (/[\r\n]/.test(command.trim())) return this.fallback.run(command, opts);
    const startedAt = Date.now();
    try {
      const block = await this.session.run(command.trim(), opts.signal ? { signal: opts.signal } : {});
      const output = block.output === '' ? '' : `${block.output}\n`;
      return {
        stdout: output,
        stderr: block.truncated
          ? 'labdeck: the output was longer than a terminal block keeps; it was cut\n'
          : '',
        exitCode: block.truncated ? null : block.exitCode,
        startedAt: block.startedAt,
        endedAt: block.endedAt,
      };
    } catch (err) {
      return {
        stdout: '',
        stderr: `${(err as Error).message}\n`,
        exitCode: null,
        startedAt,
        endedAt: Date.now(),
      };
    }
  }

  dispose(): void {
    this.fallback.dispose();
  }
}
