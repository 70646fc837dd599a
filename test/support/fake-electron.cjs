/**
 * A stand-in for the `electron` module (there is no Electron binary here), preloaded with `node --require` before
 * the real bundle dist/electron/main.cjs. It is only a double of Electron's API surface that main.ts uses; it
 * records what main does with it and plays the renderer's part: it fetches pages through the registered `app:`
 * protocol handler and sends API messages over the IPC channel, from the window's main frame and from elsewhere.
 * Everything it saw is printed as one JSON line prefixed `FAKE-ELECTRON ` when the run is over.
 */
'use strict';
const Module = require('node:module');
const { EventEmitter } = require('node:events');
const { readFile } = require('node:fs/promises');
const { fileURLToPath } = require('node:url');

const report = {
  sandboxEnabled: false,
  schemes: [],
  windows: [],
  served: {},
  replies: [],
  refused: [],
  errors: [],
};
let protocolHandler = null;
const ipcListeners = new Map();
const app = new EventEmitter();
Object.assign(app, {
  enableSandbox: () => (report.sandboxEnabled = true),
  whenReady: () => Promise.resolve(),
  getVersion: () => '0.0.0-fake',
  quit: () => finish(0),
  exit: (code) => finish(code),
});

let nextId = 1;
class FakeWebContents extends EventEmitter {
  constructor() {
    super();
    this.id = nextId++;
    this.mainFrame = { url: '' };
    this.sent = [];
  }
  isDestroyed() {
    return false;
  }
  send(channel, message) {
    report.replies.push({ channel, message: JSON.parse(message) });
  }
  setWindowOpenHandler() {}
}

class BrowserWindow {
  constructor(options) {
    this.webContents = new FakeWebContents();
    report.windows.push({ options });
    app.emit('web-contents-created', {}, this.webContents);
  }
  async loadURL(url) {
    report.windows[report.windows.length - 1].url = url;
    this.webContents.mainFrame.url = url;
    await playRenderer(this.webContents, url);
  }
}

async function fetchPage(url) {
  const response = await protocolHandler({ url });
  return {
    status: response.status,
    csp: response.headers.get('content-security-policy'),
    text: response.status === 200 ? await response.text() : '',
  };
}

function ipcSend(event, message) {
  for (const listener of ipcListeners.get('labdeck:api') ?? []) listener(event, message);
}

async function playRenderer(contents, url) {
  try {
    const page = await fetchPage(url);
    report.served.index = { status: page.status, csp: page.csp, isHtml: /<html/i.test(page.text) };
    report.served.traversal = (await fetchPage('app://labdeck/..%2F..%2Fpackage.json')).status;
    report.served.otherHost = (await fetchPage('app://evil/index.html')).status;
    // the renderer, from the main frame: a call that must be answered
    const main = { sender: contents, senderFrame: contents.mainFrame };
    ipcSend(main, JSON.stringify({ t: 'call', id: 1, method: 'app.info', arg: {} }));
    // a subframe, and a frame already gone: both must get nothing
    ipcSend(
      { sender: contents, senderFrame: { url } },
      JSON.stringify({ t: 'call', id: 2, method: 'app.info', arg: {} }),
    );
    ipcSend(
      { sender: contents, senderFrame: null },
      JSON.stringify({ t: 'call', id: 3, method: 'app.info', arg: {} }),
    );
    // a call with a bad argument: answered with an error as data
    ipcSend(main, JSON.stringify({ t: 'call', id: 4, method: 'app.openExternal', arg: { url: 42 } }));
    await new Promise((r) => setTimeout(r, 500));
  } catch (err) {
    report.errors.push(String(err && err.stack ? err.stack : err));
  }
  setImmediate(() => app.emit('window-all-closed'));
}

function finish(code) {
  process.stdout.write(`FAKE-ELECTRON ${JSON.stringify({ ...report, exitCode: code })}\n`);
  process.exit(code);
}

const fake = {
  app,
  BrowserWindow,
  ipcMain: {
    on(channel, listener) {
      if (!ipcListeners.has(channel)) ipcListeners.set(channel, []);
      ipcListeners.get(channel).push(listener);
    },
    removeListener(channel, listener) {
      ipcListeners.set(
        channel,
        (ipcListeners.get(channel) ?? []).filter((l) => l !== listener),
      );
    },
    handle() {},
  },
  net: {
    // Electron's net.fetch reads file: URLs; Node's fetch does not.
    async fetch(url) {
      try {
        return new Response(await readFile(fileURLToPath(url)), {
          status: 200,
          headers: { 'content-type': 'text/html' },
        });
      } catch {
        return new Response('', { status: 404 });
      }
    },
  },
  protocol: {
    registerSchemesAsPrivileged: (schemes) => report.schemes.push(...schemes),
    handle: (scheme, handler) => {
      report.protocolScheme = scheme;
      protocolHandler = handler;
    },
  },
  session: { defaultSession: { setPermissionRequestHandler() {}, setPermissionCheckHandler() {} } },
  shell: { openExternal: async () => undefined },
};

const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'electron') return fake;
  return load.call(this, request, parent, isMain);
};
process.on('uncaughtException', (err) => {
  report.errors.push(String(err && err.stack ? err.stack : err));
  finish(70);
});
