#!/usr/bin/env node
// Builds what runs: the Node side with esbuild (one file per entry, node_modules left external), then the
// renderer with Vite. Output goes to dist/.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
};

await build({ ...common, entryPoints: { cli: 'src/cli/run.ts' }, outdir: 'dist', format: 'esm' });
