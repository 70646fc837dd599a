import type { EventName, EventPayload, MethodName, Reply, Request } from '../../../src/api/contract';
import type { ApiError, ClientMessage, ServerMessage } from '../../../src/api/protocol';

/** Carries protocol messages as JSON text: a WebSocket in the web host, the preload bridge in Electron. */
export interface ClientTransport {
  send(text: string): void;
  onMessage(listener: (text: string) => void): () => void;
  onClose(listener: (reason: string) => void): () => void;
}

export class ApiCallError extends Error {
  readonly code: string;
  readonly where: string | undefined;
  constructor(error: ApiError) {
    super(error.message);
    this.name = 'ApiCallError';
    this.code = error.code;
    this.where = error.where;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: ApiCallError): void;
}

/** The renderer's side of the API: typed calls with cancellation, and event subscriptions. */
export class ApiClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private closed: string | null = null;
  private readonly closeListeners = new Set<(reason: string) => void>();

  constructor(private readonly transport: ClientTransport) {
    transport.onMessage((text) => this.receive(text));
    transport.onClose((reason) => {
      this.closed = reason;
      for (const p of this.pending.values())
        p.reject(new ApiCallError({ code: 'disconnected', message: reason }));
      this.pending.clear();
      for (const listener of this.closeListeners) listener(reason);
    });
  }

  call<M extends MethodName>(
    method: M,
    arg: Request<M>,
    options: { signal?: AbortSignal } = {},
  ): Promise<Reply<M>> {
    if (this.closed) return Promise.reject(new ApiCallError({ code: 'disconnected', message: this.closed }));
    const id = this.nextId++;
    return new Promise<Reply<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const { signal } = options;
      if (signal) {
        if (signal.aborted) this.post({ t: 'cancel', id });
        else signal.addEventListener('abort', () => this.post({ t: 'cancel', id }), { once: true });
      }
      this.post({ t: 'call', id, method, arg });
    });
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  listen<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
      this.post({ t: 'listen', event });
    }
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => {
      set.delete(l);
      if (set.size === 0 && this.listeners.get(event) === set) {
        this.listeners.delete(event);
        this.post({ t: 'unlisten', event });
      }
    };
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private post(message: ClientMessage): void {
    if (!this.closed) this.transport.send(JSON.stringify(message));
  }

  private receive(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if (message.t === 'event') {
      for (const listener of this.listeners.get(message.event) ?? []) listener(message.payload);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.t === 'result') pending.resolve(message.value);
    else pending.reject(new ApiCallError(message.error));
  }
}
