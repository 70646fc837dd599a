// SshShellBackend over a test double of src/ssh's SshShell (the real one is exercised against sshd in
// test/terminal/sshChainTerminal.itest.ts): how exits and dropped connections reach the terminal.
import { describe, expect, it } from 'vitest';
import { SshError, type SshShell } from '../../src/ssh/index.js';
import { SshShellBackend } from '../../src/terminal/sshTerminal.js';
import type { TerminalExit } from '../../src/terminal/types.js';

type ExitEvent = { code: number | null; signal: string | undefined; reason?: SshError };

/** A double of SshShell: records calls, lets the test emit data and the exit. */
function shellDouble(): SshShell & {
  calls: string[];
  data(s: string | Buffer): void;
  exit(e: ExitEvent): void;
} {
  const data = new Set<(d: Buffer) => void>();
  const exits = new Set<(e: ExitEvent) => void>();
  const calls: string[] = [];
  return {
    calls,
    data: (s) => data.forEach((l) => l(Buffer.isBuffer(s) ? s : Buffer.from(s))),
    exit: (e) => exits.forEach((l) => l(e)),
    write: (d) => calls.push(`write ${String(d)}`),
    resize: (c, r) => calls.push(`resize ${c}x${r}`),
    onData: (l) => (data.add(l), { dispose: () => data.delete(l) }),
    onExit: (l) => (exits.add(l), { dispose: () => exits.delete(l) }),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    signal: (n) => calls.push(`signal ${n}`),
    dispose: () => calls.push('dispose'),
  };
}

function attach(shell: ReturnType<typeof shellDouble>): {
  out: string[];
  exits: TerminalExit[];
  backend: SshShellBackend;
} {
  const backend = new SshShellBackend(shell);
  const out: string[] = [];
  const exits: TerminalExit[] = [];
  backend.onData((d) => out.push(d));
  backend.onExit((e) => exits.push(e));
  return { out, exits, backend };
}

describe('SshShellBackend', () => {
  it('passes data (UTF-8 split across chunks), resize, flow control and signals through; a normal exit has no reason', () => {
    const shell = shellDouble();
    const { out, exits, backend } = attach(shell);
    const euro = Buffer.from('€');
    shell.data(euro.subarray(0, 1));
    shell.data(Buffer.concat([euro.subarray(1), Buffer.from('ok')]));
    backend.resize(100, 30);
    backend.pause();
    backend.resume();
    backend.kill('SIGINT');
    backend.write('ls\r');
    shell.exit({ code: 3, signal: undefined });
    expect(out.join('')).toBe('€ok');
    expect(shell.calls).toEqual(['resize 100x30', 'pause', 'resume', 'signal INT', 'write ls\r']);
    expect(exits).toEqual([{ exitCode: 3, signal: null }]);
  });

  it('a dropped connection is shown in the terminal and carried as the exit reason', () => {
    const shell = shellDouble();
    const { out, exits } = attach(shell);
    const reason = new SshError(
      'parent-closed',
      'node (root@10.201.0.2:22)',
      'connection to bastion (root@10.254.0.2:22) closed by remote; node (root@10.201.0.2:22) was reached through it',
    );
    shell.exit({ code: null, signal: undefined, reason });
    expect(out.join('')).toBe(`\r\n\x1b[0m[${reason.message}]\r\n`);
    expect(exits).toEqual([{ exitCode: null, signal: null, reason: reason.message }]);
  });

  it('a shell we closed ourselves ends quietly', () => {
    const shell = shellDouble();
    const { out, exits, backend } = attach(shell);
    backend.kill('SIGHUP');
    shell.exit({
      code: null,
      signal: undefined,
      reason: new SshError('disposed', 'node', 'connection to node was closed'),
    });
    expect(shell.calls).toEqual(['dispose']);
    expect(out).toEqual([]);
    expect(exits).toEqual([{ exitCode: null, signal: null }]);
  });
});
