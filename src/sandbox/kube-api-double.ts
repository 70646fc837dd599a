/**
 * A Kubernetes API server **test double** for the sandbox (not a real API server): enough of the REST surface for
 * the real `kubectl` and `@kubernetes/client-node` to list, get and watch namespaces, nodes, pods, services,
 * endpoints, discovery.k8s.io/v1 endpointslices and apps/v1 deployments, and to exec into pods.
 *
 * - Discovery: legacy `/api`, `/apis`, `/api/v1`, `/apis/discovery.k8s.io/v1` (kubectl falls back to these when the
 *   aggregated-discovery content type is not offered). No OpenAPI: `kubectl get` does not need it.
 * - Lists sorted by namespace/name like etcd returns them, `metadata.resourceVersion` from one global counter.
 * - Tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) with the columns, priorities and cell
 *   formatting of kubernetes `pkg/printers/internalversion/printers.go`, so `kubectl get -o wide` prints what it
 *   prints against a real cluster.
 * - `watch=1` with resourceVersion (history replay), `allowWatchBookmarks` (periodic BOOKMARK events),
 *   `timeoutSeconds`, and 410 Gone: `expire()` compacts history; watches then get an ERROR event with a
 *   Status of code 410 / reason Expired, and lists or watches from older versions are refused the same way.
 * - apps/v1 deployments (what `kubectl exec deploy/NAME` and `kubectl expose deployment` read).
 * - `pods/NAME/exec` over WebSockets (kubectl's default since 1.30), when the caller gives an `exec` runner.
 * - State comes from the caller (`update(objects)`), which derives it from the real sandbox topology.
 * - HTTPS with the sandbox's own CA (like kubeadm's https://<master>:6443), or plain HTTP; no authentication.
 */
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ClusterObjects, KubeObject } from './cluster-state.js';

type ResourceName = keyof ClusterObjects;

interface ResourceInfo {
  readonly name: ResourceName;
  readonly singular: string;
  readonly kind: string;
  readonly group: '' | 'discovery.k8s.io' | 'apps';
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
}

const RESOURCES: readonly ResourceInfo[] = [
  {
    name: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    group: '',
    namespaced: false,
    shortNames: ['ns'],
  },
  { name: 'nodes', singular: 'node', kind: 'Node', group: '', namespaced: false, shortNames: ['no'] },
  {
    name: 'pods',
    singular: 'pod',
    kind: 'Pod',
    group: '',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
  },
  {
    name: 'services',
    singular: 'service',
    kind: 'Service',
    group: '',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
  },
  {
    name: 'endpoints',
    singular: 'endpoints',
    kind: 'Endpoints',
    group: '',
    namespaced: true,
    shortNames: ['ep'],
  },
  {
    name: 'endpointslices',
    singular: 'endpointslice',
    kind: 'EndpointSlice',
    group: 'discovery.k8s.io',
    namespaced: true,
  },
  {
    name: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    group: 'apps',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
  },
];

const READ_VERBS = ['get', 'list', 'watch'];
/** The named API groups served (each at v1), in the order a real server lists them. */
const API_GROUPS = ['apps', 'discovery.k8s.io'] as const;

interface Stored {
  readonly obj: KubeObject;
  readonly rv: number;
  readonly json: string;
}

interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly resource: ResourceName;
  readonly rv: number;
  readonly obj: KubeObject;
}

interface OpenWatch {
  readonly resource: ResourceName;
  readonly filter: (o: KubeObject) => boolean;
  readonly res: ServerResponse;
  readonly close: () => void;
}

export interface KubeApiDoubleOptions {
  /** Clock for Age columns (injected for tests). */
  readonly now?: () => Date;
  readonly bookmarkIntervalMs?: number;
  /** Address clients see in `/api` serverAddressByClientCIDRs. */
  readonly serverAddress?: string;
  /**
   * Runs a `kubectl exec` command in a pod (the sandbox: inside the pod's network namespace). Without it the
   * double refuses exec. Stdout, stderr and the exit code go back over the WebSocket stream protocol.
   */
  readonly exec?: (req: ExecRequest) => ChildProcess;
  /**
   * Bearer-token authentication, for clients' error paths (the sandbox runs without): token → user name. When
   * given, a request without a known token gets 401 Unauthorized.
   */
  readonly tokens?: Readonly<Record<string, string>>;
  /** Users whose every read gets 403 Forbidden, worded like the RBAC authorizer's. */
  readonly forbiddenUsers?: readonly string[];
}

