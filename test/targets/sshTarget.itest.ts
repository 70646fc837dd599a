// Lab targets over SSH against real OpenSSH sshd in network namespaces (test/support/ssh-net.ts): bastion → node,
// bound from an inventory and an OpenSSH client config file, and `labdeck lab run` with roles bound over ssh.
// kubectl-exec runs against a kubectl *double* (no Kubernetes API server here): a script that records its argv
// and runs what follows `--`, which is what `kubectl exec POD -- sh -c CMD` does inside the pod.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadInventory, type TargetSpec } from '../../src/labs/inventory.js';
import { SshConnectionFactory, batchPrompts } from '../../src/ssh/index.js';
import { createTarget } from '../../src/targets/createTarget.js';
import { KubectlExecTarget } from '../../src/targets/kubectlExecTarget.js';
import { LocalTarget } from '../../src/targets/localTarget.js';
import { SshTarget } from '../../src/targets/sshTarget.js';
import type { Target } from '../../src/targets/target.js';
import { runCli as run } from '../support/cli.js';
import { SshNet } from '../support/ssh-net.js';

let net: SshNet;
let knownHosts: string;
let config: string;
let tmp: string;

beforeAll(async () => {
  net = await SshNet.create(2);
  ({ knownHosts, config } = net.writeClientFiles());
  tmp = mkdtempSync(join(tmpdir(), `labdeck-sshtarget-${process.pid}-`));
});

