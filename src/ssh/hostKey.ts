import { createHash } from 'node:crypto';

/** A server host key as it travels in the SSH protocol (RFC 4253 §6.6): the wire blob and its type name. */
export interface HostKey {
  readonly type: string;
  readonly blob: Buffer;
}

/** Reads the key type (the first length-prefixed string) from a public key blob; undefined if the blob is bad. */
export function hostKeyFromBlob(blob: Buffer): HostKey | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  if (!/^[\x21-\x7e]+$/.test(type)) return undefined;
  return { type, blob };
}

/** `SHA256:…` as `ssh-keygen -lf` and OpenSSH's prompts print it (base64 without padding). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name OpenSSH looks up in known_hosts: `host` on port 22, `[host]:port` otherwise (sshconnect.c). */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
