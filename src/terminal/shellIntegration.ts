// Shell-integration hooks for bash and zsh, and how they are injected without leaving files behind
// (docs/terminal.md#injection).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BASH_INIT_TEMPLATE, ZSH_INIT_TEMPLATE } from './shellScripts.js';

export type ShellFlavour = 'bash' | 'zsh' | 'other';

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export function shellFlavour(shell: string): ShellFlavour {
  const name = basename(shell).replace(/^-/, '');
  if (name === 'bash' || name.startsWith('bash-') || name.startsWith('bash5')) return 'bash';
  if (name === 'zsh' || name.startsWith('zsh-')) return 'zsh';
  return 'other';
}

/** Env var that carries the hook script into the shell; the script unsets it first thing. */
export const INIT_ENV = 'LABDECK_SHELL_INIT';

/** What bash reads without --rcfile: ~/.bashrc for an interactive shell, the profile files for a login one. */
const BASH_INTERACTIVE_RC = 'if [ -r ~/.bashrc ]; then . ~/.bashrc; fi';
const BASH_LOGIN_RC = [
  'if [ -r /etc/profile ]; then . /etc/profile; fi',
  'if [ -r ~/.bash_profile ]; then . ~/.bash_profile',
  'elif [ -r ~/.bash_login ]; then . ~/.bash_login',
  'elif [ -r ~/.profile ]; then . ~/.profile; fi',
].join('\n');

/** The bash hooks with this session's nonce (see shellScripts.ts). `login` sources the profile files instead. */
export function bashInitScript(nonce: string, opts: { login?: boolean } = {}): string {
  return BASH_INIT_TEMPLATE.replaceAll('__NONCE__', nonce).replace(
    '__USER_RC__',
    opts.login ? BASH_LOGIN_RC : BASH_INTERACTIVE_RC,
  );
}

/**
 * A command for an ssh exec channel with a pty (run by the remote user's login shell, so POSIX sh): starts
 * bash with our hooks, read from a pipe as locally, sourcing the login files as `ssh host` would. The script
 * travels as an argument of a short-lived `bash -c`; it holds the nonce, so on a shared host another user could
 * read it from /proc for the few milliseconds before exec (see docs/terminal.md).
 */
export function remoteBashCommand(nonce: string): string {
  const inner = 'exec bash --rcfile <(builtin printf "%s" "$0") -i';
  return `exec bash -c ${singleQuote(inner)} ${singleQuote(bashInitScript(nonce, { login: true }))}`;
}

/** The zsh hooks: they delete `tempDir` first, then restore the user's ZDOTDIR (unset if they had none). */
export function zshInitScript(nonce: string, tempDir: string, userZdotdir: string | undefined): string {
  const restore = userZdotdir === undefined ? 'builtin unset ZDOTDIR' : `ZDOTDIR=${singleQuote(userZdotdir)}`;
  return ZSH_INIT_TEMPLATE.replaceAll('__NONCE__', nonce)
    .replace('__ZDOTDIR_TMP__', singleQuote(tempDir))
    .replace('__RESTORE_ZDOTDIR__', restore);
}

function singleQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ShellLaunch {
  readonly file: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  /** Removes anything the launch created that the shell did not (already) remove itself. */
  cleanup(): void;
}

/**
 * How to start `shell` with our hooks. For a shell we have no hooks for, it is started plainly (no blocks,
 * `run()` refuses with a clear error).
 */
export function shellLaunch(shell: string, nonce: string, env: Record<string, string>): ShellLaunch {
  const flavour = shellFlavour(shell);
  if (flavour === 'bash') {
    return {
      file: shell,
      // The launcher bash opens the pipe (/dev/fd/63) and execs the interactive bash, which reads it.
      args: ['-c', 'exec "$0" --rcfile <(builtin printf "%s" "$' + INIT_ENV + '") -i', shell],
      env: { ...env, [INIT_ENV]: bashInitScript(nonce) },
      cleanup: () => {},
    };
  }
  if (flavour === 'zsh') {
    const dir = mkdtempSync(join(tmpdir(), 'labdeck-zsh-'));
    writeFileSync(join(dir, '.zshenv'), `eval "$${INIT_ENV}"\n`, { mode: 0o600 });
    const next: Record<string, string> = { ...env, ZDOTDIR: dir };
    next[INIT_ENV] = zshInitScript(nonce, dir, env.ZDOTDIR);
    return {
      file: shell,
      args: ['-i'],
      env: next,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  return { file: shell, args: [], env: { ...env }, cleanup: () => {} };
}
