import type { Command } from 'commander';
import { registerParse } from './parse.js';

/** A subcommand adds itself to the program. One line per command, in the order `--help` lists them. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerParse];
