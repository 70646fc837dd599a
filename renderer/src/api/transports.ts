import { ApiClient, type ClientTransport } from './client';

/** What the Electron preload exposes (src/host/electron/preload.ts). */
interface PreloadBridge {
  send(message: string): void;
  onMessage(listener: (message: string) => void): () => void;
}

declare global {
  interface Window {
    labdeckBridge?: PreloadBridge;
  }
}

function bridgeTransport(bridge: PreloadBridge): ClientTransport {
  return {
    send: (text) => bridge.send(text),
    onMessage: (listener) => bridge.onMessage(listener),
    onClose: () => () => {},
  };
}

/** The web host's socket lives at `api` next to the page, below the token path. */
function webSocketTransport(url: string): ClientTransport {
  const socket = new WebSocket(url);
  const queue: string[] = [];
  socket.addEventListener('open', () => {
    for (const text of queue.splice(0)) socket.send(text);
  });
  return {
    send: (text) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(text);
    },
    onMessage: (listener) => {
      const handler = (event: MessageEvent): void => {
        if (typeof event.data === 'string') listener(event.data);
      };
      socket.addEventListener('message', handler);
      return () => socket.removeEventListener('message', handler);
    },
    onClose: (listener) => {
      const handler = (event: CloseEvent): void =>
        listener(
          `connection to LabDeck closed${event.reason ? `: ${event.reason}` : ''} (code ${event.code})`,
        );
      socket.addEventListener('close', handler);
      return () => socket.removeEventListener('close', handler);
    },
  };
}

export function connect(): ApiClient {
  if (window.labdeckBridge) return new ApiClient(bridgeTransport(window.labdeckBridge));
  const url = new URL('api', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return new ApiClient(webSocketTransport(url.href));
}
