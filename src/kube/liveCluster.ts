/**
 * A live view of one cluster: list, then watch each resource from the list's resourceVersion; re-list on 410 Gone;
 * reconnect with backoff when a watch fails or goes quiet. Changes are coalesced: `onData` gets the whole (bounded)
 * picture at most once per `coalesceMs`, so a busy cluster does not flood the snapshot or the UI.
 */
import type { Endpoints } from '../model/endpoints.js';
import type { KubeObjects } from '../model/kube.js';
import type { Node } from '../model/node.js';
import type { Pod } from '../model/pod.js';
import type { Service } from '../model/service.js';
import { emptyObjects, mapObject } from '../parse/kube-map.js';
import { KubeError } from './errors.js';
import {
  KubeClient,
  kubeResources,
  type KubeResource,
  type WatchEventType,
  type WatchHandle,
} from './kubeClient.js';

export type LiveState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'failed';

export interface LiveStatus {
  readonly state: LiveState;
  readonly context: string;
  readonly server: string;
  readonly via: string | null;
  readonly namespace: string | null;
  /** The kubeconfig skipped TLS verification and the user allowed it. */
  readonly tlsUnverified: boolean;
  /** The last failure (kept while reconnecting, cleared once every watch is back). */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** Objects held per resource. */
  readonly counts: Readonly<Record<KubeResource, number>>;
  /** More objects than `maxObjects` of some resource: the snapshot holds the first ones (by namespace/name). */
  readonly truncated: boolean;
}

export interface LiveData {
  readonly pods: readonly Pod[];
  readonly nodes: readonly Node[];
  readonly services: readonly Service[];
  readonly endpoints: readonly Endpoints[];
  /** EndpointSlices mapped onto Endpoints (`source: 'endpointslice'`); empty when the server has none. */
  readonly endpointSlices: readonly Endpoints[];
}

export interface LiveClusterOptions {
  /** All namespaces when null (the default). */
  readonly namespace?: string | null;
  readonly resources?: readonly KubeResource[];
  readonly onData: (data: LiveData) => void;
  readonly onStatus?: (status: LiveStatus) => void;
  readonly coalesceMs?: number;
  /** Per resource, at most this many objects go to `onData`. */
  readonly maxObjects?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** A watch that brings nothing (not even a bookmark) for this long is dropped and resumed. */
  readonly idleMs?: number;
  /** Server-side watch timeout; the watch is then resumed from its last resourceVersion. */
  readonly watchTimeoutSeconds?: number;
  readonly log?: (line: string) => void;
}

type Model = Pod | Node | Service | Endpoints;

/** One API object → its model object (the same mapping `labdeck parse` uses for `kubectl -o json`). */
function toModel(obj: unknown): Model | undefined {
  const into: KubeObjects = emptyObjects();
  if (!mapObject(obj, into)) return undefined;
  return into.pods[0] ?? into.nodes[0] ?? into.services[0] ?? into.endpoints[0];
}

