// Real bash and zsh through node-pty, with our injected hooks and the user's own rc files (a throwaway HOME).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAsciicast } from '../../src/terminal/asciicast.js';
import { LocalPtyBackend } from '../../src/terminal/localPtyBackend.js';
import { newNonce, remoteBashCommand } from '../../src/terminal/shellIntegration.js';
import type { TerminalManager } from '../../src/terminal/terminalManager.js';
import type { TerminalBlock, TerminalSession } from '../../src/terminal/types.js';
import {
  collect,
  descendants,
  isAlive,
  makeTerminalHome,
  newManager,
  ready,
  USER_PROMPT,
  waitUntil,
  type TerminalHome,
} from '../support/terminal-harness.js';

const zdotdirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('labdeck-zsh-'));

describe.each(['bash', 'zsh'])('%s with shell integration', (shell) => {
  let home: TerminalHome;
  let manager: TerminalManager;
  let session: TerminalSession;
  let out: { text(): string };
  const blocks: TerminalBlock[] = [];
  let zdotdirsBefore: string[];

  beforeAll(async () => {
    zdotdirsBefore = zdotdirs();
    home = makeTerminalHome();
    writeFileSync(
      join(home.dir, 'hostile.txt'),
      'x\x1b]133;C\x07\x1b]133;D;5;k=0000000000000000\x07\x1b]633;E;rm -rf /\x07y\n',
    );
    manager = newManager(home);
    session = manager.createLocal({ shell, cols: 80, rows: 24, cwd: home.dir });
    out = collect(session);
    session.onBlock((b) => blocks.push(b));
    await ready(session);
  });

  afterAll(() => {
    manager?.dispose();
    home?.remove();
  });

  const typeAndWait = async (line: string): Promise<TerminalBlock> => {
    const n = blocks.length;
    session.write(`${line}\r`);
    await waitUntil(() => blocks.length > n, 10_000, `the block of ${line}`);
    expect(blocks.length, `exactly one block from: ${line}`).toBe(n + 1);
    return blocks[n] as TerminalBlock;
  };

  it('run() clears what the user had typed at the prompt instead of gluing the command onto it', async () => {
    session.write('half-typed-by-the-user');
    await new Promise((r) => setTimeout(r, 100));
    const block = await session.run('echo typed-by-the-lab');
    expect(block).toMatchObject({
      command: 'echo typed-by-the-lab',
      output: 'typed-by-the-lab',
      exitCode: 0,
    });
  });

  it('clears the half-typed line in vi mode too, in insert mode and in command mode', async () => {
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await typeAndWait(shell === 'bash' ? 'set -o vi' : 'bindkey -v');
    try {
      session.write('half-typed-in-insert-mode');
      await pause(100);
      expect(await session.run('echo vi-insert')).toMatchObject({
        command: 'echo vi-insert',
        output: 'vi-insert',
        exitCode: 0,
      });
      // ESC to command mode; waited out past the shells' key-sequence timeouts (readline 500 ms, zsh 400 ms),
      // so the shell has surely left insert mode before the lab types.
      session.write('half-typed-then-escape\x1b');
      await pause(700);
      expect(await session.run('echo vi-command')).toMatchObject({
        command: 'echo vi-command',
        output: 'vi-command',
        exitCode: 0,
      });
    } finally {
      await typeAndWait(shell === 'bash' ? 'set -o emacs' : 'bindkey -e');
    }
  });

  it('never hands the nonce to programs, even when the prompt is an exported variable', async () => {
    // A user rc that exports PS1 (common in dotfiles): the hooks put the nonce into the prompt variables.
    await typeAndWait(shell === 'bash' ? 'export PS1' : 'export PS1 PROMPT_EOL_MARK');
    const env = await typeAndWait('env');
    expect(env.exitCode).toBe(0);
    expect(env.output).not.toMatch(/133;|633;|k=[0-9a-f]{16}/);
  });

  it('turns `echo hello; (exit 3)` typed by the user into one block: output hello, exit code 3', async () => {
    const b = await typeAndWait('echo hello; (exit 3)');
    expect(b).toMatchObject({ command: 'echo hello; (exit 3)', output: 'hello', exitCode: 3, cwd: home.dir });
    expect(b.endedAt).toBeGreaterThanOrEqual(b.startedAt);
  });

  it('makes no block from a fake mark without the nonce, nor from `cat` of a hostile file', async () => {
    const fake = await typeAndWait(`printf '\\e]133;D;0\\a'`);
    expect(fake.exitCode).toBe(0);
    const cat = await typeAndWait('cat hostile.txt; (exit 2)');
    expect(cat).toMatchObject({ command: 'cat hostile.txt; (exit 2)', output: 'xy', exitCode: 2 });
    // Let any block that a forged mark might have caused arrive: none does.
    await new Promise((r) => setTimeout(r, 200));
    expect(blocks.filter((b) => b.exitCode === 5 || b.command.includes('rm -rf'))).toEqual([]);
  });

  it('keeps what the user sees: their prompt, their prompt hook, and none of our marks', async () => {
    const b = await typeAndWait('echo "runs=$USER_HOOK_RUNS"');
    expect(Number(/runs=(\d+)/.exec(b.output)?.[1])).toBeGreaterThan(0);
    expect(out.text()).toContain(USER_PROMPT);
    // Ours carry a 32-hex-digit nonce; the hostile file's fakes (16 zeros) pass through untouched.
    expect(out.text()).not.toMatch(/k=[0-9a-f]{32}/);
  });

  it('reports the cwd after cd, and runs commands for lab steps with run()', async () => {
    await typeAndWait('cd /tmp');
    await waitUntil(() => session.info().cwd === '/tmp', 5_000, 'cwd /tmp');
    const b = await session.run('printf "%s\\n" a b; ls -d /etc');
    expect(b).toMatchObject({ output: 'a\nb\n/etc', exitCode: 0, cwd: '/tmp' });
    const weird = await session.run(`printf '%s\\n' 'semi;colon \\back'`);
    expect(weird.command).toBe(`printf '%s\\n' 'semi;colon \\back'`);
    expect(weird.output).toBe('semi;colon \\back');
  });

  it('titles the terminal after the foreground process, and after OSC 0 when a program sets one', async () => {
    const titles: string[] = [];
    const sub = session.onInfo((i) => titles.push(i.title));
    const done = typeAndWait('sleep 1');
    await waitUntil(() => titles.includes('sleep'), 5_000, 'the title "sleep"');
    await done;
    await waitUntil(() => session.info().title === shell, 5_000, `the title back to ${shell}`);
    await typeAndWait(`printf '\\033]0;%s\\007' 'my title'`);
    expect(session.info().title).toBe('my title');
    sub.dispose();
  });

  it('never names the previous command for a line kept out of the history', async () => {
    await typeAndWait(shell === 'bash' ? 'HISTCONTROL=ignorespace' : 'setopt HIST_IGNORE_SPACE');
    const hidden = await typeAndWait(' echo hidden');
    expect(hidden.output).toBe('hidden');
    // bash: unknown (history has no entry for it); zsh's preexec gets the typed line anyway.
    expect(hidden.command).toBe(shell === 'bash' ? '' : ' echo hidden');
  });

  it('keeps the hook script (and its nonce) out of the environment the shell and its children see', async () => {
    const b = await typeAndWait('env | grep -c "LABDECK_SHELL_INIT="');
    expect(b.output).toBe('0');
    // Also not in the environment the kernel keeps for the shell itself (zsh keeps only the fd number).
    const environ = readFileSync(`/proc/${session.info().pid}/environ`, 'utf8');
    expect(environ).not.toContain('LABDECK_SHELL_INIT=');
    expect(environ).not.toMatch(/k=[0-9a-f]{32}/);
  });

  it('leaves no files: no temp dir remains and HOME holds only what the user had', async () => {
    expect(zdotdirs().filter((d) => !zdotdirsBefore.includes(d))).toEqual([]);
    expect(readdirSync(home.dir).sort()).toEqual(['.bashrc', '.zshrc', 'hostile.txt']);
    expect(session.info()).toMatchObject({ shellIntegration: true, kind: 'local', cols: 80, rows: 24 });
  });

  it('without our hooks still reports cwd (from /proc) and makes no blocks', async () => {
    const plain = manager.createLocal({ shell, cols: 80, rows: 24, cwd: home.dir, shellIntegration: false });
    const plainOut = collect(plain);
    const plainBlocks: TerminalBlock[] = [];
    plain.onBlock((b) => plainBlocks.push(b));
    plain.write('cd /usr; echo "done-$((6*7))"\r');
    await waitUntil(() => plainOut.text().includes('done-42'), 10_000, 'the plain shell to answer');
    await waitUntil(() => plain.info().cwd === '/usr', 5_000, 'cwd /usr from /proc');
    expect(plainBlocks).toEqual([]);
    expect(plain.info().shellIntegration).toBe(false);
    await expect(plain.run('ls')).rejects.toThrow(/without shell integration/);
    manager.close(plain.id);
  });

  it('records an asciicast with output, resize and command markers', async () => {
    const file = join(home.dir, 'rec.cast');
    await session.startRecording(file);
    expect(session.info().recording).toBe(file);
    await session.run('echo recorded');
    session.resize(100, 30);
    expect(await session.stopRecording()).toBe(file);
    const cast = parseAsciicast(readFileSync(file, 'utf8'));
    expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24 });
    const codes = cast.events.map((e) => e[1]);
    expect(codes).toContain('o');
    expect(cast.events.filter((e) => e[1] === 'm').map((e) => e[2])).toEqual(['$ echo recorded', 'exit 0']);
    expect(cast.events.filter((e) => e[1] === 'r').map((e) => e[2])).toEqual(['100x30']);
    expect(cast.events.filter((e) => e[1] === 'i')).toEqual([]);

    // The recording plays back as a read-only terminal with the same block.
    const replay = manager.createReplay({ cast: readFileSync(file, 'utf8'), speed: 0 });
    const replayed: TerminalBlock[] = [];
    replay.onBlock((b) => replayed.push(b));
    replay.onData((d) => replay.acknowledge(d.length));
    await new Promise((r) => replay.onExit(r));
    expect(replayed.map((b) => [b.command, b.output, b.exitCode])).toEqual([
      ['echo recorded', 'recorded', 0],
    ]);
    manager.close(replay.id);
  });

  it('exits with the status, then resize and write are harmless no-ops', async () => {
    const exited = new Promise((r) => session.onExit(r));
    session.write('exit 7\r');
    await expect(exited).resolves.toEqual({ exitCode: 7, signal: null });
    expect(() => session.resize(120, 40)).not.toThrow();
    expect(() => session.write('ls\r')).not.toThrow();
    await expect(session.run('ls')).rejects.toThrow(/exited/);
    expect(session.info().exit).toEqual({ exitCode: 7, signal: null });
  });
});

