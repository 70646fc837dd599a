import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateAssertion, parseAssertion } from '../../src/labs/assertions.js';
import { parseLab } from '../../src/labs/loadLab.js';
import { parseInventory } from '../../src/labs/inventory.js';
import { substitute, UnresolvedVariableError } from '../../src/labs/variables.js';

// Lab files, inventories and captured values are untrusted: whatever they hold, validation answers with
// problems, never with an exception.
const tgik = readFileSync(
  join(import.meta.dirname, '../../labs/tgik-002-networking-and-services/lab.md'),
  'utf8',
);

describe('untrusted input never crashes the lab engine', () => {
  it('parseLab on arbitrary text and on mutilated copies of a real lab', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const r = parseLab(text);
        expect(r.lab !== undefined || r.errors.length > 0).toBe(true);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: tgik.length }),
        fc.integer({ min: 0, max: 200 }),
        fc.string({ maxLength: 20 }),
        (at, cut, insert) => {
          const r = parseLab(tgik.slice(0, at) + insert + tgik.slice(at + cut));
          for (const e of r.errors) expect(e.path.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('assertions parse or explain, and evaluate without throwing', () => {
    const types = ['count', 'every', 'some', 'none', 'distinct', 'that', 'no-findings', 'other'];
    fc.assert(
      fc.property(
        fc.constantFrom(...types),
        fc.oneof(fc.string({ maxLength: 60 }), fc.anything()),
        fc.anything(),
        (type, body, state) => {
          const p = parseAssertion(type, body);
          if (!p.ok) {
            expect(p.error.length).toBeGreaterThan(0);
            return;
          }
          const r = evaluateAssertion(p.assertion, { state: { x: state }, findings: [] });
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('inventories and variables', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const r = parseInventory(text, '/x/inv.yaml');
        expect('inventory' in r || r.problems.length > 0).toBe(true);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.anything(), (text, state) => {
        try {
          expect(typeof substitute(text, state, { shell: true })).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(UnresolvedVariableError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
