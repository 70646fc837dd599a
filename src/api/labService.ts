import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AnalyzedSnapshot } from '../labs/analyzedSnapshot.js';
import { checkInventory, loadInventory, type Inventory, type TargetSpec } from '../labs/inventory.js';
import type { TerminalSession } from '../terminal/types.js';
import { TerminalTarget } from '../targets/terminalTarget.js';
import type { BoundTarget } from '../labs/runner.js';
import { formatProblem, loadLabDir } from '../labs/loadLab.js';
import type { Lab } from '../labs/model.js';
import { parseOutput } from '../labs/parseOutput.js';
import { progressFile, ProgressStore, type Progress } from '../labs/progress.js';
import {
  LabRunner,
  type BlockResult,
  type CheckResult,
  type CommandRecord,
  type ConfirmRequest,
  type StepResult,
} from '../labs/runner.js';
import { TrustStore } from '../labs/trust.js';
import { loadRecording, type Recording } from '../targets/recording.js';
import { ApiFailure, type Disposable } from './server.js';
import { bindInventory, recordedWithoutSetup, replayInventory, type BoundInventory } from './labBinding.js';

import type { SnapshotService } from './snapshotService.js';

export interface RecordingSummary {
  readonly name: string;
  readonly environment: string;
  readonly recordedAt: string;
  readonly note?: string;
}

export interface LabSummary {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly estimatedMinutes: number;
  readonly builtin: boolean;
  readonly trusted: boolean;
  readonly recordings: readonly RecordingSummary[];
}

export interface LabDocument extends LabSummary {
  readonly lab: Lab;
}

export interface LabSessionInfo {
  readonly id: string;
  readonly labId: string;
  readonly environment: string;
  /** Every role answers from a recording: nothing runs anywhere. */
  readonly recorded: boolean;
  readonly roles: readonly { readonly role: string; readonly instances: readonly string[] }[];
  readonly progress: Progress;
}

/** A command a lab ran (or replayed), with its output, for the step's output panel. */
export interface LabCommandView {
  readonly session: string;
  readonly step: string;
  readonly block: string;
  readonly check?: string;
  readonly role: string;
  readonly instance: string;
  readonly where: string;
  readonly recorded: boolean;
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly parsedAs: string | null;
}

export interface LabConfirmRequest extends ConfirmRequest {
  readonly session: string;
  readonly request: string;
}

export interface LabEvents {
  command(view: LabCommandView): void;
  check(event: { session: string; step: string; result: CheckResult }): void;
  step(event: { session: string; result: StepResult }): void;
  confirm(request: LabConfirmRequest): void;
}

/** Opens a terminal the user sees for a role instance bound to a machine (local or ssh); undefined: none. */
export type OpenLabTerminal = (binding: {
  readonly role: string;
  readonly instance: string;
  readonly spec: TargetSpec;
}) => Promise<TerminalSession | undefined>;

export interface LabServiceOptions {
  /** The app's own labs (trusted). */
  readonly labsDir: string;
  readonly dataDir: string;
  readonly snapshot: SnapshotService;
  readonly events: LabEvents;
  /** When given, commands of roles bound to a machine are typed into a visible terminal of that machine. */
  readonly openTerminal?: OpenLabTerminal;
}

interface Session {
  readonly info: LabSessionInfo;
  readonly runner: LabRunner;
  readonly bound: BoundInventory;
  readonly progress: ProgressStore;
  /** A replay of a recording made with --skip-setup: it has no answers for setup blocks, so they are skipped. */
  readonly replaySkipsSetup: boolean;
  /** Serialises runs: one command at a time per session, like a person at one keyboard. */
  queue: Promise<unknown>;
}

/**
 * Labs for the UI: lists the app's labs, opens one, starts a session bound to a recording or an inventory, and
 * runs blocks, checks and steps one at a time, streaming each command's output as an event and feeding parsed
 * output to the workspace snapshot.
 */
export class LabService implements Disposable {
  private readonly sessions = new Map<string, Session>();
  private readonly pendingConfirms = new Map<string, { session: string; resolve: (yes: boolean) => void }>();
  private readonly trust: TrustStore;
  /**
   * One store per progress file: two sessions of the same lab and environment (two windows, or a restart of
   * the session) share it, so neither overwrites what the other recorded from a stale copy.
   */
  private readonly progressStores = new Map<string, ProgressStore>();
  private readonly opened = new Set<string>();
  private nextSession = 1;
  private nextConfirm = 1;

