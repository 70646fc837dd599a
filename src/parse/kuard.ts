/**
 * kuard's `/env/api` JSON (`{"commandLine": [...], "env": {...}}`), one answer or many (a loop of curl, wget's
 * progress lines around it), and `hostname`.
 */
import type { ParseResult } from '../model/diagnostic.js';
import type { Hostname, KuardEnv, KuardResponses } from '../model/kuard.js';
import { Diagnostics, field, splitLines, stripAnsi } from './text.js';

export type KuardEnvResult = ParseResult<'kuard-env', KuardResponses>;
export type HostnameResult = ParseResult<'hostname', Hostname>;

/** Each line holding a `{"commandLine":…,"env":…}` object is one answer; other lines are reported as info. */
export function parseKuardEnv(text: string): KuardEnvResult {
  const diags = new Diagnostics();
  const responses: KuardEnv[] = [];
  for (const l of splitLines(text)) {
    const t = stripAnsi(l.text);
    const start = t.indexOf('{');
    const end = t.lastIndexOf('}');
    if (start >= 0 && end < start && t.slice(start).startsWith('{"')) {
      diags.error(
        'kuard-truncated',
        l.n,
        start + 1,
        'a kuard JSON answer starts here but never ends (output cut short?)',
      );
      continue;
    }
    if (start < 0 || end < start) {
      if (t.trim() !== '')
        diags.info(
          'kuard-other-line',
          l.n,
          1,
          `not a kuard answer: "${field(t.trim(), diags, l.n, 1).slice(0, 60)}"`,
        );
      continue;
    }
    let v: unknown;
    try {
      v = JSON.parse(t.slice(start, end + 1));
    } catch (e) {
      diags.error(
        'kuard-bad-json',
        l.n,
        start + 1,
        `invalid JSON: ${e instanceof Error ? e.message : String(e)}`,
      );
      continue;
    }
    const o = v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
    const env = o && o.env !== null && typeof o.env === 'object' ? (o.env as Record<string, unknown>) : null;
    if (o === null || env === null) {
      diags.warn('kuard-not-env', l.n, start + 1, 'JSON without "env": not kuard /env/api');
      continue;
    }
    const e: KuardEnv = { commandLine: [], env: {}, hostname: null };
    if (Array.isArray(o.commandLine))
      for (const c of o.commandLine)
        if (typeof c === 'string') e.commandLine.push(field(c, diags, l.n, start + 1));
    for (const [k, x] of Object.entries(env))
      if (typeof x === 'string') e.env[field(k, diags, l.n, start + 1)] = field(x, diags, l.n, start + 1);
    e.hostname = e.env.HOSTNAME ?? null;
    responses.push(e);
  }
  if (responses.length === 0 && !diags.list.some((d) => d.severity === 'error'))
    diags.error('kuard-empty', 1, 1, 'no kuard /env/api answer found');
  return { kind: 'kuard-env', value: { responses }, diagnostics: diags.done() };
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;

export function parseHostname(text: string): HostnameResult {
  const diags = new Diagnostics();
  const lines = splitLines(text).filter((l) => l.text.trim() !== '');
  const first = lines[0];
  const name = first ? stripAnsi(first.text).trim() : '';
  if (first === undefined || !HOSTNAME.test(name)) {
    diags.error('hostname-invalid', first?.n ?? 1, 1, 'expected one host name (letters, digits, "-", ".")');
    return { kind: 'hostname', value: { hostname: field(name, diags, 1, 1) }, diagnostics: diags.done() };
  }
  if (lines.length > 1)
    diags.warn('hostname-extra-lines', lines[1]!.n, 1, 'more than one line after `hostname`');
  return { kind: 'hostname', value: { hostname: name }, diagnostics: diags.done() };
}
