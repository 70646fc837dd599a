/**
 * The two readings of a rule in ruleFacts.ts agree: analysis reads the iptables-save parser's structured rule
 * (`factsOfRule`) when it has one and the exact line (`readRule`) otherwise, so on every rule of the dumps under
 * test/fixtures/iptables-save/ (captured here with iptables v1.8.9, and the seed's excerpts) both give the same
 * facts. One known difference: the parser keeps negations only of the options it models (`-s`, `-d`, `-p`, `-i`,
 * `-o`, `--dport`, `--sport`, `-f`), so `! --mark` / `! --ctstate` are compared without.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { factsOfRule, readRule, type RuleFacts } from '../../src/analyze/ruleFacts.js';
import { parseIptablesSave } from '../../src/parse/iptables-save.js';

const dir = 'test/fixtures/iptables-save';
const dumps = readdirSync(dir).filter((f) => f.endsWith('.txt'));
const modelled = new Set(['-s', '-d', '-p', '-i', '-o', '--dport', '--sport', '-f']);
const comparable = (f: RuleFacts): RuleFacts => ({ ...f, negated: f.negated.filter((n) => modelled.has(n)) });

describe('factsOfRule reads a parsed rule as readRule reads its line', () => {
  it.each(dumps)('%s', (file) => {
    const { value } = parseIptablesSave(readFileSync(join(dir, file), 'utf8'));
    let rules = 0;
    for (const table of Object.values(value.tables))
      for (const [chain, c] of Object.entries(table.chains))
        for (const rule of c.rules) {
          rules++;
          expect(comparable(factsOfRule(rule, chain)), rule.raw).toEqual(
            comparable(readRule(rule.raw, chain)),
          );
        }
    expect(rules).toBeGreaterThan(0);
  });
});
