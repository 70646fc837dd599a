/**
 * The wire protocol between a client (the renderer) and the API server, the same over every transport
 * (Electron IPC, WebSocket). Modelled on VS Code's IChannel / IServerChannel: a client calls a method with an
 * argument and may cancel it; the server replies once with a value or an error; events are pushed to clients that
 * listen. Errors cross as data, never as thrown exceptions. This file is pure and the renderer imports its types.
 */

/** An error as data. `code` is stable (users and tests match on it); `where` says which input or hop. */
export interface ApiError {
  readonly code: string;
  readonly message: string;
  readonly where?: string;
}

export type ClientMessage =
  | { readonly t: 'call'; readonly id: number; readonly method: string; readonly arg: unknown }
  | { readonly t: 'cancel'; readonly id: number }
  | { readonly t: 'listen'; readonly event: string }
  | { readonly t: 'unlisten'; readonly event: string };

export type ServerMessage =
  | { readonly t: 'result'; readonly id: number; readonly value: unknown }
  | { readonly t: 'error'; readonly id: number; readonly error: ApiError }
  | { readonly t: 'event'; readonly event: string; readonly payload: unknown };

/** Error codes the protocol itself produces; services add their own (`terminal-not-found`, …). */
export const protocolErrorCodes = {
  badMessage: 'bad-message',
  unknownMethod: 'unknown-method',
  badRequest: 'bad-request',
  cancelled: 'cancelled',
  internal: 'internal',
  disconnected: 'disconnected',
  tooLarge: 'too-large',
} as const;

/** The largest message either side accepts, in UTF-16 code units of its JSON. */
export const maxMessageChars = 4 * 1024 * 1024;
