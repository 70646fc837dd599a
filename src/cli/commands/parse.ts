/**
 * `labdeck parse [--as KIND] [--command "CMDLINE"] [FILE|-]`: terminal output → JSON on stdout (docs/json.md).
 * Exit 0: parsed; 1: parsed, with error diagnostics; 2: no parser applies or the input is unusable (one line
 * on stderr says why). `labdeck parse --list` lists the kinds.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { hasErrors } from '../../model/diagnostic.js';
import { detect } from '../../parse/detect.js';
import { createIptablesSaveParser } from '../../parse/iptables-save.js';
import { parseKindDescriptions, parseKinds, type ParseKind } from '../../parse/kinds.js';
import { parse, type AnyParseResult } from '../../parse/parse.js';

/** Inputs above this are refused (a dump of a very large node is ~25 MB). */
const MAX_INPUT = 512 * 1024 * 1024;

interface ParseOptions {
  as?: string;
  command?: string;
  list?: boolean;
}

class InputError extends Error {}

async function readInput(file: string | undefined): Promise<Buffer> {
  if (file === undefined || file === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += b.length;
      if (size > MAX_INPUT) throw new InputError(`input is larger than ${MAX_INPUT / 1024 / 1024} MB`);
      chunks.push(b);
    }
    return Buffer.concat(chunks);
  }
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_INPUT) throw new InputError(`${file} is larger than ${MAX_INPUT / 1024 / 1024} MB`);
    return buf;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new InputError(
      e.code === 'ENOENT'
        ? `${file}: no such file`
        : e.code === 'EISDIR'
          ? `${file} is a directory`
          : `${file}: ${e.message}`,
    );
  }
}

/** Text that is mostly NULs or other binary is not terminal output. */
function looksBinary(buf: Buffer): boolean {
  const head = buf.subarray(0, 8192);
  let nul = 0;
  for (const b of head) if (b === 0) nul++;
  return nul > 0 && nul * 100 >= head.length;
}

function runParse(
  text: string,
  opts: ParseOptions,
): { result: AnyParseResult; code: number; reason?: string } {
  const as = opts.as as ParseKind | undefined;
  let result: AnyParseResult;
  const kind = as ?? (opts.command ? detect({ command: opts.command }).kind : undefined);
  if (kind === 'iptables-save' && text.length > 1 << 20) {
    // Large dumps: the incremental parser, fed in chunks as a stream would be.
    const cmd = opts.command ? detect({ command: opts.command }).command : undefined;
    const p = createIptablesSaveParser(cmd?.table ? { table: cmd.table } : {});
    for (let i = 0; i < text.length; i += 1 << 16) p.push(text.slice(i, i + (1 << 16)));
    result = p.end();
  } else {
    result = parse({ text, ...(as ? { as } : {}), ...(opts.command ? { command: opts.command } : {}) });
  }
  if (result.kind === 'unparsed')
    return {
      result,
      code: 2,
      reason: `${result.detection?.reason ?? 'no parser recognised the output'}; try --as KIND or --command "CMDLINE" (labdeck parse --list)`,
    };
  return { result, code: hasErrors(result.diagnostics) ? 1 : 0 };
}

export function registerParse(program: Command): void {
  program
    .command('parse')
    .description(
      'parse terminal output (kubectl, iptables, ip, ifconfig, CNI, kuard) into JSON; see docs/json.md',
    )
    .argument('[file]', 'file with the output, or - for stdin (default: stdin)')
    .option('--as <kind>', 'parse as this kind instead of detecting it (see --list)')
    .option(
      '--command <cmdline>',
      'the command line that printed the output; picks the parser and its options',
    )
    .option('--list', 'list the kinds of output and exit')
    .action(async (file: string | undefined, opts: ParseOptions) => {
      if (opts.list) {
        for (const k of parseKinds) process.stdout.write(`${k.padEnd(18)} ${parseKindDescriptions[k]}\n`);
        process.exitCode = 0;
        return;
      }
      if (opts.as !== undefined && !(parseKinds as readonly string[]).includes(opts.as)) {
        process.stderr.write(
          `labdeck parse: unknown kind "${opts.as}" (labdeck parse --list shows the kinds)\n`,
        );
        process.exitCode = 2;
        return;
      }
      let buf: Buffer;
      try {
        buf = await readInput(file);
      } catch (err) {
        process.stderr.write(`labdeck parse: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 2;
        return;
      }
      if (looksBinary(buf)) {
        process.stderr.write('labdeck parse: the input looks binary (NUL bytes), not terminal output\n');
        process.exitCode = 2;
        return;
      }
      const { result, code, reason } = runParse(buf.toString('utf8'), opts);
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      if (reason) process.stderr.write(`labdeck parse: ${reason}\n`);
      process.exitCode = code;
    });
}
