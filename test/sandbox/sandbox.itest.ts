/**
 * `labdeck sandbox` end to end, checked only with real tools: OpenSSH through the bastion, kubectl v1.32 on the
 * master against the kube-api double, iptables-save on the nodes, curl inside the lab.
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceChainName } from '../../src/sandbox/kube-proxy-rules.js';
import type { Harness } from './sandbox-harness.js';
import { curlMany, selfCommand, ssh, startSandbox, tally } from './sandbox-harness.js';

const PODS = 10;
let h: Harness;
const hostHadCni = existsSync('/etc/cni/net.d/10-calico.conflist');
const hostName = hostname();

beforeAll(async () => {
  h = await startSandbox('ldt', PODS);
});

afterAll(async () => {
  await h?.dispose();
});

describe('labdeck sandbox (real sshd, netns, iptables, kubectl)', () => {
  it("leaves this machine's own hostname alone: every machine, the bastion too, has its own UTS namespace", async () => {
    expect(hostname()).toBe(hostName);
    expect((await ssh(h, 'bastion', 'hostname')).stdout.trim()).toBe('bastion');
    // Even a session that renames its machine renames only the lab's.
    expect((await ssh(h, 'bastion', 'hostname renamed-by-lab; hostname')).stdout.trim()).toBe(
      'renamed-by-lab',
    );
    expect(hostname()).toBe(hostName);
    await ssh(h, 'bastion', 'hostname bastion');
  });

  it('serves kubectl get pods -o wide on the master, through the bastion, like a real cluster prints it', async () => {
    const r = await ssh(h, 'master', 'kubectl get pods -o wide');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      'IP',
      'NODE',
      'NOMINATED NODE',
      'READINESS GATES',
    ]);
    expect(rows).toHaveLength(PODS);
    for (const pod of h.sandbox.plan.pods) {
      const row = rows.find((l) => l.startsWith(`${pod.name} `));
      expect(row, pod.name).toBeDefined();
      expect(row!.split(/\s+/)).toEqual([
        pod.name,
        '1/1',
        'Running',
        '0',
        expect.stringMatching(/^\d+s$|^\dm/),
        pod.ip,
        pod.node,
        '<none>',
        '<none>',
      ]);
    }
  });

  it('serves the kubernetes service over TLS with the cluster CA, through its ClusterIP', async () => {
    const r = await ssh(
      h,
      'master',
      'kubectl config view --raw -o jsonpath="{.clusters[0].cluster.certificate-authority-data}" | base64 -d > /tmp/ca.crt && curl -s --max-time 3 --cacert /tmp/ca.crt https://10.96.0.1/version',
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ major: '1', minor: '32' });
  });

  it('answers kubectl for every resource kind it serves, including describe', async () => {
    const r = await ssh(
      h,
      'master',
      'kubectl get nodes -o wide && kubectl get svc -o wide && kubectl get endpoints && kubectl get endpointslices && kubectl get ns && kubectl describe svc kuard',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/m,
    );
    expect(r.stdout).toMatch(/^master\s+Ready\s+control-plane\s+\S+\s+v1\.32\.0\s+10\.0\.8\.10\s/m);
    expect(r.stdout).toMatch(
      /^kuard\s+LoadBalancer\s+10\.97\.169\.67\s+<pending>\s+80:31986\/TCP\s+\S+\s+app=kuard$/m,
    );
    expect(r.stdout).toMatch(
      /^kuard\s+(192\.168\.\d+\.\d+:8080,){2}192\.168\.\d+\.\d+:8080 \+ 7 more\.\.\.\s+\S+$/m,
    );
    expect(r.stdout).toMatch(/^Endpoints:\s+192\.168\./m);
  });

  it('has kube-proxy chains on two nodes that agree, with one KUBE-SEP per kuard pod', async () => {
    const kuard = h.sandbox.plan.services.find((s) => s.name === 'kuard')!;
    const svcChain = serviceChainName({ namespace: 'default', name: 'kuard', portName: '', protocol: 'TCP' });
    const saves = await Promise.all(['worker-1', 'worker-2'].map((n) => ssh(h, n, 'iptables-save -t nat')));
    for (const s of saves) {
      expect(s.code).toBe(0);
      expect(s.stdout).toContain(
        `-A KUBE-SERVICES -d ${kuard.clusterIP}/32 -p tcp -m comment --comment "default/kuard cluster IP" -m tcp --dport 80 -j ${svcChain}`,
      );
      expect(s.stdout).toContain(
        `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/kuard" -m tcp --dport ${kuard.nodePort} -j KUBE-EXT-`,
      );
      const seps = s.stdout
        .split('\n')
        .filter((l) => l.startsWith(`-A ${svcChain} `) && l.includes('-j KUBE-SEP-'));
      expect(seps).toHaveLength(PODS);
      // iptables-save prints the kernel's fixed-point probability, e.g. 1/10 as 0.10000000009 (seed).
      expect(seps[0]).toContain('--probability 0.10000000009');
    }
    const body = (t: string) => t.split('\n').filter((l) => !l.startsWith('#'));
    expect(body(saves[0]!.stdout)).toEqual(body(saves[1]!.stdout));
  });

  it('spreads 200 curls of the ClusterIP from the master over every kuard pod in roughly equal shares', async () => {
    const kuard = h.sandbox.plan.services.find((s) => s.name === 'kuard')!;
    const answers = await curlMany(h, 'master', `http://${kuard.clusterIP}/env/api`, 200);
    expect(answers).toHaveLength(200);
    const counts = tally(answers);
    expect(counts.get('FAIL') ?? 0).toBe(0);
    expect([...counts.keys()].sort()).toEqual(h.sandbox.plan.pods.map((p) => p.name).sort());
    // Chi-square test of uniformity; p > 0.001 (fails by chance once in a thousand runs).
    const expected = 200 / PODS;
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(1 - chisquareCdf(chi2, PODS - 1)).toBeGreaterThan(0.001);
  });

  it('answers the NodePort on every node', async () => {
    const kuard = h.sandbox.plan.services.find((s) => s.name === 'kuard')!;
    const names = new Set(h.sandbox.plan.pods.map((p) => p.name));
    const nodes = h.sandbox.plan.nodes;
    // From the master to every node's NodePort, then each worker to its own.
    const answers = (
      await Promise.all([
        ...nodes.map((n) => curlMany(h, 'master', `http://${n.ip}:${kuard.nodePort}/env/api`, 5)),
        ...nodes.slice(1).map((n) => curlMany(h, n.name, `http://${n.ip}:${kuard.nodePort}/env/api`, 5)),
      ])
    ).flat();
    expect(answers).toHaveLength(5 * (2 * nodes.length - 1));
    for (const a of answers) expect(names.has(a), a).toBe(true);
  });

  it('sends the second service only to its subset of pods', async () => {
    const canary = h.sandbox.plan.services.find((s) => s.name === 'kuard-canary')!;
    const subset = h.sandbox.plan.pods.filter((p) => p.labels['track'] === 'canary').map((p) => p.name);
    const answers = await curlMany(h, 'worker-2', `http://${canary.clusterIP}/env/api`, 40);
    expect(new Set(answers)).toEqual(new Set(subset));
  });

  it('lets pods on different nodes reach each other through the nodes', async () => {
    const [a, b] = [h.sandbox.plan.pods[0]!, h.sandbox.plan.pods[1]!];
    expect(a.node).not.toBe(b.node);
    // Pod to pod: curl from inside pod a's network namespace (the lab has no kubectl exec), routed a → its node →
    // b's node → b, like Calico's routed mode.
    const body = await new Promise<string>((resolve, reject) =>
      execFile(
        'ip',
        ['netns', 'exec', a.netns, 'curl', '-s', '--max-time', '3', `http://${b.ip}:8080/env/api`],
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
    expect((JSON.parse(body) as { env: { HOSTNAME: string } }).env.HOSTNAME).toBe(b.name);
    // And node to remote pod, through the bastion.
    expect(await curlMany(h, a.node, `http://${b.ip}:8080/env/api`, 1)).toEqual([b.name]);
  });

  it('shows each node its CNI config and plugin directory, without touching the host', async () => {
    const r = await ssh(h, 'worker-1', 'hostname; cat /etc/cni/net.d/10-calico.conflist; ls /opt/cni/bin');
    expect(r.code).toBe(0);
    const [hostname, ...rest] = r.stdout.split('\n');
    expect(hostname).toBe('worker-1');
    const text = rest.join('\n');
    const json = JSON.parse(text.slice(0, text.lastIndexOf('}') + 1)) as { plugins: { type: string }[] };
    expect(json.plugins[0]!.type).toBe('calico');
    expect(text).toMatch(/calico-ipam\n/);
    expect(existsSync('/etc/cni/net.d/10-calico.conflist')).toBe(hostHadCni);
  });

  it("gives each node its own /tmp, /var/tmp, /home and /var: a session's files stay on that node", async () => {
    const probe = `labdeck-probe-${process.pid}`;
    const write = await ssh(
      h,
      'worker-1',
      `for d in /tmp /var/tmp /home /var; do echo worker-1 > $d/${probe} || exit 1; done; cat /tmp/${probe}`,
    );
    expect(write).toMatchObject({ code: 0, stdout: 'worker-1\n' });
    for (const d of ['/tmp', '/var/tmp', '/home', '/var']) expect(existsSync(`${d}/${probe}`), d).toBe(false);
    const other = await ssh(
      h,
      'worker-2',
      `ls /tmp/${probe} /var/tmp/${probe} /home/${probe} /var/${probe} 2>&1; true`,
    );
    expect(other.stdout.match(/No such file or directory/g)).toHaveLength(4);
    // the node's own copy of /var still has what this machine's /var holds
    expect((await ssh(h, 'worker-1', 'test -d /var/lib && echo yes')).stdout).toBe('yes\n');
  });

  it('lets @kubernetes/client-node list and watch through an SSH tunnel, and get 410 Gone on demand', async () => {
    const port = await freePort();
    const tunnel = spawn(
      'ssh',
      ['-F', h.sshConfig, '-N', '-L', `127.0.0.1:${port}:10.0.8.10:6443`, 'master'],
      {
        stdio: 'ignore',
      },
    );
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        // The sandbox CA verifies the double's certificate (SAN 127.0.0.1 is there for tunnels like this one).
        clusters: [
          {
            name: 'sb',
            server: `https://127.0.0.1:${port}`,
            caData: readFileSync(join(h.sandbox.dir, 'pki', 'ca.crt')).toString('base64'),
            skipTLSVerify: false,
          },
        ],
        users: [{ name: 'u' }],
        contexts: [{ name: 'c', cluster: 'sb', user: 'u' }],
        currentContext: 'c',
      });
      const api = kc.makeApiClient(CoreV1Api);
      let list: Awaited<ReturnType<CoreV1Api['listNamespacedPod']>> | undefined;
      for (let i = 0; i < 50 && !list; i++) {
        list = await api.listNamespacedPod({ namespace: 'default' }).catch(async () => {
          await new Promise((r) => setTimeout(r, 100));
          return undefined;
        });
      }
      expect(list!.items.map((p) => p.status?.podIP).sort()).toEqual(
        h.sandbox.plan.pods.map((p) => p.ip).sort(),
      );
      const rv = list!.metadata!.resourceVersion!;

      const events: { type: string; code?: number }[] = [];
      let done!: (err: unknown) => void;
      const ended = new Promise<unknown>((r) => (done = r));
      const req = await new Watch(kc).watch(
        '/api/v1/namespaces/default/endpoints',
        { resourceVersion: rv, allowWatchBookmarks: true },
        (type, obj: { code?: number }) =>
          events.push({ type, ...(type === 'ERROR' ? { code: obj.code } : {}) }),
        (err) => done(err),
      );
      await h.sandbox.fault('missing-endpoint', true);
      await until(() => events.some((e) => e.type === 'MODIFIED'), 10_000);
      await new Promise<void>((resolve, reject) =>
        execFile(
          process.execPath,
          [
            ...selfCommand().slice(1),
            'sandbox',
            'api-gone',
            '--name',
            h.sandbox.plan.name,
            '--dir',
            h.baseDir,
          ],
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      await until(() => events.some((e) => e.type === 'ERROR'), 10_000);
      expect(events.find((e) => e.type === 'ERROR')?.code).toBe(410);
      await Promise.race([ended, new Promise((r) => setTimeout(r, 5_000))]);
      req.abort();
      await h.sandbox.fault('missing-endpoint', false);
    } finally {
      tunnel.kill();
    }
  });

  it('keeps the nodes out of reach of the root namespace: only the bastion /30 is routed here', async () => {
    const routes = await new Promise<string>((resolve) =>
      execFile('ip', ['-4', 'route', 'show'], (_e, out) => resolve(out)),
    );
    expect(routes).not.toMatch(/10\.0\.8\.|192\.168\.\d+\.0\/24 .*ldt/);
    expect(routes).toContain(`dev ${h.sandbox.plan.rootIf}`);
  });

  it('is idempotent: a second up keeps the same instance', async () => {
    const before = h.sandbox.readState()!.pids;
    await h.sandbox.up();
    expect(h.sandbox.readState()!.pids).toEqual(before);
  });

  it('tears down to nothing: no namespace, link, process or directory left', async () => {
    const name = h.sandbox.plan.name;
    const pids = Object.values(h.sandbox.readState()!.pids);
    await h.sandbox.down();
    const out = (cmd: string, args: string[]) =>
      new Promise<string>((resolve) => execFile(cmd, args, (_e, stdout) => resolve(stdout)));
    expect((await out('ip', ['netns', 'list'])).split('\n').filter((l) => l.startsWith(`${name}-`))).toEqual(
      [],
    );
    expect(await out('ip', ['-o', 'link', 'show'])).not.toContain(`${name}-`);
    for (const pid of pids)
      expect(existsSync(`/proc/${pid}`) && !(await isZombie(pid)), `pid ${pid}`).toBe(false);
    expect(existsSync(h.sandbox.dir)).toBe(false);
  });
});

async function isZombie(pid: number): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
