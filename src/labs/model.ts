/**
 * The readonly model a lab file becomes after validation (docs/labs.md). Everything here is plain data:
 * the runner, the UI and the CLI read it, nothing mutates it.
 */
import type { Assertion } from './assertions.js';

export type BlockKind = 'setup' | 'solve' | 'check';

/** Which instances of a many-instance role (e.g. `node`) a block runs on. */
export type InstanceSelector = { readonly all: true } | { readonly name: string };

export interface RoleSpec {
  readonly id: string;
  readonly description: string;
  /** True when the role may be bound to several machines (e.g. every node). */
  readonly many: boolean;
  readonly tools: readonly string[];
}

export interface Credit {
  readonly name: string;
  readonly url?: string;
  readonly note?: string;
}

export interface Block {
  /** Unique in the lab; given with `id=` or derived as `<step>-<n>`. */
  readonly id: string;
  readonly index: number;
  readonly role: string;
  readonly on: InstanceSelector;
  readonly kind: BlockKind;
  readonly lang: string;
  readonly command: string;
  /** Parser kind for the output, `auto`, or undefined (not parsed). */
  readonly parse?: string;
  readonly panel?: string;
  /** Name under which the parsed value is stored in the state (for variables and assertions). */
  readonly as?: string;
  readonly expectExit: number;
  readonly timeoutMs: number;
  /** 1-based line in lab.md of the opening fence. */
  readonly line: number;
}

export interface CheckRun {
  readonly role: string;
  readonly on: InstanceSelector;
  readonly command: string;
  readonly parse?: string;
  readonly as?: string;
  readonly expectExit: number;
}

export interface Check {
  readonly id: string;
  readonly step: string;
  readonly title: string;
  readonly run?: CheckRun;
  readonly assert: readonly Assertion[];
  readonly retries: number;
  readonly delayMs: number;
  readonly needs: readonly string[];
  readonly hint?: string;
  /** Extra failure text (variables allowed), printed before the evidence. */
  readonly message?: string;
  readonly line: number;
}

export interface Step {
  readonly id: string;
  readonly title: string;
  readonly index: number;
  /** The step's Markdown (explanations and blocks), for the UI. */
  readonly body: string;
  readonly blocks: readonly Block[];
  readonly checks: readonly Check[];
  readonly line: number;
}

export interface Lab {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly roles: readonly RoleSpec[];
  readonly prerequisites: readonly string[];
  readonly estimatedMinutes: number;
  readonly credits: readonly Credit[];
  readonly intro: string;
  readonly steps: readonly Step[];
}

/** One validation problem: where (a human path), what is wrong, and what to do. */
export interface LabProblem {
  readonly path: string;
  readonly message: string;
  readonly advice?: string;
  readonly line?: number;
}

export function formatProblem(p: LabProblem): string {
  return `${p.line ? `lab.md:${p.line}: ` : ''}${p.path}: ${p.message}${p.advice ? ` (${p.advice})` : ''}`;
}
