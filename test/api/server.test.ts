import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiFailure,
  ApiServer,
  EventHub,
  type Handlers,
  type ServerTransport,
} from '../../src/api/server.js';
import { maxMessageChars, type ServerMessage } from '../../src/api/protocol.js';

/** A transport that is just two queues: what the client sent, and what the server sent back. */
class FakeTransport implements ServerTransport {
  readonly sent: ServerMessage[] = [];
  private messageListener: ((m: unknown) => void) | null = null;
  private closeListener: (() => void) | null = null;
  send(message: ServerMessage): void {
    this.sent.push(message);
  }
  onMessage(listener: (m: unknown) => void) {
    this.messageListener = listener;
    return { dispose: () => (this.messageListener = null) };
  }
  onClose(listener: () => void) {
    this.closeListener = listener;
    return { dispose: () => (this.closeListener = null) };
  }
  deliver(message: unknown): void {
    this.messageListener?.(typeof message === 'string' ? message : JSON.stringify(message));
  }
  close(): void {
    this.closeListener?.();
  }
  async reply(id: number): Promise<ServerMessage> {
    for (let i = 0; i < 100; i++) {
      const found = this.sent.find((m) => m.t !== 'event' && m.id === id);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`no reply to call ${id}; sent: ${JSON.stringify(this.sent)}`);
  }
}

const unused = () => {
  throw new Error('not used by this test');
};

function handlers(overrides: Partial<Handlers>): Handlers {
  const base = Object.fromEntries(
    [
      'app.info',
      'app.openExternal',
      'terminal.create',
      'terminal.list',
      'terminal.write',
      'terminal.resize',
      'terminal.ack',
      'terminal.kill',
      'terminal.close',
      'terminal.blocks',
      'terminal.record',
    ].map((m) => [m, unused]),
  ) as unknown as Handlers;
  return { ...base, ...overrides };
}

