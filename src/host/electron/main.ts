/**
 * The Electron main process: one window onto the renderer, the API over IPC. The only code that imports
 * `electron` lives in this folder; everything it hosts is the same backend the web host serves.
 */
import { app, BrowserWindow, ipcMain, net, protocol, session, shell } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBackend, isSafeExternalUrl } from '../../api/backend.js';
import { IpcBridge } from './ipc.js';

const scheme = 'app';
const origin = `${scheme}://labdeck`;
const here = __dirname; // dist/electron (bundled as CommonJS)
const rendererDir = path.join(here, '..', 'renderer');

protocol.registerSchemesAsPrivileged([
  { scheme, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

const csp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function isAppUrl(url: string): boolean {
  return url === origin || url.startsWith(`${origin}/`);
}

async function start(): Promise<void> {
  await app.whenReady();
  const backend = createBackend({
    host: 'electron',
    version: app.getVersion(),
    openExternal: async (url) => {
      if (!isSafeExternalUrl(url)) throw new Error(`refusing to open ${url}: only http and https links open`);
      await shell.openExternal(url);
    },
  });

  protocol.handle(scheme, async (request) => {
    const url = new URL(request.url);
    const relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.resolve(rendererDir, '.' + relative);
    if (url.host !== 'labdeck' || !file.startsWith(rendererDir + path.sep))
      return new Response('', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).href);
    const headers = new Headers(response.headers);
    headers.set('content-security-policy', csp);
    headers.set('x-content-type-options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });

  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const bridge = new IpcBridge(ipcMain, backend.api, { isAppUrl, log: (line) => console.warn(line) });

  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'LabDeck',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  bridge.attach(window.webContents);
  await window.loadURL(`${origin}/index.html`);

  app.on('window-all-closed', () => {
    bridge.dispose();
    backend.dispose();
    app.quit();
  });
}

start().catch((err: unknown) => {
  console.error(`LabDeck failed to start: ${err instanceof Error ? err.stack : String(err)}`);
  app.exit(1);
});
