import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateAssertion, parseAssertion, type Assertion } from '../../src/labs/assertions.js';
import { parseLab } from '../../src/labs/loadLab.js';
import {
  analyzeRegex,
  boundedRegexTest,
  regexInputMax,
  RegexRefused,
  unsafeRegexReason,
} from '../../src/labs/regexSafety.js';

function assertion(type: string, body: string): Assertion {
  const r = parseAssertion(type, body);
  if (!r.ok) throw new Error(r.error);
  return r.assertion;
}

describe('lab regular expressions are bounded', () => {
  it.each([
    ['(a+)+$', 1],
    ['^(\\w*\\s?)*$', 2],
    ['((ab)*c)+', 1],
    ['(?:x|y+){2,}', 1],
    ['(?<word>\\w+){3,5}z', 1],
    ['(a{1,9})*', 1],
  ])('refuses the nested quantifier in %s, naming the group', (pattern, column) => {
    expect(unsafeRegexReason(pattern)).toMatch(
      new RegExp(
        `^the group at column ${column} is repeated and holds a repeated part \\(a nested quantifier`,
      ),
    );
  });

  it('refuses a repeated backreference and an over-long pattern', () => {
    expect(unsafeRegexReason('(a)\\1*')).toMatch(/a backreference is repeated/);
    expect(unsafeRegexReason('(?<q>a)\\k<q>+')).toMatch(/a backreference is repeated/);
    expect(unsafeRegexReason('a'.repeat(1001))).toBe('the pattern is 1001 characters; at most 1000');
  });

  it.each([
    '^kuard-',
    '^nameserver',
    '(a|b)+',
    '\\d+(\\.\\d+)?',
    '[(+*)]+',
    '(a+)?',
    '(ab){3}',
    '(a+){1}',
    '^KUBE-SEP-[A-Z0-9]{16}$',
    '\\(x+\\)+',
    '(?:-A|-I) KUBE-SVC-\\w+',
  ])('lets a pattern of star height one through: %s', (pattern) => {
    expect(unsafeRegexReason(pattern)).toBeUndefined();
  });

  it('never throws on any pattern that compiles', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (p) => {
        try {
          new RegExp(p);
        } catch {
          return;
        }
        const why = unsafeRegexReason(p);
        expect(why === undefined || typeof why === 'string').toBe(true);
      }),
    );
  });

  it('a literal catastrophic pattern is a validation error with the reason', () => {
    const r = parseAssertion('some', 'lines where it ~ "(a+)+$"');
    expect(r).toMatchObject({ ok: false });
    expect(r.ok ? '' : r.error).toMatch(
      /regular expression "\(a\+\)\+\$" refused: the group at column 1 is repeated/,
    );
    const lab = parseLab(
      [
        '---',
        'id: t',
        'title: T',
        'summary: S',
        'estimatedTime: 1m',
        'roles: {w: {description: w}}',
        '---',
        '## S',
        '',
        '```yaml {checks}',
        '- id: c',
        '  assert: [{that: "pods[0].name ~ (x*)*y"}]',
        '```',
      ].join('\n'),
    );
    expect(lab.errors.map((e) => e.message).join('\n')).toMatch(/refused: the group at column 1 is repeated/);
  });

  it('a catastrophic pattern that arrives through a variable fails the assertion instead of hanging', () => {
    // Without the guard, /(a+)+$/ on 40 "a"s and a "!" backtracks about 2^40 times.
    const a = assertion('some', 'lines where it ~ {{pattern}}');
    const r = evaluateAssertion(a, {
      state: { pattern: '(a+)+$', lines: [`${'a'.repeat(40)}!`] },
      findings: [],
    });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/regular expression "\(a\+\)\+\$" refused: the group at column 1/);
  });

  it('alternatives in a repeated group, and three or more unbounded quantifiers, run under a time limit', () => {
    expect(analyzeRegex('(foo|bar)+').needsTimeLimit).toBe(true);
    expect(analyzeRegex('((a|b)c)*').needsTimeLimit).toBe(true);
    expect(analyzeRegex('.*a.*b.*c').needsTimeLimit).toBe(true);
    expect(analyzeRegex('^kuard-').needsTimeLimit).toBe(false);
    expect(analyzeRegex('a|b+').needsTimeLimit).toBe(false);
    expect(analyzeRegex('^\\S+\\s+\\d$').needsTimeLimit).toBe(false);
    // Counted, not analysed: three unbounded quantifiers go under the limit even when the classes are disjoint.
    expect(analyzeRegex('^\\S+\\s+\\S+$').needsTimeLimit).toBe(true);
    // They still answer normally when they are quick.
    expect(boundedRegexTest('^(foo|bar)+$', 'foobarfoo')).toBe(true);
    expect(boundedRegexTest('^(foo|bar)+$', 'foobaz')).toBe(false);
    expect(boundedRegexTest('.*a.*b.*c', 'xaybzc')).toBe(true);
  });

  it('a repeated group with overlapping alternatives is stopped by the time limit and says why', () => {
    // (a|a)*$ on 30 "a"s and a "!" would backtrack about 2^30 times; the vm interrupts it at the limit.
    let err: unknown;
    try {
      boundedRegexTest('(a|a)*$', `${'a'.repeat(30)}!`, 50);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegexRefused);
    expect((err as Error).message).toMatch(
      /^regular expression "\(a\|a\)\*\$" was stopped after 50 ms on a value of 31 characters; its alternatives/,
    );
    // The context is reusable after an interrupted match.
    expect(boundedRegexTest('(x|y)+', 'xy')).toBe(true);
  });

  it('a value longer than the bound fails saying so; a shorter one is matched', () => {
    const a = assertion('that', 'out.text ~ ready');
    const long = evaluateAssertion(a, {
      state: { out: { text: `${'x'.repeat(regexInputMax)}ready` } },
      findings: [],
    });
    expect(long).toMatchObject({ ok: false });
    expect(long.message).toContain(`~ matches at most ${regexInputMax}`);
    expect(evaluateAssertion(a, { state: { out: { text: 'all ready' } }, findings: [] }).ok).toBe(true);
    expect(() => boundedRegexTest('(', 'x')).toThrow(RegexRefused);
    expect(boundedRegexTest('^kuard-', 'kuard-dbdd7955d-4kdbr')).toBe(true);
  });
});
