/**
 * SSH exec latency through a jump host, as ratios to OpenSSH measured in the same run against the same
 * real sshd pair (test/support/ssh-net.ts: root ns → bastion ns → node ns), same KEX (curve25519-sha256)
 * and host key type (ssh-ed25519). Needs root (network namespaces).
 *
 *   cold: new connection through the jump + exec `true` to its exit   vs   `ssh -J bastion node true`
 *   warm: exec `true` on the held connection                         vs   `ssh` over an established ControlMaster
 *
 * Goals (issue 6): cold ≤ 0.6, warm ≤ 0.5. Run: npx tsx bench/ssh-exec.ts [rounds]
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SshConnectionFactory, batchPrompts, defaultSshConfigEnv, resolveProfile } from '../src/ssh/index.js';
import { SshNet } from '../test/support/ssh-net.js';

const rounds = Number(process.argv[2] ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function runSsh(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`ssh exit ${code}: ${err}`)),
    );
  });
}

const net = await SshNet.create(2);
try {
  const knownHosts = join(net.dir, 'known_hosts');
  writeFileSync(knownHosts, net.knownHostsFor(['bastion', 'node']));
  const configFile = net.writeClientConfig(knownHosts);
  const { profile, diagnostics } = resolveProfile('node', {
    ...defaultSshConfigEnv(configFile),
    sshAuthSock: undefined,
  });
  if (!profile) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  const ssh = ['-F', configFile, '-o', 'BatchMode=yes'];

  // Warm-up both sides once (page cache, sshd's first fork).
  await runSsh([...ssh, 'node', 'true']);
  {
    const f = new SshConnectionFactory({ prompts: batchPrompts });
    const c = await f.connect(profile);
    await c.exec('true');
    c.dispose();
  }

  const coldOurs: number[] = [];
  const coldSsh: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const factory = new SshConnectionFactory({ prompts: batchPrompts });
    const conn = await factory.connect(profile);
    const r = await conn.exec('true');
    coldOurs.push(performance.now() - t0);
    if (r.code !== 0) throw new Error('exec failed');
    conn.dispose();
    coldSsh.push(await runSsh([...ssh, 'node', 'true']));
  }

  const control = join(net.dir, 'cm.sock');
  const master = spawnSync('ssh', [...ssh, '-M', '-S', control, '-o', 'ControlPersist=yes', '-fN', 'node'], {
    timeout: 30_000,
  });
  if (master.status !== 0) throw new Error(`ControlMaster failed: ${master.stderr.toString()}`);
  const factory = new SshConnectionFactory({ prompts: batchPrompts });
  const conn = await factory.connect(profile);
  const warmOurs: number[] = [];
  const warmSsh: number[] = [];
  const channelRtt: number[] = [];
  try {
    await conn.exec('true');
    await runSsh([...ssh, '-S', control, 'node', 'true']);
    for (let i = 0; i < rounds * 2; i++) {
      const t0 = performance.now();
      await conn.exec('true');
      warmOurs.push(performance.now() - t0);
      warmSsh.push(await runSsh([...ssh, '-S', control, 'node', 'true']));
    }
    // For reading the numbers: a channel round trip on the held connection with no process on the far side
    // (direct-tcpip open to the node's own sshd, then close). exec adds sshd's fork+exec of the command.
    for (let i = 0; i < rounds * 2; i++) {
      const t0 = performance.now();
      const ch = await conn.forwardOut('127.0.0.1', 22);
      channelRtt.push(performance.now() - t0);
      ch.close();
    }
  } finally {
    conn.dispose();
    spawnSync('ssh', [...ssh, '-S', control, '-O', 'exit', 'node'], { timeout: 10_000 });
  }

  const fmt = (x: number): string => `${x.toFixed(1)} ms`;
  const cold = median(coldOurs) / median(coldSsh);
  const warm = median(warmOurs) / median(warmSsh);
  console.log(`machine load average (1 min): ${loadavg()[0]?.toFixed(2)} on ${cpus().length} cores`);
  console.log(
    `ssh-exec through one jump (median of ${rounds} cold, ${rounds * 2} warm; KEX curve25519-sha256, ssh-ed25519 host keys)`,
  );
  console.log(
    `cold  labdeck ${fmt(median(coldOurs))}  openssh -J ${fmt(median(coldSsh))}  ratio ${cold.toFixed(2)}  (goal ≤ 0.6)`,
  );
  console.log(
    `chan  labdeck channel open on the held connection ${fmt(median(channelRtt))} (no remote process)`,
  );
  console.log(
    `warm  labdeck ${fmt(median(warmOurs))}  openssh ControlMaster ${fmt(median(warmSsh))}  ratio ${warm.toFixed(2)}  (goal ≤ 0.5)`,
  );
} finally {
  net.dispose();
}
