/**
 * One context's API server, reached directly or through an SSH tunnel: list (paged) and watch the resources the
 * snapshot uses, as raw API objects. Authentication is client-node's (tokens, client certificates, exec plugins,
 * as kubectl); the transport is ours when tunnelling.
 *
 * Tunnelling: every TLS connection to the API server runs over an SSH `direct-tcpip` channel opened by our ssh
 * room (host keys verified on every hop). No local port is opened. The URL stays the kubeconfig's, so TLS checks
 * the server certificate against the kubeconfig's CA and the real server name (its `tls-server-name`, else the
 * server URL's host), exactly as it would without the tunnel.
 */
import {
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  Watch,
  type Cluster,
  type User,
} from '@kubernetes/client-node';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { KubeError, describeKubeFailure, redactor, type KubeTarget } from './errors.js';

export type KubeResource = 'pods' | 'nodes' | 'services' | 'endpoints' | 'endpointslices';
export const kubeResources: readonly KubeResource[] = [
  'nodes',
  'pods',
  'services',
  'endpoints',
  'endpointslices',
];

const kinds: Record<KubeResource, string> = {
  pods: 'Pod',
  nodes: 'Node',
  services: 'Service',
  endpoints: 'Endpoints',
  endpointslices: 'EndpointSlice',
};

/** A way to the API server's host and port: an SSH connection's `forwardOut`, for instance. */
export interface KubeTunnel {
  /** Names the way in messages: the SSH host (`bastion`). */
  readonly via: string;
  open(host: string, port: number): Promise<Duplex>;
}

export interface KubeClientOptions {
  /** A loaded kubeconfig (loadKubeconfig); not changed. */
  readonly config: KubeConfig;
  /** Default: the kubeconfig's current-context. */
  readonly context?: string;
  readonly tunnel?: KubeTunnel;
  /** The kubeconfig asks to skip TLS verification: refused unless this is set (and then said in the state). */
  readonly allowInsecureTls?: boolean;
  /** A list page that brings no answer within this long fails as unreachable (default 30 s). */
  readonly requestTimeoutMs?: number;
}

export interface ListResult {
  /** Raw API objects, each with `kind` set (list items come without it). */
  readonly items: unknown[];
  readonly resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  abort(): void;
}

/** At most this many pages of `pageSize` objects per list (a cluster beyond that is listed in part). */
const maxPages = 200;

/** The https.Agent that dials through the tunnel; TLS options (CA, client cert, servername) stay client-node's. */
class TunnelAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly tunnel: KubeTunnel,
    private readonly sockets_: Set<Duplex>,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.host ?? options.hostname ?? '');
    const port = Number(options.port ?? 443);
    this.tunnel.open(host, port).then(
      (stream) => {
        // `host` stays the server URL's host, so checkServerIdentity checks the real name (or servername).
        const socket = tls.connect({ ...(options as tls.ConnectionOptions), host, port, socket: stream });
        this.sockets_.add(socket);
        socket.once('close', () => {
          this.sockets_.delete(socket);
          stream.destroy();
        });
        callback?.(null, socket);
      },
      (err: unknown) => {
        const e = new Error(
          `the SSH tunnel via ${this.tunnel.via} could not reach ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`,
        ) as Error & { code: string };
        e.code = 'LABDECK_TUNNEL';
        callback?.(e, undefined as unknown as Duplex);
      },
    );
    return undefined;
  }
}

/**
 * client-node's KubeConfig with our transport: every API client and watch made from it gets its agent from
 * `createAgent` (config.js `applyToHTTPSOptions`, `applySecurityAuthentication`), so replacing that one method on
 * this instance sends them all through the tunnel. It is private in client-node 1.4's types, hence the cast.
 */
