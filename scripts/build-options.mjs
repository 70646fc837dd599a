// esbuild options of the Node-side builds, shared by scripts/build.mjs and the tests that load a bundle.
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

/** The CLI and the web host: ES modules, node_modules left external. */
export const nodeOptions = {
  ...common,
  packages: 'external',
  format: 'esm',
  outdir: 'dist',
  entryPoints: { cli: 'src/cli/run.ts', web: 'src/host/web/main.ts' },
};

/**
 * The Electron main process, as CommonJS. CommonJS has no import.meta: code shared with the ES-module builds
 * (src/api/paths.ts) gets the bundle's own URL instead.
 */
export function electronMainOptions(outfile = 'dist/electron/main.cjs') {
  return {
    ...common,
    packages: 'external',
    format: 'cjs',
    define: { 'import.meta.url': '__labdeckImportMetaUrl' },
    banner: {
      js: `"use strict";\nconst __labdeckImportMetaUrl = require('node:url').pathToFileURL(__filename).href;`,
    },
    outfile,
    entryPoints: ['src/host/electron/main.ts'],
  };
}

/** The sandboxed preload: CommonJS, since a sandboxed preload cannot load ES modules. */
export const preloadOptions = {
  ...common,
  external: ['electron'],
  format: 'cjs',
  outfile: 'dist/electron/preload.cjs',
  entryPoints: ['src/host/electron/preload.ts'],
};