export interface ExecRequest {
  readonly pod: KubeObject;
  readonly container: string;
  readonly command: readonly string[];
}

/** kubectl ≥ 1.30 execs over WebSockets (KEP-4006); v5 adds the close frame that ends stdin. */
const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export class KubeApiDouble {
  private rv = 0;
  /** Oldest resourceVersion still served; older ones get 410 Gone. */
  private compactedRv = 0;
  private readonly store = new Map<ResourceName, Map<string, Stored>>();
  private history: WatchEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private server: Server | undefined;
  private readonly now: () => Date;
  private readonly bookmarkIntervalMs: number;

  constructor(private readonly options: KubeApiDoubleOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 10_000;
    for (const r of RESOURCES) this.store.set(r.name, new Map());
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** Replace the state; changed objects get a new resourceVersion and open watches get the events. */
  update(objects: ClusterObjects): void {
    for (const r of RESOURCES) {
      const current = this.store.get(r.name)!;
      const seen = new Set<string>();
      for (const obj of objects[r.name]) {
        const key = objectKey(obj);
        seen.add(key);
        const json = JSON.stringify(obj);
        const prev = current.get(key);
        if (prev && prev.json === json) continue;
        const rv = ++this.rv;
        current.set(key, { obj, rv, json });
        this.emit({ type: prev ? 'MODIFIED' : 'ADDED', resource: r.name, rv, obj });
      }
      for (const [key, prev] of [...current]) {
        if (seen.has(key)) continue;
        current.delete(key);
        const rv = ++this.rv;
        this.emit({ type: 'DELETED', resource: r.name, rv, obj: prev.obj });
      }
    }
  }

  /** Inject 410 Gone: forget history up to now and end every open watch with an Expired error. */
  expire(): void {
    this.compactedRv = this.rv;
    this.history = [];
    for (const w of [...this.watches]) {
      writeEvent(w.res, { type: 'ERROR', object: goneStatus(0, this.compactedRv) });
      w.close();
    }
  }

  /** Listen on HTTP, or on HTTPS when a certificate and key (PEM) are given. */
  async listen(host: string, port: number, tls?: { cert: string; key: string }): Promise<Server> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const server: Server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler)
      : createServer(handler);
    this.server = server;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }

  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => EXEC_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  /**
   * `pods/NAME/exec` over WebSockets, the remotecommand stream protocol (k8s.io/apimachinery
   * pkg/util/remotecommand, client-go tools/remotecommand/websocket.go): every binary message starts with a
   * channel byte, 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 255 (v5) "close this channel". No tty.
   */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (code: number, reason: string, message: string) => {
      const body = JSON.stringify(failureStatus(code, reason, message));
      socket.end(
        `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    const url = new URL(req.url ?? '/', 'http://double');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    if (!m) return refuse(404, 'NotFound', 'the server could not find the requested resource');
    const [, ns, name] = m as unknown as [string, string, string];
    const pod = this.store.get('pods')!.get(`${ns}/${name}`)?.obj;
    if (!pod) return refuse(404, 'NotFound', `pods "${name}" not found`);
    const containers = ((pod['spec'] as { containers?: { name: string }[] }).containers ?? []).map(
      (c) => c.name,
    );
    const container = url.searchParams.get('container') || containers[0] || '';
    if (!containers.includes(container))
      return refuse(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    const command = url.searchParams.getAll('command');
    if (!command.length) return refuse(400, 'BadRequest', 'you must specify at least 1 command');
    const exec = this.options.exec;
    if (!exec) return refuse(403, 'Forbidden', 'the kube-api double does not run exec here');
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (!EXEC_PROTOCOLS.includes(ws.protocol)) {
        ws.close(1002, `subprotocol must be one of ${EXEC_PROTOCOLS.join(', ')}`);
        return;
      }
      const wantStdin = url.searchParams.get('stdin') === 'true' || url.searchParams.get('stdin') === '1';
      const child = exec({ pod, container, command });
      const send = (channel: number, data: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
      };
      child.stdout?.on('data', (d: Buffer) => send(1, d));
      child.stderr?.on('data', (d: Buffer) => send(2, d));
      child.stdin?.on('error', () => undefined); // the command may exit before reading its input
      if (!wantStdin) child.stdin?.end();
      ws.on('message', (data: Buffer) => {
        if (data[0] === 0) child.stdin?.write(data.subarray(1));
        else if (data[0] === 255 && data[1] === 0) child.stdin?.end();
      });
      ws.on('close', () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let done = false;
      const finish = (code: number | null, error?: string) => {
        if (done) return;
        done = true;
        const status =
          code === 0
            ? { metadata: {}, status: 'Success' }
            : {
                metadata: {},
                status: 'Failure',
                message:
                  error ??
                  `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code ?? 137}`,
                reason: 'NonZeroExitCode',
                details: { causes: [{ reason: 'ExitCode', message: String(code ?? 137) }] },
              };
        send(3, Buffer.from(JSON.stringify(status)));
        ws.close(1000);
      };
      child.on('error', (err) => finish(126, `cannot run the command: ${err.message}`));
      child.on('close', (code) => finish(code));
    });
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.close();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      sendStatus(
        res,
        500,
        'InternalError',
        `kube-api double: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/labdeck-double/expire' && req.method === 'POST') {
      this.expire();
      return sendJson(res, 200, { expiredUpTo: this.compactedRv });
    }
    if (req.method !== 'GET')
      return sendStatus(res, 405, 'MethodNotAllowed', `the kube-api double is read-only`);
    let user: string | undefined;
    if (this.options.tokens) {
      const auth = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
      user = auth ? this.options.tokens[auth[1]!] : undefined;
      if (user === undefined) return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
    }
    if (path === '/version') return sendJson(res, 200, VERSION);
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok');
    }
    if (path === '/api') {
      return sendJson(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [
          { clientCIDR: '0.0.0.0/0', serverAddress: this.options.serverAddress ?? '' },
        ],
      });
    }
    if (path === '/apis') {
      return sendJson(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: API_GROUPS.map((name) => {
          const gv = { groupVersion: `${name}/v1`, version: 'v1' };
          return { name, versions: [gv], preferredVersion: gv };
        }),
      });
    }
    if (path === '/api/v1') return sendJson(res, 200, resourceList('v1', ''));
    const g = /^\/apis\/([a-z0-9.]+)(\/v1)?$/.exec(path);
    const apiGroup = API_GROUPS.find((x) => x === g?.[1]);
    if (g && apiGroup) {
      const gv = { groupVersion: `${apiGroup}/v1`, version: 'v1' };
      return g[2]
        ? sendJson(res, 200, resourceList(`${apiGroup}/v1`, apiGroup))
        : sendJson(res, 200, {
            kind: 'APIGroup',
            apiVersion: 'v1',
            name: apiGroup,
            versions: [gv],
            preferredVersion: gv,
          });
    }

    const m =
      /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?$/.exec(path) ??
      /^\/apis\/[a-z0-9.]+\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?$/.exec(path);
    if (!m) return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
    const group = API_GROUPS.find((x) => path.startsWith(`/apis/${x}/v1/`)) ?? '';
    if (path.startsWith('/apis/') && !group)
      return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
    const [, ns, resName, name] = m as unknown as [string, string | undefined, string, string | undefined];
    const info = RESOURCES.find((r) => r.name === resName && r.group === group);
    if (!info) {
      return sendStatus(
        res,
        404,
        'NotFound',
        `the server could not find the requested resource (${resName})`,
      );
    }
    if (ns !== undefined && !info.namespaced) {
      return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    const q = url.searchParams;
    const watch = q.get('watch') === '1' || q.get('watch') === 'true';
    if (user !== undefined && this.options.forbiddenUsers?.includes(user)) {
      const verb = watch ? 'watch' : name !== undefined ? 'get' : 'list';
      return sendStatus(
        res,
        403,
        'Forbidden',
        `${info.name}${info.group ? `.${info.group}` : ''} is forbidden: User "${user}" cannot ${verb} resource "${info.name}" in API group "${info.group}" ${ns !== undefined ? `in the namespace "${ns}"` : 'at the cluster scope'}`,
        { kind: info.name },
      );
    }
    const filter = makeFilter(ns, q.get('labelSelector'), q.get('fieldSelector'), watch ? name : undefined);
    if (name !== undefined && !watch) return this.get(req, res, info, ns, name);
    if (watch) return this.watch(req, res, info, filter, q);
    return this.list(req, res, info, filter, q);
  }

  private items(info: ResourceInfo, filter: (o: KubeObject) => boolean): Stored[] {
    return [...this.store.get(info.name)!.values()]
      .filter((s) => filter(s.obj))
      .sort((a, b) => cmp(objectKey(a.obj), objectKey(b.obj)));
  }

  private get(
    req: IncomingMessage,
    res: ServerResponse,
    info: ResourceInfo,
    ns: string | undefined,
    name: string,
  ): void {
    const s = this.store.get(info.name)!.get(ns ? `${ns}/${name}` : name);
    if (!s) {
      return sendStatus(
        res,
        404,
        'NotFound',
        `${info.name}${info.group ? `.${info.group}` : ''} "${name}" not found`,
        {
          name,
          kind: info.name,
          ...(info.group ? { group: info.group } : {}),
        },
      );
    }
    if (wantsTable(req)) return sendJson(res, 200, this.table(info, [s], req));
    sendJson(res, 200, withMeta(s, info, true));
  }

  private list(
    req: IncomingMessage,
    res: ServerResponse,
    info: ResourceInfo,
    filter: (o: KubeObject) => boolean,
    q: URLSearchParams,
  ): void {
    const fromRv = q.get('resourceVersion');
    if (q.get('resourceVersionMatch') === 'Exact' && fromRv && Number(fromRv) < this.compactedRv) {
      return sendJson(res, 410, goneStatus(Number(fromRv), this.compactedRv));
    }
    const items = this.items(info, filter);
    if (wantsTable(req)) return sendJson(res, 200, this.table(info, items, req));
    // Chunking (`limit` / `continue`) for JSON lists: the token is the offset and the list's version (opaque to
    // clients, as a real server's); tables are sent whole.
    const limit = Number(q.get('limit') ?? '0');
    let start = 0;
    let listRv = this.rv;
    const token = q.get('continue');
    if (token) {
      const t = /^(\d+):(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
      if (!t) return sendStatus(res, 400, 'BadRequest', 'continue key is not valid');
      listRv = Number(t[1]);
      start = Number(t[2]);
    }
    const end = limit > 0 ? Math.min(items.length, start + limit) : items.length;
    const more = end < items.length;
    sendJson(res, 200, {
      kind: `${info.kind}List`,
      apiVersion: info.group ? `${info.group}/v1` : 'v1',
      metadata: {
        resourceVersion: String(listRv),
        ...(more
          ? {
              continue: Buffer.from(`${listRv}:${end}`).toString('base64'),
              remainingItemCount: items.length - end,
            }
          : {}),
      },
      items: items.slice(start, end).map((s) => withMeta(s, info, false)),
    });
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    info: ResourceInfo,
    filter: (o: KubeObject) => boolean,
    q: URLSearchParams,
  ): void {
    const rvParam = q.get('resourceVersion');
    const from = rvParam && rvParam !== '0' ? Number(rvParam) : undefined;
    res.writeHead(200, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
      'cache-control': 'no-cache',
    });
    if (from !== undefined && (!Number.isFinite(from) || from < this.compactedRv)) {
      writeEvent(res, { type: 'ERROR', object: goneStatus(from, this.compactedRv) });
      return void res.end();
    }
    if (from === undefined) {
      for (const s of this.items(info, filter))
        writeEvent(res, { type: 'ADDED', object: withMeta(s, info, true) });
    } else {
      for (const e of this.history) {
        if (e.rv > from && e.resource === info.name && filter(e.obj)) {
          writeEvent(res, { type: e.type, object: withMeta({ obj: e.obj, rv: e.rv, json: '' }, info, true) });
        }
      }
    }
    const timers: NodeJS.Timeout[] = [];
    const w: OpenWatch = {
      resource: info.name,
      filter,
      res,
      close: () => {
        if (!this.watches.delete(w)) return;
        for (const t of timers) clearTimeout(t);
        res.end();
      },
    };
    this.watches.add(w);
    req.on('close', () => w.close());
    res.on('close', () => w.close());
    if (q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1') {
      const t = setInterval(() => {
        writeEvent(res, {
          type: 'BOOKMARK',
          object: {
            kind: info.kind,
            apiVersion: info.group ? `${info.group}/v1` : 'v1',
            metadata: { resourceVersion: String(this.rv), creationTimestamp: null },
          },
        });
      }, this.bookmarkIntervalMs);
      timers.push(t);
    }
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    if (timeout > 0) timers.push(setTimeout(() => w.close(), timeout * 1000));
  }

  private emit(e: WatchEvent): void {
    this.history.push(e);
    if (this.history.length > 10_000) this.history.splice(0, this.history.length - 10_000);
    const info = RESOURCES.find((r) => r.name === e.resource)!;
    for (const w of this.watches) {
      if (w.resource === e.resource && w.filter(e.obj)) {
        writeEvent(w.res, { type: e.type, object: withMeta({ obj: e.obj, rv: e.rv, json: '' }, info, true) });
      }
    }
  }

  private table(info: ResourceInfo, items: readonly Stored[], req: IncomingMessage): object {
    const include = new URL(req.url ?? '/', 'http://double').searchParams.get('includeObject') ?? 'Metadata';
    const now = this.now();
    const printer = PRINTERS[info.name];
    return {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: String(this.rv) },
      columnDefinitions: printer.columns,
      rows: items.map((s) => {
        const full = withMeta(s, info, true);
        const object =
          include === 'None'
            ? undefined
            : include === 'Object'
              ? full
              : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: full.metadata };
        return { cells: printer.cells(s.obj, now), ...(object ? { object } : {}) };
      }),
    };
  }
}

