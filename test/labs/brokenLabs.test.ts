import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, loadLabDir } from '../../src/labs/loadLab.js';

const root = join(import.meta.dirname, 'fixtures/labs-broken');
const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('broken labs give every problem with its path and advice', () => {
  it('has fixtures', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });
  for (const name of cases) {
    it(name, () => {
      const expected = JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8')) as {
        errors: string[];
        warnings?: string[];
      };
      const r = loadLabDir(join(root, name));
      expect(r.lab).toBeUndefined();
      const errors = r.errors.map(formatProblem);
      // Each expected message appears, in order, and nothing else is reported.
      expect(errors).toHaveLength(expected.errors.length);
      expected.errors.forEach((want, i) => expect(errors[i]).toContain(want));
      for (const e of r.errors) expect(e.path.length).toBeGreaterThan(0);
      if (expected.warnings) {
        const warnings = r.warnings.map(formatProblem);
        for (const w of expected.warnings) expect(warnings.some((x) => x.includes(w))).toBe(true);
      }
    });
  }
});
