// Lint is where the house rules live (CONVENTIONS.md): the "may import" column of ARCHITECTURE.md is the
// `import-x/no-restricted-paths` zones below, so a wrong import fails CI instead of relying on memory.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const rooms = [
  'model',
  'parse',
  'analyze',
  'labs',
  'ssh',
  'terminal',
  'targets',
  'kube',
  'api',
  'host',
  'cli',
  'sandbox',
];
/** room → the rooms it may import (besides itself). */
const mayImport = {
  model: [],
  parse: ['model'],
  analyze: ['model'],
  labs: ['model', 'parse', 'analyze'],
  ssh: [],
  terminal: ['ssh'],
  targets: ['ssh', 'terminal'],
  // parse: its pure API-object mapping (kube-map.ts), so the live API and `kubectl -o json` give the same JSON.
  kube: ['model', 'parse', 'ssh'],
  sandbox: ['model'],
  api: ['model', 'parse', 'analyze', 'labs', 'ssh', 'terminal', 'targets', 'kube', 'sandbox'],
  cli: ['model', 'parse', 'analyze', 'labs', 'ssh', 'terminal', 'targets', 'kube', 'sandbox', 'api'],
};
const zones = [];
for (const [room, allowed] of Object.entries(mayImport)) {
  for (const other of rooms) {
    if (other === room || allowed.includes(other)) continue;
    zones.push({
      target: `./src/${room}`,
      from: `./src/${other}`,
      message: `src/${room} may import only ${allowed.length ? allowed.join(', ') : 'nothing of ours'} (ARCHITECTURE.md).`,
    });
  }
}
// Hosts import the API only; neither host imports the other.
for (const other of rooms.filter((r) => r !== 'api' && r !== 'host')) {
  zones.push({
    target: './src/host',
    from: `./src/${other}`,
    message: 'src/host/* may import only src/api.',
  });
}
zones.push({
  target: './src/host/web',
  from: './src/host/electron',
  message: 'The web host must not know Electron.',
});
zones.push({
  target: './src/host/electron',
  from: './src/host/web',
  message: 'Hosts are independent transports.',
});
// The renderer sees the backend only through the API contract's types.
zones.push({
  target: './renderer',
  from: './src',
  except: ['./api/contract.ts', './api/protocol.ts', './api/safety.ts'],
  message:
    'The renderer imports only src/api/contract.ts (types), src/api/protocol.ts and src/api/safety.ts.',
});

const nodeBuiltins = [
  'fs',
  'child_process',
  'net',
  'os',
  'path',
  'http',
  'https',
  'tls',
  'crypto',
  'process',
  'worker_threads',
  'dgram',
  'cluster',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'build/**',
      '.cache/**',
      'test/fixtures/**',
      'coverage/**',
      'labs/**/recordings/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    // Resolve imports as TypeScript does (`./x.js` names `./x.ts`). no-restricted-paths skips an import it cannot
    // resolve, so without this resolver the room rules above never fired.
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })] },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/naming-convention': [
        'error',
        { selector: 'typeLike', format: ['PascalCase'] },
        { selector: 'function', format: ['camelCase', 'PascalCase'] },
      ],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only src/host/electron/ imports electron.' }] },
      ],
    },
  },
  {
    files: ['src/host/electron/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The renderer has no Electron or Node access.' },
            { name: 'node-pty', message: 'The renderer has no Node access.' },
            { name: 'ssh2', message: 'The renderer has no Node access.' },
            ...nodeBuiltins.flatMap((m) => [
              { name: m, message: 'The renderer has no Node access.' },
              { name: `node:${m}`, message: 'The renderer has no Node access.' },
            ]),
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
      },
    },
  },
  {
    // CommonJS files (loaded with `node --require`): require is how they import.
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', setImmediate: 'readonly', Response: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