// -----------------------------------------------------------------------------------------------------------------

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: 'labdeck-kube-api-double',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T17:59:15Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function resourceList(groupVersion: string, group: string): object {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: RESOURCES.filter((r) => r.group === group).map((r) => ({
      name: r.name,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: READ_VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    })),
  };
}

function objectKey(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function withMeta(s: Stored, info: ResourceInfo, withKind: boolean): KubeObject & { metadata: object } {
  const { apiVersion, kind, metadata, ...rest } = s.obj;
  const md = { ...metadata, resourceVersion: String(s.rv) };
  return (
    withKind ? { kind: kind ?? info.kind, apiVersion, metadata: md, ...rest } : { metadata: md, ...rest }
  ) as KubeObject & {
    metadata: object;
  };
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers['accept'] ?? ''));
}

function makeFilter(
  ns: string | undefined,
  labelSelector: string | null,
  fieldSelector: string | null,
  name: string | undefined,
): (o: KubeObject) => boolean {
  const labels = parseSelector(labelSelector);
  const fields = parseSelector(fieldSelector);
  return (o) => {
    if (ns !== undefined && o.metadata.namespace !== ns) return false;
    if (name !== undefined && o.metadata.name !== name) return false;
    for (const [k, op, v] of labels) {
      const has = o.metadata.labels?.[k];
      if (op === 'exists' ? has === undefined : op === '!=' ? has === v : has !== v) return false;
    }
    for (const [k, op, v] of fields) {
      const val = fieldValue(o, k);
      if (op === '!=' ? val === v : val !== v) return false;
    }
    return true;
  };
}