function keyOf(obj: unknown): string | undefined {
  const meta = (obj as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
  if (!meta || typeof meta.name !== 'string') return undefined;
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${meta.name}`;
}

function rvOf(obj: unknown): string | undefined {
  const rv = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

class ResourceWatch {
  readonly store = new Map<string, Model>();
  rv: string | null = null;
  /** The server does not serve this resource (404: no discovery.k8s.io/v1 on an old cluster). */
  absent = false;
  healthy = false;
  private handle: WatchHandle | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private wake: (() => void) | undefined;
  /** Ends the watch in progress (dispose). */
  private cancel: (() => void) | undefined;

  constructor(
    readonly resource: KubeResource,
    private readonly live: LiveCluster,
  ) {}

  async relist(): Promise<void> {
    const c = this.live.client;
    try {
      const res = await c.list(this.resource, this.resource === 'nodes' ? null : this.live.namespace);
      this.store.clear();
      for (const item of res.items) {
        const key = keyOf(item);
        const m = key && toModel(item);
        if (key && m) this.store.set(key, m);
      }
      this.rv = res.resourceVersion;
      this.absent = false;
    } catch (err) {
      if (err instanceof KubeError && err.code === 'not-found' && this.resource === 'endpointslices') {
        this.store.clear();
        this.absent = true;
        this.rv = null;
        return;
      }
      throw err;
    }
    this.live.changed();
  }

  /** Watches until the watch ends: 'gone' (410, re-list), 'ended' (server closed or idle), or throws. */
  private watchOnce(): Promise<'gone' | 'ended'> {
    const live = this.live;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.cancel = undefined;
        clearTimeout(this.idleTimer);
        this.handle?.abort();
        this.handle = undefined;
        fn();
      };
      const armIdle = (): void => {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => {
          live.log(`watch ${this.resource}: nothing for ${live.idleMs} ms, resuming`);
          settle(() => resolve('ended'));
        }, live.idleMs);
      };
      const onEvent = (type: WatchEventType, obj: unknown): void => {
        armIdle();
        if (type === 'ERROR') {
          const code = (obj as { code?: unknown } | null)?.code;
          if (code === 410) return settle(() => resolve('gone'));
          const message = (obj as { message?: unknown } | null)?.message;
          return settle(() =>
            reject(
              new KubeError(
                'api-error',
                live.client.target.context,
                live.client.redact(
                  `watch ${this.resource}: the API server sent an error${typeof code === 'number' ? ` ${code}` : ''}${typeof message === 'string' ? `: ${message}` : ''}`,
                ),
              ),
            ),
          );
        }
        const rv = rvOf(obj);
        if (rv) this.rv = rv;
        if (type === 'BOOKMARK') return;
        const key = keyOf(obj);
        if (!key) return;
        if (type === 'DELETED') this.store.delete(key);
        else {
          const m = toModel({ ...(obj as object), kind: KubeClient.kind(this.resource) });
          if (m) this.store.set(key, m);
        }
        live.changed();
      };
      const onDone = (err: KubeError | null): void => {
        if (err?.code === 'gone') settle(() => resolve('gone'));
        else if (err) settle(() => reject(err));
        else settle(() => resolve('ended'));
      };
      this.cancel = () => settle(() => resolve('ended'));
      armIdle();
      live.client
        .watch(
          this.resource,
          this.resource === 'nodes' ? null : live.namespace,
          this.rv!,
          onEvent,
          onDone,
          live.watchTimeoutSeconds,
        )
        .then(
          (h) => {
            if (settled) return h.abort();
            this.handle = h;
            // The server answered 200 and the stream is open (client-node resolves only then): this one is back.
            if (!this.healthy) {
              this.healthy = true;
              live.statusChanged();
            }
          },
          (err: unknown) => settle(() => reject(err)),
        );
    });
  }

  /** The loop: watch, re-list on Gone, back off on failures. Ends when the live cluster is disposed. */
  async run(): Promise<void> {
    const live = this.live;
    let failures = 0;
    while (!live.disposed && !this.absent) {
      const started = Date.now();
      try {
        if (this.rv === null) await this.relist();
        if (this.absent || live.disposed) return;
        const how = await this.watchOnce();
        if (how === 'gone') {
          live.log(`watch ${this.resource}: 410 Gone, listing again`);
          this.rv = null;
        }
        // A watch that ends at once without news counts as a failure, so a server that closes every watch is not
        // hammered.
        if (Date.now() - started < 1000 && how === 'ended') failures++;
        else failures = 0;
        if (failures === 0) live.recovered(this);
      } catch (err) {
        if (live.disposed) return;
        failures++;
        this.healthy = false;
        live.failed(this, err instanceof KubeError ? err : new KubeError('api-error', '', String(err)));
      }
      if (failures > 0 && !live.disposed) await this.sleep(live.backoffMs(failures));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    this.cancel?.();
    this.handle?.abort();
    this.handle = undefined;
    this.wake?.();
  }
}

export class LiveCluster {
  readonly namespace: string | null;
  readonly idleMs: number;
  readonly watchTimeoutSeconds: number;
  disposed = false;
  private readonly watches: ResourceWatch[];
  private state: LiveState = 'connecting';
  private error: { code: string; message: string } | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly coalesceMs: number;
  private readonly maxObjects: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private loops: Promise<void>[] = [];

  constructor(
    readonly client: KubeClient,
    private readonly options: LiveClusterOptions,
  ) {
    this.namespace = options.namespace ?? null;
    this.coalesceMs = options.coalesceMs ?? 500;
    this.maxObjects = options.maxObjects ?? 5000;
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.idleMs = options.idleMs ?? 120_000;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.watches = (options.resources ?? kubeResources).map((r) => new ResourceWatch(r, this));
  }

  log(line: string): void {
    this.options.log?.(`kube ${this.client.target.context}: ${this.client.redact(line)}`);
  }

  /**
   * Lists every resource once; rejects with the first failure (wrong credentials, unreachable server, TLS) so the
   * caller can show it. Then the watches run until `dispose()`.
   */
  async start(): Promise<void> {
    this.setState('connecting');
    try {
      await Promise.all(this.watches.map((w) => w.relist()));
    } catch (err) {
      const e = err instanceof KubeError ? err : new KubeError('api-error', '', String(err));
      this.error = { code: e.code, message: e.message };
      this.setState('failed');
      throw e;
    }
    this.error = null;
    this.flush();
    this.setState('connected');
    this.loops = this.watches.map((w) => w.run());
  }

  backoffMs(failures: number): number {
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(failures - 1, 16));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  changed(): void {
    if (this.flushTimer !== undefined || this.disposed) return;
    this.flushTimer = setTimeout(() => this.flush(), this.coalesceMs);
  }

  failed(w: ResourceWatch, err: KubeError): void {
    this.log(`watch ${w.resource} failed: ${err.message}`);
    this.error = { code: err.code, message: err.message };
    this.setState('reconnecting');
  }

  recovered(_w: ResourceWatch): void {
    if (this.state === 'reconnecting' && this.watches.every((w) => w.healthy || w.absent)) {
      this.error = null;
      this.setState('connected');
    }
  }

  statusChanged(): void {
    if (this.state === 'reconnecting') this.recovered(this.watches[0]!);
  }

  private setState(s: LiveState): void {
    this.state = s;
    this.options.onStatus?.(this.status());
  }

  private bounded<T>(resource: KubeResource): { list: T[]; cut: boolean } {
    const w = this.watches.find((x) => x.resource === resource);
    if (!w) return { list: [], cut: false };
    const keys = [...w.store.keys()].sort();
    return {
      list: keys.slice(0, this.maxObjects).map((k) => w.store.get(k) as T),
      cut: keys.length > this.maxObjects,
    };
  }

  /** The current picture, each resource sorted by namespace/name and cut at `maxObjects`. */
  data(): LiveData {
    return {
      pods: this.bounded<Pod>('pods').list,
      nodes: this.bounded<Node>('nodes').list,
      services: this.bounded<Service>('services').list,
      endpoints: this.bounded<Endpoints>('endpoints').list,
      endpointSlices: this.bounded<Endpoints>('endpointslices').list,
    };
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.disposed) return;
    this.options.onData(this.data());
    this.options.onStatus?.(this.status());
  }

  status(): LiveStatus {
    const counts = Object.fromEntries(kubeResources.map((r) => [r, 0])) as Record<KubeResource, number>;
    for (const w of this.watches) counts[w.resource] = w.store.size;
    const t = this.client.target;
    return {
      state: this.state,
      context: t.context,
      server: t.server,
      via: t.via ?? null,
      namespace: this.namespace,
      tlsUnverified: this.client.tlsUnverified,
      error: this.error,
      counts,
      truncated: this.watches.some((w) => w.store.size > this.maxObjects),
    };
  }

  /** Stops every watch and timer; resolves once the loops have ended. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.flushTimer);
    for (const w of this.watches) w.stop();
    this.client.dispose();
    this.state = 'disconnected';
    await Promise.allSettled(this.loops);
    this.options.onStatus?.(this.status());
  }
}
