/**
 * The renderer's ApiClient wired to an ApiServer in the same process: every message is serialised to JSON and
 * delivered on a later tick, as over a real transport, so requests pass the contract's validation and dispatch.
 */
import type { ApiServer, ServerTransport } from '../../src/api/server.js';
import { ApiClient } from '../../renderer/src/api/client.js';

export function inProcessClient(server: ApiServer): { client: ApiClient; close: () => void } {
  const toServer = new Set<(m: unknown) => void>();
  const toClient = new Set<(text: string) => void>();
  const serverClose = new Set<() => void>();
  const clientClose = new Set<(reason: string) => void>();
  let open = true;
  const transport: ServerTransport = {
    send: (message) => {
      const text = JSON.stringify(message);
      setImmediate(() => open && toClient.forEach((l) => l(text)));
    },
    onMessage: (l) => {
      toServer.add(l);
      return { dispose: () => toServer.delete(l) };
    },
    onClose: (l) => {
      serverClose.add(l);
      return { dispose: () => serverClose.delete(l) };
    },
  };
  const connection = server.connect(transport);
  const client = new ApiClient({
    send: (text) => setImmediate(() => open && toServer.forEach((l) => l(text))),
    onMessage: (l) => {
      toClient.add(l);
      return () => toClient.delete(l);
    },
    onClose: (l) => {
      clientClose.add(l);
      return () => clientClose.delete(l);
    },
  });
  return {
    client,
    close: () => {
      if (!open) return;
      open = false;
      serverClose.forEach((l) => l());
      clientClose.forEach((l) => l('closed'));
      connection.dispose();
    },
  };
}
