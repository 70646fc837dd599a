/**
 * The live cluster behind the panels: one connection at a time to a kubeconfig context, directly or through an SSH
 * host, whose list/watch feeds the same SnapshotService as terminals and labs (origin `kube`), so the analysis and
 * findings work on a live cluster too. State changes go out as events; failures cross as `{code, message, where}`.
 */
import type { Endpoints } from '../model/endpoints.js';
import type { KubeObjects } from '../model/kube.js';
import {
  KubeError,
  LiveCluster,
  connectKubeClient,
  listContexts,
  loadKubeconfig,
  type KubeContextInfo,
  type KubeResource,
  type LiveData,
  type LiveStatus,
  type SshKubeTunnel,
} from '../kube/index.js';
import type { SshConnectionFactory } from '../ssh/index.js';
import { ApiFailure, type Disposable } from './server.js';
import type { SnapshotService } from './snapshotService.js';
import { emptyObjects } from '../parse/kube-map.js';

export type { KubeContextInfo } from '../kube/index.js';

export interface KubeContextsView {
  /** The kubeconfig files read. */
  readonly files: readonly string[];
  readonly contexts: readonly KubeContextInfo[];
}

/** The connection as the UI shows it; `disconnected` with nulls when there is none. */
export interface KubeStatusView {
  readonly state: LiveStatus['state'];
  readonly context: string | null;
  readonly server: string | null;
  readonly via: string | null;
  readonly namespace: string | null;
  readonly tlsUnverified: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly counts: Readonly<Record<KubeResource, number>> | null;
  readonly truncated: boolean;
}

export interface KubeConnectRequest {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** An SSH host (ssh_config Host or user@host[:port]) to tunnel the API connection through. */
  readonly via?: string;
  readonly sshConfig?: string;
  /** Only this namespace (nodes are cluster-wide); default all namespaces. */
  readonly namespace?: string;
  readonly allowInsecureTls?: boolean;
}

export interface KubeServiceDeps {
  readonly snapshot: SnapshotService;
  readonly ssh: SshConnectionFactory;
  readonly onStatus: (status: KubeStatusView) => void;
  readonly log?: (line: string) => void;
  /** Per-resource cap on what the snapshot holds (LiveCluster `maxObjects`). */
  readonly maxObjects?: number;
  readonly coalesceMs?: number;
}

const disconnected: KubeStatusView = {
  state: 'disconnected',
  context: null,
  server: null,
  via: null,
  namespace: null,
  tlsUnverified: false,
  error: null,
  counts: null,
  truncated: false,
};

/** The snapshot pieces, in the order they are first added: Endpoints after slices, so Endpoints win (analysis). */
const pieces = ['nodes', 'pods', 'services', 'endpointslices', 'endpoints'] as const;

function failure(err: unknown, where: string): ApiFailure {
  if (err instanceof ApiFailure) return err;
  if (err instanceof KubeError) return new ApiFailure(`kube-${err.code}`, err.message, err.where || where);
  return new ApiFailure('kube-failed', err instanceof Error ? err.message : String(err), where);
}

export class KubeService implements Disposable {
  private live: LiveCluster | undefined;
  private tunnel: SshKubeTunnel | undefined;
  private last: KubeStatusView = disconnected;
  /** Bumped by every connect/disconnect, so a slow connect that was overtaken cleans up after itself. */
  private generation = 0;

  constructor(private readonly deps: KubeServiceDeps) {}

  contexts(kubeconfig?: string): KubeContextsView {
    try {
      const { config, files } = loadKubeconfig(kubeconfig ? { file: kubeconfig } : {});
      return { files, contexts: listContexts(config) };
    } catch (err) {
      throw failure(err, kubeconfig ?? 'kubeconfig');
    }
  }

  status(): KubeStatusView {
    return this.last;
  }

  private emit(s: KubeStatusView): void {
    this.last = s;
    this.deps.onStatus(s);
  }

