import { Command } from 'commander';
import { readFileSync } from 'node:fs';
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

/** The version in LabDeck's package.json, found upwards from this file (src/cli/ in a checkout, dist/ when built). */
export function readVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'labdeck') return pkg.version;
    } catch {
      // no package.json here: go up
    }
    if (dir.pathname === '/') return '0.0.0-unknown';
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram(readVersion());
  program.exitOverride();
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