afterAll(() => {
  net?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function inventory(name: string, text: string): Map<string, TargetSpec[]> {
  const file = join(tmp, name);
  writeFileSync(file, text);
  const r = loadInventory(file);
  if (!('inventory' in r)) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return new Map([...r.inventory.roles].map(([role, list]) => [role, list.map((i) => i.spec)]));
}

function bind(spec: TargetSpec | undefined, factory: SshConnectionFactory, workstation?: Target): Target {
  if (!spec) throw new Error('role not bound');
  return createTarget(spec, {
    role: 'node',
    instance: 'node',
    ssh: factory,
    ...(workstation ? { workstation } : {}),
  });
}

describe('ssh target through bastion → node (real sshd)', () => {
  it('runs commands from an inventory + ssh_config binding: output, stderr, exit codes; one shared connection', async () => {
    const roles = inventory(
      'inv.yaml',
      `environment: ssh-test\nroles:\n  node:\n    - ssh: {config: ${config}, host: node}\n      name: a\n    - ssh: {config: ${config}, host: node}\n      name: b\n`,
    );
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const [a, b] = (roles.get('node') ?? []).map((s) => bind(s, factory));
    if (!a || !b) throw new Error('two bindings expected');
    try {
      expect(a.description).toMatch(/^ssh node \(root@10\.201\.0\.2:22\) via bastion$/);
      const host = await a.run('hostname', {});
      expect(host).toMatchObject({ exitCode: 0, stderr: '' });
      expect(host.stdout.trim()).toMatch(/^\S+$/);
      // The node's own address proves where it ran (the hostname is shared by the namespaces).
      expect((await b.run('ip -o -4 addr show', {})).stdout).toContain('inet 10.201.0.2/29');
      expect(await a.run('echo out; echo err >&2; exit 7', {})).toMatchObject({
        stdout: 'out\n',
        stderr: 'err\n',
        exitCode: 7,
      });
      expect((await a.run('kill -9 $$', {})).exitCode).toBeNull();
      // Both roles' targets share the chain: one bastion link and one node link.
      expect(factory.openConnectionCount).toBe(2);
      // Parameters of ours go through runArgv, quoted for the remote shell: data, never syntax.
      const tricky = ['a b', "it's", '$(id -u)', ';', '`x`', '*', '', '~', '!x', 'a\nb', '{a,b}'];
      const argv = await a.runArgv?.(['printf', '[%s]', ...tricky], {});
      expect(argv?.stdout).toBe(tricky.map((t) => `[${t}]`).join(''));
      // Abort kills the remote command.
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(), 200);
      const aborted = await a.run('sleep 30', { signal: ac.signal });
      expect(aborted.exitCode).toBeNull();
      expect(aborted.stderr).toBe('labdeck: aborted; the remote command was sent SIGKILL\n');
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      a.dispose();
      b.dispose();
    }
    await vi.waitFor(() => expect(factory.openConnectionCount).toBe(0), { timeout: 5_000 });
  });

  it('unknown host keys are refused unless the inventory says accept-new; bad values are schema errors', async () => {
    const onlyBastion = join(tmp, 'known_hosts_bastion_only');
    writeFileSync(onlyBastion, net.knownHostsFor(['bastion']));
    const cfg = join(tmp, 'ssh_config_partial');
    writeFileSync(
      cfg,
      readFileSync(config, 'utf8').replace(
        `UserKnownHostsFile ${knownHosts}`,
        `UserKnownHostsFile ${onlyBastion}`,
      ),
    );
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const strict = bind(
      inventory('strict.yaml', `environment: e\nroles:\n  node: {ssh: {config: ${cfg}, host: node}}\n`).get(
        'node',
      )?.[0],
      factory,
    );
    try {
      const r = await strict.run('true', {});
      expect(r.exitCode).toBeNull();
      expect(r.stderr).toMatch(
        /^labdeck: node \(root@10\.201\.0\.2:22\) is not in known_hosts \(ssh-ed25519 SHA256:/,
      );
      expect(readFileSync(onlyBastion, 'utf8')).toBe(net.knownHostsFor(['bastion']));
    } finally {
      strict.dispose();
    }
    const lenient = bind(
      inventory(
        'accept.yaml',
        `environment: e\nroles:\n  node: {ssh: {config: ${cfg}, host: node, hostKeys: accept-new}}\n`,
      ).get('node')?.[0],
      factory,
    );
    try {
      expect((await lenient.run('true', {})).exitCode).toBe(0);
      expect(readFileSync(onlyBastion, 'utf8')).toContain('10.201.0.2 ssh-ed25519 ');
    } finally {
      lenient.dispose();
    }
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(
      bad,
      `environment: e\nroles:\n  node: {ssh: {config: ${cfg}, host: node, hostKeys: yes-please}}\n`,
    );
    const r = loadInventory(bad);
    expect('inventory' in r).toBe(false);
    expect(r.problems.map((p) => `${p.path}: ${p.message} (${p.advice ?? ''})`).join('\n')).toMatch(
      /^inventory: roles\.node: Invalid input \(.*hostKeys\?: strict \| accept-new/,
    );
  });

  it('kubectl-exec passes pod, namespace, container and the command as argv, through a local or an ssh workstation', async () => {
    // The double lives in the shared temp dir, which the node (same filesystem, own network) sees too.
    const log = join(net.dir, 'kubectl-argv');
    const kubectl = join(net.dir, 'kubectl-double');
    writeFileSync(
      kubectl,
      `#!/bin/sh\n# kubectl double: records argv (NUL-separated), then runs what follows "--".\nprintf '%s\\0' "$@" > ${log}\nwhile [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n`,
    );
    chmodSync(kubectl, 0o755);
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const viaSsh = new SshTarget({ config, host: 'node', factory });
    const viaLocal = new LocalTarget();
    const pod = 'kuard-5f8b;touch /tmp/never';
    const command = `echo "in $0" 'x  y'; exit 4`;
    try {
      for (const via of [viaLocal, viaSsh]) {
        const t = new KubectlExecTarget({
          pod,
          namespace: 'team a',
          container: 'kuard',
          context: 'c1',
          via,
          kubectl,
        });
        const r = await t.run(command, {});
        expect(r).toMatchObject({ stdout: 'in sh x  y\n', exitCode: 4 });
        expect(readFileSync(log, 'utf8').split('\0').slice(0, -1)).toEqual([
          '--context=c1',
          'exec',
          '--namespace=team a',
          pod,
          '--container=kuard',
          '--',
          'sh',
          '-c',
          command,
        ]);
      }
      expect(() => new KubectlExecTarget({ pod: '-x', namespace: 'd', via: viaLocal })).toThrow(
        /cannot start with "-"/,
      );
    } finally {
      viaSsh.dispose();
    }
  });

  it('labdeck lab run passes with the node role bound over ssh through the bastion', async () => {
    const lab = join(import.meta.dirname, '../fixtures/labs-ssh/two-hops');
    const inv = join(tmp, 'lab-inv.yaml');
    writeFileSync(
      inv,
      `environment: ssh-namespaces\nroles:\n  workstation: local\n  node:\n    ssh: {config: ${config}, host: node}\n`,
    );
    const data = join(tmp, 'data');
    expect((await run(['lab', 'trust', lab, '--data-dir', data])).code).toBe(0);
    const r = await run(['lab', 'run', lab, '--inventory', inv, '--data-dir', data, '--json']);
    expect(r.err).toBe('');
    const summary = JSON.parse(r.out) as {
      ok: boolean;
      steps: { id: string; status: string }[];
      checks: unknown;
    };
    expect(summary.steps.map((s) => [s.id, s.status])).toEqual([
      ['where', 'done'],
      ['exit-codes', 'done'],
    ]);
    expect(summary.ok).toBe(true);
    expect(r.code).toBe(0);
  });
});
