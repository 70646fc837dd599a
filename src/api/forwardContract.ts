/**
 * SSH local forwards (`ssh -L`) in the API contract: kept in their own file and spread into `methods`/`events` of
 * contract.ts, so that other contract work merges without touching this block. docs/forwards.md describes the
 * user-facing side. The renderer imports only the types (through contract.ts).
 *
 * Validation is strict on purpose: ports 1–65535 (0 = any free port on the local side only), a bind address that
 * is loopback unless the request says `exposeBeyondLoopback: true` (the UI asks with a warning), and a remote
 * host that is a hostname or an IP literal. The remote host travels as a field of an SSH `direct-tcpip` channel
 * request (RFC 4254 §7.2); it never reaches a shell on either side.
 */
import { z } from 'zod';

const id = z.string().min(1).max(64);

/** RFC 1123 labels (underscore tolerated, as in real internal names), dot separated, 1–253 characters. */
const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

export const forwardRemoteHost = z.union(
  [z.ipv4(), z.ipv6(), z.string().regex(hostnamePattern)],
  'must be a hostname (letters, digits, "-", ".") or an IPv4/IPv6 address',
);

/** The addresses a forward may listen on without `exposeBeyondLoopback`. */
export function isLoopbackBind(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127(\.\d{1,3}){3}$/.test(address);
}

export const forwardFields = z
  .object({
    /** Default 127.0.0.1. `localhost` means 127.0.0.1. Anything not loopback needs `exposeBeyondLoopback`. */
    bindAddress: z
      .union([z.literal('localhost'), z.ipv4(), z.ipv6()], 'must be localhost or an IPv4/IPv6 address')
      .optional(),
    /** 0 = any free port (the reply says which). */
    bindPort: z.number().int().min(0).max(65535),
    remoteHost: forwardRemoteHost,
    remotePort: z.number().int().min(1).max(65535),
  })
  .strict();

export type ForwardFields = z.output<typeof forwardFields>;

export const forwardState = z.enum([
  /** Connecting the SSH chain before the first listen. */
  'connecting',
  'listening',
  /** The connection dropped; the local port stays bound while the chain is rebuilt (host keys verified again). */
  'reconnecting',
  /** The connection could not be rebuilt: the port stays bound, connections to it are closed at once. */
  'disconnected',
  /** The local listener failed (e.g. the port is taken). */
  'failed',
]);

/** An error as data: what happened, where (address or hop), and what the user can do. */
export const forwardError = z.object({
  code: z.string(),
  message: z.string(),
  where: z.string(),
  advice: z.string(),
  at: z.number(),
});

export const forwardInfo = z.object({
  id,
  /** The SSH host as the terminals name it (a Host of the config, or user@host[:port]), and its config file. */
  destination: z.string(),
  config: z.string().nullable(),
  /** `user`: opened in the UI or API; `ssh_config`: a `LocalForward` line of the host's profile. */
  origin: z.enum(['user', 'ssh_config']),
  /** `[bind:]port:host:hostport` as OpenSSH writes it. */
  spec: z.string(),
  bindAddress: z.string(),
  bindPort: z.number().int(),
  remoteHost: z.string(),
  remotePort: z.number().int(),
  /** Where it actually listens (the real port when `bindPort` was 0); null before or after. */
  listening: z.object({ address: z.string(), port: z.number().int() }).nullable(),
  /** Bound to a non-loopback address: reachable from other machines. */
  exposed: z.boolean(),
  state: forwardState,
  /** The SSH connection it rides on (the last hop, as the terminals name it), when known. */
  connection: z.string().nullable(),
  activeConnections: z.number().int(),
  totalConnections: z.number().int(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  error: forwardError.nullable(),
});

export type ForwardInfoView = z.output<typeof forwardInfo>;
export type ForwardError = z.output<typeof forwardError>;
export type ForwardState = z.output<typeof forwardState>;

export const forwardMethods = {
  /** Every forward the app holds, per SSH host, including the hosts' `LocalForward` lines. */
  'forwards.list': { request: z.object({}).strict(), reply: z.array(forwardInfo) },
  /**
   * Opens `-L` on `destination` (the same names `terminal.create` takes), on that host's shared connection:
   * connects through the same chain (host keys verified, questions asked through `ssh.prompt`) if none is open.
   */
  'forwards.open': {
    request: z
      .object({
        destination: z.string().min(1).max(1024),
        config: z.string().max(4096).optional(),
        /** OpenSSH syntax `[bind_address:]port:host:hostport` … */
        spec: z.string().min(1).max(600).optional(),
        /** … or the same as fields: exactly one of the two. */
        fields: forwardFields.optional(),
        /** Required to listen on a non-loopback address (others on the network can then connect). */
        exposeBeyondLoopback: z.boolean().optional(),
      })
      .strict()
      .refine((r) => (r.spec === undefined) !== (r.fields === undefined), {
        message: 'give either spec ([bind_address:]port:host:hostport) or fields, not both',
        path: ['spec'],
      }),
    reply: forwardInfo,
  },
  /**
   * Rebuilds a `disconnected` forward's connection now (every hop's host key verified again); the reply is the
   * forward afterwards. A forward whose connection is up is returned as it is.
   */
  'forwards.reconnect': { request: z.object({ id }).strict(), reply: forwardInfo },
  /** Closes a forward; the host's connection is released when nothing else uses it. */
  'forwards.close': { request: z.object({ id }).strict(), reply: z.null() },
} as const;

export const forwardEvents = {
  /** The whole list, after any forward opened, closed, changed state, or accepted or ended a connection. */
  'forwards.changed': z.array(forwardInfo),
} as const;
