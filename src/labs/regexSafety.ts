import { createContext, Script, type Context } from 'node:vm';

/**
 * Guards for the regular expressions labs write after `~` / `!~` (docs/labs.md, "Regular expressions"). A lab is
 * untrusted input and JavaScript's backtracking engine can take exponential time on a pattern such as `(a+)+$`
 * (https://owasp.org/www-community/attacks/Regular_expression_Denial_of_Service_-_ReDoS). Exponential
 * backtracking needs ambiguity inside a repetition: a repeated part inside a repeated group (star height above
 * one), or alternatives inside a repeated group that can match the same text (`(a|a)*`, `(.|\s)*`). So:
 *
 * - a repeated group that holds a repeated part (`(a+)+`, `(\w*\s?)*`, `((ab)*c)+`) or a repeated backreference
 *   (`(a)\1*`) is refused, at validation for literal patterns and at run time for patterns that come from
 *   `{{variables}}` or `@fields`;
 * - a pattern is at most `regexPatternMax` characters, and it runs on at most `regexInputMax` characters: a longer
 *   value fails the comparison saying so, rather than being matched in part;
 * - a pattern the first rule lets through but that may still backtrack badly (alternatives inside a repeated
 *   group, whose overlap is not decided here, or three or more unbounded quantifiers, which can backtrack
 *   polynomially: `.*.*.*x`) runs in a `node:vm` context with a time limit of `regexTimeLimitMs`, which V8 can
 *   interrupt inside a match. Every other pattern runs directly (the vm path costs about 0.07 ms a match: bench/lab-regex.ts).
 */
const regexPatternMax = 1000;
export const regexInputMax = 16_384;
const regexTimeLimitMs = 500;

export interface RegexAnalysis {
  /** Why the pattern is refused, if it is. */
  readonly refused?: string;
  /** The pattern may still backtrack badly: it runs under a time limit. */
  readonly needsTimeLimit: boolean;
}

interface Frame {
  repeats: boolean;
  alternation: boolean;
  readonly start: number;
}

/** Reads a pattern's structure (groups, quantifiers, alternation). Assumes the pattern compiles. */
export function analyzeRegex(pattern: string): RegexAnalysis {
  if (pattern.length > regexPatternMax)
    return {
      refused: `the pattern is ${pattern.length} characters; at most ${regexPatternMax}`,
      needsTimeLimit: true,
    };
  const stack: Frame[] = [{ repeats: false, alternation: false, start: 0 }];
  type Atom =
    | { kind: 'group'; repeats: boolean; alternation: boolean; start: number }
    | { kind: 'backref' }
    | { kind: 'other' };
  let last: Atom | undefined;
  let unbounded = 0;
  let repeatedAlternation = false;
  let i = 0;
  const top = (): Frame => stack[stack.length - 1] as Frame;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const d = pattern[i + 1] ?? '';
      if (/[1-9]/.test(d)) {
        last = { kind: 'backref' };
        i += 2;
        while (/\d/.test(pattern[i] ?? '')) i++;
      } else if (d === 'k' && pattern[i + 2] === '<') {
        last = { kind: 'backref' };
        const close = pattern.indexOf('>', i);
        i = close < 0 ? pattern.length : close + 1;
      } else {
        last = { kind: 'other' };
        i += 2;
      }
      continue;
    }
    if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      last = { kind: 'other' };
      continue;
    }
    if (c === '(') {
      stack.push({ repeats: false, alternation: false, start: i });
      i++;
      if (pattern[i] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(pattern.slice(i));
        i += m ? m[0].length : 1;
      }
      last = undefined;
      continue;
    }
    if (c === ')') {
      const f = stack.length > 1 ? stack.pop() : undefined;
      if (f) {
        // What is inside a group is inside whatever encloses it.
        if (f.repeats) top().repeats = true;
        if (f.alternation) top().alternation = true;
        last = { kind: 'group', repeats: f.repeats, alternation: f.alternation, start: f.start };
      }
      i++;
      continue;
    }
    if (c === '|') {
      top().alternation = true;
      last = undefined;
      i++;
      continue;
    }
    const q = /^(?:[*+?]|\{(\d+)(,(\d*))?\})/.exec(pattern.slice(i));
    if (q) {
      const open = q[0] === '*' || q[0] === '+' || (q[2] !== undefined && q[3] === '');
      const repeating =
        open ||
        (q[2] !== undefined && Number(q[3]) > 1) ||
        (q[1] !== undefined && q[2] === undefined && Number(q[1]) > 1);
      i += q[0].length;
      if (pattern[i] === '?') i++;
      if (open) unbounded++;
      if (repeating) {
        if (last?.kind === 'group' && last.repeats)
          return {
            refused: `the group at column ${last.start + 1} is repeated and holds a repeated part (a nested quantifier, like (a+)+), which can take exponential time; repeat only the inner part, e.g. (a+)+ → a+, or make the inner part exact`,
            needsTimeLimit: true,
          };
        if (last?.kind === 'backref')
          return {
            refused:
              'a backreference is repeated, which can take exponential time; match the repeated text another way',
            needsTimeLimit: true,
          };
        if (last?.kind === 'group' && last.alternation) repeatedAlternation = true;
        top().repeats = true;
      }
      last = { kind: 'other' };
      continue;
    }
    last = { kind: 'other' };
    i++;
  }
  return { needsTimeLimit: repeatedAlternation || unbounded >= 3 };
}

/** Why a pattern is refused, or undefined when it may run. Assumes the pattern compiles. */
export function unsafeRegexReason(pattern: string): string | undefined {
  return analyzeRegex(pattern).refused;
}

export class RegexRefused extends Error {
  override name = 'RegexRefused';
}

/**
 * Runs `re.test(text)` where V8 can interrupt it: one context and one compiled script, made on first use and
 * reused (they hold nothing between calls but the two globals set just before each run).
 */
class TimedRegex {
  private readonly context: Context = createContext(Object.create(null) as object);
  private readonly script = new Script('re.test(text)');
  test(re: RegExp, text: string, limitMs: number): boolean | 'timeout' {
    const g = this.context as { re?: RegExp; text?: string };
    g.re = re;
    g.text = text;
    try {
      return this.script.runInContext(this.context, { timeout: limitMs }) === true;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
      throw e;
    } finally {
      delete g.re;
      delete g.text;
    }
  }
}
let timed: TimedRegex | undefined;

/**
 * `re.test(text)` within the bounds above; throws RegexRefused (with what to do) for an invalid or unsafe
 * pattern, a too long input, or a match that ran out of time.
 */
export function boundedRegexTest(pattern: string, text: string, limitMs = regexTimeLimitMs): boolean {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new RegexRefused(`"${pattern}" is not a valid regular expression: ${(e as Error).message}`);
  }
  const a = analyzeRegex(pattern);
  if (a.refused) throw new RegexRefused(`regular expression "${pattern}" refused: ${a.refused}`);
  if (text.length > regexInputMax)
    throw new RegexRefused(
      `the value is ${text.length} characters; ~ matches at most ${regexInputMax} (point the path at a smaller field, or parse the output into lines)`,
    );
  if (!a.needsTimeLimit) return re.test(text);
  timed ??= new TimedRegex();
  const hit = timed.test(re, text, limitMs);
  if (hit === 'timeout')
    throw new RegexRefused(
      `regular expression "${pattern}" was stopped after ${limitMs} ms on a value of ${text.length} characters; its alternatives or quantifiers can match the same text in too many ways: make the alternatives in a repeated group start differently, or use fewer .* / .+`,
    );
  return hit;
}
