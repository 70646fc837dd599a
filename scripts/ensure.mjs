#!/usr/bin/env node
// Brings a fresh checkout up to what `npm start` or `npm test` needs, using only Node's built-ins
// (it runs before node_modules exists). Usage: node scripts/ensure.mjs start|test
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const purpose = process.argv[2] ?? 'start';

function run(cmd, args) {
  process.stderr.write(`ensure: ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
  });
}

function ensureSystemPackages() {
  if (process.platform !== 'linux') {
    process.stderr.write(
      'ensure: the integration and end-to-end tests need Linux (network namespaces, sshd, iptables).\n',
    );
    process.exit(1);
  }
  const lines = readFileSync(path.join(root, 'scripts/system-packages.txt'), 'utf8').split('\n');
  const missing = [];
  for (const line of lines) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [file, pkg] = line.trim().split(/\s+/);
    if (!existsSync(file)) missing.push(pkg);
  }
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    process.stderr.write(
      `ensure: missing system packages: ${missing.join(' ')}\n` +
        `        install them with: sudo apt-get install -y ${missing.join(' ')}\n`,
    );
    process.exit(1);
  }
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

function ensureNodeModules() {
  const marker = path.join(root, 'node_modules/.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

if (purpose === 'test') ensureSystemPackages();
ensureNodeModules();
