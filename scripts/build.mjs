#!/usr/bin/env node
// Builds what runs, into dist/: the Node side with esbuild (one file per entry, node_modules left external),
// the Electron main and its sandboxed preload as CommonJS (a sandboxed preload cannot load ES modules), then the
// renderer with Vite.
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

await Promise.all([
  build({
    ...common,
    packages: 'external',
    format: 'esm',
    outdir: 'dist',
    entryPoints: { cli: 'src/cli/run.ts', web: 'src/host/web/main.ts' },
  }),
  build({
    ...common,
    packages: 'external',
    format: 'cjs',
    outfile: 'dist/electron/main.cjs',
    entryPoints: ['src/host/electron/main.ts'],
  }),
  build({
    ...common,
    external: ['electron'],
    format: 'cjs',
    outfile: 'dist/electron/preload.cjs',
    entryPoints: ['src/host/electron/preload.ts'],
  }),
]);
await viteBuild({ logLevel: 'warn' });
