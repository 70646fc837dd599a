/**
 * `node dist/web.js [--port N] [--open]`: the web host. Serves the renderer and the API on 127.0.0.1 and prints
 * the URL with its per-launch token. Runs until interrupted.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBackend } from '../../api/backend.js';
import { packageVersion } from '../../api/paths.js';
import { WebHost } from './web-host.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/

const usage = `usage: node dist/web.js [--port N] [--open] [--renderer-dir DIR]
  --port N            listen on 127.0.0.1:N (default 0: a free port)
  --open              open the URL in the default browser
  --renderer-dir DIR  serve the renderer from DIR (default: dist/renderer next to this file)
`;

function parseOptions(): { port: string; open: boolean; 'renderer-dir': string; help: boolean } {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        open: { type: 'boolean', default: false },
        'renderer-dir': { type: 'string', default: path.join(here, 'renderer') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`labdeck web: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
}

const values = parseOptions();
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(
    `labdeck web: --port ${values.port} is not a port number (0–65535; 0 picks a free one)\n`,
  );
  process.exit(2);
}
const rendererDir = values['renderer-dir'];
if (!existsSync(path.join(rendererDir, 'index.html'))) {
  process.stderr.write(`labdeck web: no built renderer at ${rendererDir}; run \`npm run build\` first\n`);
  process.exit(2);
}

const backend = createBackend({
  host: 'web',
  version: packageVersion(),
  // In the web host the renderer opens links itself (window.open with noopener); nothing opens here.
  openExternal: async () => {
    throw new Error('the web host opens links in the browser, not on the server');
  },
});
const host = new WebHost(backend.api, {
  rendererDir,
  port,
  log: (line) => process.stderr.write(`${line}\n`),
});

try {
  const url = await host.listen();
  process.stdout.write(`LabDeck web host: ${url}\n`);
  process.stdout.write('Open that URL in a browser on this machine. Press Ctrl-C to stop.\n');
  if (values.open) openBrowser(url);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(
    e.code === 'EADDRINUSE'
      ? `labdeck web: port ${port} on 127.0.0.1 is in use; pick another with --port, or 0 for any free port\n`
      : `labdeck web: could not listen: ${e.message}\n`,
  );
  process.exit(1);
}

function openBrowser(url: string): void {
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  host.dispose();
  backend.dispose();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