  constructor(private readonly options: LabServiceOptions) {
    this.trust = new TrustStore(join(options.dataDir, 'trust.json'), options.labsDir);
  }

  private labDirs(): string[] {
    const own = existsSync(this.options.labsDir)
      ? readdirSync(this.options.labsDir, { withFileTypes: true })
          .filter((d) => d.isDirectory() && existsSync(join(this.options.labsDir, d.name, 'lab.md')))
          .map((d) => join(this.options.labsDir, d.name))
          .sort()
      : [];
    return [...own, ...[...this.opened].filter((d) => !own.includes(d))];
  }

  /**
   * Opens a lab from a folder outside the app's own labs (a course's, a colleague's): it is listed from now on,
   * untrusted until the user trusts it, so each of its commands is shown with where it runs and asked first.
   */
  add(dir: string): LabSummary {
    const abs = resolve(dir);
    if (!existsSync(join(abs, 'lab.md'))) {
      throw new ApiFailure('lab-not-found', `${abs} has no lab.md: pick the folder that holds the lab`, dir);
    }
    const loaded = loadLabDir(abs);
    if (!loaded.lab) {
      throw new ApiFailure('lab-invalid', `${abs}: ${loaded.errors.map(formatProblem).join('; ')}`, dir);
    }
    const clash = this.labDirs().find((d) => d !== abs && loadLabDir(d).lab?.id === loaded.lab?.id);
    if (clash)
      throw new ApiFailure(
        'lab-id-taken',
        `a lab with id "${loaded.lab.id}" is already open (${clash})`,
        dir,
      );
    this.opened.add(abs);
    return this.summary(abs, loaded.lab);
  }

  /** The user's decision about a lab's trust (built-in labs are always trusted). */
  async setTrusted(id: string, trusted: boolean): Promise<LabSummary> {
    const { dir, lab } = this.find(id);
    if (this.trust.isBuiltin(dir)) return this.summary(dir, lab);
    if (trusted) await this.trust.trust(dir);
    else await this.trust.revoke(dir);
    return this.summary(dir, lab);
  }

