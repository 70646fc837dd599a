import type { IpcMain, IpcMainEvent, WebContents, WebFrameMain } from 'electron';
import type { ApiServer, Disposable, ServerTransport } from '../../api/server.js';
import { maxMessageChars, type ServerMessage } from '../../api/protocol.js';

/** The one IPC channel of the app; the preload sends and receives on nothing else. */
export const apiChannel = 'labdeck:api';

/** The parts of Electron's objects the bridge uses, so a test can stand in for them. */
export type IpcMainLike = Pick<IpcMain, 'on' | 'removeListener'>;
export type WebContentsLike = Pick<WebContents, 'id' | 'send' | 'once' | 'isDestroyed'> & {
  readonly mainFrame: Pick<WebFrameMain, 'url'>;
  /** Main-frame navigations (a reload) and renderer crashes: the page's client starts afresh. */
  on(
    event: 'did-start-navigation',
    listener: (details: { readonly isMainFrame: boolean; readonly isSameDocument: boolean }) => void,
  ): unknown;
  on(event: 'render-process-gone', listener: () => void): unknown;
};
export type IpcEventLike = Pick<IpcMainEvent, 'senderFrame'> & { readonly sender: Pick<WebContents, 'id'> };

export interface IpcBridgeOptions {
  /** Whether a URL is our renderer (e.g. `app://labdeck/…`). */
  readonly isAppUrl: (url: string) => boolean;
  readonly log?: (line: string) => void;
}

/**
 * Carries the API over Electron IPC for the windows we created. Each message is checked before the API server
 * sees it: the channel (only `labdeck:api` is listened on), the sender (a window we attached, its main frame, at
 * our own URL; a null `senderFrame` — a frame already gone — fails closed), and the payload (a JSON string under
 * the size limit; the API server then validates the message and the request against the contract's schemas).
 */
export class IpcBridge implements Disposable {
  private readonly windows = new Map<
    number,
    { contents: WebContentsLike; deliver: (message: string) => void }
  >();
  private readonly onIpc = (event: IpcMainEvent, payload: unknown): void => this.receive(event, payload);

  constructor(
    private readonly ipcMain: IpcMainLike,
    private readonly api: ApiServer,
    private readonly options: IpcBridgeOptions,
  ) {
    ipcMain.on(apiChannel, this.onIpc);
  }

  /** Why a message is refused, or null when it may pass. Exposed for tests. */
  refusal(event: IpcEventLike, payload: unknown): string | null {
    const window = this.windows.get(event.sender.id);
    if (!window) return `sender ${event.sender.id} is not an app window`;
    const frame = event.senderFrame;
    if (!frame) return 'sender frame is gone (null)';
    // Electron hands out one WebFrameMain object per frame, so identity tells the main frame from a subframe.
    if ((frame as unknown) !== window.contents.mainFrame)
      return `sender frame ${frame.url} is not the main frame`;
    if (!this.options.isAppUrl(frame.url)) return `sender URL ${frame.url} is not the app`;
    if (typeof payload !== 'string') return 'payload is not a string';
    if (payload.length > maxMessageChars) return `payload of ${payload.length} chars is over the limit`;
    return null;
  }

  private receive(event: IpcEventLike, payload: unknown): void {
    const refusal = this.refusal(event, payload);
    if (refusal) {
      this.options.log?.(`ipc: message refused: ${refusal}`);
      return;
    }
    this.windows.get(event.sender.id)?.deliver(payload as string);
  }

  /**
   * Connects one window's renderer to the API until the window is destroyed. A reload or a crashed renderer
   * ends the page's connection (its pending calls are cancelled, its event subscriptions dropped) and the next
   * page gets a fresh one, so replies meant for the old page never reach the new one.
   */
  attach(contents: WebContentsLike): Disposable {
    const messageListeners = new Set<(message: unknown) => void>();
    let closeListeners = new Set<() => void>();
    const transport: ServerTransport = {
      send: (message: ServerMessage) => {
        if (!contents.isDestroyed()) contents.send(apiChannel, JSON.stringify(message));
      },
      onMessage: (listener) => {
        messageListeners.add(listener);
        return { dispose: () => messageListeners.delete(listener) };
      },
      onClose: (listener) => {
        closeListeners.add(listener);
        return { dispose: () => closeListeners.delete(listener) };
      },
    };
    this.windows.set(contents.id, {
      contents,
      deliver: (message) => {
        for (const listener of messageListeners) listener(message);
      },
    });
    let connection = this.api.connect(transport);
    const endPage = (): void => {
      const listeners = closeListeners;
      closeListeners = new Set();
      for (const listener of listeners) listener();
      connection.dispose();
    };
    const newPage = (): void => {
      if (!this.windows.has(contents.id)) return;
      endPage();
      connection = this.api.connect(transport);
    };
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) newPage();
    });
    contents.on('render-process-gone', newPage);
    const detach = (): void => {
      if (!this.windows.delete(contents.id)) return;
      endPage();
    };
    contents.once('destroyed', detach);
    return { dispose: detach };
  }

  dispose(): void {
    this.ipcMain.removeListener(apiChannel, this.onIpc);
    for (const id of [...this.windows.keys()]) this.windows.delete(id);
  }
}
