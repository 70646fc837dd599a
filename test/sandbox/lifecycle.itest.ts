/**
 * The edges of `labdeck sandbox`: a non-root user gets a clear refusal and nothing changes; a name clash is refused
 * and nothing changes; `down` after an `up` killed midway leaves nothing behind.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox, SandboxError } from '../../src/sandbox/sandbox.js';
import { selfCommand } from './sandbox-harness.js';

const baseDir = mkdtempSync(join(tmpdir(), 'labdeck-sandbox-lifecycle-'));
chmodSync(baseDir, 0o755);
const made: string[] = [];

afterAll(async () => {
  for (const name of made) await new Sandbox({ baseDir, selfCommand: selfCommand() }, { name }).down();
  for (const ns of await ourNetns('ldc')) await out('ip', ['netns', 'del', ns]);
  rmSync(baseDir, { recursive: true, force: true });
});

function out(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

async function ourNetns(prefix: string): Promise<string[]> {
  const r = await out('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${prefix}${process.pid}-`));
}

describe('labdeck sandbox lifecycle', () => {
  it('tells a non-root user it needs root on Linux, and changes nothing', async () => {
    const name = `ldn${process.pid}`;
    const [node, ...rest] = selfCommand();
    const r = await out('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--',
      node!,
      ...rest,
      'sandbox',
      'up',
      '--name',
      name,
      '--dir',
      baseDir,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/needs root on Linux.*Nothing was changed/);
    expect(await ourNetns('ldn')).toEqual([]);
    expect(existsSync(join(baseDir, name))).toBe(false);
  });

  it('refuses a name whose namespaces exist without its state file, and changes nothing', async () => {
    const name = `ldc${process.pid}`;
    await out('ip', ['netns', 'add', `${name}-master`]);
    const sb = new Sandbox({ baseDir, selfCommand: selfCommand() }, { name, pods: 2 });
    const err = await sb.up().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('name-clash');
    expect((err as Error).message).toMatch(/ldc\d+-master already exists.*labdeck sandbox down --name/);
    expect(await ourNetns('ldc')).toEqual([`${name}-master`]);
    expect(existsSync(sb.dir)).toBe(false);
    expect((await out('ip', ['-o', 'link', 'show', 'dev', sb.plan.rootIf])).code).not.toBe(0);
  });

  it('refuses a folder under a directory the nodes overlay (/var, /home, …), and changes nothing', async () => {
    const dir = `/var/tmp/labdeck-sandbox-under-var-${process.pid}`;
    const sb = new Sandbox(
      { baseDir: dir, selfCommand: selfCommand() },
      { name: `ldv${process.pid}`, pods: 2 },
    );
    const err = await sb.up().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('bad-dir');
    expect((err as Error).message).toMatch(
      /is under \/var, which every node overlays.*outside \/etc, \/opt, \/root, \/home, \/var/,
    );
    expect(existsSync(dir)).toBe(false);
    expect(await ourNetns('ldv')).toEqual([]);
  });

  it('refuses to work on an instance another live command holds, and changes nothing', async () => {
    const name = `ldb${process.pid}`;
    const lock = join(baseDir, `${name}.lock`);
    mkdirSync(baseDir, { recursive: true });
    writeFileSync(lock, `${process.ppid}\n`); // a live process that is not us
    try {
      const sb = new Sandbox({ baseDir, selfCommand: selfCommand() }, { name, pods: 2 });
      await expect(sb.up()).rejects.toMatchObject({ code: 'busy' });
      expect(await ourNetns('ldb')).toEqual([]);
      expect(existsSync(sb.dir)).toBe(false);
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it('sudo labdeck sandbox up prints addresses, ssh_config and next steps, and hands the client files to the user', async () => {
    const name = `ldo${process.pid}`;
    made.push(name);
    const [node, ...rest] = selfCommand();
    const up = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(
        node!,
        [...rest, 'sandbox', 'up', '--name', name, '--dir', baseDir, '--pods', '2'],
        { env: { ...process.env, SUDO_UID: '65534', SUDO_GID: '65534' }, timeout: 120_000 },
        (err, stdout) => resolve({ code: err ? 1 : 0, stdout }),
      ),
    );
    expect(up.code).toBe(0);
    const sb = new Sandbox({ baseDir, selfCommand: selfCommand() }, { name });
    const cfg = join(sb.dir, 'ssh_config');
    expect(up.stdout).toContain(`LabDeck sandbox "${name}" is up.`);
    expect(up.stdout).toContain(`bastion     ${sb.plan.bastionIp}`);
    for (const n of sb.plan.nodes)
      expect(up.stdout).toMatch(new RegExp(`${n.name}\\s+${n.ip.replace(/\./g, '\\.')}\\s`));
    expect(up.stdout).toContain(`ssh_config  ${cfg}`);
    expect(up.stdout).toContain(`Try next:\n  ssh -F ${cfg} master kubectl get pods -o wide`);

    // As the (pretend) sudo user: plain OpenSSH with the handed-over files.
    const r = await out('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--',
      'env',
      'HOME=/tmp',
      'ssh',
      '-F',
      cfg,
      'worker-1',
      'hostname',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('worker-1');

    const status = await out(node!, [...rest, 'sandbox', 'status', '--name', name, '--dir', baseDir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/healthy\n$/);
    const down = await out(node!, [...rest, 'sandbox', 'down', '--name', name, '--dir', baseDir]);
    expect(down.stdout).toMatch(/^removed: \d+ processes, netns /);
  });

  it('sweeps everything after an up that was killed midway', async () => {
    const name = `ldk${process.pid}`;
    made.push(name);
    const [node, ...rest] = selfCommand();
    const child = spawn(node!, [...rest, 'sandbox', 'up', '--name', name, '--dir', baseDir, '--pods', '4'], {
      stdio: 'ignore',
    });
    const statePath = join(baseDir, name, 'state.json');
    // Kill it once some daemons are running (their pids are in the state file) but before it finishes.
    const deadline = Date.now() + 60_000;
    let pids: number[] = [];
    while (Date.now() < deadline) {
      try {
        const st = JSON.parse(readFileSync(statePath, 'utf8')) as {
          phase: string;
          pids: Record<string, number>;
        };
        pids = Object.values(st.pids);
        if (pids.length > 0) break;
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(pids.length).toBeGreaterThan(0);
    expect((await ourNetns('ldk')).length).toBeGreaterThan(0);

    const sb = new Sandbox({ baseDir, selfCommand: selfCommand() }, { name });
    await sb.down();
    expect(await ourNetns('ldk')).toEqual([]);
    expect((await out('ip', ['-o', 'link', 'show'])).stdout).not.toContain(`${name}-`);
    for (const pid of pids) {
      const alive = existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      expect(alive, `pid ${pid}`).toBe(false);
    }
    expect(existsSync(join(baseDir, name))).toBe(false);
  });
});
