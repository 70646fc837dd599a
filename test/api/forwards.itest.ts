/**
 * SSH local forwards through the backend API, against real OpenSSH sshd in network namespaces
 * (test/support/ssh-net.ts: root → bastion → node) and a real HTTP server on the node's 127.0.0.1:8080, reached
 * as in the seed: `ssh -L8080:localhost:8080 -o ProxyCommand="ssh … nc %h %p" ubuntu@10.0.18.181`.
 * Every request goes to 127.0.0.1 of this machine (the forward) or stays inside the test's namespaces; every
 * loop is bounded.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../src/api/backend.js';
import type { EventPayload, ForwardInfoView } from '../../src/api/contract.js';
import type { ApiClient } from '../../renderer/src/api/client.js';
import { ApiCallError } from '../../renderer/src/api/client.js';
import { SshNet } from '../support/ssh-net.js';
import { inProcessClient } from '../support/in-process-api.js';

let net: SshNet;
let config: string;
let backend: Backend;
let api: ApiClient;
let closeClient: () => void;
let http: ChildProcess | undefined;
let dataDir: string;
const events: EventPayload<'forwards.changed'>[] = [];

/** A GET to this machine's loopback only, with a timeout. */
function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Established SSH connections the bastion's sshd holds (from this machine, directly or via ProxyCommand). */
function bastionSessions(): number {
  const out = execFileSync(
    'ip',
    ['netns', 'exec', net.hop('bastion').ns, 'ss', '-tnH', 'state', 'established', '( sport = :22 )'],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

async function poll<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 100; i++) {
    last = await probe();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

async function failure(p: Promise<unknown>): Promise<ApiCallError> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(r instanceof ApiCallError)) throw new Error(`expected an API error, got ${String(r)}`);
  return r;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const byId = async (id: string): Promise<ForwardInfoView | undefined> =>
  (await api.call('forwards.list', {})).find((f) => f.id === id);

beforeAll(async () => {
  net = await SshNet.create(2, { prefix: 'ldf', rootOctet: 214 });
  const { knownHosts } = net.writeClientFiles(['bastion', 'node']);
  // The seed's shape: the master reached by ProxyCommand through the bastion, plus a host with LocalForward.
  config = net.writeClientConfig(
    knownHosts,
    [
      'Host node-lf',
      '  HostName 10.201.0.2',
      '  ProxyJump bastion',
      '  LocalForward 0 localhost:8080',
      // The node under a name whose known_hosts does not know it (StrictHostKeyChecking yes from `Host *`).
      'Host node-unknown',
      '  HostName 10.201.0.2',
      '  ProxyJump bastion',
      `  UserKnownHostsFile ${join(net.dir, 'known_hosts.empty')}`,
      // … and one whose unknown key is asked about, as the UI does.
      'Host node-ask',
      '  HostName 10.201.0.2',
      '  ProxyJump bastion',
      `  UserKnownHostsFile ${join(net.dir, 'known_hosts.ask')}`,
      '  StrictHostKeyChecking ask',
      '  BatchMode no',
    ].join('\n'),
  );
  writeFileSync(join(net.dir, 'hello.txt'), 'hello from the node\n');
  // A real HTTP server on the node's loopback, port 8080 (kuard's port in the seed).
  http = spawn(
    'ip',
    [
      'netns',
      'exec',
      net.hop('node').ns,
      'python3',
      '-m',
      'http.server',
      '8080',
      '--bind',
      '127.0.0.1',
      '--directory',
      net.dir,
    ],
    { stdio: 'ignore' },
  );
  await poll(
    () => {
      try {
        const out = execFileSync(
          'ip',
          ['netns', 'exec', net.hop('node').ns, 'ss', '-ltnH', 'sport = :8080'],
          {
            encoding: 'utf8',
          },
        );
        return out.includes(':8080');
      } catch {
        return false;
      }
    },
    (v) => v,
    'the HTTP server on the node',
  );
  dataDir = mkdtempSync(join(tmpdir(), 'ldf-data-'));
  // Short waits between automatic reconnects, so that giving up ("disconnected") is seen within seconds.
  backend = createBackend({
    host: 'web',
    version: 'test',
    openExternal: async () => undefined,
    dataDir,
    forwardReconnectDelaysMs: [500, 1000, 1500],
  });
  ({ client: api, close: closeClient } = inProcessClient(backend.api));
  api.listen('forwards.changed', (list) => events.push(list));
});

afterAll(() => {
  closeClient?.();
  backend?.dispose();
  http?.kill('SIGKILL');
  net?.dispose();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('local forwards through the backend API (real sshd, ProxyCommand nc as in the seed)', () => {
  it('opens -L0:localhost:8080 on node-nc, fetches through it, counts it, and closing frees the port and the connection', async () => {
    expect(bastionSessions()).toBe(0);
    const f = await api.call('forwards.open', { destination: 'node-nc', config, spec: '0:localhost:8080' });
    expect(f).toMatchObject({
      destination: 'node-nc',
      origin: 'user',
      spec: '127.0.0.1:0:localhost:8080',
      state: 'listening',
      exposed: false,
      error: null,
    });
    expect(f.listening?.address).toBe('127.0.0.1');
    const port = f.listening!.port;
    expect(port).toBeGreaterThan(0);
    expect(f.connection).toMatch(/^node-nc /);

    // The same local port again: refused by name, before anything is connected.
    const again = await failure(
      api.call('forwards.open', { destination: 'node', config, spec: `${port}:localhost:8080` }),
    );
    expect(again.code).toBe('forward-exists');
    expect(again.message).toContain(`already listens on 127.0.0.1:${port} (to localhost:8080 via node-nc)`);
    expect(again.where).toBe(f.id);

    const r = await httpGet(port, '/hello.txt');
    expect(r).toEqual({ status: 200, body: 'hello from the node\n' });
    const after = await poll(
      () => byId(f.id),
      (v) => (v?.totalConnections ?? 0) >= 1 && (v?.bytesIn ?? 0) > 0,
      'the counters',
    );
    expect(after!.bytesOut).toBeGreaterThan(0);
    // The renderer hears about it.
    await poll(
      () => events.at(-1),
      (l) => l?.some((x) => x.id === f.id && x.state === 'listening') ?? false,
      'a forwards.changed event',
    );
    expect(bastionSessions()).toBe(1);

    await api.call('forwards.close', { id: f.id });
    expect(await byId(f.id)).toBeUndefined();
    // The port is free again: something else can listen on it.
    const s = await listenOn(port);
    s.close();
    // It was the only user of the connection: the lease went back and the connection closed.
    await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');
    expect((await failure(api.call('forwards.close', { id: f.id }))).code).toBe('forward-not-found');
  });

  it('reports a local port that is already in use as data (what, where, what to do) and keeps nothing open', async () => {
    const port = await freePort();
    const taken = await listenOn(port);
    try {
      const e = await failure(
        api.call('forwards.open', { destination: 'node-nc', config, spec: `${port}:localhost:8080` }),
      );
      expect(e.code).toBe('forward-port-in-use');
      expect(e.where).toBe(`127.0.0.1:${port}`);
      expect(e.message).toMatch(/already in use on this machine.*Pick another local port/);
      expect(await api.call('forwards.list', {})).toEqual([]);
      await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');
    } finally {
      taken.close();
    }
  });

  it('refuses a non-loopback bind unless asked, and a remote host that is not a host, before connecting', async () => {
    const e = await failure(
      api.call('forwards.open', { destination: 'node-nc', config, spec: '0.0.0.0:0:localhost:8080' }),
    );
    expect(e.code).toBe('forward-not-loopback');
    const bad = await failure(
      api.call('forwards.open', {
        destination: 'node-nc',
        config,
        fields: { bindPort: 0, remoteHost: 'localhost;id', remotePort: 8080 },
      }),
    );
    // The fields form is checked by the contract before dispatch; the OpenSSH form by the service.
    expect(bad.code).toBe('bad-request');
    expect(bad.message).toMatch(/remoteHost/);
    const badSpec = await failure(
      api.call('forwards.open', { destination: 'node-nc', config, spec: '0:$(id):8080' }),
    );
    expect(badSpec.code).toBe('forward-bad-spec');
    const port = await failure(
      api.call('forwards.open', {
        destination: 'node-nc',
        config,
        fields: { bindPort: 0, remoteHost: 'localhost', remotePort: 70000 },
      }),
    );
    expect(port.code).toBe('bad-request');
    expect(bastionSessions()).toBe(0);
  });

  it('reports a hop whose host key is not trusted as data naming the hop, and releases the chain', async () => {
    writeFileSync(join(net.dir, 'known_hosts.empty'), '');
    const e = await failure(
      api.call('forwards.open', { destination: 'node-unknown', config, spec: '0:localhost:8080' }),
    );
    expect(e.code).toBe('ssh-host-key-unknown');
    expect(e.where).toMatch(/^node-unknown \(root@10\.201\.0\.2:22\)/);
    expect(e.message).toMatch(/not in known_hosts.*Refusing to connect.*check its fingerprint/);
    expect(await api.call('forwards.list', {})).toEqual([]);
    await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');
  });

  it('asks about an unknown host key through ssh.prompt while "connecting"; closing it meanwhile cancels cleanly', async () => {
    writeFileSync(join(net.dir, 'known_hosts.ask'), '');
    const prompts: EventPayload<'ssh.prompt'>[] = [];
    const off = api.listen('ssh.prompt', (p) => prompts.push(p));
    try {
      // 1. Closed while the question is open: the open fails as cancelled, nothing stays open.
      const first = failure(
        api.call('forwards.open', { destination: 'node-ask', config, spec: '0:localhost:8080' }),
      );
      const connecting = await poll(
        () => api.call('forwards.list', {}),
        (l) => l.some((x) => x.state === 'connecting') && prompts.length === 1,
        'the connecting forward and its host key question',
      );
      expect(prompts[0]).toMatchObject({ kind: 'hostKey', keyType: 'ssh-ed25519' });
      expect(prompts[0]!.kind === 'hostKey' && prompts[0]!.hop).toMatch(/^node-ask /);
      await api.call('forwards.close', { id: connecting[0]!.id });
      await api.call('ssh.answer', { request: prompts[0]!.request, answer: { hostKey: 'accept-once' } });
      expect((await first).code).toBe('forward-cancelled');
      expect(await api.call('forwards.list', {})).toEqual([]);
      await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');

      // 2. Accepted and remembered: listening, and known_hosts has the node's key under its address.
      const second = api.call('forwards.open', { destination: 'node-ask', config, spec: '0:localhost:8080' });
      await poll(
        () => prompts.length,
        (n) => n === 2,
        'the second host key question',
      );
      await api.call('ssh.answer', {
        request: prompts[1]!.request,
        answer: { hostKey: 'accept-and-remember' },
      });
      const f = await second;
      expect(f.state).toBe('listening');
      expect(readFileSync(join(net.dir, 'known_hosts.ask'), 'utf8')).toMatch(/^10\.201\.0\.2 ssh-ed25519 /);
      expect((await httpGet(f.listening!.port, '/hello.txt')).status).toBe(200);
      await api.call('forwards.close', { id: f.id });
      await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');
    } finally {
      off();
    }
  });

  it('shows a refused remote port as the forward error, naming the target', async () => {
    const f = await api.call('forwards.open', { destination: 'node-nc', config, spec: '0:localhost:8081' });
    try {
      await httpGet(f.listening!.port, '/').then(
        () => undefined,
        () => undefined,
      );
      const v = await poll(
        () => byId(f.id),
        (x) => x?.error !== null,
        'the forward error',
      );
      expect(v!.state).toBe('listening');
      expect(v!.error).toMatchObject({ code: 'forward-remote-failed', where: 'localhost:8081' });
      expect(v!.error!.message).toMatch(/could not open a connection to localhost:8081/);
      expect(v!.error!.advice).toMatch(/listens on localhost:8081/);
    } finally {
      await api.call('forwards.close', { id: f.id });
    }
  });

  it('shares the terminal connection, opens the LocalForward lines of the profile, and closing the last user releases it', async () => {
    const t = await api.call('terminal.create', {
      kind: 'ssh',
      destination: 'node-lf',
      config,
      cols: 80,
      rows: 24,
    });
    // The profile's `LocalForward 0 localhost:8080` opens as with ssh.
    const fromConfig = await poll(
      () => api.call('forwards.list', {}),
      (l) => l.some((x) => x.origin === 'ssh_config' && x.state === 'listening'),
      'the LocalForward from the config',
    );
    const cf = fromConfig.find((x) => x.origin === 'ssh_config')!;
    expect(cf).toMatchObject({ destination: 'node-lf', remoteHost: 'localhost', remotePort: 8080 });
    expect((await httpGet(cf.listening!.port, '/hello.txt')).body).toBe('hello from the node\n');
    const f = await api.call('forwards.open', { destination: 'node-lf', config, spec: '0:127.0.0.1:8080' });
    expect((await httpGet(f.listening!.port, '/hello.txt')).status).toBe(200);
    // One connection to the bastion for the terminal and both forwards.
    expect(bastionSessions()).toBe(1);
    await api.call('terminal.close', { id: t.id });
    expect((await httpGet(f.listening!.port, '/hello.txt')).status).toBe(200);
    await api.call('forwards.close', { id: f.id });
    expect(bastionSessions()).toBe(1);
    await api.call('forwards.close', { id: cf.id });
    await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');
    expect(await api.call('forwards.list', {})).toEqual([]);
  });

  it('survives the bastion dying: "reconnecting", then "listening" again on a new chain, keys verified again', async () => {
    const f = await api.call('forwards.open', { destination: 'node', config, spec: '0:localhost:8080' });
    const port = f.listening!.port;
    try {
      expect((await httpGet(port, '/hello.txt')).status).toBe(200);
      const seen = events.length;
      await net.restartSshd(net.hop('bastion'));
      await poll(
        () => events.slice(seen),
        (l) => l.some((list) => list.some((x) => x.id === f.id && x.state === 'reconnecting')),
        'the reconnecting state',
      );
      const reconnecting = events
        .slice(seen)
        .flatMap((l) => l)
        .find((x) => x.id === f.id && x.state === 'reconnecting')!;
      expect(reconnecting.error?.message).toMatch(/bastion/);
      expect(reconnecting.listening?.port).toBe(port);
      await poll(
        () => byId(f.id),
        (x) => x?.state === 'listening' && x.error === null,
        'listening again',
      );
      expect((await httpGet(port, '/hello.txt')).body).toBe('hello from the node\n');
    } finally {
      await api.call('forwards.close', { id: f.id });
    }
    await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');
  });

  it('says "disconnected" with what to do when the chain cannot be rebuilt, and reconnects on request', async () => {
    const f = await api.call('forwards.open', { destination: 'node', config, spec: '0:localhost:8080' });
    const port = f.listening!.port;
    const bastion = net.hop('bastion');
    try {
      expect((await httpGet(port, '/hello.txt')).status).toBe(200);
      net.signal(bastion, 'SIGKILL'); // sshd gone for good: every attempt is refused
      const down = await poll(
        () => byId(f.id),
        (x) => x?.state === 'disconnected',
        'the disconnected state',
      );
      expect(down!.listening?.port).toBe(port);
      expect(down!.error!.message).toMatch(/could not be rebuilt: cannot connect to bastion/);
      expect(down!.error!.advice).toMatch(/Opening another forward to this host tries again/);
      // A connection to the port meanwhile is closed at once, not left hanging.
      await expect(httpGet(port, '/hello.txt')).rejects.toThrow(/socket hang up|ECONNRESET/);
      const refused = await failure(api.call('forwards.reconnect', { id: f.id }));
      expect(refused.code).toBe('ssh-connect-failed');
      expect(refused.where).toMatch(/^bastion /);

      net.startSshd(bastion);
      await net.waitListening(bastion);
      const back = await api.call('forwards.reconnect', { id: f.id });
      expect(back).toMatchObject({ state: 'listening', error: null, listening: { port } });
      expect((await httpGet(port, '/hello.txt')).body).toBe('hello from the node\n');
    } finally {
      await api.call('forwards.close', { id: f.id });
    }
    await poll(bastionSessions, (n) => n === 0, 'the bastion connection to close');
  });
});
