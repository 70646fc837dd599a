/* eslint-disable no-control-regex -- terminal escape sequences are made of control characters */
import type { ShellMark } from './shellIntegrationParser.js';
import type { TerminalBlock } from './types.js';

export const DEFAULT_MAX_BLOCK_OUTPUT = 4 * 1024 * 1024;
export const DEFAULT_MAX_BLOCKS = 1000;

export interface BlockTrackerOptions {
  /** Clock (epoch ms), injected so that tests are deterministic. */
  readonly now: () => number;
  /** Characters of raw output kept per block (the head); the rest only counts. */
  readonly maxOutput?: number;
  /** Finished blocks kept; older ones are dropped first. */
  readonly maxBlocks?: number;
}

export type ShellPhase = 'unknown' | 'prompt' | 'input' | 'running';

/**
 * Turns the mark/text stream into blocks: the command line (E) and the output between C (executed) and
 * D (finished). A D without a C before it (an empty line, Ctrl-C at the prompt, the first prompt) makes no
 * block.
 */
export class BlockTracker {
  private readonly now: () => number;
  private readonly maxOutput: number;
  private readonly maxBlocks: number;
  private readonly finished: TerminalBlock[] = [];
  private seq = 0;
  private phaseState: ShellPhase = 'unknown';
  private commandLine: string | null = null;
  private cwdState: string | null = null;
  private running: {
    command: string;
    startedAt: number;
    cwd: string | null;
    parts: string[];
    size: number;
    truncated: boolean;
  } | null = null;

  constructor(opts: BlockTrackerOptions) {
    this.now = opts.now;
    this.maxOutput = opts.maxOutput ?? DEFAULT_MAX_BLOCK_OUTPUT;
    this.maxBlocks = opts.maxBlocks ?? DEFAULT_MAX_BLOCKS;
  }

  get phase(): ShellPhase {
    return this.phaseState;
  }

  get cwd(): string | null {
    return this.cwdState;
  }

  /** The command announced by E or by `expectCommand`, before its C. */
  get pendingCommand(): string | null {
    return this.commandLine;
  }

  blocks(): readonly TerminalBlock[] {
    return this.finished;
  }

  /** Text seen at this point of the stream. Captured only while a command runs. */
  text(data: string): void {
    const r = this.running;
    if (!r || r.truncated) return;
    const room = this.maxOutput - r.size;
    if (data.length <= room) {
      r.parts.push(data);
      r.size += data.length;
    } else {
      if (room > 0) r.parts.push(data.slice(0, room));
      r.size = this.maxOutput;
      r.truncated = true;
    }
  }

  /** Returns the finished block when the mark completes one. */
  mark(mark: ShellMark): TerminalBlock | undefined {
    switch (mark.type) {
      case 'promptStart':
        this.phaseState = 'prompt';
        return undefined;
      case 'commandStart':
        this.phaseState = 'input';
        this.commandLine = null;
        return undefined;
      case 'commandLine':
        this.commandLine = mark.commandLine;
        return undefined;
      case 'cwd':
        this.cwdState = mark.cwd;
        return undefined;
      case 'commandExecuted':
        this.phaseState = 'running';
        this.running = {
          command: this.commandLine ?? '',
          startedAt: this.now(),
          cwd: this.cwdState,
          parts: [],
          size: 0,
          truncated: false,
        };
        this.commandLine = null;
        return undefined;
      case 'commandFinished': {
        const r = this.running;
        this.running = null;
        this.phaseState = 'prompt';
        if (!r) return undefined;
        const block: TerminalBlock = {
          seq: ++this.seq,
          command: r.command,
          output: plainText(r.parts.join('')),
          truncated: r.truncated,
          exitCode: mark.exitCode,
          startedAt: r.startedAt,
          endedAt: this.now(),
          cwd: r.cwd,
        };
        this.finished.push(block);
        if (this.finished.length > this.maxBlocks)
          this.finished.splice(0, this.finished.length - this.maxBlocks);
        return block;
      }
    }
  }
}

// ECMA-48 sequences: OSC/DCS/SOS/PM/APC strings, CSI, two-character escapes and charset designations.
const ESCAPES =
  /\x1b(?:[\]P^_X][\s\S]*?(?:\x07|\x1b\\|(?=\x1b)|$)|\[[0-?]*[ -/]*[@-~]|[()*+][\x20-\x7e]|[\x20-\x2f]*[\x30-\x7e])|\x9b[0-?]*[ -/]*[@-~]/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * What a person would read: escape sequences removed, CR LF → LF, a carriage return inside a line keeps what
 * was written after it (progress bars), other control characters removed, one trailing newline dropped.
 */
export function plainText(raw: string): string {
  let s = raw.replace(ESCAPES, '').replace(/\r+\n/g, '\n');
  if (s.includes('\r')) {
    s = s
      .split('\n')
      .map((line) => overwriteCarriageReturns(line))
      .join('\n');
  }
  s = s.replace(CONTROLS, (c) => (c === '\t' ? c : ''));
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

function overwriteCarriageReturns(line: string): string {
  const parts = line.split('\r');
  let out = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] ?? '';
    out = p + out.slice(p.length);
  }
  return out;
}
