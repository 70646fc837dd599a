/**
 * src/kube against the kube-api **double** over loopback TLS (a real TLS stack, real openssl certificates,
 * client-node's real HTTP and watch code): kubeconfig loading, listing, TLS and auth failures, and the live watch
 * with 410 Gone and a dropped server.
 */
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KubeClient,
  KubeError,
  LiveCluster,
  listContexts,
  loadKubeconfig,
  type LiveData,
  type LiveStatus,
} from '../../src/kube/index.js';
import type { KubeApiDouble } from '../../src/sandbox/kube-api-double.js';
import {
  SERVER_NAME,
  kubeconfigText,
  objects,
  openConnections,
  plan,
  type Pki,
  startKubeFixture,
  type KubeFixture,
} from './kube-harness.js';

const TOKEN = 'tok-8f1c2d9e7a6b5c4d3e2f1a0b';
const FORBIDDEN_TOKEN = 'tok-forbidden-0a1b2c3d4e5f';
let fx: KubeFixture;
let pki: Pki;
let tmp: string;
let double: KubeApiDouble;
let port: number;
let httpServer: Server;

beforeAll(async () => {
  fx = await startKubeFixture('labdeck-kube-test-', undefined, {
    tokens: { [TOKEN]: 'jane', [FORBIDDEN_TOKEN]: 'intern' },
    forbiddenUsers: ['intern'],
  });
  ({ pki, tmp, double, port, server: httpServer } = fx);
});

afterAll(() => fx?.dispose());

function kubeconfig(name: string, text: string): string {
  const f = join(tmp, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
}

const server = () => `https://127.0.0.1:${port}`;
function goodConfig(extra: Parameters<typeof kubeconfigText>[0] = []) {
  const file = kubeconfig(
    `good-${extra.length}.yaml`,
    kubeconfigText([
      {
        name: 'lab',
        server: server(),
        ca: pki.caPem,
        tlsServerName: SERVER_NAME,
        token: TOKEN,
        user: 'jane',
        namespace: 'default',
      },
      ...extra,
    ]),
  );
  return loadKubeconfig({ file }).config;
}

async function failure(p: Promise<unknown>): Promise<KubeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubeError);
  return err as KubeError;
}

describe('kubeconfig', () => {
  it('names the files it looked for when there is none', () => {
    let err: unknown;
    try {
      loadKubeconfig({ env: { HOME: tmp } });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'kubeconfig-not-found' });
    expect((err as Error).message).toContain(join(tmp, '.kube', 'config'));
  });

  it('says which file does not parse, without quoting its content', () => {
    const file = kubeconfig('bad.yaml', `clusters: [\n  token: ${TOKEN}\n`);
    let err: unknown;
    try {
      loadKubeconfig({ file });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'kubeconfig-invalid', where: file });
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it('lists contexts with server and namespace, and no credential', () => {
    const config = goodConfig([{ name: 'other', server: 'https://10.0.0.1:6443', ca: pki.caPem }]);
    const contexts = listContexts(config);
    expect(contexts).toEqual([
      {
        name: 'lab',
        cluster: 'lab-cluster',
        user: 'jane',
        namespace: 'default',
        server: server(),
        tlsServerName: SERVER_NAME,
        current: true,
      },
      {
        name: 'other',
        cluster: 'other-cluster',
        user: 'other-user',
        namespace: null,
        server: 'https://10.0.0.1:6443',
        tlsServerName: null,
        current: false,
      },
    ]);
    expect(JSON.stringify(contexts)).not.toContain(TOKEN);
  });

  it('merges a KUBECONFIG list like kubectl: the first file to name a context wins', () => {
    const a = kubeconfig(
      'a.yaml',
      kubeconfigText([{ name: 'one', server: 'https://10.0.0.1', ca: pki.caPem }]),
    );
    const b = kubeconfig(
      'b.yaml',
      kubeconfigText([
        { name: 'two', server: 'https://10.0.0.2', ca: pki.caPem },
        { name: 'one', server: 'https://10.9.9.9', ca: pki.caPem, user: 'x' },
      ]),
    );
    const { config, files } = loadKubeconfig({ env: { KUBECONFIG: `${a}:${join(tmp, 'missing')}:${b}` } });
    expect(files).toEqual([a, b]);
    const ctx = listContexts(config);
    expect(ctx.map((c) => [c.name, c.server, c.current])).toEqual([
      ['one', 'https://10.0.0.1', true],
      ['two', 'https://10.0.0.2', false],
    ]);
  });

  it('refuses an unknown context, listing the known ones', () => {
    const config = goodConfig();
    expect(() => new KubeClient({ config, context: 'prod' })).toThrow(
      /no context "prod" in the kubeconfig \(contexts: lab\)/,
    );
  });

  it('refuses insecure-skip-tls-verify unless allowed explicitly', () => {
    const config = loadKubeconfig({
      file: kubeconfig(
        'insecure.yaml',
        kubeconfigText([{ name: 'i', server: server(), ca: pki.caPem, insecure: true }]),
      ),
    }).config;
    expect(() => new KubeClient({ config })).toThrow(/insecure-skip-tls-verify/);
    expect(new KubeClient({ config, allowInsecureTls: true }).tlsUnverified).toBe(true);
  });
});

