// Helpers for the terminal integration tests and the benchmark: a throwaway HOME with the user's own rc
// files (a custom prompt and prompt hooks that our injection must keep), waiting with a bound, and /proc
// scans for leaked processes. Linux only (/proc).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerminalManager } from '../../src/terminal/terminalManager.js';
import type { TerminalSession } from '../../src/terminal/types.js';

export const USER_PROMPT = 'LDTEST> ';

export interface TerminalHome {
  readonly dir: string;
  /** Environment for shells: HOME is the throwaway dir, history goes nowhere. */
  readonly env: Record<string, string>;
  remove(): void;
}

/** A HOME whose .bashrc/.zshrc set their own prompt and a prompt hook, as a user's would. */
export function makeTerminalHome(): TerminalHome {
  const dir = mkdtempSync(join(tmpdir(), 'labdeck-terminal-home-'));
  writeFileSync(
    join(dir, '.bashrc'),
    [
      `PS1='${USER_PROMPT}'`,
      "PROMPT_COMMAND='USER_HOOK_RUNS=$((USER_HOOK_RUNS+1))'",
      'alias ll="ls -l"',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, '.zshrc'),
    [
      `PS1='${USER_PROMPT}'`,
      'user_hook() { USER_HOOK_RUNS=$((USER_HOOK_RUNS+1)); }',
      'precmd_functions+=(user_hook)',
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, { HOME: dir, HISTFILE: '/dev/null', LANG: 'C.UTF-8' });
  delete env.ZDOTDIR;
  delete env.PROMPT_COMMAND;
  return { dir, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function newManager(home: TerminalHome): TerminalManager {
  return new TerminalManager({ env: home.env });
}

/** Resolves when `predicate` holds, checking on each call of the returned `check` and every 20 ms. */
export function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** Collects a session's output, acknowledging it at once (a consumer that keeps up). */
export function collect(session: TerminalSession): { text(): string } {
  const parts: string[] = [];
  session.onData((d) => {
    parts.push(d);
    session.acknowledge(d.length);
  });
  return { text: () => parts.join('') };
}

/** Waits for the shell's first prompt (command-start mark). */
export async function ready(session: TerminalSession, timeoutMs = 15_000): Promise<void> {
  let seen = false;
  const sub = session.onMark((m) => {
    if (m.type === 'commandStart') seen = true;
  });
  try {
    await waitUntil(() => seen, timeoutMs, 'the first prompt');
  } finally {
    sub.dispose();
  }
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie (state Z) has exited; it only waits to be reaped.
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** All descendants of `pid`, from /proc/<n>/stat's ppid field. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}
