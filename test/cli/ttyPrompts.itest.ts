// The CLI's SSH questions (labdeck ssh, labdeck kube --via) on a real pty, and without one.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node-pty';
import { describe, expect, it } from 'vitest';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const probe = join(repo, 'test/support/tty-prompt-probe.ts');
const args = ['--import', 'tsx', probe];

describe('CLI SSH prompts', () => {
  it('on a terminal: asks about the host key as OpenSSH does, reads the passphrase without echo', async () => {
    const pty = spawn(process.execPath, args, { cwd: repo, cols: 120, rows: 30, env: process.env });
    let out = '';
    const answered = new Set<string>();
    const done = new Promise<number>((r) => pty.onExit(({ exitCode }) => r(exitCode)));
    pty.onData((d) => {
      out += d;
      if (!answered.has('host') && out.includes('(yes/no/[fingerprint])? ')) {
        answered.add('host');
        pty.write('yes\r');
      }
      if (!answered.has('pass') && out.includes("Enter passphrase for key '/tmp/key': ")) {
        answered.add('pass');
        pty.write('s3cret-phrase\r');
      }
    });
    const timer = setTimeout(() => pty.kill(), 20_000);
    expect(await done).toBe(0);
    clearTimeout(timer);
    expect(out).toContain("The authenticity of host bastion (127.0.0.1:2222) can't be established.");
    expect(out).toContain(
      'ssh-ed25519 key fingerprint is SHA256:probeprobeprobeprobeprobeprobeprobeprobe000.',
    );
    expect(out).toMatch(/RESULT \{"hostKey":"accept-and-remember","passphraseLength":13\}/);
    expect(out).not.toContain('s3cret-phrase');
  });

  it('without a terminal: every question is answered no, at once (a script never hangs)', () => {
    const r = spawnSync(process.execPath, args, {
      cwd: repo,
      encoding: 'utf8',
      timeout: 20_000,
      input: 'yes\n',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('RESULT {"hostKey":"reject","passphraseLength":null}');
  });
});