describe('KubeClient against the kube-api double over TLS', () => {
  it('lists pods, nodes, services, endpoints and slices, page by page, as the model', async () => {
    const client = new KubeClient({ config: goodConfig() });
    try {
      const pods = await client.list('pods', null, 2);
      expect(pods.items).toHaveLength(objects().pods.length);
      const mine = await client.list('pods', 'default', 1000);
      expect(mine.items.map((p) => (p as { status: { podIP: string } }).status.podIP).sort()).toEqual(
        plan.pods.map((p) => p.ip).sort(),
      );
      expect(Number(pods.resourceVersion)).toBeGreaterThan(0);
      for (const r of ['nodes', 'services', 'endpoints', 'endpointslices'] as const) {
        const l = await client.list(r, null, 3);
        expect(l.items.length, r).toBe(objects()[r].length);
      }
    } finally {
      client.dispose();
    }
  });

  it('checks the certificate against the tls-server-name, and names the name it checked when it fails', async () => {
    const file = kubeconfig(
      'noname.yaml',
      kubeconfigText([{ name: 'n', server: server(), ca: pki.caPem, token: TOKEN }]),
    );
    const client = new KubeClient({ config: loadKubeconfig({ file }).config });
    const err = await failure(client.list('pods', null));
    expect(err.code).toBe('tls-failed');
    expect(err.message).toContain('not valid for the name "127.0.0.1"');
    expect(err.message).not.toMatch(/\n\s+at /);
  });

  it('refuses a server whose certificate another CA signed', async () => {
    const file = kubeconfig(
      'otherca.yaml',
      kubeconfigText([
        { name: 'o', server: server(), ca: pki.otherCaPem, tlsServerName: SERVER_NAME, token: TOKEN },
      ]),
    );
    const err = await failure(
      new KubeClient({ config: loadKubeconfig({ file }).config }).list('nodes', null),
    );
    expect(err.code).toBe('tls-failed');
    expect(err.message).toContain(`not signed by the kubeconfig's certificate authority`);
  });

  it('says 401 with the user and context, and never the token', async () => {
    const wrong = 'tok-wrong-99887766554433';
    const file = kubeconfig(
      'wrongtoken.yaml',
      kubeconfigText([
        {
          name: 'w',
          server: server(),
          ca: pki.caPem,
          tlsServerName: SERVER_NAME,
          token: wrong,
          user: 'jane',
        },
      ]),
    );
    const err = await failure(new KubeClient({ config: loadKubeconfig({ file }).config }).list('pods', null));
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/user "jane" \(context "w"\): 401 Unauthorized/);
    expect(err.message).not.toContain(wrong);
  });

  it('says 403 with what the user may not do', async () => {
    const file = kubeconfig(
      'forbidden.yaml',
      kubeconfigText([
        {
          name: 'f',
          server: server(),
          ca: pki.caPem,
          tlsServerName: SERVER_NAME,
          token: FORBIDDEN_TOKEN,
          user: 'intern',
        },
      ]),
    );
    const err = await failure(new KubeClient({ config: loadKubeconfig({ file }).config }).list('pods', null));
    expect(err.code).toBe('forbidden');
    expect(err.message).toContain('user "intern" (context "f")');
    expect(err.message).toContain('cannot list resource "pods"');
    expect(err.message).not.toContain(FORBIDDEN_TOKEN);
  });

  it('gives up on a server that accepts and never answers, naming it', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      const file = kubeconfig(
        'silent.yaml',
        kubeconfigText([
          { name: 's', server: `https://127.0.0.1:${silentPort}`, ca: pki.caPem, token: TOKEN },
        ]),
      );
      const client = new KubeClient({ config: loadKubeconfig({ file }).config, requestTimeoutMs: 300 });
      const err = await failure(client.list('pods', null));
      expect(err.code).toBe('unreachable');
      expect(err.message).toBe(
        `list pods: no answer from the API server https://127.0.0.1:${silentPort} within 0.3 s (context "s").`,
      );
      client.dispose();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('says the server is unreachable, naming it', async () => {
    const file = kubeconfig(
      'down.yaml',
      // Port 1 on loopback: nothing listens there.
      kubeconfigText([{ name: 'd', server: 'https://127.0.0.1:1', ca: pki.caPem, token: TOKEN }]),
    );
    const err = await failure(new KubeClient({ config: loadKubeconfig({ file }).config }).list('pods', null));
    expect(err.code).toBe('unreachable');
    expect(err.message).toContain('cannot reach the API server https://127.0.0.1:1 (ECONNREFUSED)');
  });
});

