import { z } from 'zod';
import {
  events,
  methods,
  type EventName,
  type EventPayload,
  type MethodName,
  type Methods,
  type Reply,
} from './contract.js';
import { maxMessageChars, protocolErrorCodes, type ApiError, type ServerMessage } from './protocol.js';

export interface Disposable {
  dispose(): void;
}

/** One connected client, whatever carries its messages (an Electron window, a WebSocket). */
export interface ServerTransport {
  send(message: ServerMessage): void;
  onMessage(listener: (message: unknown) => void): Disposable;
  onClose(listener: () => void): Disposable;
}

/** Throw this from a handler to fail a call with a stable code; anything else becomes `internal`. */
export class ApiFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly where?: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export interface CallContext {
  /** Aborted when the client cancels the call or disconnects. */
  readonly signal: AbortSignal;
  readonly clientId: number;
}

export type Handlers = {
  [M in MethodName]: (
    arg: z.output<Methods[M]['request']>,
    context: CallContext,
  ) => Reply<M> | Promise<Reply<M>>;
};

type EventListener = (event: EventName, payload: unknown) => void;

/** Where services publish events; the server forwards each to the clients that listen for it. */
export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private readonly interest = new Map<EventName, number>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) listener(event, payload);
  }

  /** How many clients listen for `event` now (a service may skip work nobody will see). */
  listenerCount(event: EventName): number {
    return this.interest.get(event) ?? 0;
  }

  subscribe(listener: EventListener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** @internal The server reports which events its clients listen for. */
  changeInterest(event: EventName, delta: number): void {
    this.interest.set(event, Math.max(0, (this.interest.get(event) ?? 0) + delta));
  }
}

const clientMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('call'),
    id: z.number().int().nonnegative(),
    method: z.string().max(100),
    arg: z.unknown(),
  }),
  z.object({ t: z.literal('cancel'), id: z.number().int().nonnegative() }),
  z.object({ t: z.literal('listen'), event: z.string().max(100) }),
  z.object({ t: z.literal('unlisten'), event: z.string().max(100) }),
]);

function isMethod(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

function isEvent(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}

/** Describes a zod error as one line that names the field: `cols: Too small: expected number to be >=1`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Dispatches calls from any number of clients to the handlers, validating every message and request, and
 * forwards events. Errors cross as data (`{code, message, where}`); a handler's exception never reaches the
 * transport as anything else.
 */
export class ApiServer implements Disposable {
  private nextClientId = 1;
  private readonly connections = new Set<Disposable>();

  constructor(
    private readonly handlers: Handlers,
    private readonly hub: EventHub,
    private readonly log: (line: string) => void = () => {},
  ) {}

  connect(transport: ServerTransport): Disposable {
    const clientId = this.nextClientId++;
    const pending = new Map<number, AbortController>();
    const listening = new Set<EventName>();
    let open = true;

    const send = (message: ServerMessage): void => {
      if (!open) return;
      try {
        transport.send(message);
      } catch (err) {
        this.log(`api: client ${clientId}: send failed: ${(err as Error).message}`);
      }
    };
    const fail = (id: number, error: ApiError): void => send({ t: 'error', id, error });

    const subscription = this.hub.subscribe((event, payload) => {
      if (listening.has(event)) send({ t: 'event', event, payload });
    });

    const call = async (id: number, method: string, arg: unknown): Promise<void> => {
      if (pending.has(id))
        return fail(id, { code: protocolErrorCodes.badMessage, message: `call id ${id} is in use` });
      if (!isMethod(method)) {
        return fail(id, {
          code: protocolErrorCodes.unknownMethod,
          message: `no method "${method}"`,
          where: method,
        });
      }
      const parsed = methods[method].request.safeParse(arg ?? {});
      if (!parsed.success) {
        return fail(id, {
          code: protocolErrorCodes.badRequest,
          message: `${method}: ${describeZodError(parsed.error)}`,
          where: method,
        });
      }
      const controller = new AbortController();
      pending.set(id, controller);
      try {
        const handler = this.handlers[method] as (a: unknown, c: CallContext) => unknown;
        const value = await handler(parsed.data, { signal: controller.signal, clientId });
        if (controller.signal.aborted) {
          fail(id, { code: protocolErrorCodes.cancelled, message: `${method} was cancelled`, where: method });
        } else {
          send({ t: 'result', id, value: value === undefined ? null : value });
        }
      } catch (err) {
        if (err instanceof ApiFailure) {
          fail(id, { code: err.code, message: err.message, ...(err.where ? { where: err.where } : {}) });
        } else if (controller.signal.aborted) {
          fail(id, { code: protocolErrorCodes.cancelled, message: `${method} was cancelled`, where: method });
        } else {
          this.log(`api: ${method} failed: ${(err as Error)?.stack ?? String(err)}`);
          fail(id, {
            code: protocolErrorCodes.internal,
            message: `${method} failed: ${(err as Error)?.message ?? err}`,
            where: method,
          });
        }
      } finally {
        pending.delete(id);
      }
    };

    const onMessage = transport.onMessage((raw) => {
      if (typeof raw === 'string' && raw.length > maxMessageChars) {
        // Too big to parse; answer the call it starts (the client must not wait forever) without reading it.
        const id = /^\{\s*"t"\s*:\s*"call"\s*,\s*"id"\s*:\s*(\d+)/.exec(raw.slice(0, 100))?.[1];
        this.log(`api: client ${clientId}: message of ${raw.length} chars refused`);
        if (id !== undefined) {
          fail(Number(id), {
            code: protocolErrorCodes.tooLarge,
            message: `the request is ${(raw.length / 1048576).toFixed(1)} M characters; the limit is ${maxMessageChars / 1048576} M`,
          });
        }
        return;
      }
      let data: unknown = raw;
      if (typeof raw === 'string') {
        try {
          data = JSON.parse(raw);
        } catch {
          this.log(`api: client ${clientId}: message is not JSON, dropped`);
          return;
        }
      }
      const message = clientMessage.safeParse(data);
      if (!message.success) {
        const id = (data as { id?: unknown } | null)?.id;
        if (typeof id === 'number') {
          fail(id, { code: protocolErrorCodes.badMessage, message: describeZodError(message.error) });
        } else {
          this.log(`api: client ${clientId}: malformed message dropped: ${describeZodError(message.error)}`);
        }
        return;
      }
      const m = message.data;
      switch (m.t) {
        case 'call':
          void call(m.id, m.method, m.arg);
          break;
        case 'cancel':
          pending.get(m.id)?.abort();
          break;
        case 'listen':
          if (isEvent(m.event) && !listening.has(m.event)) {
            listening.add(m.event);
            this.hub.changeInterest(m.event, +1);
          }
          break;
        case 'unlisten':
          if (isEvent(m.event) && listening.delete(m.event)) this.hub.changeInterest(m.event, -1);
          break;
      }
    });

    const connection: Disposable = {
      dispose: () => {
        if (!open) return;
        open = false;
        for (const controller of pending.values()) controller.abort();
        pending.clear();
        for (const event of listening) this.hub.changeInterest(event, -1);
        listening.clear();
        subscription.dispose();
        onMessage.dispose();
        onClose.dispose();
        this.connections.delete(connection);
      },
    };
    const onClose = transport.onClose(() => connection.dispose());
    this.connections.add(connection);
    return connection;
  }

  dispose(): void {
    for (const connection of [...this.connections]) connection.dispose();
  }
}