describe('ApiServer', () => {
  let server: ApiServer;
  afterEach(() => server?.dispose());

  it('dispatches a valid call and returns its value', async () => {
    server = new ApiServer(
      handlers({ 'app.info': () => ({ name: 'LabDeck', version: '1.2.3', host: 'web', platform: 'linux' }) }),
      new EventHub(),
    );
    const t = new FakeTransport();
    server.connect(t);
    t.deliver({ t: 'call', id: 1, method: 'app.info', arg: {} });
    expect(await t.reply(1)).toEqual({
      t: 'result',
      id: 1,
      value: { name: 'LabDeck', version: '1.2.3', host: 'web', platform: 'linux' },
    });
  });

  it('rejects an unknown method, naming it', async () => {
    server = new ApiServer(handlers({}), new EventHub());
    const t = new FakeTransport();
    server.connect(t);
    t.deliver({ t: 'call', id: 7, method: 'fs.readFile', arg: { path: '/etc/shadow' } });
    expect(await t.reply(7)).toEqual({
      t: 'error',
      id: 7,
      error: { code: 'unknown-method', message: 'no method "fs.readFile"', where: 'fs.readFile' },
    });
  });

  it('validates the request against the contract before the handler runs', async () => {
    let ran = false;
    server = new ApiServer(
      handlers({
        'terminal.resize': () => {
          ran = true;
          return null;
        },
      }),
      new EventHub(),
    );
    const t = new FakeTransport();
    server.connect(t);
    t.deliver({
      t: 'call',
      id: 2,
      method: 'terminal.resize',
      arg: { id: 't1', cols: 0, rows: 24, extra: true },
    });
    const reply = await t.reply(2);
    expect(reply.t).toBe('error');
    if (reply.t !== 'error') return;
    expect(reply.error.code).toBe('bad-request');
    expect(reply.error.message).toMatch(/^terminal\.resize: cols: /);
    expect(reply.error.message).toMatch(/extra/);
    expect(ran).toBe(false);
  });

  it('turns a thrown ApiFailure into error data and any other exception into `internal`', async () => {
    server = new ApiServer(
      handlers({
        'terminal.blocks': ({ id }) => {
          throw new ApiFailure('terminal-not-found', `no terminal ${id}`, id);
        },
        'terminal.list': () => {
          throw new TypeError('boom');
        },
      }),
      new EventHub(),
    );
    const t = new FakeTransport();
    server.connect(t);
    t.deliver({ t: 'call', id: 3, method: 'terminal.blocks', arg: { id: 'nope' } });
    t.deliver({ t: 'call', id: 4, method: 'terminal.list', arg: {} });
    expect(await t.reply(3)).toEqual({
      t: 'error',
      id: 3,
      error: { code: 'terminal-not-found', message: 'no terminal nope', where: 'nope' },
    });
    expect(await t.reply(4)).toMatchObject({ t: 'error', id: 4, error: { code: 'internal' } });
  });

  it('cancels a call: the handler sees the abort and the client gets `cancelled`', async () => {
    let sawAbort = false;
    server = new ApiServer(
      handlers({
        'terminal.list': (_arg, { signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(new Error('aborted'));
            });
          }),
      }),
      new EventHub(),
    );
    const t = new FakeTransport();
    server.connect(t);
    t.deliver({ t: 'call', id: 5, method: 'terminal.list', arg: {} });
    t.deliver({ t: 'cancel', id: 5 });
    expect(await t.reply(5)).toMatchObject({ t: 'error', id: 5, error: { code: 'cancelled' } });
    expect(sawAbort).toBe(true);
  });

  it('aborts pending calls when the client disconnects', async () => {
    let sawAbort = false;
    server = new ApiServer(
      handlers({
        'terminal.list': (_arg, { signal }) =>
          new Promise(() => signal.addEventListener('abort', () => (sawAbort = true))),
      }),
      new EventHub(),
    );
    const t = new FakeTransport();
    server.connect(t);
    t.deliver({ t: 'call', id: 6, method: 'terminal.list', arg: {} });
    await new Promise((r) => setTimeout(r, 5));
    t.close();
    expect(sawAbort).toBe(true);
  });

  it('answers malformed messages with bad-message when it can, and drops non-JSON', async () => {
    server = new ApiServer(handlers({}), new EventHub());
    const t = new FakeTransport();
    server.connect(t);
    t.deliver('{not json');
    t.deliver({ t: 'call', id: 8 });
    expect(await t.reply(8)).toMatchObject({ t: 'error', id: 8, error: { code: 'bad-message' } });
    expect(t.sent).toHaveLength(1);
  });

  it('forwards only the events a client listens for, and counts interest', () => {
    const hub = new EventHub();
    server = new ApiServer(handlers({}), hub);
    const a = new FakeTransport();
    const b = new FakeTransport();
    server.connect(a);
    server.connect(b);
    a.deliver({ t: 'listen', event: 'terminal.data' });
    a.deliver({ t: 'listen', event: 'no.such.event' });
    expect(hub.listenerCount('terminal.data')).toBe(1);
    hub.emit('terminal.data', { id: 't1', data: 'hi' });
    expect(a.sent).toEqual([{ t: 'event', event: 'terminal.data', payload: { id: 't1', data: 'hi' } }]);
    expect(b.sent).toEqual([]);
    a.deliver({ t: 'unlisten', event: 'terminal.data' });
    expect(hub.listenerCount('terminal.data')).toBe(0);
    hub.emit('terminal.data', { id: 't1', data: 'again' });
    expect(a.sent).toHaveLength(1);
  });

  it('answers an oversized call with too-large instead of leaving the client waiting', async () => {
    server = new ApiServer(handlers({}), new EventHub());
    const t = new FakeTransport();
    server.connect(t);
    const huge = JSON.stringify({
      t: 'call',
      id: 9,
      method: 'snapshot.add',
      arg: { text: 'x'.repeat(maxMessageChars) },
    });
    t.deliver(huge);
    expect(await t.reply(9)).toMatchObject({ t: 'error', id: 9, error: { code: 'too-large' } });
  });
});
