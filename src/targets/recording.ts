import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';

/**
 * A recorded lab run (docs/labs.md, "Recordings"): `labs/<lab>/recordings/<name>/recording.json` holds every
 * command with its captured output; one asciicast v2 file per role instance (`<role>.cast`, `<role>-<instance>.cast`)
 * replays the terminals, with markers (`"m"` events) at step and command boundaries.
 */
export const recordingEntrySchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  step: z.string(),
  block: z.string(),
  check: z.string().optional(),
  role: z.string(),
  instance: z.string(),
  command: z.string(),
  parse: z.string().optional(),
  stdout: z.string(),
  stderr: z.string(),
  exitCode: z.number().int().nullable(),
  /** Milliseconds since the recording started. */
  startedAt: z.number().nonnegative(),
  endedAt: z.number().nonnegative(),
});
export type RecordingEntry = z.infer<typeof recordingEntrySchema>;

export const recordingSchema = z.strictObject({
  format: z.literal('labdeck-recording'),
  version: z.literal(1),
  lab: z.strictObject({ id: z.string(), title: z.string() }),
  name: z.string(),
  recordedAt: z.string(),
  /** Where the run happened, for the "recorded" label ("sandbox", "local double", "seed captures 2019"). */
  environment: z.string(),
  note: z.string().optional(),
  casts: z.array(z.strictObject({ role: z.string(), instance: z.string(), file: z.string() })),
  entries: z.array(recordingEntrySchema),
});
export type Recording = z.infer<typeof recordingSchema>;

export class RecordingError extends Error {
  override name = 'RecordingError';
}

export function loadRecording(dir: string): Recording {
  const file = join(dir, 'recording.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RecordingError(`${file}: cannot read the recording (${(e as Error).message})`);
  }
  const parsed = recordingSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new RecordingError(
      `${file}: not a LabDeck recording: ${first ? `${first.path.join('.') || '(top)'}: ${first.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Values that must never land in a recording: tokens, keys, passwords (kubeconfig and env-var shapes). */
const secretPatterns: readonly RegExp[] = [
  /((?:token|password|secret|client-key-data|client-certificate-data|certificate-authority-data)\s*[:=]\s*"?)[^"\s]+/gi,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g,
  /(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(?=-----END)/g,
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const re of secretPatterns) out = out.replace(re, '$1<redacted>');
  return out;
}

export function castFileName(role: string, instance: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return role === instance ? `${safe(role)}.cast` : `${safe(role)}-${safe(instance)}.cast`;
}

interface CastState {
  readonly role: string;
  readonly instance: string;
  readonly lines: string[];
}

export interface RecordingMeta {
  readonly lab: { readonly id: string; readonly title: string };
  readonly name: string;
  readonly environment: string;
  readonly note?: string;
}

/** Collects a run and writes it (atomically, file by file) on `close()`. Secrets are redacted on the way in. */
export class RecordingWriter {
  private readonly startedAt: number;
  private readonly entries: RecordingEntry[] = [];
  private readonly casts = new Map<string, CastState>();
  private currentStep: { id: string; title: string; at: number } | undefined;
  private seq = 0;

  constructor(
    private readonly dir: string,
    private readonly meta: RecordingMeta,
    private readonly clock: () => number = Date.now,
  ) {
    this.startedAt = clock();
  }

  private elapsed(at: number = this.clock()): number {
    return Math.max(0, (at - this.startedAt) / 1000);
  }

  private cast(role: string, instance: string): CastState {
    const key = `${role}\u0000${instance}`;
    let c = this.casts.get(key);
    if (!c) {
      c = { role, instance, lines: [] };
      this.casts.set(key, c);
      if (this.currentStep)
        c.lines.push(
          JSON.stringify([this.currentStep.at, 'm', `step:${this.currentStep.id} ${this.currentStep.title}`]),
        );
    }
    return c;
  }

  step(id: string, title: string): void {
    const t = this.elapsed();
    this.currentStep = { id, title, at: t };
    for (const c of this.casts.values()) c.lines.push(JSON.stringify([t, 'm', `step:${id} ${title}`]));
  }

  command(
    e: Omit<RecordingEntry, 'seq' | 'startedAt' | 'endedAt'> & { startedAt: number; endedAt: number },
  ): void {
    const seq = this.seq++;
    const entry: RecordingEntry = {
      ...e,
      seq,
      command: redactSecrets(e.command),
      stdout: redactSecrets(e.stdout),
      stderr: redactSecrets(e.stderr),
      startedAt: this.elapsed(e.startedAt) * 1000,
      endedAt: this.elapsed(e.endedAt) * 1000,
    };
    this.entries.push(entry);
    const c = this.cast(e.role, e.instance);
    const crlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');
    c.lines.push(JSON.stringify([entry.startedAt / 1000, 'm', `cmd:${seq} ${entry.command}`]));
    c.lines.push(JSON.stringify([entry.startedAt / 1000, 'o', `$ ${crlf(entry.command)}\r\n`]));
    const output = entry.stdout + entry.stderr;
    if (output) c.lines.push(JSON.stringify([entry.endedAt / 1000, 'o', crlf(output)]));
    c.lines.push(JSON.stringify([entry.endedAt / 1000, 'm', `exit:${seq} ${entry.exitCode ?? 'killed'}`]));
  }

  async close(): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const recordedAt = new Date(this.startedAt).toISOString();
    const casts: Recording['casts'] = [];
    for (const c of this.casts.values()) {
      const file = castFileName(c.role, c.instance);
      casts.push({ role: c.role, instance: c.instance, file });
      const header = {
        version: 2,
        width: 120,
        height: 40,
        timestamp: Math.floor(this.startedAt / 1000),
        title: `${this.meta.lab.title}: ${c.role}${c.role === c.instance ? '' : ` (${c.instance})`} [recorded]`,
        env: { TERM: 'xterm-256color', SHELL: '/bin/bash' },
      };
      await writeFileAtomic(join(this.dir, file), [JSON.stringify(header), ...c.lines].join('\n') + '\n');
    }
    const rec: Recording = {
      format: 'labdeck-recording',
      version: 1,
      lab: this.meta.lab,
      name: this.meta.name,
      recordedAt,
      environment: this.meta.environment,
      ...(this.meta.note ? { note: this.meta.note } : {}),
      casts,
      entries: this.entries,
    };
    await writeFileAtomic(join(this.dir, 'recording.json'), JSON.stringify(rec, null, 2) + '\n');
    return this.dir;
  }
}
