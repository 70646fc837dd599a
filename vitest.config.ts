import { defineConfig } from 'vitest/config';

// Three projects, one per layer of the test pyramid (CONVENTIONS.md):
//   unit        test/**/*.test.ts   pure and fast, mostly golden files
//   integration test/**/*.itest.ts  real sshd, iptables, network namespaces (needs root on Linux)
//   e2e         test/**/*.e2e.ts    the renderer in Debian's Chromium through the web host
export default defineConfig({
  cacheDir: '.cache/vite',
  test: {
    allowOnly: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], environment: 'node', testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.itest.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
