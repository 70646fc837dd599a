/**
 * SSH profiles are plain data (CONVENTIONS.md "Domain shapes"): where a hop is, who logs in, how, and what
 * to trust. They come from the app's store or from an OpenSSH config file (`readSshConfig` / `resolveProfile`).
 * The UI never assembles chains; the connection factory walks `jumps` then the target, hop by hop.
 */

/** One way to authenticate, tried in list order (like OpenSSH's PreferredAuthentications order). */
export type SshAuthMethod =
  /** `optional`: one of OpenSSH's default identity files, silently skipped when absent. */
  | { readonly kind: 'publickey'; readonly identityFile: string; readonly optional?: boolean }
  /** The ssh-agent listening at `socket` (from SSH_AUTH_SOCK). */
  | { readonly kind: 'agent'; readonly socket: string }
  | { readonly kind: 'password' }
  | { readonly kind: 'keyboard-interactive' };

/**
 * What to do with a host key that known_hosts does not know (StrictHostKeyChecking):
 * `ask` — show the fingerprint and let the user decide; `accept-new` — remember it silently;
 * `yes` — refuse. A changed key is refused under every policy.
 */
export type HostKeyPolicy = 'ask' | 'accept-new' | 'yes';

/** How the first hop's bytes travel: a TCP connection, or a local process whose stdio is the transport. */
export type SshTransport =
  | { readonly kind: 'tcp' }
  /** argv already split and with `%h`/`%p`/`%r` substituted; spawned without a shell. */
  | { readonly kind: 'command'; readonly argv: readonly string[] };

export interface SshHop {
  /** The name the user gave (config alias); used in messages. */
  readonly name: string;
  /** Where to connect (HostName) and the name host keys are checked under (HostKeyAlias or HostName). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostKeyAlias?: string;
  readonly auth: readonly SshAuthMethod[];
  /** Forward the local agent to this hop (only this hop: never implied for the hops before it). */
  readonly forwardAgent: boolean;
  readonly hostKeyPolicy: HostKeyPolicy;
  /** known_hosts files; the first one receives accepted keys. */
  readonly knownHostsFiles: readonly string[];
  readonly hashKnownHosts: boolean;
  readonly keepalive: { readonly intervalMs: number; readonly countMax: number };
  readonly connectTimeoutMs: number;
  readonly transport: SshTransport;
}

/** `-L [bind_address:]port:host:hostport`. */
export interface LocalForwardSpec {
  readonly bindAddress: string;
  readonly bindPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
}

export interface SshProfile {
  readonly target: SshHop;
  /** Jump hops in order, first is dialled directly. */
  readonly jumps: readonly SshHop[];
  readonly forwards: readonly LocalForwardSpec[];
}

export const defaultKeepalive = { intervalMs: 15_000, countMax: 3 } as const;

/** Parses an OpenSSH `-L`/`LocalForward` spec; 127.0.0.1 unless a bind address is given. */
export function parseLocalForward(spec: string): LocalForwardSpec | string {
  // Accept `[v6]` brackets around hosts as OpenSSH does.
  const parts: string[] = [];
  let rest = spec.trim().replace(/\s+/, ':');
  while (rest.length > 0) {
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      if (end < 0) return `bad forward ${JSON.stringify(spec)}: unclosed [`;
      parts.push(rest.slice(1, end));
      rest = rest.slice(end + 1).replace(/^:/, '');
    } else {
      const i = rest.indexOf(':');
      parts.push(i < 0 ? rest : rest.slice(0, i));
      rest = i < 0 ? '' : rest.slice(i + 1);
    }
  }
  let bind = '127.0.0.1';
  if (parts.length === 4) bind = parts.shift() as string;
  if (parts.length !== 3)
    return `bad forward ${JSON.stringify(spec)}: expected [bind_address:]port:host:hostport`;
  const [lp, host, rp] = parts as [string, string, string];
  const bindPort = Number(lp);
  const remotePort = Number(rp);
  if (!/^\d+$/.test(lp) || bindPort > 65535)
    return `bad forward ${JSON.stringify(spec)}: bad local port ${lp}`;
  if (!/^\d+$/.test(rp) || remotePort < 1 || remotePort > 65535)
    return `bad forward ${JSON.stringify(spec)}: bad remote port ${rp}`;
  if (host === '') return `bad forward ${JSON.stringify(spec)}: empty host`;
  if (bind === '' || bind === '*') bind = bind === '*' ? '0.0.0.0' : '127.0.0.1';
  if (bind === 'localhost') bind = '127.0.0.1';
  return { bindAddress: bind, bindPort, remoteHost: host, remotePort };
}
