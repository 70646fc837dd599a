/**
 * src/kube through a real SSH tunnel: the sandbox (real netns, real OpenSSH sshd on bastion and nodes) puts the
 * kube-api **double** on the master at 10.0.8.10:6443, which only the lab's namespaces can reach. LabDeck's own
 * ssh room connects to the bastion (host key verified against the sandbox's known_hosts) and every TLS connection
 * to the API runs over a direct-tcpip channel; TLS checks the double's certificate against the kubeconfig's CA and
 * the real server name. Nothing here sends a packet to 10.0.8.10 from the root namespace.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KubeClient,
  KubeError,
  LiveCluster,
  loadKubeconfig,
  openSshTunnel,
  type KubeTunnel,
  type LiveData,
} from '../../src/kube/index.js';
import type { KubeObjects } from '../../src/model/kube.js';
import { KubeService } from '../../src/api/kubeService.js';
import { SnapshotService, type SnapshotView } from '../../src/api/snapshotService.js';
import { batchPrompts, SshConnectionFactory } from '../../src/ssh/index.js';
import { runCli } from '../support/cli.js';
import { ssh, startSandbox, type Harness } from '../sandbox/sandbox-harness.js';

let h: Harness;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'labdeck-kube-tunnel-'));
  h = await startSandbox('ldk', 3);
});

afterAll(async () => {
  await h?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** How many addresses the latest data's default/kuard Endpoints has. */
function kuardAddressCount(datas: readonly LiveData[]): number | undefined {
  return datas[datas.length - 1]!.endpoints.find((e) => e.namespace === 'default' && e.name === 'kuard')
    ?.addresses.length;
}

/** The sandbox's kubeconfig with the cluster's tls-server-name set (or not). */
function kubeconfigWithServerName(name: string | undefined): string {
  const text = readFileSync(h.sandbox.info().kubeconfig, 'utf8');
  const file = join(tmp, `kubeconfig-${name ?? 'none'}`);
  writeFileSync(
    file,
    name
      ? text.replace(/^(\s+)(certificate-authority-data: .*)$/m, `$1$2\n$1tls-server-name: ${name}`)
      : text,
    { mode: 0o600 },
  );
  return file;
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  for (let t = 0; t < ms && !ok(); t += 50) await new Promise((r) => setTimeout(r, 50));
  expect(ok(), what).toBe(true);
}

