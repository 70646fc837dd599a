#!/usr/bin/env node
// The `labdeck` command. Runs the built CLI (dist/cli.js); from a source checkout, `npm run build` makes it.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('labdeck: dist/cli.js is missing; run `npm run build` in the LabDeck folder first.\n');
  process.exit(2);
}
await import(built.href);
