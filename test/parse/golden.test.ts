// Golden files (CONVENTIONS.md "Parsers"): every test/fixtures/<kind>/<case>.txt is parsed as <kind> (with the
// command line from <case>.meta.json) and compared with <case>.expected.json. UPDATE_GOLDEN=1 rewrites the
// expectations; review them as a diff.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic, ParseResult } from '../../src/model/diagnostic.js';
import type { Transcript } from '../../src/model/transcript.js';
import { detect } from '../../src/parse/detect.js';
import { parseKinds, type ParseKind } from '../../src/parse/kinds.js';
import { parse } from '../../src/parse/parse.js';

const root = new URL('../fixtures/', import.meta.url).pathname;
const update = process.env.UPDATE_GOLDEN === '1';

interface Meta {
  origin: string;
  command?: string;
  note?: string;
  /** false when the text alone is ambiguous and only the command picks the kind. */
  detect?: boolean;
}

function allErrors(r: ParseResult): Diagnostic[] {
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  if (r.kind === 'transcript')
    for (const e of (r.value as Transcript).entries) errs.push(...allErrors(e.output));
  return errs;
}

// Other rooms keep fixtures here too (ssh, labs-broken, …); a folder of golden parse cases is one whose files
// carry a `.meta.json` note, and its name must then be a parse kind.
const kinds = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(join(root, d.name)).some((f) => f.endsWith('.meta.json')))
  .map((d) => d.name);

it('golden fixture folders are parse kinds', () => {
  for (const k of kinds) expect(parseKinds).toContain(k);
});

for (const kind of kinds) {
  describe(`golden ${kind}`, () => {
    const cases = readdirSync(join(root, kind)).filter((f) => f.endsWith('.txt'));
    for (const file of cases) {
      const name = file.slice(0, -4);
      it(name, () => {
        const text = readFileSync(join(root, kind, file), 'utf8');
        const metaPath = join(root, kind, `${name}.meta.json`);
        expect(existsSync(metaPath), `${name}.meta.json says where the fixture came from`).toBe(true);
        const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Meta;
        expect(meta.origin.length).toBeGreaterThan(10);
        const result = parse({
          text,
          as: kind as ParseKind,
          ...(meta.command ? { command: meta.command } : {}),
        });
        const json = JSON.stringify(result, null, 2) + '\n';
        const expectedPath = join(root, kind, `${name}.expected.json`);
        if (update) writeFileSync(expectedPath, json);
        expect(existsSync(expectedPath), `${name}.expected.json exists (UPDATE_GOLDEN=1 writes it)`).toBe(
          true,
        );
        expect(json).toBe(readFileSync(expectedPath, 'utf8'));
        if (meta.origin.startsWith('seed') || meta.origin.startsWith('captured'))
          expect(allErrors(result), 'real output parses without error diagnostics').toEqual([]);
        if (meta.detect !== false)
          expect(detect({ text, ...(meta.command ? { command: meta.command } : {}) }).kind).toBe(kind);
      });
    }
  });
}
