import type { ParseResult } from '../model/diagnostic.js';
import { evaluateAssertion, type Finding } from './assertions.js';
import { capturedPerInstance, missingFor } from './dependencies.js';
import type { Block, Check, CheckRun, InstanceSelector, Lab, Step } from './model.js';
import type { ProgressStatus, ProgressStore } from './progress.js';
import { substitute, UnresolvedVariableError } from './variables.js';

/**
 * The lab runner: runs a step's blocks on the bound targets, parses their output into the state, and runs the
 * step's checks (docs/labs.md, "Running"). Everything it touches comes in through the constructor: targets,
 * parser, snapshot, progress store, the trust decision and the confirmation prompt.
 */

/** Result of one command. Same shape as `CommandResult` in src/targets/target.ts. */
export interface LabCommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** What the runner needs of a target. `Target` of src/targets/target.ts has this shape. */
export interface LabTarget {
  readonly description: string;
  readonly recorded: boolean;
  run(command: string, opts: { signal?: AbortSignal }): Promise<LabCommandResult>;
  dispose(): void;
}

export interface BoundTarget {
  readonly instance: string;
  readonly target: LabTarget;
}

/** `(kind | 'auto', text, command) → {kind, value, diagnostics}`: src/parse's detect/parse, or a stand-in. */
export type ParseFn = (kind: string, text: string, command: string) => ParseResult;

export interface Capture {
  readonly step: string;
  readonly block: string;
  readonly check?: string;
  readonly role: string;
  readonly instance: string;
  /**
   * The command ran on every instance of a role with `many: true` (`on=all`): the capture is kept per instance.
   * A command that runs on exactly one instance (`on=first`, `on=NAME`, or a single role) is stored directly.
   */
  readonly perInstance: boolean;
  readonly command: string;
  readonly as?: string;
  readonly parsed: ParseResult;
}

/** Where parsed captures become the state assertions and variables read; src/analyze's snapshot plugs in here. */
export interface Snapshotter {
  ingest(capture: Capture): void;
  view(): { readonly state: Readonly<Record<string, unknown>>; readonly findings: readonly Finding[] };
}

/**
 * The stand-in snapshot until src/analyze provides one: each capture is stored under its `as=` name (or block
 * id); a capture from all instances of a `many` role (e.g. `node`) is stored as `{instance: value}`.
 */
export class PlainSnapshot implements Snapshotter {
  private readonly state: Record<string, unknown> = {};
  ingest(c: Capture): void {
    const key = c.as ?? c.check ?? c.block;
    if (c.perInstance) {
      const prev = this.state[key];
      const map =
        prev && typeof prev === 'object' && !Array.isArray(prev) ? (prev as Record<string, unknown>) : {};
      this.state[key] = { ...map, [c.instance]: c.parsed.value };
    } else {
      this.state[key] = c.parsed.value;
    }
  }
  view(): { state: Record<string, unknown>; findings: Finding[] } {
    return { state: { ...this.state }, findings: [] };
  }
}

export interface ConfirmRequest {
  readonly step: string;
  readonly block: string;
  readonly role: string;
  readonly instance: string;
  /** Where it will run, from the target ("local bash", "replay of …"). */
  readonly where: string;
  readonly command: string;
}

/** Asks the user; true runs the command. */
export type ConfirmFn = (req: ConfirmRequest) => Promise<boolean>;

export interface CommandRecord {
  readonly step: string;
  readonly block: string;
  readonly check?: string;
  readonly role: string;
  readonly instance: string;
  readonly where: string;
  readonly recorded: boolean;
  readonly command: string;
  readonly parse?: string;
  readonly result: LabCommandResult;
  readonly parsed?: ParseResult;
}

export type RunStatus = ProgressStatus;

export interface BlockResult {
  readonly id: string;
  readonly status: RunStatus;
  readonly message?: string;
}

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: RunStatus;
  readonly attempts: number;
  readonly message?: string;
  readonly evidence: readonly string[];
  readonly hint?: string;
}

export interface StepResult {
  readonly id: string;
  readonly title: string;
  readonly status: RunStatus;
  readonly blocks: readonly BlockResult[];
  readonly checks: readonly CheckResult[];
  readonly message?: string;
}

