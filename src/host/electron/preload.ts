/**
 * The preload: a dumb forwarder for the API protocol, and nothing else. It runs sandboxed with context isolation,
 * so the page gets exactly two functions and no Electron or Node object. All checking happens in main.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const channel = 'labdeck:api';

const bridge = {
  send(message: string): void {
    if (typeof message === 'string') ipcRenderer.send(channel, message);
  },
  onMessage(listener: (message: string) => void): () => void {
    const handler = (_event: IpcRendererEvent, message: unknown): void => {
      if (typeof message === 'string') listener(message);
    };
    ipcRenderer.on(channel, handler);
    return () => ipcRenderer.removeListener(channel, handler);
  },
};

export type Bridge = typeof bridge;

contextBridge.exposeInMainWorld('labdeckBridge', bridge);
