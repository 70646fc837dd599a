/**
 * The API server through an SSH host (a bastion): our ssh room resolves the host from the OpenSSH config, connects
 * hop by hop with host keys verified on each, and opens one `direct-tcpip` channel per TLS connection. A dropped
 * SSH connection is re-established (every hop verified again) when the next request needs it.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Duplex } from 'node:stream';
import {
  SshError,
  defaultSshConfigEnv,
  resolveProfile,
  type SshConnection,
  type SshConnectionFactory,
} from '../ssh/index.js';
import { KubeError, type KubeTarget } from './errors.js';
import { KubeClient, type KubeTunnel } from './kubeClient.js';

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

export interface ConnectKubeOptions {
  /** A loaded kubeconfig (loadKubeconfig). */
  readonly config: KubeConfig;
  /** Default: the kubeconfig's current-context. */
  readonly context?: string;
  readonly allowInsecureTls?: boolean;
  /** An SSH host to reach the API server through (an ssh_config Host or user@host[:port]). */
  readonly via?: {
    readonly factory: SshConnectionFactory;
    readonly host: string;
    readonly sshConfigFile?: string;
  };
  /** Called once the context and TLS settings check out, before any connection is made. */
  readonly onChecked?: (target: KubeTarget) => void;
}

/**
 * A client for a context, through an SSH tunnel when `via` is given. The context and TLS settings are checked
 * before any connection is made, so a wrong context never opens an SSH connection.
 */
export async function connectKubeClient(
  options: ConnectKubeOptions,
): Promise<{ client: KubeClient; tunnel?: SshKubeTunnel }> {
  const { config, allowInsecureTls, via } = options;
  const probe = new KubeClient({ config, context: options.context || undefined, allowInsecureTls });
  probe.dispose();
  options.onChecked?.(probe.target);
  const tunnel = via ? await openSshTunnel(via.factory, via.host, via.sshConfigFile) : undefined;
  try {
    const client = new KubeClient({ config, context: probe.target.context, tunnel, allowInsecureTls });
    return { client, tunnel };
  } catch (err) {
    tunnel?.dispose();
    throw err;
  }
}