function fieldValue(o: KubeObject, path: string): string | undefined {
  let cur: unknown = o;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? undefined : String(cur);
}

/** Equality-based selectors: `a=b`, `a==b`, `a!=b`, and bare `a` (exists). */
function parseSelector(s: string | null): [string, '=' | '!=' | 'exists', string][] {
  if (!s) return [];
  return s
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t): [string, '=' | '!=' | 'exists', string] => {
      const ne = t.indexOf('!=');
      if (ne > 0) return [t.slice(0, ne), '!=', t.slice(ne + 2)];
      const eq = t.indexOf('=');
      if (eq > 0) return [t.slice(0, eq), '=', t.slice(eq + 1).replace(/^=/, '')];
      return [t, 'exists', ''];
    });
}

function goneStatus(from: number, oldest: number): object {
  return failureStatus(410, 'Expired', `too old resource version: ${from} (${oldest})`);
}

function writeEvent(res: ServerResponse, e: { type: string; object: unknown }): void {
  if (!res.writableEnded) res.write(`${JSON.stringify(e)}\n`);
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  details?: object,
): void {
  sendJson(res, code, failureStatus(code, reason, message, details));
}

/** A metav1.Status of a failed request, as the API server writes it (body of an error response or ERROR event). */
function failureStatus(code: number, reason: string, message: string, details?: object): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

