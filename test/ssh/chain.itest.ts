import { createHash } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SshConnectionFactory,
  SshError,
  batchPrompts,
  defaultSshConfigEnv,
  resolveProfile,
  type SshConfigEnv,
  type SshOptionOverrides,
  type SshProfile,
} from '../../src/ssh/index.js';
import { SshNet } from '../support/ssh-net.js';

// Real OpenSSH sshd in three namespaces (root → bastion → node → third); see test/support/ssh-net.ts.
let net: SshNet;
let configFile: string;
let knownHosts: string;
let env: SshConfigEnv;
let agentPid: number | undefined;
let agentSock: string;

function profile(dest: string, overrides: SshOptionOverrides = [], e: SshConfigEnv = env): SshProfile {
  const r = resolveProfile(dest, e, overrides);
  if (!r.profile) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.profile;
}

beforeAll(async () => {
  net = await SshNet.create(3);
  knownHosts = join(net.dir, 'known_hosts');
  writeFileSync(knownHosts, net.knownHostsFor(['bastion', 'node', 'third']));
  configFile = net.writeClientConfig(knownHosts);
  // A real ssh-agent holding the client key, for agent auth and agent forwarding.
  agentSock = join(net.dir, 'agent.sock');
  const out = execFileSync('ssh-agent', ['-s', '-a', agentSock], { encoding: 'utf8' });
  agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
  execFileSync('ssh-add', ['-q', net.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } });
  env = { ...defaultSshConfigEnv(configFile), sshAuthSock: agentSock };
});

afterAll(() => {
  if (agentPid) {
    try {
      process.kill(agentPid);
    } catch {
      // gone
    }
  }
  net?.dispose();
});

