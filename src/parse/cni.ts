/**
 * CNI: network configuration JSON (`.conflist` with a `plugins` chain, or a single-plugin `.conf`), a plugin's
 * error result (`./calico` run by hand in the seed), and `ls` listings (/opt/cni/bin, /etc/cni/net.d).
 * Spec: https://github.com/containernetworking/cni/blob/main/SPEC.md
 */
import type { CniConfig, CniError, CniIpam, CniPlugin, FileList } from '../model/cni.js';
import type { ParseResult } from '../model/diagnostic.js';
import { Diagnostics, field, splitLines, stripAnsi } from './text.js';

export type CniConfigResult = ParseResult<'cni-config', CniConfig>;
export type CniErrorResult = ParseResult<'cni-error', CniError>;
export type FileListResult = ParseResult<'file-list', FileList>;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The first JSON object in the text, with the lines before it (a plugin prints a message line first). */
export function jsonIn(text: string, diags: Diagnostics): { value: unknown; before: string } | null {
  const start = text.indexOf('{');
  if (start < 0) return null;
  const end = text.lastIndexOf('}');
  if (end < start) {
    diags.error(
      'json-truncated',
      lineAt(text, start),
      1,
      'a JSON object starts but never ends (output cut short?)',
    );
    return null;
  }
  try {
    return { value: JSON.parse(text.slice(start, end + 1)) as unknown, before: text.slice(0, start).trim() };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const at = start + (pos ? Number(pos[1]) : 0);
    diags.error('json-syntax', lineAt(text, at), colAt(text, at), `invalid JSON: ${msg.split('\n')[0]}`);
    return null;
  }
}

function lineAt(text: string, pos: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
function colAt(text: string, pos: number): number {
  return pos - text.lastIndexOf('\n', pos - 1);
}

function ipam(v: unknown): CniIpam | null {
  const o = obj(v);
  if (o === null) return null;
  const subnets: string[] = [];
  const sub = str(o.subnet);
  if (sub) subnets.push(sub);
  if (Array.isArray(o.ranges))
    for (const set of o.ranges)
      for (const r of Array.isArray(set) ? set : [set]) {
        const s = str(obj(r)?.subnet);
        if (s) subnets.push(s);
      }
  for (const key of ['ipv4_pools', 'ipv6_pools'])
    if (Array.isArray(o[key]))
      for (const p of o[key] as unknown[]) if (typeof p === 'string') subnets.push(p);
  return { type: str(o.type), subnets };
}

function plugin(v: unknown): CniPlugin | null {
  const o = obj(v);
  if (o === null) return null;
  return {
    type: str(o.type),
    ipam: ipam(o.ipam),
    keys: Object.keys(o).filter((k) => k !== 'type' && k !== 'ipam'),
    capabilities: Object.entries(obj(o.capabilities) ?? {})
      .filter(([, on]) => on === true)
      .map(([k]) => k),
  };
}

export function parseCniConfig(text: string): CniConfigResult {
  const diags = new Diagnostics();
  const value: CniConfig = { name: null, cniVersion: null, isList: false, plugins: [] };
  const found = jsonIn(text, diags);
  const o = obj(found?.value);
  if (o === null) {
    if (found === null && !diags.list.length) diags.error('cni-not-json', 1, 1, 'no JSON object found');
    return { kind: 'cni-config', value, diagnostics: diags.done() };
  }
  value.name = str(o.name);
  value.cniVersion = str(o.cniVersion);
  if (Array.isArray(o.plugins)) {
    value.isList = true;
    o.plugins.forEach((p) => {
      const x = plugin(p);
      if (x) value.plugins.push(x);
      else diags.warn('cni-bad-plugin', 1, 1, 'a plugins[] entry is not an object');
    });
  } else if (typeof o.type === 'string') {
    const x = plugin(o);
    if (x) value.plugins.push(x);
  } else diags.error('cni-no-plugins', 1, 1, 'neither "plugins" (conflist) nor "type" (conf)');
  if (value.name === null) diags.warn('cni-no-name', 1, 1, 'a network configuration needs "name"');
  return { kind: 'cni-config', value: clean(value, diags), diagnostics: diags.done() };
}

function clean(c: CniConfig, diags: Diagnostics): CniConfig {
  const f = (s: string | null): string | null => (s === null ? null : field(s, diags, 1, 1));
  return {
    ...c,
    name: f(c.name),
    cniVersion: f(c.cniVersion),
    plugins: c.plugins.map((p) => ({
      ...p,
      type: f(p.type),
      ipam: p.ipam && { type: f(p.ipam.type), subnets: p.ipam.subnets.map((s) => field(s, diags, 1, 1)) },
      keys: p.keys.map((k) => field(k, diags, 1, 1)),
      capabilities: p.capabilities.map((k) => field(k, diags, 1, 1)),
    })),
  };
}

export function parseCniError(text: string): CniErrorResult {
  const diags = new Diagnostics();
  const value: CniError = { code: null, msg: null, details: null, message: null };
  const found = jsonIn(text, diags);
  const o = obj(found?.value);
  if (o === null || typeof o.code !== 'number') {
    if (!diags.list.length)
      diags.error('cni-error-not-result', 1, 1, 'no CNI error result ({"code": N, "msg": …})');
    return { kind: 'cni-error', value, diagnostics: diags.done() };
  }
  value.code = o.code;
  value.msg = str(o.msg) === null ? null : field(str(o.msg)!, diags, 1, 1);
  value.details = str(o.details) === null ? null : field(str(o.details)!, diags, 1, 1);
  value.message = found!.before === '' ? null : field(found!.before, diags, 1, 1);
  return { kind: 'cni-error', value, diagnostics: diags.done() };
}

/** `ls` output: names separated by spaces (columns) or one a line (`ls -1`, piped). Names with spaces are not told apart. */
export function parseFileList(text: string): FileListResult {
  const diags = new Diagnostics();
  const names: string[] = [];
  for (const l of splitLines(text)) {
    const t = stripAnsi(l.text);
    if (/^total \d+/.test(t)) {
      diags.warn('file-list-long-format', l.n, 1, '`ls -l` output: only names are read');
      continue;
    }
    const long = /^[-dlcbps][rwxsStT-]{9}[.+@]?\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(.+)$/.exec(t);
    if (long) {
      names.push(field(long[1]!.replace(/ -> .*$/, ''), diags, l.n, 1));
      continue;
    }
    for (const w of t.trim().split(/\s+/)) if (w !== '') names.push(field(w, diags, l.n, 1));
  }
  return { kind: 'file-list', value: { names }, diagnostics: diags.done() };
}