describe('kube API through an SSH tunnel via the sandbox bastion (kube-api double on the master)', () => {
  it('lists pods through the bastion, TLS checked against the real server 10.0.8.10', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const tunnel = await openSshTunnel(factory, 'bastion', h.sshConfig);
    let opened = 0;
    const counting: KubeTunnel = {
      via: tunnel.via,
      open: (host, port) => (opened++, tunnel.open(host, port)),
    };
    const client = new KubeClient({
      config: loadKubeconfig({ file: h.sandbox.info().kubeconfig }).config,
      tunnel: counting,
    });
    try {
      expect(client.target).toMatchObject({
        server: 'https://10.0.8.10:6443',
        serverName: '10.0.8.10',
        via: 'bastion',
      });
      const pods = await client.list('pods', 'default');
      expect(pods.items.map((p) => (p as { status: { podIP: string } }).status.podIP).sort()).toEqual(
        h.sandbox.plan.pods.map((p) => p.ip).sort(),
      );
      expect(opened).toBeGreaterThan(0);
      // Pages of 2 (limit/continue) through the tunnel give what the real kubectl on the master gets in pages of 2.
      const paged = await client.list('pods', null, 2);
      const kubectl = await ssh(h, 'master', 'kubectl get pods -A -o json --chunk-size=2');
      expect(kubectl.code).toBe(0);
      const names = (items: unknown[]) =>
        items.map((p) => (p as { metadata: { name: string } }).metadata.name).sort();
      expect(names(paged.items)).toEqual(names((JSON.parse(kubectl.stdout) as { items: unknown[] }).items));
      expect(paged.items.length).toBeGreaterThan(h.sandbox.plan.pods.length);
      expect(tunnel.connection.negotiated.map((n) => n.hop)).toEqual([
        expect.stringMatching(/^bastion \(root@10\.255\./),
      ]);
    } finally {
      client.dispose();
      tunnel.dispose();
    }
  });

  it('uses tls-server-name through the tunnel: a name the certificate has passes, another is refused by name', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const tunnel = await openSshTunnel(factory, 'bastion', h.sshConfig);
    try {
      const good = new KubeClient({
        config: loadKubeconfig({ file: kubeconfigWithServerName('kubernetes.default.svc') }).config,
        tunnel,
      });
      expect((await good.list('nodes', null)).items).toHaveLength(h.sandbox.plan.nodes.length);
      good.dispose();
      const bad = new KubeClient({
        config: loadKubeconfig({ file: kubeconfigWithServerName('api.elsewhere.test') }).config,
        tunnel,
      });
      const err = await bad.list('nodes', null).catch((e: unknown) => e);
      bad.dispose();
      expect(err).toBeInstanceOf(KubeError);
      expect(err).toMatchObject({ code: 'tls-failed' });
      expect((err as Error).message).toContain(
        'refused to talk to https://10.0.8.10:6443 through the SSH tunnel via bastion: its certificate is not valid for the name "api.elsewhere.test"',
      );
    } finally {
      tunnel.dispose();
    }
  });

  it('refuses a bastion whose host key does not match known_hosts, before any API traffic', async () => {
    const info = h.sandbox.info();
    const key = join(tmp, 'impostor');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const impostor = readFileSync(`${key}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const known = join(tmp, 'known_hosts_wrong');
    writeFileSync(known, `bastion,${info.bastion} ${impostor}\n`, { mode: 0o600 });
    const cfg = join(tmp, 'ssh_config_wrong');
    writeFileSync(cfg, readFileSync(h.sshConfig, 'utf8').replace(info.knownHosts, known), { mode: 0o600 });
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const err = await openSshTunnel(factory, 'bastion', cfg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ code: 'tunnel-failed' });
    expect((err as Error).message).toMatch(/^cannot tunnel through bastion: HOST KEY CHANGED for bastion/);
    expect((err as Error).message).toContain('Refusing to connect (nothing was sent)');
    expect(factory.openConnectionCount).toBe(0);

    const cli = await runCli([
      'kube',
      'get',
      'pods',
      '--kubeconfig',
      info.kubeconfig,
      '--via',
      'bastion',
      '-F',
      cfg,
    ]);
    expect(cli.code).toBe(1);
    expect(cli.out).toBe('');
    expect(cli.err).toMatch(/^labdeck kube: cannot tunnel through bastion: HOST KEY CHANGED/);
  });

  it('watches through the tunnel: a changed Endpoints arrives, and 410 Gone re-lists', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const tunnel = await openSshTunnel(factory, 'bastion', h.sshConfig);
    const datas: LiveData[] = [];
    const logs: string[] = [];
    const live = new LiveCluster(
      new KubeClient({ config: loadKubeconfig({ file: h.sandbox.info().kubeconfig }).config, tunnel }),
      {
        onData: (d) => datas.push(d),
        coalesceMs: 50,
        log: (l) => logs.push(l),
        resources: ['pods', 'endpoints'],
      },
    );
    const kuardAddresses = () => kuardAddressCount(datas);
    try {
      await live.start();
      const all = h.sandbox.plan.pods.length;
      expect(kuardAddresses()).toBe(all);
      await h.sandbox.fault('missing-endpoint', true);
      await until('endpoint dropped', () => kuardAddresses() === all - 1);
      writeFileSync(join(h.sandbox.dir, 'api-double.expire'), `${Date.now()}\n`);
      await until('re-listed after 410', () => logs.some((l) => l.includes('410 Gone, listing again')));
      await h.sandbox.fault('missing-endpoint', false);
      await until('endpoint back', () => kuardAddresses() === all);
      expect(live.status().state).toBe('connected');
    } finally {
      await live.dispose();
      tunnel.dispose();
    }
    expect(factory.openConnectionCount).toBe(0);
  });

  it('comes back after the SSH connection to the bastion drops: a new connection (key checked again), watches resume', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const tunnel = await openSshTunnel(factory, 'bastion', h.sshConfig);
    const datas: LiveData[] = [];
    const live = new LiveCluster(
      new KubeClient({ config: loadKubeconfig({ file: h.sandbox.info().kubeconfig }).config, tunnel }),
      {
        onData: (d) => datas.push(d),
        coalesceMs: 50,
        backoff: { initialMs: 100, maxMs: 1000 },
        resources: ['endpoints'],
      },
    );
    const kuardAddresses = () => kuardAddressCount(datas);
    try {
      await live.start();
      const all = h.sandbox.plan.pods.length;
      expect(kuardAddresses()).toBe(all);
      let closed = false;
      tunnel.connection.onClose(() => (closed = true));
      // Cut the connection at the bastion: kill the sshd processes serving this test's session (by pid, inside the
      // sandbox's bastion namespace), leaving the listening sshd alone.
      const listener = h.sandbox.readState()!.pids['bastion'];
      const pids = execFileSync('ip', ['netns', 'pids', h.sandbox.plan.bastion.netns], { encoding: 'utf8' })
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((pid) => pid > 0 && pid !== listener);
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await until('ssh connection closed', () => closed);
      await h.sandbox.fault('missing-endpoint', true);
      await until('endpoint change seen after the reconnect', () => kuardAddresses() === all - 1);
      expect(tunnel.connection.isOpen).toBe(true);
      expect(live.status().state).toBe('connected');
      await h.sandbox.fault('missing-endpoint', false);
    } finally {
      await live.dispose();
      tunnel.dispose();
    }
    expect(factory.openConnectionCount).toBe(0);
  });

  it('KubeService connects through the bastion and feeds the workbench snapshot, then lets go of everything', async () => {
    let view: SnapshotView | undefined;
    const snapshot = new SnapshotService((v) => (view = v), undefined, 10);
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const kube = new KubeService({ snapshot, ssh: factory, onStatus: () => undefined, coalesceMs: 20 });
    try {
      const status = await kube.connect({
        kubeconfig: h.sandbox.info().kubeconfig,
        via: 'bastion',
        sshConfig: h.sshConfig,
      });
      expect(status).toMatchObject({ state: 'connected', via: 'bastion', server: 'https://10.0.8.10:6443' });
      await until('kuard analysed', () => view?.analysis.services.some((s) => s.name === 'kuard') ?? false);
      const kuard = view!.analysis.services.find((s) => s.name === 'kuard')!;
      expect(kuard.pods.map((p) => p.ip).sort()).toEqual(h.sandbox.plan.pods.map((p) => p.ip).sort());
      expect(factory.openConnectionCount).toBe(1);
      await kube.disconnect();
      expect(factory.openConnectionCount).toBe(0);
    } finally {
      kube.dispose();
      snapshot.dispose();
    }
  });

  it('labdeck kube get --via bastion prints the model JSON', async () => {
    const r = await runCli([
      'kube',
      'get',
      'endpoints',
      '--kubeconfig',
      h.sandbox.info().kubeconfig,
      '--via',
      'bastion',
      '-F',
      h.sshConfig,
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const v = (JSON.parse(r.out) as { value: KubeObjects }).value;
    const kuard = v.endpoints.find((e) => e.name === 'kuard')!;
    expect(kuard.addresses.map((a) => a.ip).sort()).toEqual(h.sandbox.plan.pods.map((p) => p.ip).sort());
    expect(kuard.source).toBe('endpoints');
  });
});
