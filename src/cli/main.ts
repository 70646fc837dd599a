import { Command } from 'commander';
import { packageVersion } from '../api/paths.js';
import { commands } from './commands/index.js';

/** The `labdeck` command. Each subcommand lives in `./commands/<name>.ts` and registers itself there. */
export function createProgram(version: string): Command {
  const program = new Command('labdeck')
    .description('LabDeck: guided Kubernetes networking labs on real machines')
    .version(version, '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run `labdeck --help` for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program);
  return program;
}

/** The version printed by `--version`. */
export function readVersion(): string {
  return packageVersion();
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram(readVersion());
  // On every command: commander copies the setting only to subcommands added after it is set.
  const throwInsteadOfExit = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(throwInsteadOfExit);
  };
  throwInsteadOfExit(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return 0;
    if (typeof e.exitCode === 'number') return e.exitCode === 1 ? 2 : e.exitCode;
    throw err;
  }
}
