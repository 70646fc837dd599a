import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';

/**
 * Progress per lab and environment (docs/labs.md, "Progress"): done/failed/skipped for every step and check.
 * Each change is written at once with write-file-atomic (temp file, fsync, rename), so a crash leaves the
 * previous or the new file, never half of one. Steps are independent: any step can be opened in any order.
 */
export type ProgressStatus = 'done' | 'failed' | 'skipped';
const status = z.enum(['done', 'failed', 'skipped']);

const checkProgress = z.strictObject({
  status,
  at: z.string(),
  attempts: z.number().int().nonnegative(),
  message: z.string().optional(),
});
const stepProgress = z.strictObject({
  status: status.optional(),
  at: z.string(),
  checks: z.record(z.string(), checkProgress),
});
export const progressSchema = z.strictObject({
  format: z.literal('labdeck-progress'),
  version: z.literal(1),
  lab: z.string(),
  environment: z.string(),
  updatedAt: z.string(),
  steps: z.record(z.string(), stepProgress),
});
export type Progress = z.infer<typeof progressSchema>;
export type StepProgress = z.infer<typeof stepProgress>;
export type CheckProgress = z.infer<typeof checkProgress>;

export function progressFile(dataDir: string, labId: string, environment: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || '_';
  return join(dataDir, 'progress', safe(labId), `${safe(environment)}.json`);
}

export class ProgressStore {
  private data: Progress;
  private writing: Promise<void> = Promise.resolve();
  /** Set when an unreadable file was moved aside at open (its new name), so the UI can say so. */
  readonly recoveredFrom: string | undefined;

  private constructor(
    readonly file: string,
    data: Progress,
    recoveredFrom: string | undefined,
    private readonly clock: () => number,
  ) {
    this.data = data;
    this.recoveredFrom = recoveredFrom;
  }

  /**
   * Opens (or starts) the progress of one lab in one environment. A file that cannot be read as progress is
   * never overwritten: it is renamed to `<file>.corrupt-<time>` and a fresh record starts.
   */
  static open(file: string, lab: string, environment: string, clock: () => number = Date.now): ProgressStore {
    const fresh = (): Progress => ({
      format: 'labdeck-progress',
      version: 1,
      lab,
      environment,
      updatedAt: new Date(clock()).toISOString(),
      steps: {},
    });
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return new ProgressStore(file, fresh(), undefined, clock);
      throw e;
    }
    let parsed: Progress | undefined;
    try {
      const r = progressSchema.safeParse(JSON.parse(text));
      if (r.success && r.data.lab === lab && r.data.environment === environment) parsed = r.data;
    } catch {
      parsed = undefined;
    }
    if (parsed) return new ProgressStore(file, parsed, undefined, clock);
    const aside = `${file}.corrupt-${clock()}`;
    renameSync(file, aside);
    return new ProgressStore(file, fresh(), aside, clock);
  }

  get(): Progress {
    return structuredClone(this.data);
  }

  step(stepId: string): StepProgress | undefined {
    const s = this.data.steps[stepId];
    return s ? structuredClone(s) : undefined;
  }

  setStep(stepId: string, s: ProgressStatus | undefined): Promise<void> {
    const at = new Date(this.clock()).toISOString();
    const prev = this.data.steps[stepId];
    const next: StepProgress = { at, checks: prev?.checks ?? {}, ...(s ? { status: s } : {}) };
    this.data = { ...this.data, updatedAt: at, steps: { ...this.data.steps, [stepId]: next } };
    return this.save();
  }

  setCheck(
    stepId: string,
    checkId: string,
    s: ProgressStatus,
    attempts: number,
    message?: string,
  ): Promise<void> {
    const at = new Date(this.clock()).toISOString();
    const prev = this.data.steps[stepId] ?? { at, checks: {} };
    const check: CheckProgress = { status: s, at, attempts, ...(message ? { message } : {}) };
    this.data = {
      ...this.data,
      updatedAt: at,
      steps: { ...this.data.steps, [stepId]: { ...prev, at, checks: { ...prev.checks, [checkId]: check } } },
    };
    return this.save();
  }

  /** Forget a step (the learner wants to do it again). */
  resetStep(stepId: string): Promise<void> {
    const steps = { ...this.data.steps };
    delete steps[stepId];
    this.data = { ...this.data, updatedAt: new Date(this.clock()).toISOString(), steps };
    return this.save();
  }

  /** The first step (in lab order) that is neither done nor skipped: where a resumed run continues. */
  resumeAt(stepIds: readonly string[]): string | undefined {
    return stepIds.find((id) => {
      const s = this.data.steps[id]?.status;
      return s !== 'done' && s !== 'skipped';
    });
  }

  /** Writes are serialised: each one writes the whole current record atomically. */
  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.data, null, 2) + '\n';
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        mkdirSync(dirname(this.file), { recursive: true });
        await writeFileAtomic(this.file, snapshot, { fsync: true });
      });
    return this.writing;
  }

  flush(): Promise<void> {
    return this.writing;
  }
}
