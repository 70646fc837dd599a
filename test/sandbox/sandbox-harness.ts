/**
 * Shared by the sandbox integration tests: bring a per-run instance up (name with the pid, own temp dir) and talk
 * to it with the real OpenSSH client only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox } from '../../src/sandbox/sandbox.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Runs the CLI from source in child processes (pod servers, the API double). */
export function selfCommand(): string[] {
  return [process.execPath, '--import', import.meta.resolve('tsx'), join(repo, 'src/cli/run.ts')];
}

export interface Harness {
  readonly sandbox: Sandbox;
  readonly baseDir: string;
  readonly sshConfig: string;
  dispose(): Promise<void>;
}

export async function startSandbox(prefix: string, pods: number): Promise<Harness> {
  // Under /run like the default folder (/run/labdeck/sandbox), not /tmp: the nodes get a /tmp of their own, which
  // would hide a folder under /tmp from their sshd (they then share this machine's /tmp, with a note).
  const baseDir = mkdtempSync('/run/labdeck-sandbox-itest-');
  const sandbox = new Sandbox(
    { baseDir, selfCommand: selfCommand(), log: (l) => process.stderr.write(`[${prefix}] ${l}\n`) },
    { name: `${prefix}${process.pid}`, pods },
  );
  try {
    await sandbox.up();
  } catch (err) {
    await sandbox.down().catch(() => undefined);
    rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }
  return {
    sandbox,
    baseDir,
    sshConfig: join(sandbox.dir, 'ssh_config'),
    async dispose() {
      await sandbox.down();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

export interface SshResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `ssh -F <ssh_config> <host> <command>` with the real OpenSSH client; the command is a fixed test string. */
export function ssh(h: Harness, host: string, command: string, timeoutMs = 60_000): Promise<SshResult> {
  return new Promise((resolvePromise) => {
    execFile(
      'ssh',
      ['-F', h.sshConfig, host, command],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 255) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/**
 * `n` requests to `url` from `host` in one curl process, each on a fresh connection (`Connection: close`, so every
 * request is a new conntrack entry and kube-proxy's random choice is made again). Bounded: --max-time per request.
 * Returns one line per request: the answering pod's HOSTNAME, or FAIL.
 */
export async function curlMany(
  h: Harness,
  host: string,
  url: string,
  n: number,
  maxTime = 2,
): Promise<string[]> {
  if (!/^http:\/\/(10\.|192\.168\.)[0-9.:/a-z]+$/.test(url)) throw new Error(`not a lab address: ${url}`);
  const script =
    `curl -s --connect-timeout ${maxTime} --max-time ${maxTime} -H 'Connection: close' -w ' CODE=%{http_code}\\n' ` +
    `$(for i in $(seq ${n}); do printf '%s ' '${url}'; done); true`;
  const r = await ssh(h, host, script, (n * maxTime + 30) * 1000);
  if (r.code !== 0) throw new Error(`curl on ${host} failed (${r.code}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.includes('CODE='));
  return lines.map((l) => /"HOSTNAME":"([^"]+)"/.exec(l)?.[1] ?? 'FAIL');
}

export function tally(lines: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}
