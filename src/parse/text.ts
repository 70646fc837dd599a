/* eslint-disable no-control-regex -- matching control characters is what these helpers are for */
/**
 * Shared text helpers for every parser: line splitting, column slicing, neutralisation of terminal controls,
 * and the diagnostics collector. Pure: no I/O, no globals.
 */
import type { Diagnostic, Severity } from '../model/diagnostic.js';

/** A field longer than this is cut, with a `field-too-long` diagnostic. */
export const FIELD_LIMIT = 4096;
/** After this many diagnostics a parser stops collecting (one `too-many-diagnostics` says so). */
export const DIAGNOSTIC_LIMIT = 200;

export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private dropped = 0;

  /** Messages often quote the input (or an error about it, like JSON.parse's): neutralised here, once for all. */
  add(severity: Severity, code: string, line: number, column: number, message: string): void {
    if (this.list.length >= DIAGNOSTIC_LIMIT) {
      this.dropped++;
      return;
    }
    this.list.push({ code, severity, line, column, message: neutralise(message) });
  }
  error(code: string, line: number, column: number, message: string): void {
    this.add('error', code, line, column, message);
  }
  warn(code: string, line: number, column: number, message: string): void {
    this.add('warning', code, line, column, message);
  }
  info(code: string, line: number, column: number, message: string): void {
    this.add('info', code, line, column, message);
  }
  /** The collected diagnostics, with a last one counting those not kept. */
  done(): Diagnostic[] {
    if (this.dropped > 0) {
      const last = this.list[this.list.length - 1];
      return [
        ...this.list,
        {
          code: 'too-many-diagnostics',
          severity: 'info',
          line: last?.line ?? 1,
          column: 1,
          message: `${this.dropped} more diagnostics were not kept`,
        },
      ];
    }
    return this.list;
  }
}

export interface Line {
  /** 1-based line number. */
  n: number;
  text: string;
}

/** Split on \n, dropping a \r before it; a final empty line after the last \n is not a line. */
export function splitLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  let n = 1;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    out.push({ n, text: text.slice(start, stop) });
    n++;
    start = end + 1;
  }
  return out;
}

/** The lines with text on them, ANSI colours stripped (for formats where a blank line says nothing). */
export function contentLines(text: string): Line[] {
  const out: Line[] = [];
  for (const l of splitLines(text)) {
    const t = stripAnsi(l.text);
    if (t.trim() !== '') out.push({ n: l.n, text: t });
  }
  return out;
}

// C0 controls but tab, DEL, C1 controls, and bidi/invisible format characters that could reorder or hide text:
// U+061C, U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF. See Trojan Source (CVE-2021-42574).
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
const UNSAFE_G =
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

// The same, but line ends allowed: for a whole text before it is split into lines.
const UNSAFE_TEXT =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

const UNSAFE_TEXT_G = new RegExp(UNSAFE_TEXT.source, 'g');

/** `neutralise` for a multi-line text: line ends (\n, \r\n) stay as they are. */
export function neutraliseText(s: string): string {
  if (!UNSAFE_TEXT.test(s)) return s;
  return s.replace(UNSAFE_TEXT_G, (c) => neutralise(c));
}

/** Does a multi-line text hold a character `neutralise` would change (other than \n and \r)? */
export function hasUnsafeText(s: string): boolean {
  return UNSAFE_TEXT.test(s);
}

export function hasUnsafe(s: string): boolean {
  return UNSAFE.test(s);
}

/** `UNSAFE` for one UTF-16 code unit, for tokenizers that look at every character anyway. */
export function isUnsafeCode(c: number): boolean {
  return (
    (c < 32 && c !== 9) ||
    (c >= 127 && c <= 159) ||
    c === 0x61c ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069) ||
    c === 0xfeff
  );
}

/** Make controls visible and inert: ESC → `\x1b`, U+202E → `\u202e`. Printable text is unchanged. */
export function neutralise(s: string): string {
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE_G, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Clean a field taken from untrusted output: neutralise controls (warning `control-characters`) and cut it at
 * FIELD_LIMIT (warning `field-too-long`). `line`/`column` locate the field for the diagnostic.
 */
export function field(s: string, diags: Diagnostics, line: number, column: number): string {
  let v = s;
  if (UNSAFE.test(v)) {
    v = neutralise(v);
    diags.warn(
      'control-characters',
      line,
      column,
      'terminal control or bidi characters in a field were made visible (e.g. \\x1b, \\u202e)',
    );
  }
  if (v.length > FIELD_LIMIT) {
    diags.warn('field-too-long', line, column, `a field of ${v.length} characters was cut to ${FIELD_LIMIT}`);
    v = v.slice(0, FIELD_LIMIT);
  }
  return v;
}

/**
 * Last line of defence: neutralise every string (and key) of a parsed value in place. Parsers call `field` where
 * they know the position; this catches what they did not, with one warning without a precise position.
 */
export function neutraliseDeep<T>(value: T, diags: Diagnostics): T {
  let changed = false;
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') {
      if (!UNSAFE.test(x)) return x;
      changed = true;
      return neutralise(x);
    }
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) x[i] = walk(x[i]);
      return x;
    }
    if (x !== null && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const v = walk(o[k]);
        if (UNSAFE.test(k)) {
          changed = true;
          delete o[k];
          o[neutralise(k)] = v;
        } else o[k] = v;
      }
    }
    return x;
  };
  const out = walk(value) as T;
  if (changed)
    diags.warn(
      'control-characters',
      1,
      1,
      'terminal control or bidi characters in the output were made visible',
    );
  return out;
}

/**
 * Strip colour sequences (SGR, `ESC [ … m`: `ls --color`, `ip -c`, `grep --color`) before column work. Any other
 * escape (window titles, cursor moves, OSC 8 links) is left in place to be neutralised: visible, so a user sees
 * that the output carried one.
 */
const ANSI = /\u001b\[[0-9;:]*m/g;
export function stripAnsi(s: string): string {
  return s.indexOf('\u001b') < 0 ? s : s.replace(ANSI, '');
}

export interface Segment {
  /** 0-based start column. */
  start: number;
  text: string;
}

/**
 * Cells of a column-aligned line: runs of text separated by two or more spaces (kubectl's tabwriter pads with
 * at least three, so a single space belongs to the cell: `NOMINATED NODE`, `2 (3h ago)`). Tabs count as a gap.
 */
export function segments(line: string): Segment[] {
  const out: Segment[] = [];
  const len = line.length;
  let i = 0;
  while (i < len) {
    while (i < len && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i >= len) break;
    const start = i;
    let end = i;
    while (i < len) {
      const c = line.charCodeAt(i);
      if (c === 9) break;
      if (c === 32) {
        const next = line.charCodeAt(i + 1);
        if (i + 1 >= len || next === 32 || next === 9) break;
      } else end = i + 1;
      i++;
    }
    out.push({ start, text: line.slice(start, end) });
  }
  return out;
}

/** Whitespace-separated words with their 0-based columns. */
export function words(line: string): Segment[] {
  const out: Segment[] = [];
  const len = line.length;
  let i = 0;
  while (i < len) {
    while (i < len && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i >= len) break;
    const start = i;
    while (i < len && line.charCodeAt(i) !== 32 && line.charCodeAt(i) !== 9) i++;
    out.push({ start, text: line.slice(start, i) });
  }
  return out;
}

/** A decimal integer, or null. */
export function int(s: string | undefined): number | null {
  if (s === undefined || !/^-?\d{1,15}$/.test(s)) return null;
  return Number(s);
}

export function isBlank(s: string): boolean {
  return s.trim() === '';
}
