import { quote } from 'shell-quote';

/**
 * Paths into the lab state (`pods[0].name`, `services.kuard.clusterIP`, `labels["app.kubernetes.io/name"]`) and
 * `{{…}}` variables in commands and messages (docs/labs.md, "Variables").
 */
export type PathSegment = string | number;

export type PathParse =
  | { readonly ok: true; readonly segments: readonly PathSegment[] }
  | { readonly ok: false; readonly error: string };

const identStart = /[A-Za-z_]/;
const identChar = /[A-Za-z0-9_-]/;

export function parsePath(text: string): PathParse {
  const s = text.trim();
  const segments: PathSegment[] = [];
  let i = 0;
  const fail = (why: string): PathParse => ({ ok: false, error: `"${s}": ${why} at column ${i + 1}` });
  if (!s) return { ok: false, error: 'empty path' };
  while (i < s.length) {
    const c = s[i] as string;
    if (segments.length > 0 && c === '.') {
      i++;
      if (!identStart.test(s[i] ?? '')) return fail('expected a field name after "."');
    }
    const d = s[i] as string;
    if (identStart.test(d)) {
      let j = i;
      while (j < s.length && identChar.test(s[j] as string)) j++;
      segments.push(s.slice(i, j));
      i = j;
    } else if (d === '[') {
      const close = s.indexOf(']', i);
      if (close < 0) return fail('missing "]"');
      const inner = s.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else if (inner === '*') segments.push('*');
      else if (/^"[^"]*"$/.test(inner) || /^'[^']*'$/.test(inner)) segments.push(inner.slice(1, -1));
      else return fail('expected a number or a quoted key inside [ ]');
      i = close + 1;
    } else {
      return fail(`unexpected "${d}"`);
    }
    if (segments.length === 1 && typeof segments[0] === 'number') return fail('a path starts with a name');
  }
  return { ok: true, segments };
}

export function formatPath(segments: readonly PathSegment[]): string {
  return segments
    .map((seg, i) =>
      typeof seg === 'number'
        ? `[${seg}]`
        : seg === '*'
          ? '[*]'
          : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)
            ? i
              ? `.${seg}`
              : seg
            : `["${seg}"]`,
    )
    .join('');
}

export type Resolution =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The name an item of a collection is known by: `name`, `metadata.name`, `id`, `ip`. */
export function itemName(item: unknown): string | undefined {
  if (!isRecord(item)) return typeof item === 'string' || typeof item === 'number' ? String(item) : undefined;
  for (const key of ['name', 'id', 'ip', 'code']) {
    const v = item[key];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  const meta = item['metadata'];
  if (isRecord(meta) && typeof meta['name'] === 'string') return meta['name'];
  return undefined;
}

function available(v: unknown): string {
  if (Array.isArray(v)) {
    const names = v.map(itemName).filter((n): n is string => n !== undefined);
    return names.length
      ? `it is a list of ${v.length}; names: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`
      : `it is a list of ${v.length}`;
  }
  if (isRecord(v)) {
    const keys = Object.keys(v);
    return keys.length
      ? `known: ${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''}`
      : 'it is empty';
  }
  return `it is ${v === null ? 'null' : typeof v}`;
}

/**
 * Walks a path. A string segment on a list picks the item with that name (so `services.kuard` works whether the
 * state holds services as a map or as a list).
 */
export function resolvePath(root: unknown, segments: readonly PathSegment[]): Resolution {
  let cur: unknown = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as PathSegment;
    const here = formatPath(segments.slice(0, i)) || 'the state';
    let next: unknown;
    if (seg === '*') {
      // Projection: the rest of the path on every item; `pods[*].ip` is the list of pod IPs.
      // On a map (e.g. a capture taken on every instance of a role), [*] projects over its values.
      const all: unknown[] | undefined = Array.isArray(cur)
        ? cur
        : isRecord(cur)
          ? Object.values(cur)
          : undefined;
      if (!all)
        return {
          ok: false,
          message: `${here} is not a list or a map, so [*] does not apply (${available(cur)})`,
        };
      const rest = segments.slice(i + 1);
      const values: unknown[] = [];
      for (const item of all) {
        const r = resolvePath(item, rest);
        if (!r.ok) return { ok: false, message: `in ${here}[*]: ${r.message}` };
        if (Array.isArray(r.value) && rest.includes('*')) values.push(...(r.value as unknown[]));
        else values.push(r.value);
      }
      return { ok: true, value: values };
    }
    if (typeof seg === 'number') {
      if (!Array.isArray(cur))
        return {
          ok: false,
          message: `${here} is not a list (${available(cur)})${isRecord(cur) ? `; use ${here}[*] for all its values` : ''}`,
        };
      if (seg >= cur.length) return { ok: false, message: `${here} has ${cur.length} item(s), no [${seg}]` };
      next = cur[seg];
    } else if (Array.isArray(cur)) {
      next = cur.find((item) => itemName(item) === seg);
      if (next === undefined && seg === 'length') next = cur.length;
      if (next === undefined)
        return { ok: false, message: `${here} has no item named "${seg}" (${available(cur)})` };
    } else if (isRecord(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, seg))
        return { ok: false, message: `${here} has no "${seg}" (${available(cur)})` };
      next = cur[seg];
    } else {
      return { ok: false, message: `${here} is ${cur === null ? 'null' : typeof cur}, it has no "${seg}"` };
    }
    cur = next;
  }
  return { ok: true, value: cur };
}

export interface VariableUse {
  readonly raw: string;
  readonly path: string;
  readonly index: number;
}

const variablePattern = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function findVariables(text: string): VariableUse[] {
  return [...text.matchAll(variablePattern)].map((m) => ({
    raw: m[0],
    path: m[1] ?? '',
    index: m.index ?? 0,
  }));
}

export class UnresolvedVariableError extends Error {
  override name = 'UnresolvedVariableError';
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`{{${variable}}} cannot be resolved: ${reason}`);
  }
}

function scalarText(value: unknown, variable: string): string[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return [String(value)];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'))
    return value.map(String);
  throw new UnresolvedVariableError(
    variable,
    value === null || value === undefined
      ? 'the value is empty'
      : `the value is ${Array.isArray(value) ? 'a list of objects' : 'an object'}; name a field, e.g. {{${variable}.name}}`,
  );
}

/**
 * Replaces every `{{path}}`. With `shell: true` (commands) each value is shell-quoted, so a value captured from
 * a cluster is always one word of data, never shell syntax; a list of scalars becomes several words.
 * Throws UnresolvedVariableError naming the first variable that does not resolve and why.
 */
export function substitute(text: string, state: unknown, opts: { readonly shell: boolean }): string {
  return text.replace(variablePattern, (_raw, inner: string) => {
    const path = parsePath(inner);
    if (!path.ok) throw new UnresolvedVariableError(inner, path.error);
    const r = resolvePath(state, path.segments);
    if (!r.ok) throw new UnresolvedVariableError(inner, r.message);
    const words = scalarText(r.value, inner);
    return opts.shell ? quote(words) : words.join(' ');
  });
}
