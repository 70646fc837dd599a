import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { clusterObjects } from '../../src/sandbox/cluster-state.js';
import { KubeApiDouble } from '../../src/sandbox/kube-api-double.js';
import type { ExecRequest } from '../../src/sandbox/kube-api-double.js';
import { planSandbox } from '../../src/sandbox/topology.js';

// The double on loopback, fed from a plan; requests as kubectl sends them.
const plan = planSandbox({ name: 'ldu', pods: 4 });
const created = '2026-01-01T00:00:00Z';
const host = { kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)' };
// exec runs the command as a local process (argv as given, no shell), with the pod's name in the environment.
const execs: ExecRequest[] = [];
const double = new KubeApiDouble({
  now: () => new Date('2026-01-01T00:25:00Z'),
  bookmarkIntervalMs: 100,
  exec: (r) => {
    execs.push(r);
    return spawn(r.command[0]!, r.command.slice(1), {
      stdio: 'pipe',
      env: { PATH: process.env['PATH'] ?? '', POD: r.pod.metadata.name },
    });
  },
});
let base = '';

beforeAll(async () => {
  double.update(clusterObjects(plan, {}, created, host));
  const server = await double.listen('127.0.0.1', 0);
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await double.close();
});

const TABLE =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON off the wire; the assertions check its shape
async function get(path: string, accept = 'application/json'): Promise<{ status: number; body: any }> {
  const r = await fetch(`${base}${path}`, { headers: { accept } });
  return { status: r.status, body: await r.json() };
}

