import { boundedRegexTest, RegexRefused, unsafeRegexReason } from './regexSafety.js';
import {
  findVariables,
  formatPath,
  itemName,
  parsePath,
  resolvePath,
  substitute,
  UnresolvedVariableError,
  type PathSegment,
} from './variables.js';

/**
 * The assertion language of checks (docs/labs.md, "Assertions"): one line per assertion, over the lab state
 * (captured, parsed command output and the analysed snapshot) and its findings.
 *
 *   count: pods where status=Running and labels.app=kuard == 10
 *   every: endpoints where service=kuard have sepOnEveryNode=true
 *   some: samples where hostname~^kuard-
 *   none: pods where status=CrashLoopBackOff
 *   distinct: hostname of samples >= 3
 *   that: services.kuard.type == LoadBalancer
 *   no-findings: [sep-stale, sep-missing]      (or: no-findings: all)
 */
export type Op = '==' | '!=' | '>' | '>=' | '<' | '<=' | '~' | '!~';

export type Literal =
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'var'; readonly text: string }
  /** `@status.hostIP`: a field of the same item (compare two fields of one pod). */
  | { readonly kind: 'field'; readonly path: readonly PathSegment[] };

export interface Condition {
  readonly path: readonly PathSegment[];
  readonly op?: Op;
  readonly value?: Literal;
  readonly negate: boolean;
}

/** Disjunction of conjunctions: `a and b or c` is `(a and b) or c`. */
export type Expr = readonly (readonly Condition[])[];

export type Assertion =
  | {
      readonly type: 'count';
      readonly source: string;
      readonly coll: readonly PathSegment[];
      readonly where?: Expr;
      readonly op: Op;
      readonly value: Literal;
    }
  | {
      readonly type: 'every';
      readonly source: string;
      readonly coll: readonly PathSegment[];
      readonly where?: Expr;
      readonly have: Expr;
    }
  | {
      readonly type: 'some' | 'none';
      readonly source: string;
      readonly coll: readonly PathSegment[];
      readonly where?: Expr;
    }
  | {
      readonly type: 'distinct';
      readonly source: string;
      readonly field: readonly PathSegment[];
      readonly coll: readonly PathSegment[];
      readonly where?: Expr;
      readonly op: Op;
      readonly value: Literal;
    }
  | {
      readonly type: 'that';
      readonly source: string;
      readonly path: readonly PathSegment[];
      readonly op: Op;
      readonly value: Literal;
    }
  | { readonly type: 'no-findings'; readonly source: string; readonly codes: readonly string[] | 'all' };

export const assertionTypes = ['count', 'every', 'some', 'none', 'distinct', 'that', 'no-findings'] as const;

export type AssertionParse =
  | { readonly ok: true; readonly assertion: Assertion }
  | { readonly ok: false; readonly error: string; readonly advice: string };

type Token =
  { t: 'word'; v: string } | { t: 'op'; v: Op } | { t: 'string'; v: string } | { t: 'var'; v: string };

const keywords = new Set(['where', 'and', 'or', 'not', 'have', 'has', 'of']);

function tokenize(src: string): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('{{', i)) {
      const end = src.indexOf('}}', i);
      if (end < 0) return `unclosed "{{" at column ${i + 1}`;
      out.push({ t: 'var', v: src.slice(i + 2, end).trim() });
      i = end + 2;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '>=', '<=', '!~'].includes(two)) {
      out.push({ t: 'op', v: two as Op });
      i += 2;
      continue;
    }
    if (c === '=' || c === '>' || c === '<' || c === '~') {
      out.push({ t: 'op', v: c === '=' ? '==' : (c as Op) });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) return `unclosed quote at column ${i + 1}`;
      out.push({ t: 'string', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    // A word: a path (with [..] parts, which may hold quoted keys) or a bare literal.
    let j = i;
    while (j < src.length) {
      const d = src[j] as string;
      if (d === '[') {
        const close = src.indexOf(']', j);
        if (close < 0) return `missing "]" after column ${j + 1}`;
        j = close + 1;
        continue;
      }
      if (/\s/.test(d) || '=!<>~'.includes(d) || src.startsWith('{{', j)) break;
      j++;
    }
    if (j === i) return `unexpected "${c}" at column ${i + 1}`;
    out.push({ t: 'word', v: src.slice(i, j) });
    i = j;
  }
  return out;
}