  private recordings(dir: string): RecordingSummary[] {
    const root = join(dir, 'recordings');
    if (!existsSync(root)) return [];
    const out: RecordingSummary[] = [];
    for (const d of readdirSync(root, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      try {
        const rec = loadRecording(join(root, d.name));
        out.push({
          name: d.name,
          environment: rec.environment,
          recordedAt: rec.recordedAt,
          ...(rec.note ? { note: rec.note } : {}),
        });
      } catch {
        // Not a readable recording: not offered.
      }
    }
    return out;
  }

  private summary(dir: string, lab: Lab): LabSummary {
    return {
      id: lab.id,
      title: lab.title,
      summary: lab.summary,
      estimatedMinutes: lab.estimatedMinutes,
      builtin: this.trust.isBuiltin(dir),
      trusted: this.trust.state(dir).trusted,
      recordings: this.recordings(dir),
    };
  }

  list(): LabSummary[] {
    const out: LabSummary[] = [];
    for (const dir of this.labDirs()) {
      const loaded = loadLabDir(dir);
      if (loaded.lab) out.push(this.summary(dir, loaded.lab));
    }
    return out;
  }

  private find(id: string): { dir: string; lab: Lab } {
    for (const dir of this.labDirs()) {
      const loaded = loadLabDir(dir);
      if (loaded.lab?.id === id) return { dir, lab: loaded.lab };
      if (!loaded.lab && dir.endsWith(`/${id}`)) {
        throw new ApiFailure(
          'lab-invalid',
          `lab ${id} has problems: ${loaded.errors.map(formatProblem).join('; ')}`,
          id,
        );
      }
    }
    throw new ApiFailure('lab-not-found', `no lab "${id}" in ${this.options.labsDir}`, id);
  }

  open(id: string): LabDocument {
    const { dir, lab } = this.find(id);
    return { ...this.summary(dir, lab), lab };
  }

  async start(args: { labId: string; replay?: string; inventory?: string }): Promise<LabSessionInfo> {
    const { dir, lab } = this.find(args.labId);
    if ((args.replay === undefined) === (args.inventory === undefined)) {
      throw new ApiFailure(
        'lab-binding',
        'give either a recording to replay or an inventory file, not both or neither',
      );
    }
    const recordings = new Map<string, Recording>();
    let inventory: Inventory;
    let replaySkipsSetup = false;
    if (args.replay !== undefined) {
      const recDir = resolve(dir, 'recordings', args.replay);
      if (!recDir.startsWith(resolve(dir, 'recordings') + '/')) {
        throw new ApiFailure('lab-binding', `"${args.replay}" is not a recording name`, args.replay);
      }
      let rec: Recording;
      try {
        rec = loadRecording(recDir);
      } catch (e) {
        throw new ApiFailure('recording-invalid', (e as Error).message, args.replay);
      }
      if (rec.lab.id !== lab.id) {
        throw new ApiFailure(
          'recording-invalid',
          `${args.replay} is a recording of lab "${rec.lab.id}"`,
          args.replay,
        );
      }
      recordings.set(recDir, rec);
      inventory = replayInventory(lab, recDir, rec);
      replaySkipsSetup = recordedWithoutSetup(lab, rec);
    } else {
      const loaded = loadInventory(resolve(args.inventory!));
      if (!('inventory' in loaded)) {
        throw new ApiFailure(
          'inventory-invalid',
          loaded.problems.map(formatProblem).join('; '),
          args.inventory,
        );
      }
      const fit = checkInventory(lab, loaded.inventory);
      const problems = [...loaded.problems, ...fit.errors];
      if (problems.length) {
        throw new ApiFailure('inventory-invalid', problems.map(formatProblem).join('; '), args.inventory);
      }
      inventory = loaded.inventory;
    }

    let bound: BoundInventory;
    try {
      bound = bindInventory(lab, inventory, { recordings });
    } catch (e) {
      throw new ApiFailure('lab-binding', (e as Error).message, args.inventory ?? args.replay);
    }

    // Roles bound to a machine run in a terminal the user sees (each command typed at its prompt).
    const targets = new Map<string, readonly BoundTarget[]>(bound.targets);
    if (this.options.openTerminal && args.replay === undefined) {
      try {
        for (const [role, instances] of inventory.roles) {
          const list = bound.targets.get(role);
          if (!list) continue;
          const wrapped: BoundTarget[] = [];
          for (const b of list) {
            const spec = instances.find((i) => i.instance === b.instance)?.spec;
            const session =
              spec && (spec.kind === 'local' || spec.kind === 'ssh')
                ? await this.options.openTerminal({ role, instance: b.instance, spec })
                : undefined;
            wrapped.push(
              session ? { instance: b.instance, target: new TerminalTarget(session, b.target) } : b,
            );
          }
          targets.set(role, wrapped);
        }
      } catch (e) {
        bound.dispose();
        throw new ApiFailure('lab-terminal', `could not open the lab's terminals: ${(e as Error).message}`);
      }
    }

    const id = `lab${this.nextSession++}`;
    // What the previous lab session captured describes another environment: it leaves the snapshot.
    this.options.snapshot.clear('lab');
    const recorded = args.replay !== undefined;
    const trusted = recorded || this.trust.state(dir).trusted;
    const progress = this.progressStore(lab.id, inventory.environment);
    const runner = new LabRunner({
      lab,
      targets: (role) => targets.get(role) ?? [],
      parse: parseOutput,
      snapshot: new AnalyzedSnapshot(),
      progress,
      trusted,
      confirm: (req) => this.confirm(id, req),
      observer: {
        command: (c) => this.onCommand(id, c),
        check: (step, result) => this.options.events.check({ session: id, step: step.id, result }),
        stepDone: (result) => this.options.events.step({ session: id, result }),
      },
    });
    const info: LabSessionInfo = {
      id,
      labId: lab.id,
      environment: inventory.environment,
      recorded,
      roles: [...bound.targets].map(([role, list]) => ({ role, instances: list.map((b) => b.instance) })),
      progress: progress.get(),
    };
    this.sessions.set(id, { info, runner, bound, progress, replaySkipsSetup, queue: Promise.resolve() });
    return info;
  }

  private progressStore(labId: string, environment: string): ProgressStore {
    const file = progressFile(this.options.dataDir, labId, environment);
    let store = this.progressStores.get(file);
    if (!store) {
      store = ProgressStore.open(file, labId, environment);
      this.progressStores.set(file, store);
    }
    return store;
  }

  private onCommand(session: string, c: CommandRecord): void {
    this.options.events.command({
      session,
      step: c.step,
      block: c.block,
      ...(c.check ? { check: c.check } : {}),
      role: c.role,
      instance: c.instance,
      where: c.where,
      recorded: c.recorded,
      command: c.command,
      stdout: c.result.stdout,
      stderr: c.result.stderr,
      exitCode: c.result.exitCode,
      startedAt: c.result.startedAt,
      endedAt: c.result.endedAt,
      parsedAs: c.parsed?.kind ?? null,
    });
    if (c.parsed) {
      this.options.snapshot.addParsed(c.parsed.kind, c.parsed.value, {
        node: c.instance,
        command: c.command,
        origin: 'lab',
      });
    }
  }

  private confirm(session: string, req: ConfirmRequest): Promise<boolean> {
    const request = `q${this.nextConfirm++}`;
    return new Promise<boolean>((resolveAnswer) => {
      this.pendingConfirms.set(request, { session, resolve: resolveAnswer });
      this.options.events.confirm({ ...req, session, request });
    });
  }

  /** The user's answer to a confirmation the runner asked for (an untrusted lab's command). */
  answer(request: string, yes: boolean): void {
    const pending = this.pendingConfirms.get(request);
    if (!pending) throw new ApiFailure('confirm-not-found', `no pending question "${request}"`, request);
    this.pendingConfirms.delete(request);
    pending.resolve(yes);
  }

  /** Questions nobody will answer any more (the session stopped) are answered "no". */
  private declinePending(session?: string): void {
    for (const [request, pending] of [...this.pendingConfirms]) {
      if (session !== undefined && pending.session !== session) continue;
      this.pendingConfirms.delete(request);
      pending.resolve(false);
    }
  }

  private session(id: string): Session {
    const s = this.sessions.get(id);
    if (!s)
      throw new ApiFailure('lab-session-not-found', `no lab session "${id}" (it may have been stopped)`, id);
    return s;
  }

  private enqueue<T>(s: Session, work: () => Promise<T>): Promise<T> {
    const next = s.queue.then(work, work);
    s.queue = next.catch(() => {});
    return next.catch((e: unknown) => {
      if (e instanceof ApiFailure) throw e;
      throw new ApiFailure('lab-run-failed', (e as Error).message);
    });
  }

  runBlock(sessionId: string, step: string, block: string): Promise<BlockResult> {
    const s = this.session(sessionId);
    return this.enqueue(s, () => s.runner.runBlockById(step, block));
  }

  runChecks(sessionId: string, stepId: string): Promise<CheckResult[]> {
    const s = this.session(sessionId);
    return this.enqueue(s, async () => {
      const step = s.runner.lab.steps.find((x) => x.id === stepId);
      if (!step) throw new ApiFailure('step-not-found', `the lab has no step "${stepId}"`, stepId);
      const results: CheckResult[] = [];
      for (const c of step.checks) {
        const r = await s.runner.runCheck(step.id, c.id);
        this.options.events.check({ session: sessionId, step: step.id, result: r });
        results.push(r);
      }
      return results;
    });
  }

  runStep(sessionId: string, step: string, skipSetup: boolean): Promise<StepResult> {
    const s = this.session(sessionId);
    return this.enqueue(s, () => s.runner.runStep(step, { skipSetup: skipSetup || s.replaySkipsSetup }));
  }

  progress(sessionId: string): Progress {
    return this.session(sessionId).progress.get();
  }

  async stop(sessionId: string): Promise<void> {
    const s = this.session(sessionId);
    this.sessions.delete(sessionId);
    this.declinePending(sessionId);
    await s.progress.flush();
    s.runner.dispose();
    s.bound.dispose();
  }

  dispose(): void {
    this.declinePending();
    for (const s of this.sessions.values()) {
      s.runner.dispose();
      s.bound.dispose();
    }
    this.sessions.clear();
  }
}