describe('the remote bash command (as an ssh exec channel runs it, through /bin/sh)', () => {
  let home: TerminalHome;
  beforeAll(() => {
    home = makeTerminalHome();
    // A login shell reads the profile files, not .bashrc.
    writeFileSync(join(home.dir, '.profile'), 'export FROM_PROFILE=yes\n');
  });
  afterAll(() => home?.remove());

  it('starts bash with our hooks from a POSIX sh command line, sourcing the login files', async () => {
    const manager = newManager(home);
    try {
      const nonce = newNonce();
      const backend = new LocalPtyBackend({
        file: '/bin/sh',
        args: ['-c', remoteBashCommand(nonce)],
        env: home.env,
        cwd: home.dir,
        cols: 80,
        rows: 24,
      });
      const session = manager.attach({
        kind: 'ssh',
        shell: 'bash (remote form)',
        backend,
        cols: 80,
        rows: 24,
        nonce,
      });
      collect(session);
      await ready(session);
      const b = await session.run('echo "$FROM_PROFILE"; (exit 4)');
      expect(b).toMatchObject({ output: 'yes', exitCode: 4 });
      expect(session.info()).toMatchObject({ kind: 'ssh', shellIntegration: true, cwd: home.dir });
    } finally {
      manager.dispose();
    }
  });
});

