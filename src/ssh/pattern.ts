/**
 * OpenSSH pattern lists, as used by `Host` lines in ssh_config and host fields in known_hosts
 * (ssh_config(5) PATTERNS; OpenSSH match.c `match_pattern` / `match_pattern_list`):
 * `*` is any run of characters, `?` exactly one, a leading `!` negates, and a matching negated
 * entry wins over every positive one. Host names compare case-insensitively.
 *
 * Written here rather than using ssh-config's `glob` because that one treats `?` as "zero or one".
 */
export function matchPattern(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  // Iterative wildcard match with single-star backtracking: linear in practice, no regex built from input.
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star !== -1) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** 1: a positive entry matched and no negated one; -1: a negated entry matched; 0: nothing matched. */
export function matchPatternList(patterns: readonly string[], text: string): -1 | 0 | 1 {
  let result: 0 | 1 = 0;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!matchPattern(pattern, text)) continue;
    if (negated) return -1;
    result = 1;
  }
  return result;
}