export interface RunSummary {
  readonly lab: string;
  readonly recorded: boolean;
  readonly steps: readonly StepResult[];
  readonly checks: { readonly passed: number; readonly failed: number; readonly skipped: number };
  /** True only when every check that ran passed and none failed or was skipped for a failure. */
  readonly ok: boolean;
}

export interface RunObserver {
  step?(step: Step): void;
  command?(rec: CommandRecord): void;
  check?(step: Step, result: CheckResult): void;
  stepDone?(result: StepResult): void;
}

export interface LabRunnerDeps {
  readonly lab: Lab;
  /** The target factory: the machines a role is bound to. Called once per role; the runner disposes them. */
  readonly targets: (role: string) => readonly BoundTarget[];
  readonly parse: ParseFn;
  readonly snapshot?: Snapshotter;
  readonly progress?: ProgressStore;
  /** From the user's trust store only; a lab cannot set it. */
  readonly trusted: boolean;
  /** Required for an untrusted lab; without it an untrusted lab runs nothing. */
  readonly confirm?: ConfirmFn;
  readonly observer?: RunObserver;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly signal?: AbortSignal;
}

export interface StepOptions {
  readonly skipSetup?: boolean;
}

class StepAbort extends Error {}

/**
 * The user declined a command of an untrusted lab (or there is no one to ask): the whole step stops, its checks
 * are skipped, and nothing more is asked.
 */
class TrustStop extends StepAbort {}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/** Longest line kept in a failure message, and how many lines at most. */
const excerptLineMax = 200;
const excerptLines = 4;
const errorLike =
  /\b(error|fatal|denied|refused|not found|no such|cannot|can't|unable|failed|invalid|timed? ?out)\b/i;

function clip(line: string): string {
  return line.length > excerptLineMax ? `${line.slice(0, excerptLineMax - 41)}…${line.slice(-40)}` : line;
}

/**
 * The lines of a failed command's output worth putting in its failure message, bounded (at most
 * `excerptLines` lines of at most `excerptLineMax` characters): from stderr, or stdout when stderr is empty,
 * the first line (where most tools name the error: `Error from server (NotFound): …`), the first line that
 * looks like an error, and the last two lines. Lines left out between them are shown as `…`.
 */
export function failureExcerpt(stderr: string, stdout: string): string {
  const text = stderr.trim() ? stderr : stdout;
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) return '';
  const picks = new Set<number>([0]);
  const err = lines.findIndex((l, i) => i > 0 && errorLike.test(l));
  if (err > 0) picks.add(err);
  for (let i = Math.max(0, lines.length - 2); i < lines.length; i++) picks.add(i);
  const order = [...picks].sort((a, b) => a - b).slice(0, excerptLines);
  const out: string[] = [];
  order.forEach((i, k) => {
    if (k > 0 && i > (order[k - 1] as number) + 1) out.push('…');
    out.push(clip(lines[i] as string));
  });
  return out.join(' | ');
}

