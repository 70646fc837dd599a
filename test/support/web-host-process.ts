import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { ApiClient, type ClientTransport } from '../../renderer/src/api/client.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface RunningWebHost {
  readonly url: string;
  readonly api: ApiClient;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** Starts the built web host (`dist/web.js`, as `npm start` does) and connects an API client to it. */
export async function startWebHost(): Promise<RunningWebHost> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'labdeck-e2e-data-'));
  const child: ChildProcess = spawn(process.execPath, [path.join(root, 'dist/web.js'), '--port', '0'], {
    env: { ...process.env, LABDECK_DATA_DIR: dataDir, SHELL: '/bin/bash' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`web host did not print its URL; stderr: ${stderr}`)),
      20_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /LabDeck web host: (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`web host exited with ${code}; stderr: ${stderr}`)));
  });
  const api = await connectApi(url);
  return {
    url,
    api,
    dataDir,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An API client in Node, over the same WebSocket protocol the renderer uses. */
export async function connectApi(pageUrl: string): Promise<ApiClient> {
  const page = new URL(pageUrl);
  const ws = new WebSocket(new URL('api', page).href.replace(/^http/, 'ws'), {
    headers: { origin: page.origin },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const transport: ClientTransport = {
    send: (text) => ws.send(text),
    onMessage: (listener) => {
      const handler = (data: Buffer): void => listener(data.toString('utf8'));
      ws.on('message', handler);
      return () => ws.off('message', handler);
    },
    onClose: (listener) => {
      const handler = (): void => listener('closed');
      ws.on('close', handler);
      return () => ws.off('close', handler);
    },
  };
  return new ApiClient(transport);
}

/** Polls `probe` until it returns a value (not undefined), at most `attempts` times. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  attempts = 200,
  delayMs = 100,
) {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