describe('LiveCluster against the kube-api double', () => {
  it('lists, follows changes, re-lists after 410 Gone, and comes back after the server drops, coalescing updates', async () => {
    const logs: string[] = [];
    const datas: LiveData[] = [];
    const states: LiveStatus[] = [];
    const live = new LiveCluster(new KubeClient({ config: goodConfig() }), {
      onData: (d) => datas.push(d),
      onStatus: (s) => states.push(s),
      coalesceMs: 100,
      backoff: { initialMs: 50, maxMs: 400 },
      log: (l) => logs.push(l),
    });
    const until = async (what: string, ok: () => boolean, ms = 10_000) => {
      for (let t = 0; t < ms && !ok(); t += 25) await new Promise((r) => setTimeout(r, 25));
      expect(ok(), what).toBe(true);
    };
    const last = () => datas[datas.length - 1]!;
    try {
      await live.start();
      expect(live.status().state).toBe('connected');
      expect(
        last()
          .pods.map((p) => p.ip)
          .filter((ip) => ip?.startsWith('192.168.')).length,
      ).toBeGreaterThan(0);
      expect(
        last()
          .nodes.map((n) => n.name)
          .sort(),
      ).toEqual(plan.nodes.map((n) => n.name).sort());
      expect(last().endpointSlices[0]?.source).toBe('endpointslice');
      const podCount = objects().pods.length;
      expect(last().pods).toHaveLength(podCount);

      // A burst of 20 changes arrives as a handful of updates, not 20.
      const before = datas.length;
      const base = objects();
      for (let i = 0; i < 20; i++) {
        double.update({ ...base, pods: base.pods.map((p, j) => (j === 0 ? relabel(p, `v${i}`) : p)) });
      }
      await until(
        'burst seen',
        () =>
          last().pods[0]?.labels?.['rev'] === 'v19' || last().pods.some((p) => p.labels?.['rev'] === 'v19'),
      );
      // (a bound loose enough for a loaded machine: what matters is far fewer updates than changes)
      expect(datas.length - before).toBeLessThan(10);

      // A deleted pod leaves.
      const gone = base.pods[base.pods.length - 1]!;
      double.update({ ...base, pods: base.pods.slice(0, -1) });
      await until('delete seen', () => !last().pods.some((p) => p.name === gone.metadata.name));

      // 410 Gone: the history is compacted; the watches re-list and carry on.
      double.expire();
      await until('410 re-list', () => logs.some((l) => l.includes('410 Gone, listing again')));
      double.update(base);
      await until('after 410', () => last().pods.some((p) => p.name === gone.metadata.name));

      // The server goes away (every connection cut) and comes back on the same port.
      await double.close();
      await until('reconnecting', () => states.some((s) => s.state === 'reconnecting'));
      expect(live.status().error?.code).toBe('unreachable');
      double.update({ ...base, pods: base.pods.slice(1) });
      httpServer = await double.listen('127.0.0.1', port, { cert: pki.certPem, key: pki.keyPem });
      await until('reconnected', () => live.status().state === 'connected', 15_000);
      await until('data after reconnect', () => last().pods.length === podCount - 1);
      expect(live.status().error).toBeNull();
    } finally {
      await live.dispose();
      double.update(objects());
    }
    expect(live.status().state).toBe('disconnected');
    // Nothing of the credentials in anything the room said.
    const said = JSON.stringify({ logs, states });
    expect(said).not.toContain(TOKEN);
  });

  it('keeps the snapshot bounded: at most maxObjects per resource, and says it cut; leaves no connection open', async () => {
    let data: LiveData | undefined;
    const live = new LiveCluster(new KubeClient({ config: goodConfig() }), {
      onData: (d) => (data = d),
      maxObjects: 3,
      resources: ['pods', 'services'],
    });
    try {
      await live.start();
      expect(data!.pods).toHaveLength(3);
      expect(live.status()).toMatchObject({ truncated: true, counts: { pods: objects().pods.length } });
      // Two watches are open on the double.
      for (let i = 0; i < 100 && (await openConnections(httpServer)) < 2; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(await openConnections(httpServer)).toBeGreaterThanOrEqual(2);
    } finally {
      await live.dispose();
    }
    for (let i = 0; i < 100 && (await openConnections(httpServer)) > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await openConnections(httpServer)).toBe(0);
  });

  it('fails start with the first error, and leaves nothing running', async () => {
    const file = kubeconfig(
      'down2.yaml',
      kubeconfigText([{ name: 'd', server: 'https://127.0.0.1:1', ca: pki.caPem }]),
    );
    const live = new LiveCluster(new KubeClient({ config: loadKubeconfig({ file }).config }), {
      onData: () => undefined,
    });
    const err = await failure(live.start());
    expect(err.code).toBe('unreachable');
    expect(live.status()).toMatchObject({ state: 'failed', error: { code: 'unreachable' } });
    await live.dispose();
  });
});

function relabel<T extends { metadata: { labels?: Record<string, string> } }>(o: T, rev: string): T {
  return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, rev } } };
}
