import type { ParseResult } from './diagnostic.js';

/** A pasted terminal session: prompts, the commands typed, and each command's output parsed on its own. */
export interface TranscriptEntry {
  /** The prompt as printed (`ubuntu@ip-10-0-23-3:~$`, `$`, `~ $`), null for output before any prompt. */
  prompt: string | null;
  command: string | null;
  /** 1-based line of the prompt (or of the first output line). */
  line: number;
  output: ParseResult;
}

export interface Transcript {
  entries: TranscriptEntry[];
}