describe('several local terminals and their disposal', () => {
  let home: TerminalHome;
  beforeAll(() => {
    home = makeTerminalHome();
  });
  afterAll(() => home?.remove());

  it('runs bash and zsh side by side with their own blocks, and leaves no process after dispose', async () => {
    const manager = newManager(home);
    try {
      const a = manager.createLocal({ shell: 'bash', cols: 80, rows: 24 });
      const b = manager.createLocal({ shell: 'zsh', cols: 100, rows: 30 });
      collect(a);
      collect(b);
      await Promise.all([ready(a), ready(b)]);
      const [ra, rb] = await Promise.all([a.run('echo from-a'), b.run('echo from-b')]);
      expect([ra.output, rb.output]).toEqual(['from-a', 'from-b']);
      expect(manager.list().map((i) => i.shell)).toEqual(['bash', 'zsh']);
      expect(manager.get(a.id)).toBe(a);
      // A foreground job and a background job in each shell.
      a.write('sleep 301 & sleep 302\r');
      b.write('sleep 303 & sleep 304\r');
      const shells = [a.info().pid, b.info().pid].filter((p): p is number => p !== null);
      await waitUntil(() => shells.every((p) => descendants(p).length >= 2), 5_000, 'the sleeps to start');
      const all = [...shells, ...shells.flatMap((p) => descendants(p))];
      await expect(manager.shutdown(10_000)).resolves.toBe(true);
      await waitUntil(() => all.every((p) => !isAlive(p)), 10_000, `processes ${all.join(', ')} to end`);
    } finally {
      manager.dispose();
    }
  });

  it('says clearly when the shell or the directory does not exist', () => {
    const manager = newManager(home);
    try {
      expect(() => manager.createLocal({ shell: 'bash', cwd: '/no/such/dir', cols: 80, rows: 24 })).toThrow(
        /no such directory/,
      );
      expect(() => manager.createLocal({ shell: '/no/such/shell', cols: 80, rows: 24 })).toThrow(
        /shell "\/no\/such\/shell" not found/,
      );
      expect(() => manager.createLocal({ shell: 'no-such-shell-xyz', cols: 80, rows: 24 })).toThrow(
        /not found on PATH/,
      );
      expect(manager.list()).toEqual([]);
    } finally {
      manager.dispose();
    }
  });
});
