import type { Recording, RecordingEntry } from './recording.js';
import type { CommandResult, RunOptions, Target } from './target.js';

/**
 * Plays a recording for one role instance. A command is answered by the first not-yet-played entry of that
 * role instance with the same command text; once every run of it was played, asking again gets the last one
 * again (the cluster as the recording left it: a learner may press Run twice, a check may retry). If the lab
 * asks for a command the run never recorded, the result says so (exit code null) rather than inventing output.
 */
export class ReplayTarget implements Target {
  readonly description: string;
  readonly recorded = true;
  private readonly pending: RecordingEntry[];
  private readonly lastPlayed = new Map<string, RecordingEntry>();

  constructor(
    recording: Recording,
    readonly role: string,
    readonly instance: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.pending = recording.entries.filter((e) => e.role === role && e.instance === instance);
    this.description = `replay of recording "${recording.name}" (${recording.environment}, recorded ${recording.recordedAt})`;
  }

  run(command: string, opts: RunOptions): Promise<CommandResult> {
    const now = this.clock();
    if (opts.signal?.aborted)
      return Promise.resolve({
        stdout: '',
        stderr: 'aborted\n',
        exitCode: null,
        startedAt: now,
        endedAt: now,
      });
    const i = this.pending.findIndex((e) => e.command === command);
    const again = i < 0 ? this.lastPlayed.get(command) : undefined;
    if (i < 0 && !again) {
      const known = [...new Set(this.pending.map((e) => e.command))].slice(0, 3);
      return Promise.resolve({
        stdout: '',
        stderr:
          `replay: the recording has no run of this command on ${this.role}/${this.instance}: ${command}\n` +
          (known.length ? `replay: next recorded commands here: ${known.join(' | ')}\n` : ''),
        exitCode: null,
        startedAt: now,
        endedAt: now,
      });
    }
    const e = again ?? (this.pending.splice(i, 1)[0] as RecordingEntry);
    this.lastPlayed.set(command, e);
    return Promise.resolve({
      stdout: e.stdout,
      stderr: e.stderr,
      exitCode: e.exitCode,
      startedAt: now,
      endedAt: now + (e.endedAt - e.startedAt),
    });
  }

  dispose(): void {
    this.pending.length = 0;
    this.lastPlayed.clear();
  }
}
