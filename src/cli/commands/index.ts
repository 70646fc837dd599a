import type { Command } from 'commander';
import { registerSsh } from './ssh.js';
import { registerSandbox } from './sandbox.js';

/** A subcommand adds itself to the program. One line per command, in the order `--help` lists them. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerSsh, registerSandbox];
