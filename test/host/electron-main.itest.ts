// The real Electron main bundle (dist/electron/main.cjs, built here from source with the build's own options),
// run in Node with a stand-in for the `electron` module (test/support/fake-electron.cjs): there is no Electron
// binary on this machine, so this checks what can be checked without one — the bundle loads and starts, the
// window is locked down, the app: protocol serves only the renderer, and IPC answers only the main frame.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs module of build options, without types
import { electronMainOptions, preloadOptions } from '../../scripts/build-options.mjs';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const bundle = join(repo, 'dist/electron/main.cjs');

interface Report {
  exitCode: number;
  sandboxEnabled: boolean;
  schemes: { scheme: string; privileges: Record<string, boolean> }[];
  windows: { options: { webPreferences: Record<string, unknown> }; url?: string }[];
  served: {
    index?: { status: number; csp: string | null; isHtml: boolean };
    traversal?: number;
    otherHost?: number;
  };
  replies: {
    channel: string;
    message: { t: string; id: number; value?: unknown; error?: { code: string } };
  }[];
  errors: string[];
}

let report: Report;
let stderr = '';
const home = mkdtempSync(join(tmpdir(), 'labdeck-electron-main-'));

beforeAll(async () => {
  await build({ ...(electronMainOptions(bundle) as object), absWorkingDir: repo, logLevel: 'error' });
  await build({ ...(preloadOptions as object), absWorkingDir: repo, logLevel: 'error' });
  if (!existsSync(join(repo, 'dist/renderer/index.html'))) {
    const { build: viteBuild } = await import('vite');
    await viteBuild({ root: repo, configFile: join(repo, 'vite.config.ts'), logLevel: 'warn' });
  }
  const child = spawn(process.execPath, ['--require', join(repo, 'test/support/fake-electron.cjs'), bundle], {
    cwd: home,
    env: { ...process.env, HOME: home, LABDECK_DATA_DIR: join(home, 'data') },
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await new Promise((r) => child.on('close', r));
  clearTimeout(timer);
  const line = stdout.split('\n').find((l) => l.startsWith('FAKE-ELECTRON '));
  if (!line) throw new Error(`the main bundle printed no report; stdout: ${stdout}\nstderr: ${stderr}`);
  report = JSON.parse(line.slice('FAKE-ELECTRON '.length)) as Report;
}, 120_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the Electron main bundle, with a stand-in for electron', () => {
  it('loads and starts without an error, then quits cleanly when the window closes', () => {
    expect(report.errors, stderr).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(stderr).not.toMatch(/failed to start/);
  });

  it('turns on the sandbox for every renderer and locks the window down', () => {
    expect(report.sandboxEnabled).toBe(true);
    expect(report.windows).toHaveLength(1);
    const prefs = report.windows[0]!.options.webPreferences;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
    });
    expect(existsSync(prefs.preload as string)).toBe(true);
    expect(report.windows[0]!.url).toBe('app://labdeck/index.html');
  });

  it('serves the renderer over app: with a CSP, and nothing outside it or from another host', () => {
    expect(report.schemes).toEqual([
      expect.objectContaining({
        scheme: 'app',
        privileges: expect.objectContaining({ standard: true, secure: true }),
      }),
    ]);
    expect(report.served.index).toMatchObject({ status: 200, isHtml: true });
    expect(report.served.index!.csp).toContain("default-src 'self'");
    expect(report.served.index!.csp).toContain("object-src 'none'");
    expect(report.served.traversal).toBe(404);
    expect(report.served.otherHost).toBe(404);
  });

  it("answers API calls from the window's main frame only, with errors as data", () => {
    const byId = new Map(report.replies.map((r) => [r.message.id, r]));
    expect(byId.get(1)).toMatchObject({
      channel: 'labdeck:api',
      message: {
        t: 'result',
        id: 1,
        value: expect.objectContaining({ host: 'electron', version: '0.0.0-fake' }),
      },
    });
    // a subframe and a frame already gone get nothing at all
    expect(byId.has(2)).toBe(false);
    expect(byId.has(3)).toBe(false);
    expect(byId.get(4)).toMatchObject({ message: { t: 'error', id: 4, error: { code: 'bad-request' } } });
  });
});
