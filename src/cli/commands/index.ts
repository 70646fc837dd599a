import type { Command } from 'commander';
import { registerParse } from './parse.js';
import { registerAnalyze } from './analyze.js';
import { registerLab } from './lab.js';
import { registerSsh } from './ssh.js';
import { registerSandbox } from './sandbox.js';
import { registerKube } from './kube.js';

/** A subcommand adds itself to the program. One line per command, in the order `--help` lists them. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerParse,
  registerAnalyze,
  registerLab,
  registerSsh,
  registerSandbox,
  registerKube,
];