class Cursor {
  i = 0;
  constructor(readonly toks: Token[]) {}
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  isWord(w: string): boolean {
    const t = this.peek();
    return t?.t === 'word' && t.v.toLowerCase() === w;
  }
  next(): Token | undefined {
    return this.toks[this.i++];
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
}

class SyntaxProblem extends Error {}

/** `~` and `!~` take a JavaScript regular expression; a bad one is a validation error, not a silent mismatch. */
function checkRegex(op: Op, value: Literal): void {
  if ((op !== '~' && op !== '!~') || value.kind !== 'literal') return;
  try {
    new RegExp(String(value.value));
  } catch (e) {
    throw new SyntaxProblem(
      `"${String(value.value)}" is not a valid regular expression: ${(e as Error).message}`,
    );
  }
  const unsafe = unsafeRegexReason(String(value.value));
  if (unsafe) throw new SyntaxProblem(`regular expression "${String(value.value)}" refused: ${unsafe}`);
}

function pathOf(tok: Token | undefined, what: string): PathSegment[] {
  if (!tok || tok.t !== 'word' || keywords.has(tok.v.toLowerCase()))
    throw new SyntaxProblem(`expected ${what}${tok ? `, found "${tok.v}"` : ' at the end'}`);
  const p = parsePath(tok.v);
  if (!p.ok) throw new SyntaxProblem(`${what}: ${p.error}`);
  return [...p.segments];
}

function literalOf(tok: Token | undefined): Literal {
  if (!tok) throw new SyntaxProblem('expected a value at the end');
  if (tok.t === 'var') return { kind: 'var', text: tok.v };
  if (tok.t === 'string') return { kind: 'literal', value: tok.v };
  if (tok.t === 'op') throw new SyntaxProblem(`expected a value, found "${tok.v}"`);
  if (tok.v.startsWith('@')) {
    const p = parsePath(tok.v.slice(1));
    if (!p.ok) throw new SyntaxProblem(`field reference ${tok.v}: ${p.error}`);
    return { kind: 'field', path: p.segments };
  }
  if (/^-?\d+(\.\d+)?$/.test(tok.v)) return { kind: 'literal', value: Number(tok.v) };
  if (tok.v === 'true' || tok.v === 'false') return { kind: 'literal', value: tok.v === 'true' };
  if (tok.v === 'null') return { kind: 'literal', value: null };
  return { kind: 'literal', value: tok.v };
}

function parseExpr(c: Cursor, stopAt: readonly string[]): Expr {
  const ors: Condition[][] = [];
  let ands: Condition[] = [];
  for (;;) {
    let negate = false;
    if (c.isWord('not')) {
      c.next();
      negate = true;
    }
    const path = pathOf(c.next(), 'a field name');
    const t = c.peek();
    if (t?.t === 'op') {
      c.next();
      const value = literalOf(c.next());
      checkRegex(t.v, value);
      ands.push({ path, op: t.v, value, negate });
    } else {
      ands.push({ path, negate });
    }
    if (c.isWord('and')) {
      c.next();
      continue;
    }
    if (c.isWord('or')) {
      c.next();
      ors.push(ands);
      ands = [];
      continue;
    }
    const p = c.peek();
    if (!p || stopAt.some((w) => c.isWord(w)) || (p.t === 'op' && stopAt.includes('<op>'))) break;
    throw new SyntaxProblem(
      `expected "and", "or"${stopAt.length ? ` or ${stopAt.map((s) => `"${s}"`).join(', ')}` : ''}, found "${p.v}"`,
    );
  }
  ors.push(ands);
  return ors;
}

/**
 * `count: pods where ready == 10`: the where clause swallowed the final comparison (a bare `ready` is a truthy
 * test). Give it back: the last condition's comparison becomes the count's.
 */
function whereAndCompare(c: Cursor, where: Expr | undefined): { where?: Expr; op: Op; value: Literal } {
  if (!where || !c.done()) return { ...(where ? { where } : {}), ...finalCompare(c, true) };
  const lastAnds = where[where.length - 1] as readonly Condition[];
  const last = lastAnds[lastAnds.length - 1] as Condition;
  const numeric =
    last.value?.kind === 'var' || (last.value?.kind === 'literal' && typeof last.value.value === 'number');
  if (!last.op || !last.value || last.negate || !numeric) return { where, ...finalCompare(c, true) };
  const trimmed: Condition[][] = where.map((a) => [...a]);
  (trimmed[trimmed.length - 1] as Condition[]).splice(-1, 1, { path: last.path, negate: false });
  return { where: trimmed, op: last.op, value: last.value };
}

/** The comparison that ends `count:` and `distinct:`: against a number (or a variable holding one). */
function finalCompare(c: Cursor, numeric = false): { op: Op; value: Literal } {
  const t = c.next();
  if (!t || t.t !== 'op')
    throw new SyntaxProblem(
      `expected a comparison (==, !=, >, >=, <, <=)${t ? `, found "${t.v}"` : ' at the end'}`,
    );
  const value = literalOf(c.next());
  checkRegex(t.v, value);
  if (!c.done()) throw new SyntaxProblem(`unexpected "${c.peek()?.v}" after the value`);
  if (numeric && !(value.kind === 'var' || (value.kind === 'literal' && typeof value.value === 'number')))
    throw new SyntaxProblem(
      `a count is compared with a number, not ${value.kind === 'literal' ? `"${String(value.value)}"` : 'a field'}`,
    );
  return { op: t.v, value };
}

const examples: Record<string, string> = {
  count: 'count: pods where status=Running == 10',
  every: 'every: endpoints where service=kuard have ready=true',
  some: 'some: samples where hostname~^kuard-',
  none: 'none: pods where status=Pending',
  distinct: 'distinct: hostname of samples >= 3',
  that: 'that: services.kuard.type == LoadBalancer',
  'no-findings': 'no-findings: [sep-missing]  or  no-findings: all',
};

/** Parses one assertion given as the YAML pair `type: text`. */
export function parseAssertion(type: string, body: unknown): AssertionParse {
  if (!(assertionTypes as readonly string[]).includes(type))
    return {
      ok: false,
      error: `unknown assertion "${type}"`,
      advice: `use one of: ${assertionTypes.join(', ')}`,
    };
  const advice = `write it like: ${examples[type]}`;
  if (type === 'no-findings') {
    if (body === 'all') return { ok: true, assertion: { type, source: 'no-findings: all', codes: 'all' } };
    if (
      Array.isArray(body) &&
      body.length > 0 &&
      body.every((b) => typeof b === 'string' && /^[a-z0-9-]+$/.test(b))
    )
      return {
        ok: true,
        assertion: { type, source: `no-findings: [${body.join(', ')}]`, codes: body as string[] },
      };
    return { ok: false, error: 'no-findings needs "all" or a list of finding codes (kebab-case)', advice };
  }
  if (typeof body !== 'string' && typeof body !== 'number')
    return { ok: false, error: `${type} needs a one-line text`, advice };
  const source = `${type}: ${body}`;
  const toks = tokenize(String(body));
  if (typeof toks === 'string') return { ok: false, error: toks, advice };
  const c = new Cursor(toks);
  try {
    switch (type) {
      case 'count': {
        const coll = pathOf(c.next(), 'a collection (e.g. pods)');
        let where: Expr | undefined;
        if (c.isWord('where')) {
          c.next();
          where = parseExpr(c, ['<op>']);
        }
        return {
          ok: true,
          assertion: { type, source, coll, ...whereAndCompare(c, where) },
        };
      }
      case 'every': {
        const coll = pathOf(c.next(), 'a collection (e.g. endpoints)');
        let where: Expr | undefined;
        if (c.isWord('where')) {
          c.next();
          where = parseExpr(c, ['have', 'has']);
        }
        if (!c.isWord('have') && !c.isWord('has'))
          throw new SyntaxProblem(
            `expected "have" and a condition${c.peek() ? `, found "${c.peek()?.v}"` : ' at the end'}`,
          );
        c.next();
        const have = parseExpr(c, []);
        return { ok: true, assertion: { type, source, coll, ...(where ? { where } : {}), have } };
      }
      case 'some':
      case 'none': {
        const coll = pathOf(c.next(), 'a collection');
        let where: Expr | undefined;
        if (c.isWord('where')) {
          c.next();
          where = parseExpr(c, []);
        }
        if (!c.done()) throw new SyntaxProblem(`unexpected "${c.peek()?.v}"; did you mean "where"?`);
        return { ok: true, assertion: { type, source, coll, ...(where ? { where } : {}) } };
      }
      case 'distinct': {
        const field = pathOf(c.next(), 'a field name');
        if (!c.isWord('of')) throw new SyntaxProblem('expected "of" after the field');
        c.next();
        const coll = pathOf(c.next(), 'a collection');
        let where: Expr | undefined;
        if (c.isWord('where')) {
          c.next();
          where = parseExpr(c, ['<op>']);
        }
        return {
          ok: true,
          assertion: { type, source, field, coll, ...whereAndCompare(c, where) },
        };
      }
      default: {
        const path = pathOf(c.next(), 'a path (e.g. services.kuard.type)');
        return { ok: true, assertion: { type: 'that', source, path, ...finalCompare(c) } };
      }
    }
  } catch (e) {
    if (e instanceof SyntaxProblem) return { ok: false, error: e.message, advice };
    throw e;
  }
}

/** Variables an assertion uses (to check them at validation time). */
export function assertionVariables(a: Assertion): string[] {
  return findVariables(a.source).map((v) => v.path);
}

export interface Finding {
  readonly code: string;
  readonly message: string;
  readonly severity?: string;
}

export interface AssertionContext {
  /** The lab state: captured values and the snapshot's collections. */
  readonly state: Readonly<Record<string, unknown>>;
  readonly findings: readonly Finding[];
}

export interface AssertionResult {
  readonly ok: boolean;
  /** One line: what was expected and what was found. */
  readonly message: string;
  /** Items or findings that show why (at most 10 lines). */
  readonly evidence: readonly string[];
}

function literalValue(l: Literal, ctx: AssertionContext, item?: unknown): string | number | boolean | null {
  if (l.kind === 'literal') return l.value;
  if (l.kind === 'field') {
    const v = item === undefined ? undefined : fieldOf(item, l.path);
    return v === undefined
      ? null
      : typeof v === 'object'
        ? JSON.stringify(v)
        : (v as string | number | boolean);
  }
  const v = substitute(`{{${l.text}}}`, ctx.state, { shell: false });
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

function compare(actual: unknown, op: Op, expected: string | number | boolean | null): boolean {
  if (op === '~' || op === '!~') {
    // Patterns from variables or fields are checked here too; a refusal fails the assertion saying why.
    const hit = actual !== undefined && actual !== null && boundedRegexTest(String(expected), String(actual));
    return op === '~' ? hit : !hit;
  }
  const an =
    typeof actual === 'number'
      ? actual
      : typeof actual === 'string' && /^-?\d+(\.\d+)?$/.test(actual)
        ? Number(actual)
        : NaN;
  const en =
    typeof expected === 'number'
      ? expected
      : typeof expected === 'string' && /^-?\d+(\.\d+)?$/.test(expected)
        ? Number(expected)
        : NaN;
  const numeric = !Number.isNaN(an) && !Number.isNaN(en);
  const eq = numeric ? an === en : String(actual ?? 'null') === String(expected);
  switch (op) {
    case '==':
      return eq;
    case '!=':
      return !eq;
    case '>':
      return numeric && an > en;
    case '>=':
      return numeric && an >= en;
    case '<':
      return numeric && an < en;
    default:
      return numeric && an <= en;
  }
}

/** `it` names the item itself (for collections of plain values, e.g. lines); anything else is a field path. */
function fieldOf(item: unknown, path: readonly PathSegment[]): unknown {
  if (path[0] === 'it' && (typeof item !== 'object' || item === null || !('it' in item))) {
    const r = resolvePath(item, path.slice(1));
    return r.ok ? r.value : undefined;
  }
  const r = resolvePath(item, path);
  return r.ok ? r.value : undefined;
}

function holds(entry: Entry, expr: Expr, ctx: AssertionContext): boolean {
  const item = entry.value;
  return expr.some((ands) =>
    ands.every((cond) => {
      const v = fieldOf(item, cond.path);
      const hit =
        cond.op && cond.value
          ? compare(v, cond.op, literalValue(cond.value, ctx, item))
          : v !== undefined && v !== null && v !== false && v !== '';
      return cond.negate ? !hit : hit;
    }),
  );
}

function describeItem(entry: Entry, exprs: readonly (Expr | undefined)[]): string {
  const item = entry.value;
  const name = entry.key ?? itemName(item) ?? JSON.stringify(item).slice(0, 60);
  const fields = new Map<string, unknown>();
  for (const e of exprs)
    for (const ands of e ?? []) for (const c of ands) fields.set(formatPath(c.path), fieldOf(item, c.path));
  const parts = [...fields].map(
    ([k, v]) =>
      `${k}=${v === undefined ? '(missing)' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
  );
  return parts.length ? `${name} (${parts.join(', ')})` : name;
}

interface Entry {
  /** The key when the collection is a map (e.g. an instance name for a per-node capture). */
  readonly key?: string;
  readonly value: unknown;
}

function items(ctx: AssertionContext, coll: readonly PathSegment[]): Entry[] {
  const r = resolvePath(ctx.state, coll);
  if (!r.ok) throw new UnresolvedVariableError(formatPath(coll), r.message);
  if (Array.isArray(r.value)) return r.value.map((value) => ({ value }));
  if (r.value !== null && typeof r.value === 'object')
    return Object.entries(r.value).map(([key, value]) => ({ key, value }));
  throw new UnresolvedVariableError(formatPath(coll), `it is ${typeof r.value}, not a collection`);
}

function capped(lines: string[]): string[] {
  return lines.length > 10 ? [...lines.slice(0, 10), `… and ${lines.length - 10} more`] : lines;
}

/** Evaluates one assertion. Never throws: a missing collection or variable is a failed assertion that says so. */
export function evaluateAssertion(a: Assertion, ctx: AssertionContext): AssertionResult {
  try {
    switch (a.type) {
      case 'count': {
        const all = items(ctx, a.coll);
        const hits = a.where ? all.filter((x) => holds(x, a.where as Expr, ctx)) : all;
        const want = literalValue(a.value, ctx);
        const ok = compare(hits.length, a.op, want);
        const rest = all.filter((x) => !hits.includes(x));
        const evidence = ok
          ? []
          : hits.length < Number(want)
            ? rest.map((x) => `not counted: ${describeItem(x, [a.where])}`)
            : hits.map((x) => `counted: ${describeItem(x, [a.where])}`);
        return {
          ok,
          message: `${a.source}: found ${hits.length} of ${all.length}`,
          evidence: capped(evidence),
        };
      }
      case 'every': {
        const all = items(ctx, a.coll);
        const scope = a.where ? all.filter((x) => holds(x, a.where as Expr, ctx)) : all;
        const bad = scope.filter((x) => !holds(x, a.have, ctx));
        const ok = scope.length > 0 && bad.length === 0;
        return {
          ok,
          message:
            scope.length === 0
              ? `${a.source}: there are none to check`
              : `${a.source}: ${bad.length} of ${scope.length} do not`,
          evidence: capped(bad.map((x) => describeItem(x, [a.have]))),
        };
      }
      case 'some':
      case 'none': {
        const all = items(ctx, a.coll);
        const hits = a.where ? all.filter((x) => holds(x, a.where as Expr, ctx)) : all;
        const ok = a.type === 'some' ? hits.length > 0 : hits.length === 0;
        const evidence = ok
          ? []
          : a.type === 'some'
            ? all.map((x) => `does not match: ${describeItem(x, [a.where])}`)
            : hits.map((x) => `matches: ${describeItem(x, [a.where])}`);
        return { ok, message: `${a.source}: ${hits.length} match`, evidence: capped(evidence) };
      }
      case 'distinct': {
        const all = items(ctx, a.coll);
        const scope = a.where ? all.filter((x) => holds(x, a.where as Expr, ctx)) : all;
        const counts = new Map<string, number>();
        for (const x of scope) {
          const v = fieldOf(x.value, a.field);
          if (v !== undefined && v !== null) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
        }
        const ok = compare(counts.size, a.op, literalValue(a.value, ctx));
        return {
          ok,
          message: `${a.source}: ${counts.size} distinct value(s) in ${scope.length}`,
          evidence: ok ? [] : capped([...counts].map(([v, n]) => `${v}: ${n}`)),
        };
      }
      case 'that': {
        const r = resolvePath(ctx.state, a.path);
        if (!r.ok) return { ok: false, message: `${a.source}: ${r.message}`, evidence: [] };
        const ok = compare(r.value, a.op, literalValue(a.value, ctx));
        return { ok, message: `${a.source}: it is ${JSON.stringify(r.value)}`, evidence: [] };
      }
      case 'no-findings': {
        const hits = ctx.findings.filter((f) => a.codes === 'all' || a.codes.includes(f.code));
        return {
          ok: hits.length === 0,
          message: `${a.source}: ${hits.length} finding(s)`,
          evidence: capped(hits.map((f) => `${f.code}: ${f.message}`)),
        };
      }
    }
  } catch (e) {
    if (e instanceof UnresolvedVariableError || e instanceof RegexRefused)
      return { ok: false, message: `${a.source}: ${e.message}`, evidence: [] };
    throw e;
  }
}