describe('kube-api double', () => {
  it('answers discovery like an API server without aggregated discovery', async () => {
    expect((await get('/api')).body.versions).toEqual(['v1']);
    const core = (await get('/api/v1')).body;
    expect(core.resources.map((r: { name: string }) => r.name)).toEqual([
      'namespaces',
      'nodes',
      'pods',
      'services',
      'endpoints',
    ]);
    const disc = (await get('/apis/discovery.k8s.io/v1')).body;
    expect(disc.resources[0]).toMatchObject({
      name: 'endpointslices',
      kind: 'EndpointSlice',
      namespaced: true,
    });
  });

  it('prints pods as a Table with printers.go columns and priorities', async () => {
    const t = (await get('/api/v1/namespaces/default/pods', TABLE)).body;
    expect(t.kind).toBe('Table');
    expect(
      t.columnDefinitions.map((c: { name: string; priority: number }) => `${c.name}:${c.priority}`),
    ).toEqual([
      'Name:0',
      'Ready:0',
      'Status:0',
      'Restarts:0',
      'Age:0',
      'IP:1',
      'Node:1',
      'Nominated Node:1',
      'Readiness Gates:1',
    ]);
    const p = plan.pods.map((x) => x).sort((a, b) => (a.name < b.name ? -1 : 1))[0]!;
    expect(t.rows[0].cells).toEqual([p.name, '1/1', 'Running', '0', '25m', p.ip, p.node, '<none>', '<none>']);
    expect(t.rows[0].object.kind).toBe('PartialObjectMetadata');
  });

  it('formats services and endpoints cells like kubectl', async () => {
    const svc = (await get('/api/v1/namespaces/default/services', TABLE)).body.rows.map(
      (r: { cells: unknown[] }) => r.cells,
    );
    expect(svc).toContainEqual([
      'kuard',
      'LoadBalancer',
      '10.97.169.67',
      '<pending>',
      '80:31986/TCP',
      '25m',
      'app=kuard',
    ]);
    const ep = (await get('/api/v1/namespaces/default/endpoints/kuard', TABLE)).body.rows[0]
      .cells[1] as string;
    expect(ep).toMatch(/^(192\.168\.\d\.\d+:8080,){2}192\.168\.\d\.\d+:8080 \+ 1 more\.\.\.$/);
  });

  it('serves apps/v1 deployments with printers.go columns', async () => {
    const groups = (await get('/apis')).body.groups.map((g: { name: string }) => g.name);
    expect(groups).toEqual(['apps', 'discovery.k8s.io']);
    expect((await get('/apis/apps/v1')).body.resources[0]).toMatchObject({
      name: 'deployments',
      kind: 'Deployment',
      shortNames: ['deploy'],
    });
    const d = (await get('/apis/apps/v1/namespaces/default/deployments/kuard')).body;
    expect(d).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: { replicas: 4, selector: { matchLabels: { app: 'kuard' } } },
      status: { availableReplicas: 4 },
    });
    const t = (await get('/apis/apps/v1/namespaces/default/deployments', TABLE)).body;
    expect(t.rows[0].cells).toEqual([
      'kuard',
      '4/4',
      4,
      4,
      '25m',
      'kuard-amd64',
      'gcr.io/kuar-demo/kuard-amd64:1',
      'app=kuard',
    ]);
    expect((await get('/apis/batch/v1/namespaces/default/jobs')).status).toBe(404);
  });

  it('lists a kube-proxy pod per node in kube-system, on the host network', async () => {
    const r = await get(
      '/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-proxy&fieldSelector=status.phase%3DRunning',
    );
    const pods = r.body.items as { spec: { nodeName: string }; status: { podIP: string; hostIP: string } }[];
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(plan.nodes.map((n) => n.name).sort());
    for (const p of pods) expect(p.status.podIP).toBe(p.status.hostIP);
  });

  it('execs over the WebSocket stream protocol: stdin with the v5 close, stdout, stderr, exit code', async () => {
    const pod = plan.pods[0]!.name;
    const cmd = ['sh', '-c', 'cat; echo "in $POD" >&2; exit 3'];
    const q = [
      ...cmd.map((c) => `command=${encodeURIComponent(c)}`),
      'stdin=true',
      'stdout=true',
      'stderr=true',
    ];
    const ws = new WebSocket(
      `${base.replace('http', 'ws')}/api/v1/namespaces/default/pods/${pod}/exec?${q.join('&')}`,
      ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
    );
    const got: Record<number, string> = { 1: '', 2: '', 3: '' };
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    ws.on('message', (d: Buffer) => (got[d[0]!] += d.subarray(1).toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello\n')]));
    ws.send(Buffer.from([255, 0]));
    await closed;
    expect(got[1]).toBe('hello\n');
    expect(got[2]).toBe(`in ${pod}\n`);
    expect(JSON.parse(got[3]!)).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(execs.at(-1)).toMatchObject({ container: 'kuard-amd64', command: cmd });
  });

  it('refuses exec into an unknown pod or container with a Status', async () => {
    const open = (path: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, ['v5.channel.k8s.io']);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await open('/api/v1/namespaces/default/pods/nope/exec?command=true')).toBe(404);
    expect(
      await open(`/api/v1/namespaces/default/pods/${plan.pods[0]!.name}/exec?command=true&container=nope`),
    ).toBe(400);
  });

  it('gets cluster-scoped objects by name', async () => {
    expect((await get('/api/v1/namespaces/default')).body).toMatchObject({
      kind: 'Namespace',
      metadata: { name: 'default' },
    });
    const node = (await get('/api/v1/nodes/worker-1')).body;
    expect(node).toMatchObject({ kind: 'Node', spec: { podCIDR: '192.168.1.0/24' } });
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: '10.0.8.11' });
  });

  it('returns a NotFound Status for an unknown object', async () => {
    const r = await get('/api/v1/namespaces/default/pods/nope');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      message: 'pods "nope" not found',
      code: 404,
    });
  });

  it('filters by label selector', async () => {
    const r = await get('/api/v1/namespaces/default/pods?labelSelector=track%3Dcanary');
    expect(r.body.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort()).toEqual(
      plan.pods
        .filter((p) => p.labels['track'] === 'canary')
        .map((p) => p.name)
        .sort(),
    );
  });

  it('replays changes after a resourceVersion, sends bookmarks, and ends with 410 Gone on expire', async () => {
    const rv = (await get('/api/v1/namespaces/default/endpoints')).body.metadata.resourceVersion as string;
    const res = await fetch(
      `${base}/api/v1/namespaces/default/endpoints?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
    );
    const reader = res.body!.getReader();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- watch events off the wire
    const events: { type: string; object: any }[] = [];
    let buf = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += new TextDecoder().decode(value);
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
      }
    })();
    double.update(clusterObjects(plan, { 'missing-endpoint': true }, created, host));
    await until(() => events.some((e) => e.type === 'MODIFIED') && events.some((e) => e.type === 'BOOKMARK'));
    const mod = events.find((e) => e.type === 'MODIFIED')!;
    expect(mod.object.metadata.name).toBe('kuard');
    expect(Number(mod.object.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
    double.expire();
    await pump;
    expect(events.at(-1)).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    // Watching from the old version now fails at once.
    const again = await fetch(`${base}/api/v1/namespaces/default/endpoints?watch=1&resourceVersion=${rv}`);
    expect(JSON.parse((await again.text()).trim())).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
}
