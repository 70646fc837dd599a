import type { KnownHostsEntry } from './knownHosts.js';
import type { HostKey } from './hostKey.js';

export type SshErrorCode =
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'host-key-unknown'
  | 'host-key-rejected'
  | 'known-hosts-unreadable'
  | 'auth-failed'
  | 'connect-failed'
  | 'closed-by-remote'
  | 'keepalive-timeout'
  | 'parent-closed'
  | 'channel-failed'
  | 'disposed';

/** Every failure names the hop it happened on: `node (ubuntu@10.0.18.181:22)`. */
export class SshError extends Error {
  constructor(
    readonly code: SshErrorCode,
    readonly hop: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SshError';
  }
}

/**
 * The hard refusal for a changed host key. `known` are the lines that hold the old key; the explicit
 * "replace key" action is `SshConnectionFactory.replaceHostKey(error)`.
 */
export class HostKeyChangedError extends SshError {
  constructor(
    hop: string,
    readonly host: string,
    readonly port: number,
    readonly presented: HostKey,
    readonly presentedFingerprint: string,
    readonly known: readonly KnownHostsEntry[],
    readonly knownFingerprints: readonly string[],
    readonly knownHostsFiles: readonly string[],
  ) {
    const where = known.map((e) => `${e.file}:${e.line}`).join(', ');
    super(
      'host-key-changed',
      hop,
      `HOST KEY CHANGED for ${hop}: known_hosts (${where}) has ${known[0]?.key.type ?? ''} key ` +
        `${knownFingerprints.join(', ')}, but the host presented ${presentedFingerprint}. ` +
        `Refusing to connect (nothing was sent). If the host was really re-keyed, use "replace key".`,
    );
    this.name = 'HostKeyChangedError';
  }
}