export class LabRunner {
  private readonly bound = new Map<string, readonly BoundTarget[]>();
  private readonly snapshot: Snapshotter;
  /** Results of checks in this session, for `needs`. */
  private readonly checkResults = new Map<string, RunStatus>();
  /** Commands the user approved at a place in this session (an untrusted lab asks once per command and place). */
  private readonly approved = new Set<string>();
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly deps: LabRunnerDeps) {
    this.snapshot = deps.snapshot ?? new PlainSnapshot();
    this.sleep = deps.sleep ?? defaultSleep;
  }

  get lab(): Lab {
    return this.deps.lab;
  }

  state(): ReturnType<Snapshotter['view']> {
    return this.snapshot.view();
  }

  private targetsFor(role: string, on: InstanceSelector): readonly BoundTarget[] {
    let list = this.bound.get(role);
    if (!list) {
      list = this.deps.targets(role);
      this.bound.set(role, list);
    }
    if (list.length === 0)
      throw new StepAbort(`role "${role}" is not bound to any machine; add it to the inventory`);
    if ('all' in on) return list;
    const pick = on.name === 'first' ? list.slice(0, 1) : list.filter((b) => b.instance === on.name);
    if (pick.length === 0)
      throw new StepAbort(
        `role "${role}" has no instance "${on.name}" in the inventory (instances: ${list.map((b) => b.instance).join(', ')})`,
      );
    return pick;
  }

  /** Everything recorded? (then results are labelled as recorded) */
  get recorded(): boolean {
    const all = [...this.bound.values()].flat();
    return all.length > 0 && all.every((b) => b.target.recorded);
  }

  private async exec(
    step: Step,
    blockId: string,
    checkId: string | undefined,
    run: {
      role: string;
      on: InstanceSelector;
      command: string;
      parse?: string;
      as?: string;
      expectExit: number;
    },
    timeoutMs: number,
  ): Promise<{ ok: boolean; failures: string[] }> {
    const state = this.snapshot.view().state;
    let command: string;
    try {
      command = substitute(run.command, state, { shell: true });
    } catch (e) {
      if (e instanceof UnresolvedVariableError)
        throw new StepAbort(`${e.message}. Run the step that captures it first (or check its output).`);
      throw e;
    }
    const targets = this.targetsFor(run.role, run.on);
    const failures: string[] = [];
    for (const { instance, target } of targets) {
      const where = `${run.role}${instance === run.role ? '' : `/${instance}`} (${target.description})`;
      if (!this.deps.trusted) {
        const key = `${run.role}\0${instance}\0${command}`;
        if (!this.approved.has(key)) {
          if (!this.deps.confirm)
            throw new TrustStop(
              `the lab is not trusted and there is no one to ask before running: ${command}`,
            );
          const yes = await this.deps.confirm({
            step: step.id,
            block: blockId,
            role: run.role,
            instance,
            where,
            command,
          });
          if (!yes) throw new TrustStop(`you declined to run on ${where}: ${command}`);
          this.approved.add(key);
        }
      }
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = this.deps.signal ? AbortSignal.any([this.deps.signal, timeout]) : timeout;
      const result = await target.run(command, { signal });
      let parsed: ParseResult | undefined;
      if (run.parse && result.exitCode !== null) {
        parsed = this.deps.parse(run.parse, result.stdout, command);
        this.snapshot.ingest({
          step: step.id,
          block: blockId,
          ...(checkId ? { check: checkId } : {}),
          role: run.role,
          instance,
          perInstance: capturedPerInstance(this.deps.lab.roles, run),
          command,
          ...(run.as ? { as: run.as } : {}),
          parsed,
        });
      }
      this.deps.observer?.command?.({
        step: step.id,
        block: blockId,
        ...(checkId ? { check: checkId } : {}),
        role: run.role,
        instance,
        where,
        recorded: target.recorded,
        command,
        ...(run.parse ? { parse: run.parse } : {}),
        result,
        ...(parsed ? { parsed } : {}),
      });
      if (result.exitCode !== run.expectExit) {
        // A replay answers a command it has no run of with exit code null: that is no timeout and no kill.
        const why =
          result.exitCode !== null
            ? `exited ${result.exitCode} (expected ${run.expectExit})`
            : timeout.aborted
              ? `was stopped by its timeout (${Math.round(timeoutMs / 1000)}s)`
              : this.deps.signal?.aborted
                ? 'was stopped: the run was cancelled'
                : target.recorded
                  ? 'has no run in the recording'
                  : 'was stopped before it finished';
        const err = failureExcerpt(result.stderr, result.stdout);
        failures.push(`on ${where}: \`${command}\` ${why}${err ? `: ${err}` : ''}`);
      }
    }
    return { ok: failures.length === 0, failures };
  }

  private async runBlock(step: Step, b: Block, opts: StepOptions): Promise<BlockResult> {
    if (b.kind === 'setup' && opts.skipSetup)
      return { id: b.id, status: 'skipped', message: 'setup skipped' };
    const r = await this.exec(step, b.id, undefined, b, b.timeoutMs);
    return r.ok
      ? { id: b.id, status: 'done' }
      : { id: b.id, status: 'failed', message: r.failures.join('; ') };
  }

  private neededFailure(c: Check): string | undefined {
    for (const n of c.needs) {
      const here = this.checkResults.get(n);
      const saved = this.deps.progress
        ? Object.values(this.deps.progress.get().steps).find((s) => s.checks[n])?.checks[n]?.status
        : undefined;
      const st = here ?? saved;
      if (st !== 'done')
        return `needs check "${n}", which ${st === undefined ? 'has not run yet' : `is ${st}`}`;
    }
    return undefined;
  }

  /** Runs one block of a step on its role (the UI's "Run" button); a check block runs as its check. */
  async runBlockById(stepId: string, blockId: string, opts: StepOptions = {}): Promise<BlockResult> {
    const step = this.findStep(stepId);
    const b = step.blocks.find((x) => x.id === blockId);
    if (!b) throw new Error(`step "${step.title}" has no block "${blockId}"`);
    try {
      return await this.runBlock(step, b, opts);
    } catch (e) {
      if (e instanceof StepAbort) return { id: b.id, status: 'failed', message: e.message };
      throw e;
    }
  }

  /** Runs one check with its retries. */
  async runCheck(stepId: string, checkId: string): Promise<CheckResult> {
    const step = this.findStep(stepId);
    const c = step.checks.find((x) => x.id === checkId);
    if (!c) throw new Error(`step "${step.title}" has no check "${checkId}"`);
    const result = await this.check(step, c);
    await this.deps.progress?.setCheck(step.id, c.id, result.status, result.attempts, result.message);
    return result;
  }

  private async check(step: Step, c: Check): Promise<CheckResult> {
    const base = { id: c.id, title: c.title, ...(c.hint ? { hint: c.hint } : {}) };
    const blocked = this.neededFailure(c);
    if (blocked) {
      const r: CheckResult = { ...base, status: 'skipped', attempts: 0, message: blocked, evidence: [] };
      this.checkResults.set(c.id, 'skipped');
      return r;
    }
    let attempts = 0;
    let last: { message: string; evidence: string[] } = { message: '', evidence: [] };
    for (;;) {
      attempts++;
      last = await this.attempt(step, c);
      if (!last.message) {
        this.checkResults.set(c.id, 'done');
        return { ...base, status: 'done', attempts, evidence: [] };
      }
      if (attempts > c.retries || this.deps.signal?.aborted) break;
      await this.sleep(c.delayMs, this.deps.signal);
    }
    this.checkResults.set(c.id, 'failed');
    let prefix = '';
    if (c.message) {
      try {
        prefix = `${substitute(c.message, this.snapshot.view().state, { shell: false })}: `;
      } catch {
        prefix = `${c.message}: `;
      }
    }
    return {
      ...base,
      status: 'failed',
      attempts,
      message: `${prefix}${last.message}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`,
      evidence: last.evidence,
    };
  }

  /** One attempt: '' message means it passed. */
  private async attempt(step: Step, c: Check): Promise<{ message: string; evidence: string[] }> {
    if (c.run) {
      let r: { ok: boolean; failures: string[] };
      try {
        r = await this.exec(step, c.id, c.id, c.run as CheckRun, 300_000);
      } catch (e) {
        if (e instanceof StepAbort) return { message: e.message, evidence: [] };
        throw e;
      }
      if (!r.ok) return { message: r.failures[0] ?? 'the command failed', evidence: r.failures.slice(1) };
    }
    const view = this.snapshot.view();
    for (const a of c.assert) {
      const res = evaluateAssertion(a, view);
      if (!res.ok) return { message: res.message, evidence: [...res.evidence] };
    }
    return { message: '', evidence: [] };
  }

  private findStep(stepId: string): Step {
    const s = this.deps.lab.steps.find((x) => x.id === stepId || x.title === stepId);
    if (!s)
      throw new Error(
        `the lab has no step "${stepId}" (steps: ${this.deps.lab.steps.map((x) => x.id).join(', ')})`,
      );
    return s;
  }

  /**
   * Runs any one step: its blocks in order, then its checks (non-linear: no step requires another to run).
   * When a block fails, the step's later blocks do not run (a block may rely on what an earlier one did to the
   * machine, which the runner cannot see), but every check still runs unless it reads something a failed or
   * unrun block should have captured (see `missingFor`), or needs a check that did not pass.
   */
  async runStep(stepId: string, opts: StepOptions = {}): Promise<StepResult> {
    const step = this.findStep(stepId);
    this.deps.observer?.step?.(step);
    const blocks: BlockResult[] = [];
    const checks: CheckResult[] = [];
    let message: string | undefined;
    /** Blocks that failed or did not run, with why, for the checks' skip messages. */
    const lost: { block: Block; why: string }[] = [];
    let failed: Block | undefined;
    let stopped: string | undefined;
    for (const b of step.blocks) {
      if (b.kind === 'check') continue;
      if (failed) {
        const after = `block ${failed.index} (${failed.id}) failed`;
        blocks.push({ id: b.id, status: 'skipped', message: `not run: ${after} before it` });
        lost.push({ block: b, why: `did not run (${after} before it)` });
        continue;
      }
      let r: BlockResult;
      try {
        r = await this.runBlock(step, b, opts);
      } catch (e) {
        if (!(e instanceof StepAbort)) throw e;
        r = { id: b.id, status: 'failed', message: e.message };
        if (e instanceof TrustStop) {
          blocks.push(r);
          stopped = e.message;
          break;
        }
      }
      blocks.push(r);
      if (r.status === 'failed') {
        failed = b;
        message = `block ${b.index} (${b.id}) failed${r.message ? `: ${r.message}` : ''}`;
        lost.push({ block: b, why: 'failed' });
      }
    }
    if (stopped !== undefined) message = stopped;
    for (const c of this.ordered(step.checks)) {
      const missing =
        stopped !== undefined
          ? `skipped: the step was stopped (${stopped})`
          : this.deps.signal?.aborted
            ? 'skipped: the run was cancelled'
            : missingFor(c, lost);
      let r: CheckResult;
      if (missing) {
        r = {
          id: c.id,
          title: c.title,
          status: 'skipped',
          attempts: 0,
          message: missing,
          evidence: [],
          ...(c.hint ? { hint: c.hint } : {}),
        };
        this.checkResults.set(c.id, 'skipped');
      } else {
        r = await this.check(step, c);
      }
      checks.push(r);
      this.deps.observer?.check?.(step, r);
      await this.deps.progress?.setCheck(step.id, c.id, r.status, r.attempts, r.message);
    }
    const status: RunStatus =
      message !== undefined || checks.some((c) => c.status !== 'done') ? 'failed' : 'done';
    await this.deps.progress?.setStep(step.id, status);
    const result: StepResult = {
      id: step.id,
      title: step.title,
      status,
      blocks,
      checks,
      ...(message ? { message } : {}),
    };
    this.deps.observer?.stepDone?.(result);
    return result;
  }

  /** Checks of a step in an order where every check comes after the checks it needs. */
  private ordered(checks: readonly Check[]): Check[] {
    const out: Check[] = [];
    const seen = new Set<string>();
    const ids = new Set(checks.map((c) => c.id));
    const visit = (c: Check, depth: number): void => {
      if (seen.has(c.id) || depth > checks.length) return;
      for (const n of c.needs) {
        const dep = checks.find((x) => x.id === n);
        if (dep && ids.has(n)) visit(dep, depth + 1);
      }
      seen.add(c.id);
      out.push(c);
    };
    for (const c of checks) visit(c, 0);
    return out;
  }

  /** Runs the steps from `from` (id or title) to the end. */
  async runAll(opts: StepOptions & { readonly from?: string } = {}): Promise<RunSummary> {
    const steps = this.deps.lab.steps;
    const start = opts.from ? steps.indexOf(this.findStep(opts.from)) : 0;
    const results: StepResult[] = [];
    for (const s of steps.slice(start)) {
      if (this.deps.signal?.aborted) break;
      results.push(await this.runStep(s.id, opts));
    }
    const all = results.flatMap((r) => r.checks);
    const count = (st: RunStatus): number => all.filter((c) => c.status === st).length;
    return {
      lab: this.deps.lab.id,
      recorded: this.recorded,
      steps: results,
      checks: { passed: count('done'), failed: count('failed'), skipped: count('skipped') },
      ok: results.every((r) => r.status === 'done'),
    };
  }

  dispose(): void {
    for (const list of this.bound.values()) for (const b of list) b.target.dispose();
    this.bound.clear();
  }
}
