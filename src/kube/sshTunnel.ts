/**
 * The API server through an SSH host (a bastion): our ssh room resolves the host from the OpenSSH config, connects
 * hop by hop with host keys verified on each, and opens one `direct-tcpip` channel per TLS connection. A dropped
 * SSH connection is re-established (every hop verified again) when the next request needs it.
 */
import type { Duplex } from 'node:stream';
import {
  SshError,
  defaultSshConfigEnv,
  resolveProfile,
  type SshConnection,
  type SshConnectionFactory,
} from '../ssh/index.js';
import { KubeError } from './errors.js';
import type { KubeTunnel } from './kubeClient.js';

export interface SshKubeTunnel extends KubeTunnel {
  readonly connection: SshConnection;
  dispose(): void;
}

/** Connects to `host` (an ssh_config Host or user@host[:port]) and returns a tunnel over that connection. */
export async function openSshTunnel(
  factory: SshConnectionFactory,
  host: string,
  sshConfigFile?: string,
): Promise<SshKubeTunnel> {
  const { profile, diagnostics } = resolveProfile(host, defaultSshConfigEnv(sshConfigFile));
  if (!profile) {
    const why = diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    throw new KubeError(
      'tunnel-failed',
      host,
      `cannot tunnel through ${host}: ${why.join('; ') || 'no usable SSH profile'}`,
    );
  }
  let connection: SshConnection;
  try {
    connection = await factory.connect(profile);
  } catch (err) {
    throw new KubeError(
      'tunnel-failed',
      err instanceof SshError ? err.hop : host,
      `cannot tunnel through ${host}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return {
    via: host,
    connection,
    async open(h: string, p: number): Promise<Duplex> {
      if (!connection.isOpen) await connection.reconnect();
      return connection.forwardOut(h, p);
    },
    dispose: () => connection.dispose(),
  };
}
