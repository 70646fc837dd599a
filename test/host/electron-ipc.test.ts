import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ApiServer, EventHub, type Handlers } from '../../src/api/server.js';
import {
  IpcBridge,
  apiChannel,
  type IpcMainLike,
  type WebContentsLike,
} from '../../src/host/electron/ipc.js';

/** Stand-ins for ipcMain and a window's webContents: just enough of their shape, no Electron. */
class FakeIpcMain extends EventEmitter {
  emitFrom(channel: string, event: unknown, payload: unknown): void {
    this.emit(channel, event, payload);
  }
}

function fakeContents(id: number, url: string) {
  const events = new EventEmitter();
  const sent: string[] = [];
  const mainFrame = { url };
  const contents = {
    id,
    mainFrame,
    isDestroyed: () => false,
    send: (channel: string, message: string) => {
      if (channel === apiChannel) sent.push(message);
    },
    once: (event: string, listener: () => void) => events.once(event, listener),
    on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
  };
  return {
    contents: contents as unknown as WebContentsLike,
    sent,
    mainFrame,
    destroy: () => events.emit('destroyed'),
    reload: () => events.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false }),
  };
}

const appUrl = 'app://labdeck/index.html';

function setup() {
  const calls: string[] = [];
  const handlers = {
    'app.info': () => {
      calls.push('app.info');
      return { name: 'LabDeck', version: '0', host: 'electron', platform: 'linux' };
    },
  } as unknown as Handlers;
  const ipcMain = new FakeIpcMain();
  const log: string[] = [];
  const bridge = new IpcBridge(ipcMain as unknown as IpcMainLike, new ApiServer(handlers, new EventHub()), {
    isAppUrl: (url) => url.startsWith('app://labdeck/'),
    log: (line) => log.push(line),
  });
  return { ipcMain, bridge, calls, log };
}

const call = JSON.stringify({ t: 'call', id: 1, method: 'app.info', arg: {} });
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('Electron IPC bridge', () => {
  it('passes a well-formed call from an attached window main frame', async () => {
    const { ipcMain, bridge, calls } = setup();
    const w = fakeContents(1, appUrl);
    bridge.attach(w.contents);
    ipcMain.emitFrom(apiChannel, { sender: { id: 1 }, senderFrame: w.mainFrame }, call);
    await settle();
    expect(calls).toEqual(['app.info']);
    expect(JSON.parse(w.sent[0]!)).toMatchObject({ t: 'result', id: 1 });
    bridge.dispose();
  });

  it('fails closed when the sender frame is null (a frame already gone)', async () => {
    const { ipcMain, bridge, calls, log } = setup();
    const w = fakeContents(1, appUrl);
    bridge.attach(w.contents);
    ipcMain.emitFrom(apiChannel, { sender: { id: 1 }, senderFrame: null }, call);
    await settle();
    expect(calls).toEqual([]);
    expect(log).toEqual(['ipc: message refused: sender frame is gone (null)']);
  });

  it('refuses subframes, foreign URLs and windows it did not attach', async () => {
    const { ipcMain, bridge, calls, log } = setup();
    const w = fakeContents(1, appUrl);
    bridge.attach(w.contents);
    ipcMain.emitFrom(apiChannel, { sender: { id: 1 }, senderFrame: { url: appUrl } }, call);
    const evil = fakeContents(2, 'https://evil.example/');
    bridge.attach(evil.contents);
    ipcMain.emitFrom(apiChannel, { sender: { id: 2 }, senderFrame: evil.mainFrame }, call);
    ipcMain.emitFrom(apiChannel, { sender: { id: 3 }, senderFrame: { url: appUrl } }, call);
    await settle();
    expect(calls).toEqual([]);
    expect(log).toEqual([
      `ipc: message refused: sender frame ${appUrl} is not the main frame`,
      'ipc: message refused: sender URL https://evil.example/ is not the app',
      'ipc: message refused: sender 3 is not an app window',
    ]);
  });

  it('listens on its one channel only', async () => {
    const { ipcMain, bridge, calls } = setup();
    const w = fakeContents(1, appUrl);
    bridge.attach(w.contents);
    ipcMain.emitFrom('labdeck:other', { sender: { id: 1 }, senderFrame: w.mainFrame }, call);
    await settle();
    expect(calls).toEqual([]);
    expect(ipcMain.eventNames()).toEqual([apiChannel]);
    bridge.dispose();
    expect(ipcMain.eventNames()).toEqual([]);
  });

  it('checks the payload: not a string, or a call that does not fit the schema', async () => {
    const { ipcMain, bridge, calls, log } = setup();
    const w = fakeContents(1, appUrl);
    bridge.attach(w.contents);
    const event = { sender: { id: 1 }, senderFrame: w.mainFrame };
    ipcMain.emitFrom(apiChannel, event, { t: 'call', id: 1, method: 'app.info', arg: {} });
    ipcMain.emitFrom(
      apiChannel,
      event,
      JSON.stringify({ t: 'call', id: 2, method: 'app.info', arg: { x: 1 } }),
    );
    await settle();
    expect(calls).toEqual([]);
    expect(log).toEqual(['ipc: message refused: payload is not a string']);
    expect(JSON.parse(w.sent[0]!)).toMatchObject({ t: 'error', id: 2, error: { code: 'bad-request' } });
  });

  it('detaches a destroyed window', async () => {
    const { ipcMain, bridge, calls } = setup();
    const w = fakeContents(1, appUrl);
    bridge.attach(w.contents);
    w.destroy();
    ipcMain.emitFrom(apiChannel, { sender: { id: 1 }, senderFrame: w.mainFrame }, call);
    await settle();
    expect(calls).toEqual([]);
  });

  it("gives a reloaded page a fresh connection: the old page's pending call is cancelled, never answered to the new one", async () => {
    const ipcMain = new FakeIpcMain();
    let release: (() => void) | undefined;
    const aborted: boolean[] = [];
    const handlers = {
      'terminal.list': (_a: unknown, { signal }: { signal: AbortSignal }) =>
        new Promise((resolve) => {
          release = () => resolve([]);
          signal.addEventListener('abort', () => aborted.push(true));
        }),
      'app.info': () => ({ name: 'LabDeck', version: '0', host: 'electron', platform: 'linux' }),
    } as unknown as Handlers;
    const bridge = new IpcBridge(ipcMain as unknown as IpcMainLike, new ApiServer(handlers, new EventHub()), {
      isAppUrl: (url) => url.startsWith('app://labdeck/'),
    });
    const w = fakeContents(1, appUrl);
    bridge.attach(w.contents);
    const event = { sender: { id: 1 }, senderFrame: w.mainFrame };
    ipcMain.emitFrom(
      apiChannel,
      event,
      JSON.stringify({ t: 'call', id: 1, method: 'terminal.list', arg: {} }),
    );
    await settle();
    w.reload();
    expect(aborted).toEqual([true]);
    // The new page starts its ids at 1 again: its call is answered, the old one never is.
    ipcMain.emitFrom(apiChannel, event, JSON.stringify({ t: 'call', id: 1, method: 'app.info', arg: {} }));
    await settle();
    release?.();
    await settle();
    const replies = w.sent.map((m) => JSON.parse(m) as { t: string; id: number; value?: { name?: string } });
    expect(replies).toEqual([
      { t: 'result', id: 1, value: { name: 'LabDeck', version: '0', host: 'electron', platform: 'linux' } },
    ]);
    bridge.dispose();
  });
});