// -----------------------------------------------------------------------------------------------------------------
// Table printers (kubernetes pkg/printers/internalversion/printers.go)

interface Column {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

function col(name: string, description: string, priority = 0, format = ''): Column {
  return { name, type: 'string', format, description, priority };
}

const NAME_COL = col(
  'Name',
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  0,
  'name',
);
const AGE_COL = col(
  'Age',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
);

type Obj = Record<string, unknown> & KubeObject;
const PRINTERS: Record<ResourceName, { columns: Column[]; cells: (o: Obj, now: Date) => unknown[] }> = {
  pods: {
    columns: [
      NAME_COL,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE_COL,
      col(
        'IP',
        'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
        1,
      ),
      col('Node', 'NodeName indicates in which node this pod is scheduled.', 1),
      col(
        'Nominated Node',
        'nominatedNodeName is set only when this pod preempts other pods on the node.',
        1,
      ),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    cells: (o, now) => {
      const spec = o['spec'] as { containers: unknown[]; nodeName?: string; readinessGates?: unknown[] };
      const status = o['status'] as {
        phase?: string;
        podIP?: string;
        nominatedNodeName?: string;
        containerStatuses?: { ready: boolean; restartCount: number }[];
      };
      const cs = status.containerStatuses ?? [];
      const ready = cs.filter((c) => c.ready).length;
      const restarts = cs.reduce((n, c) => n + c.restartCount, 0);
      return [
        o.metadata.name,
        `${ready}/${spec.containers.length}`,
        status.phase ?? 'Unknown',
        String(restarts),
        age(o, now),
        status.podIP || '<none>',
        spec.nodeName || '<none>',
        status.nominatedNodeName || '<none>',
        spec.readinessGates?.length ? `0/${spec.readinessGates.length}` : '<none>',
      ];
    },
  },
  services: {
    columns: [
      NAME_COL,
      col('Type', 'The type of the service.'),
      col('Cluster-IP', 'The cluster IP assigned to the service.'),
      col('External-IP', 'The external IP(s) assigned to the service.'),
      col('Port(s)', 'The port(s) exposed by the service.'),
      AGE_COL,
      col(
        'Selector',
        'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
        1,
      ),
    ],
    cells: (o, now) => {
      const spec = o['spec'] as {
        type: string;
        clusterIP?: string;
        ports: { port: number; protocol: string; nodePort?: number }[];
        selector?: Record<string, string>;
      };
      const ports = spec.ports
        .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`))
        .join(',');
      const selector = spec.selector
        ? Object.keys(spec.selector)
            .sort()
            .map((k) => `${k}=${spec.selector![k]}`)
            .join(',')
        : '<none>';
      return [
        o.metadata.name,
        spec.type,
        spec.clusterIP || '<none>',
        serviceExternalIP(o),
        ports || '<none>',
        age(o, now),
        selector,
      ];
    },
  },
  endpoints: {
    columns: [NAME_COL, col('Endpoints', 'Endpoints of this service.'), AGE_COL],
    cells: (o, now) => {
      const subsets =
        (o['subsets'] as { addresses?: { ip: string }[]; ports?: { port: number }[] }[] | undefined) ?? [];
      return [o.metadata.name, formatEndpoints(subsets), age(o, now)];
    },
  },
  endpointslices: {
    columns: [
      NAME_COL,
      col('AddressType', 'The IP protocol for this slice'),
      col('Ports', 'The ports of this slice'),
      col('Endpoints', 'The endpoints of this slice'),
      AGE_COL,
    ],
    cells: (o, now) => {
      const ports = (o['ports'] as { port?: number }[] | undefined) ?? [];
      const eps = (o['endpoints'] as { addresses: string[] }[] | undefined) ?? [];
      const portStr = ports.length
        ? ports.map((p) => (p.port === undefined ? '<unset>' : String(p.port))).join(',')
        : '<unset>';
      const addrs = eps.flatMap((e) => e.addresses);
      const epStr = addrs.length
        ? addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '')
        : '<unset>';
      return [o.metadata.name, o['addressType'], portStr, epStr, age(o, now)];
    },
  },
  deployments: {
    columns: [
      NAME_COL,
      col('Ready', 'Number of the pod with ready state'),
      col(
        'Up-to-date',
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      ),
      col(
        'Available',
        'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      ),
      AGE_COL,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col(
        'Selector',
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
        1,
      ),
    ],
    cells: (o, now) => {
      const spec = o['spec'] as {
        replicas?: number;
        selector?: { matchLabels?: Record<string, string> };
        template: { spec: { containers: { name: string; image: string }[] } };
      };
      const st = o['status'] as {
        readyReplicas?: number;
        updatedReplicas?: number;
        availableReplicas?: number;
      };
      const match = spec.selector?.matchLabels ?? {};
      return [
        o.metadata.name,
        `${st.readyReplicas ?? 0}/${spec.replicas ?? 0}`,
        st.updatedReplicas ?? 0,
        st.availableReplicas ?? 0,
        age(o, now),
        spec.template.spec.containers.map((c) => c.name).join(','),
        spec.template.spec.containers.map((c) => c.image).join(','),
        Object.keys(match)
          .sort()
          .map((k) => `${k}=${match[k]}`)
          .join(',') || '<none>',
      ];
    },
  },
  namespaces: {
    columns: [NAME_COL, col('Status', 'The status of the namespace'), AGE_COL],
    cells: (o, now) => [o.metadata.name, (o['status'] as { phase: string }).phase, age(o, now)],
  },
  nodes: {
    columns: [
      NAME_COL,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE_COL,
      col('Version', 'Kubelet Version reported by the node.'),
      col(
        'Internal-IP',
        'List of addresses reachable to the node. Queried from cloud provider, if available.',
        1,
      ),
      col(
        'External-IP',
        'List of addresses reachable to the node. Queried from cloud provider, if available.',
        1,
      ),
      col(
        'OS-Image',
        'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
        1,
      ),
      col(
        'Kernel-Version',
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
      ),
      col(
        'Container-Runtime',
        'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
        1,
      ),
    ],
    cells: (o, now) => {
      const status = o['status'] as {
        conditions: { type: string; status: string }[];
        addresses: { type: string; address: string }[];
        nodeInfo: {
          kubeletVersion: string;
          osImage: string;
          kernelVersion: string;
          containerRuntimeVersion: string;
        };
      };
      const ready =
        status.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady';
      const unschedulable = (o['spec'] as { unschedulable?: boolean }).unschedulable;
      const roles = Object.keys(o.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length))
        .filter(Boolean)
        .sort();
      const addr = (t: string) => status.addresses.find((a) => a.type === t)?.address ?? '<none>';
      return [
        o.metadata.name,
        unschedulable ? `${ready},SchedulingDisabled` : ready,
        roles.length ? roles.join(',') : '<none>',
        age(o, now),
        status.nodeInfo.kubeletVersion,
        addr('InternalIP'),
        addr('ExternalIP'),
        status.nodeInfo.osImage || '<unknown>',
        status.nodeInfo.kernelVersion || '<unknown>',
        status.nodeInfo.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
};

/** printers.go getServiceExternalIP: a LoadBalancer without an ingress (no cloud controller) is `<pending>`. */
function serviceExternalIP(o: Obj): string {
  const spec = o['spec'] as { type: string; externalIPs?: string[]; externalName?: string };
  const ingress =
    (o['status'] as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)
      ?.loadBalancer?.ingress ?? [];
  const external = spec.externalIPs ?? [];
  if (spec.type === 'ExternalName') return spec.externalName ?? '<none>';
  if (spec.type === 'LoadBalancer') {
    const lb = ingress.map((i) => i.ip || i.hostname || '').filter(Boolean);
    if (external.length || lb.length) return [...external, ...lb].join(',');
    return '<pending>';
  }
  return external.length ? external.join(',') : '<none>';
}

/** printers.go formatEndpoints: up to three ip:port, then " + N more...". */
function formatEndpoints(
  subsets: readonly { addresses?: { ip: string }[]; ports?: { port: number }[] }[],
): string {
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(`${a.ip}:${p.port}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

function age(o: KubeObject, now: Date): string {
  return humanDuration(now.getTime() - Date.parse(o.metadata.creationTimestamp));
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
