/**
 * Guards for the regular expressions labs write after `~` / `!~` (docs/labs.md, "Regular expressions"). A lab is
 * untrusted input and JavaScript's backtracking engine can take exponential time on a pattern such as `(a+)+$`
 * (https://owasp.org/www-community/attacks/Regular_expression_Denial_of_Service_-_ReDoS), so:
 *
 * - a pattern with a repeated group that itself holds a repeated part (star height above one: `(a+)+`,
 *   `(\w*\s?)*`, `((ab)*c)+`) or a repeated backreference (`(a)\1*`) is refused, at validation for literal
 *   patterns and at run time for patterns that come from `{{variables}}` or `@fields`;
 * - a pattern is at most `regexPatternMax` characters, and it runs on at most `regexInputMax` characters: a longer
 *   value fails the comparison saying so, rather than being matched in part.
 *
 * What remains is polynomial backtracking from several adjacent unbounded quantifiers over the same characters
 * (`.*.*.*x`), which the input bound keeps to a moment for the usual two; not detected.
 */
export const regexPatternMax = 1000;
export const regexInputMax = 16_384;

/** Why a pattern is refused, or undefined when it may run. Assumes the pattern compiles. */
export function unsafeRegexReason(pattern: string): string | undefined {
  if (pattern.length > regexPatternMax)
    return `the pattern is ${pattern.length} characters; at most ${regexPatternMax}`;
  /** An open group: whether anything inside it repeats, and where it starts. */
  const stack: { repeats: boolean; start: number }[] = [{ repeats: false, start: 0 }];
  type Atom = { kind: 'group'; repeats: boolean; start: number } | { kind: 'backref' } | { kind: 'other' };
  let last: Atom | undefined;
  let i = 0;
  const top = (): { repeats: boolean } => stack[stack.length - 1] as { repeats: boolean };
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
      stack.push({ repeats: false, start: i });
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
      const f = stack.length > 1 ? (stack.pop() as { repeats: boolean; start: number }) : undefined;
      if (f) {
        if (f.repeats) top().repeats = true;
        last = { kind: 'group', repeats: f.repeats, start: f.start };
      }
      i++;
      continue;
    }
    const q = /^(?:[*+?]|\{(\d+)(,(\d*))?\})/.exec(pattern.slice(i));
    if (q) {
      const repeating =
        q[0] === '*' ||
        q[0] === '+' ||
        (q[2] !== undefined && (q[3] === '' || Number(q[3]) > 1)) ||
        (q[1] !== undefined && q[2] === undefined && Number(q[1]) > 1);
      i += q[0].length;
      if (pattern[i] === '?') i++;
      if (repeating) {
        if (last?.kind === 'group' && last.repeats)
          return `the group at column ${last.start + 1} is repeated and holds a repeated part (a nested quantifier, like (a+)+), which can take exponential time; repeat only the inner part, e.g. (a+)+ → a+, or make the inner part exact`;
        if (last?.kind === 'backref')
          return 'a backreference is repeated, which can take exponential time; match the repeated text another way';
        top().repeats = true;
      }
      last = { kind: 'other' };
      continue;
    }
    last = { kind: 'other' };
    i++;
  }
  return undefined;
}

export class RegexRefused extends Error {
  override name = 'RegexRefused';
}

/**
 * `re.test(text)` within the bounds above; throws RegexRefused (with what to do) for an unsafe or invalid
 * pattern or a too long input.
 */
export function boundedRegexTest(pattern: string, text: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new RegexRefused(`"${pattern}" is not a valid regular expression: ${(e as Error).message}`);
  }
  const why = unsafeRegexReason(pattern);
  if (why) throw new RegexRefused(`regular expression "${pattern}" refused: ${why}`);
  if (text.length > regexInputMax)
    throw new RegexRefused(
      `the value is ${text.length} characters; ~ matches at most ${regexInputMax} (point the path at a smaller field, or parse the output into lines)`,
    );
  return re.test(text);
}
