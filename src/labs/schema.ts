import { z } from 'zod';

/** Durations in lab files: `500ms`, `3s`, `2m`, `1h`, or a bare number of seconds. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return v >= 0 ? v * 1000 : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h']);
}

const duration = z.union([z.string(), z.number()]).refine((v) => parseDuration(v) !== undefined, {
  message: 'not a duration; write e.g. 3s, 500ms, 2m',
});

const kebab = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and "-" (e.g. get-pods)');

export const roleSchema = z.strictObject({
  description: z.string().min(1),
  /** The role may be bound to several machines (e.g. every node). */
  many: z.boolean().default(false),
  /** Tools the role needs on its machine (e.g. kubectl), shown when binding. */
  tools: z.array(z.string()).default([]),
});

export const frontMatterSchema = z.strictObject({
  id: kebab,
  title: z.string().min(1),
  summary: z.string().min(1),
  roles: z
    .record(kebab, roleSchema)
    .refine((r) => Object.keys(r).length > 0, { message: 'declare at least one role' }),
  prerequisites: z.array(z.string()).default([]),
  estimatedTime: duration,
  credits: z
    .array(z.strictObject({ name: z.string().min(1), url: z.url().optional(), note: z.string().optional() }))
    .default([]),
});
export type FrontMatter = z.infer<typeof frontMatterSchema>;

export const checkRunSchema = z.strictObject({
  role: z.string(),
  /** For a many-instance role: `all` (default), `first`, or an instance name. */
  on: z.string().optional(),
  command: z.string().min(1),
  parse: z.string().optional(),
  as: z.string().optional(),
  /** Expected exit code (default 0). */
  expect: z.number().int().min(0).max(255).default(0),
});

export const checkSchema = z.strictObject({
  id: kebab,
  title: z.string().optional(),
  run: checkRunSchema.optional(),
  assert: z.array(z.record(z.string(), z.unknown())).default([]),
  retries: z.number().int().min(0).max(100).default(0),
  delay: duration.default('2s'),
  needs: z.array(z.string()).default([]),
  hint: z.string().optional(),
  message: z.string().optional(),
});
export type CheckInput = z.infer<typeof checkSchema>;

/** Attributes a runnable block may carry in its info string: ```sh {role=master parse=iptables-save}. */
export const blockAttributeNames = [
  'role',
  'on',
  'kind',
  'parse',
  'panel',
  'id',
  'as',
  'expect',
  'timeout',
] as const;

/** Distance for "did you mean" advice. */
export function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

export function didYouMean(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const dist = editDistance(word.toLowerCase(), o.toLowerCase());
    if (dist < bestD) {
      best = o;
      bestD = dist;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Turns zod issues into "where: what (advice)" triples. */
export function zodProblems(
  error: z.ZodError,
  where: string,
  known: Readonly<Record<string, readonly string[]>> = {},
): { path: string; message: string; advice?: string }[] {
  return error.issues.map((issue) => {
    const sub = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`))
      .join('');
    const path = sub ? `${where}${where ? ': ' : ''}${sub}` : where;
    if (issue.code === 'unrecognized_keys') {
      const allowed = known[issue.path.join('.')] ?? [];
      const keys = issue.keys;
      const guess = keys.length === 1 ? didYouMean(keys[0] as string, allowed) : undefined;
      return {
        path,
        message: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`,
        ...(allowed.length || guess
          ? { advice: `${guess ? `did you mean "${guess}"? ` : ''}allowed: ${allowed.join(', ')}` }
          : {}),
      };
    }
    if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
      return { path, message: `missing required field`, advice: `add it (${issue.expected})` };
    return { path, message: issue.message };
  });
}