function tunnelled(kc: KubeConfig, tunnel: KubeTunnel, sockets: Set<Duplex>): void {
  (kc as unknown as { createAgent: (c: Cluster | null, o: https.AgentOptions) => https.Agent }).createAgent =
    (_cluster, agentOptions) => new TunnelAgent(agentOptions, tunnel, sockets);
}

export class KubeClient {
  readonly target: KubeTarget;
  /** The kubeconfig said insecure-skip-tls-verify and the caller allowed it. */
  readonly tlsUnverified: boolean;
  readonly defaultNamespace: string;
  /** Strips every credential of the kubeconfig from a text. */
  readonly redact: (s: string) => string;
  private readonly kc: KubeConfig;
  private readonly openSockets = new Set<Duplex>();
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly watches = new Set<AbortController>();
  private disposed = false;
  private readonly requestTimeoutMs: number;

  constructor(options: KubeClientOptions) {
    const src = options.config;
    const name = options.context ?? src.getCurrentContext();
    const users: readonly User[] = src.getUsers();
    this.redact = redactor(users);
    const ctx = name ? src.getContextObject(name) : null;
    if (!ctx) {
      const known = src.getContexts().map((c) => c.name);
      throw new KubeError(
        'no-such-context',
        name || '(none)',
        name
          ? `no context "${name}" in the kubeconfig (contexts: ${known.join(', ') || 'none'})`
          : `the kubeconfig has no current-context; pick one of: ${known.join(', ') || 'none'}`,
      );
    }
    const cluster = src.getCluster(ctx.cluster);
    if (!cluster) {
      throw new KubeError(
        'kubeconfig-invalid',
        ctx.name,
        `context "${ctx.name}" names cluster "${ctx.cluster}", which the kubeconfig does not define`,
      );
    }
    if (!src.getUser(ctx.user) && ctx.user) {
      throw new KubeError(
        'kubeconfig-invalid',
        ctx.name,
        `context "${ctx.name}" names user "${ctx.user}", which the kubeconfig does not define`,
      );
    }
    let serverUrl: URL;
    try {
      serverUrl = new URL(cluster.server);
    } catch {
      throw new KubeError(
        'kubeconfig-invalid',
        ctx.name,
        `cluster "${cluster.name}" has no valid server URL (${JSON.stringify(cluster.server)})`,
      );
    }
    if (cluster.skipTLSVerify && !options.allowInsecureTls) {
      throw new KubeError(
        'insecure-tls-refused',
        ctx.name,
        `cluster "${cluster.name}" (context "${ctx.name}") sets insecure-skip-tls-verify: LabDeck does not talk to an API server it cannot verify. Give the cluster's certificate-authority instead, or allow it explicitly (--insecure-skip-tls-verify).`,
      );
    }
    this.tlsUnverified = cluster.skipTLSVerify;
    this.target = {
      context: ctx.name,
      user: ctx.user,
      server: cluster.server,
      serverName: cluster.tlsServerName ?? serverUrl.hostname.replace(/^\[|\]$/g, ''),
      ...(options.tunnel ? { via: options.tunnel.via } : {}),
    };
    this.defaultNamespace = ctx.namespace ?? 'default';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: src.getClusters(),
      users: src.getUsers(),
      contexts: src.getContexts(),
      currentContext: ctx.name,
    });
    if (options.tunnel) tunnelled(kc, options.tunnel, this.openSockets);
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  private fail(err: unknown, what: string): KubeError {
    return describeKubeFailure(err, this.target, what, this.redact);
  }

  private alive(): void {
    if (this.disposed)
      throw new KubeError('disposed', this.target.context, 'the cluster connection was closed');
  }

  /**
   * Lists a resource (all namespaces when `namespace` is null) page by page (`limit`/`continue`), so a large
   * cluster is not one huge response.
   */
  async list(resource: KubeResource, namespace: string | null, pageSize = 500): Promise<ListResult> {
    this.alive();
    const items: unknown[] = [];
    let cont: string | undefined;
    let rv = '';
    const what = `list ${resource}${namespace ? ` in namespace ${namespace}` : ''}`;
    try {
      for (let page = 0; page < maxPages; page++) {
        const args = { limit: pageSize, ...(cont ? { _continue: cont } : {}) };
        const res = await this.timed(this.listPage(resource, namespace, args), what);
        for (const item of res.items) items.push({ ...(item as object), kind: kinds[resource] });
        rv = res.metadata?.resourceVersion ?? rv;
        cont = res.metadata?._continue || undefined;
        if (!cont) break;
      }
    } catch (err) {
      throw this.fail(err, what);
    }
    return { items, resourceVersion: rv };
  }

  /** node-fetch has no timeout of its own: a server (or tunnel) that never answers must not hang a connect. */
  private timed<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new KubeError(
              'unreachable',
              this.target.server,
              `${what}: no answer from the API server ${this.target.server}${this.target.via ? ` through the SSH tunnel via ${this.target.via}` : ''} within ${Number((this.requestTimeoutMs / 1000).toFixed(1))} s (context "${this.target.context}").`,
            ),
          ),
        this.requestTimeoutMs,
      );
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private listPage(
    resource: KubeResource,
    ns: string | null,
    args: { limit: number; _continue?: string },
  ): Promise<{ items: unknown[]; metadata?: { resourceVersion?: string; _continue?: string } }> {
    switch (resource) {
      case 'pods':
        return ns === null
          ? this.core.listPodForAllNamespaces(args)
          : this.core.listNamespacedPod({ namespace: ns, ...args });
      case 'nodes':
        return this.core.listNode(args);
      case 'services':
        return ns === null
          ? this.core.listServiceForAllNamespaces(args)
          : this.core.listNamespacedService({ namespace: ns, ...args });
      case 'endpoints':
        return ns === null
          ? this.core.listEndpointsForAllNamespaces(args)
          : this.core.listNamespacedEndpoints({ namespace: ns, ...args });
      case 'endpointslices':
        return ns === null
          ? this.discovery.listEndpointSliceForAllNamespaces(args)
          : this.discovery.listNamespacedEndpointSlice({ namespace: ns, ...args });
    }
  }

  /** The REST path of a resource, for watches. */
  static path(resource: KubeResource, namespace: string | null): string {
    const base = resource === 'endpointslices' ? '/apis/discovery.k8s.io/v1' : '/api/v1';
    return namespace === null || resource === 'nodes'
      ? `${base}/${resource}`
      : `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
  }

  /**
   * Watches from `resourceVersion` (with bookmarks). `onEvent` gets every event; `onDone` once, with null when the
   * server ended the watch and a KubeError when it failed.
   */
  async watch(
    resource: KubeResource,
    namespace: string | null,
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: unknown) => void,
    onDone: (err: KubeError | null) => void,
    timeoutSeconds = 300,
  ): Promise<WatchHandle> {
    this.alive();
    const what = `watch ${resource}`;
    let done = false;
    const held: { controller?: AbortController } = {};
    const finish = (err: unknown): void => {
      if (done) return;
      done = true;
      if (held.controller) this.watches.delete(held.controller);
      onDone(err === null || err === undefined ? null : this.fail(err, what));
    };
    const controller = await new Watch(this.kc).watch(
      KubeClient.path(resource, namespace),
      { resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
      (type: string, obj: unknown) => {
        if (!done) onEvent(type as WatchEventType, obj);
      },
      (err: unknown) => finish(err),
    );
    held.controller = controller;
    if (!done) this.watches.add(controller);
    const c = controller;
    return {
      abort: () => {
        this.watches.delete(c);
        done = true;
        c.abort();
      },
    };
  }

  /** Kind of a resource's objects. */
  static kind(resource: KubeResource): string {
    return kinds[resource];
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.watches) c.abort();
    this.watches.clear();
    for (const s of this.openSockets) s.destroy();
    this.openSockets.clear();
  }
}
