#!/usr/bin/env node
// `npm start`: the Electron app where its binary is installed; otherwise the web host, whose URL it prints.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const pathFile = path.join(dir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
const extra = process.argv.slice(2);
let child;
if (binary) {
  console.log('LabDeck: starting the Electron app.');
  child = spawn(binary, [root, ...extra], { stdio: 'inherit' });
} else {
  console.log('LabDeck: the Electron binary is not installed here, so starting the web host instead.');
  child = spawn(process.execPath, [path.join(root, 'dist/web.js'), '--open', ...extra], { stdio: 'inherit' });
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