  async connect(req: KubeConnectRequest): Promise<KubeStatusView> {
    await this.disconnect();
    const gen = ++this.generation;
    const where = req.context ?? 'current-context';
    let tunnel: SshKubeTunnel | undefined;
    let live: LiveCluster | undefined;
    try {
      const { config } = loadKubeconfig(req.kubeconfig ? { file: req.kubeconfig } : {});
      const connected = await connectKubeClient({
        config,
        context: req.context,
        allowInsecureTls: req.allowInsecureTls,
        via: req.via ? { factory: this.deps.ssh, host: req.via, sshConfigFile: req.sshConfig } : undefined,
        onChecked: (target) =>
          this.emit({
            ...disconnected,
            state: 'connecting',
            context: target.context,
            server: target.server,
            via: req.via ?? null,
            namespace: req.namespace ?? null,
          }),
      });
      const client = connected.client;
      tunnel = connected.tunnel;
      const context = client.target.context;
      live = new LiveCluster(client, {
        namespace: req.namespace ?? null,
        onData: (d) => {
          if (gen === this.generation) this.feed(d, context, req.via);
        },
        onStatus: (s) => {
          if (gen === this.generation) this.emit({ ...s });
        },
        ...(this.deps.maxObjects !== undefined ? { maxObjects: this.deps.maxObjects } : {}),
        ...(this.deps.coalesceMs !== undefined ? { coalesceMs: this.deps.coalesceMs } : {}),
        ...(this.deps.log ? { log: this.deps.log } : {}),
      });
      if (tunnel) {
        const t = tunnel;
        t.connection.onClose((reason) =>
          this.deps.log?.(`kube ${context}: SSH via ${t.via} closed: ${reason.message}`),
        );
      }
      this.live = live;
      this.tunnel = tunnel;
      await live.start();
      if (gen !== this.generation)
        throw new ApiFailure('kube-cancelled', 'the connection was replaced', context);
      return this.last;
    } catch (err) {
      const f = failure(err, where);
      const mine = gen === this.generation;
      // Late callbacks of this attempt are ignored from here on.
      if (mine) this.generation++;
      await live?.dispose();
      tunnel?.dispose();
      if (mine) {
        this.live = undefined;
        this.tunnel = undefined;
        this.clearSnapshot();
        const code = err instanceof KubeError ? err.code : f.code;
        this.emit({ ...this.last, state: 'failed', error: { code, message: f.message } });
      }
      throw f;
    }
  }

  private feed(d: LiveData, context: string, via: string | undefined): void {
    const command = (what: string) => `watch ${what} (context ${context}${via ? ` via ${via}` : ''})`;
    const objects = (part: Partial<KubeObjects>): KubeObjects => ({ ...emptyObjects(), ...part });
    const value: Record<(typeof pieces)[number], KubeObjects> = {
      nodes: objects({ nodes: [...d.nodes] }),
      pods: objects({ pods: [...d.pods] }),
      services: objects({ services: [...d.services] }),
      endpointslices: objects({ endpoints: [...d.endpointSlices] as Endpoints[] }),
      endpoints: objects({ endpoints: [...d.endpoints] }),
    };
    for (const p of pieces) {
      this.deps.snapshot.setLive(`kube:${p}`, 'kubectl-object', value[p], {
        node: null,
        command: command(p),
        origin: 'kube',
      });
    }
  }

  private clearSnapshot(): void {
    for (const p of pieces)
      this.deps.snapshot.setLive(`kube:${p}`, 'kubectl-object', null, {
        node: null,
        command: null,
        origin: 'kube',
      });
  }

  /** Stops the watches, closes the tunnel and takes the cluster's pieces out of the snapshot. */
  async disconnect(): Promise<void> {
    this.generation++;
    const live = this.live;
    const tunnel = this.tunnel;
    this.live = undefined;
    this.tunnel = undefined;
    if (!live && !tunnel && this.last.state === 'disconnected') return;
    await live?.dispose();
    tunnel?.dispose();
    this.clearSnapshot();
    this.emit(disconnected);
  }

  dispose(): void {
    void this.disconnect();
  }
}