describe('jump chains against real sshd', () => {
  it('runs a command two hops away by ProxyJump, with stdout, stderr and exit code', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const conn = await factory.connect(profile('node'));
    try {
      const r = await conn.exec('echo out; echo err >&2; ip -4 -o addr show | grep -c 10.201.0.2; exit 7');
      expect(r.stdout.toString()).toBe('out\n1\n');
      expect(r.stderr.toString()).toBe('err\n');
      expect(r.code).toBe(7);
      // Every hop settled on curve25519-sha256 and the ed25519 host key; no group-exchange on the default path.
      expect(conn.negotiated.map((n) => `${n.kex} ${n.serverHostKey}`)).toEqual([
        'curve25519-sha256 ssh-ed25519',
        'curve25519-sha256 ssh-ed25519',
      ]);
    } finally {
      conn.dispose();
    }
    expect(factory.openConnectionCount).toBe(0);
  });

  it('runs three hops by ProxyJump chain and by -J list', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const a = await factory.connect(profile('third'));
    const b = await factory.connect(profile('10.202.0.2', [['proxyjump', 'bastion,node']]));
    try {
      expect((await a.exec('hostname -I')).stdout.toString()).toContain('10.202.0.2');
      expect((await b.exec('hostname -I')).stdout.toString()).toContain('10.202.0.2');
      // Same chain (bastion > node > third) under two spellings: one shared connection per hop.
      expect(factory.openConnectionCount).toBe(3);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it("turns the seed's ProxyCommand `ssh … nc %h %p` (and `-W %h:%p`) into jumps, two and three hops", async () => {
    const p2 = profile('node-nc');
    expect(p2.jumps.map((h) => h.host)).toEqual([net.hop('bastion').ip]);
    const p3 = profile('third-nc');
    expect(p3.jumps.map((h) => h.host)).toEqual([net.hop('bastion').ip, '10.201.0.2']);
    // And the `ssh … -W %h:%p` form, given on the command line.
    const pw = profile('10.201.0.2', [['proxycommand', `ssh -F ${configFile} -W %h:%p bastion`]]);
    expect(pw.jumps.map((h) => h.host)).toEqual([net.hop('bastion').ip]);
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    for (const p of [p2, p3, pw]) {
      const conn = await factory.connect(p);
      try {
        expect((await conn.exec('hostname -I')).stdout.toString()).toContain(p.target.host);
      } finally {
        conn.dispose();
      }
    }
  });

  it('runs any other ProxyCommand as a local process whose stdio is the transport', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const p = profile('bastion', [['proxycommand', 'nc %h %p']]);
    expect(p.target.transport).toEqual({ kind: 'command', argv: ['nc', net.hop('bastion').ip, '22'] });
    const conn = await factory.connect(p);
    try {
      expect((await conn.exec('echo via-nc')).stdout.toString()).toBe('via-nc\n');
      // The same transport carries the next hop.
      const node = await factory.connect({ ...profile('node'), jumps: [p.target] });
      try {
        expect((await node.exec('hostname -I')).stdout.toString()).toContain('10.201.0.2');
      } finally {
        node.dispose();
      }
    } finally {
      conn.dispose();
    }
    expect(factory.openConnectionCount).toBe(0);
  });

  it('authenticates with the agent only (no key file)', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const base = profile('node', [['identitiesonly', 'no']]);
    expect(base.target.auth[0]).toEqual({ kind: 'agent', socket: agentSock });
    // Agent only, on both hops: no key file can be used.
    const agentOnly = [{ kind: 'agent' as const, socket: agentSock }];
    const p = {
      ...base,
      jumps: base.jumps.map((h) => ({ ...h, auth: agentOnly })),
      target: { ...base.target, auth: agentOnly },
    };
    const conn = await factory.connect(p);
    try {
      expect((await conn.exec('true')).code).toBe(0);
    } finally {
      conn.dispose();
    }
    expect(net.log(net.hop('node'))).toMatch(/Accepted publickey for root/);
  });

  it('authenticates with ed25519/ecdsa/rsa keys in OpenSSH and PEM formats, asking for passphrases', async () => {
    const kinds = [
      { name: 'ed25519-openssh-pass', args: ['-t', 'ed25519'], pass: 'pass-ed' },
      { name: 'ecdsa-pem', args: ['-t', 'ecdsa', '-m', 'PEM'], pass: '' },
      { name: 'rsa-pem-pass', args: ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], pass: 'pass-rsa' },
      { name: 'rsa-openssh', args: ['-t', 'rsa', '-b', '2048'], pass: '' },
    ];
    const authorized = readFileSync(net.authorizedKeys, 'utf8');
    try {
      for (const k of kinds) {
        const file = join(net.dir, k.name);
        execFileSync('ssh-keygen', ['-q', ...k.args, '-N', k.pass, '-C', k.name, '-f', file]);
        appendFileSync(net.authorizedKeys, readFileSync(`${file}.pub`));
      }
      for (const k of kinds) {
        const file = join(net.dir, k.name);
        const asked: string[] = [];
        const factory = new SshConnectionFactory({
          prompts: {
            ...batchPrompts,
            passphrase: async (q) => {
              asked.push(q.identityFile);
              return k.pass;
            },
          },
        });
        const p = profile('bastion');
        const conn = await factory.connect({
          ...p,
          target: { ...p.target, auth: [{ kind: 'publickey', identityFile: file }] },
        });
        try {
          expect((await conn.exec('true')).code, k.name).toBe(0);
        } finally {
          conn.dispose();
        }
        expect(asked, k.name).toEqual(k.pass ? [file] : []);
        expect(net.log(net.hop('bastion'))).toContain(`Accepted publickey for root`);
      }
    } finally {
      writeFileSync(net.authorizedKeys, authorized);
    }
  });

  it('names the hop and what was tried when authentication fails', async () => {
    const stranger = join(net.dir, 'stranger_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const p = profile('node');
    const target = {
      ...p.target,
      auth: [
        { kind: 'publickey' as const, identityFile: join(net.dir, 'no-such-key') },
        { kind: 'publickey' as const, identityFile: stranger },
      ],
    };
    const err = await factory.connect({ ...p, target }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe('auth-failed');
    expect((err as SshError).message).toBe(
      `authentication to node (root@10.201.0.2:22) failed (tried: publickey (${join(net.dir, 'no-such-key')}: missing), publickey (${stranger}))`,
    );
    expect(factory.openConnectionCount).toBe(0);
  });

  it('authenticates with a password through the UI callback (throwaway user)', async () => {
    const user = net.addPasswordUser('lab-Passw0rd');
    const asked: string[] = [];
    const factory = new SshConnectionFactory({
      prompts: {
        ...batchPrompts,
        password: async (q) => {
          asked.push(`${q.user}@${q.host}`);
          return 'lab-Passw0rd';
        },
      },
    });
    const p = profile('node', [
      ['batchmode', 'no'],
      ['stricthostkeychecking', 'yes'],
    ]);
    const target = { ...p.target, user, auth: [{ kind: 'password' as const }] };
    const conn = await factory.connect({ ...p, target });
    try {
      expect((await conn.exec('id -un')).stdout.toString().trim()).toBe(user);
    } finally {
      conn.dispose();
    }
    expect(asked).toEqual([`${user}@10.201.0.2`]);
    expect(net.log(net.hop('node'))).toMatch(new RegExp(`Accepted password for ${user}`));
  });

  it('forwards the agent to the node only: the node can ssh onward, the bastion has no agent', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const p = profile('node', [['forwardagent', 'yes']]);
    expect(p.jumps.map((h) => h.forwardAgent)).toEqual([false]);
    expect(p.target.forwardAgent).toBe(true);
    const conn = await factory.connect({
      ...p,
      target: { ...p.target, auth: [{ kind: 'agent', socket: agentSock }] },
    });
    const onwardKh = join(net.dir, 'onward_known_hosts');
    writeFileSync(onwardKh, `10.202.0.2 ${net.knownHostsFor(['third']).split(' ').slice(1).join(' ')}`);
    try {
      // Onward from the node to the third host with nothing but the forwarded agent.
      const r = await conn.exec(
        `ssh -F /dev/null -o BatchMode=yes -o IdentityFile=/nonexistent -o UserKnownHostsFile=${onwardKh} ` +
          `-o StrictHostKeyChecking=yes root@10.202.0.2 'echo onward-ok'; echo "agent:[$SSH_AUTH_SOCK]"`,
      );
      expect(r.stdout.toString()).toMatch(/^onward-ok\nagent:\[\/tmp\/ssh-\S+\]\n$/);
    } finally {
      conn.dispose();
    }
    // The bastion as a target with the same config and no ForwardAgent: no agent there.
    const bastion = await factory.connect(profile('bastion'));
    try {
      const r = await bastion.exec('echo "agent:[$SSH_AUTH_SOCK]"; ssh-add -l; echo "rc=$?"');
      expect(r.stdout.toString()).toBe('agent:[]\nrc=2\n');
    } finally {
      bastion.dispose();
    }
  });

  it('shares one connection between 20 concurrent execs', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const before = (net.log(net.hop('node')).match(/Accepted publickey/g) ?? []).length;
    const conn = await factory.connect(profile('node'));
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => conn.exec(`echo ${i}`)));
      expect(results.map((r) => r.stdout.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
      expect(results.every((r) => r.code === 0)).toBe(true);
    } finally {
      conn.dispose();
    }
    const after = (net.log(net.hop('node')).match(/Accepted publickey/g) ?? []).length;
    expect(after - before).toBe(1);
  });

  it('streams 50 MB through two hops intact', async () => {
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const conn = await factory.connect(profile('node'));
    try {
      const data = Buffer.alloc(50 * 1024 * 1024);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
      const sent = createHash('sha256').update(data).digest('hex');
      const up = await conn.exec('sha256sum | cut -d" " -f1', { stdin: data });
      expect(up.stdout.toString().trim()).toBe(sent);
      const down = await conn.exec('head -c 52428800 /dev/zero');
      expect(down.stdout.length).toBe(50 * 1024 * 1024);
      expect(createHash('sha256').update(down.stdout).digest('hex')).toBe(
        createHash('sha256')
          .update(Buffer.alloc(50 * 1024 * 1024))
          .digest('hex'),
      );
    } finally {
      conn.dispose();
    }
  });

  it('serves a node-side HTTP server on 127.0.0.1 through a -L forward', async () => {
    const port = 18000 + (process.pid % 1000);
    // A tiny HTTP server inside the node's namespace, on the node's loopback.
    const server: ChildProcess = spawn(
      'ip',
      [
        'netns',
        'exec',
        net.hop('node').ns,
        'python3',
        '-m',
        'http.server',
        String(port),
        '--bind',
        '127.0.0.1',
        '--directory',
        net.dir,
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(join(net.dir, 'hello.txt'), 'hello from the node\n');
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const p = profile('node', [['localforward', `${port} localhost:${port}`]]);
    expect(p.forwards).toEqual([
      { bindAddress: '127.0.0.1', bindPort: port, remoteHost: 'localhost', remotePort: port },
    ]);
    const conn = await factory.connect(p);
    try {
      for (let i = 0; i < 50; i++) {
        const r = await conn.exec(
          `curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${port}/hello.txt`,
        );
        if (r.stdout.toString() === '200') break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const fwd = await conn.openLocalForward(p.forwards[0]!);
      expect(fwd.info()).toMatchObject({ state: 'listening', address: { address: '127.0.0.1', port } });
      const body = await httpGet(`http://127.0.0.1:${port}/hello.txt`);
      expect(body).toBe('hello from the node\n');
      expect(conn.listForwards()).toHaveLength(1);
      fwd.dispose();
      expect(conn.listForwards()).toHaveLength(0);
      expect(fwd.info().state).toBe('closed');
    } finally {
      conn.dispose();
      server.kill();
    }
  });
});

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('error', reject);
    req.end();
  });
}
