#!/usr/bin/env node
// Builds what runs, into dist/: the Node side with esbuild (one file per entry, node_modules left external),
// the Electron main and its sandboxed preload as CommonJS (a sandboxed preload cannot load ES modules), then the
// renderer with Vite.
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';
import { electronMainOptions, nodeOptions, preloadOptions } from './build-options.mjs';

await Promise.all([build(nodeOptions), build(electronMainOptions()), build(preloadOptions)]);
await viteBuild({ logLevel: 'warn' });
