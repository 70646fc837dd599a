/**
 * Where a lab's command runs. The lab runner (src/labs/runner.ts) depends on a structurally identical interface
 * (`LabTarget`), so neither room imports the other; src/cli composes them.
 */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the command was killed (signal, abort, timeout) or never ran. */
  readonly exitCode: number | null;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
}

export interface Target {
  /** One line for people: where the command runs ("local bash", "replay of …"). Shown before every prompt. */
  readonly description: string;
  /** True when results come from a recording, never from a live machine. */
  readonly recorded: boolean;
  run(command: string, opts: RunOptions): Promise<CommandResult>;
  /** A program and its arguments as given, never through a shell of ours (absent where it cannot be done). */
  runArgv?(argv: readonly string[], opts: RunOptions): Promise<CommandResult>;
  dispose(): void;
}
