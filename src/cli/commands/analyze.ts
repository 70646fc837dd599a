/**
 * `labdeck analyze FILE…`: parse captured outputs, join them into one snapshot, print the service views and
 * findings (docs/json.md, "labdeck analyze"). `labdeck analyze --diff BEFORE_DIR AFTER_DIR`: what changed between two snapshots.
 *
 * A FILE may carry prefixes saying what and from where: `NODE=ip-10-0-18-181:iptables-save:dump.txt`. A file
 * `<name>.meta.json` beside `<name>.txt` (the golden-fixture convention) may give `command`, `node`, `takenAt`.
 */
import type { Command } from 'commander';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  analyzeSnapshot,
  diffSnapshots,
  formatAnalysisText,
  formatDiffText,
  snapshotFromParsed,
  type ParsedCapture,
} from '../../analyze/index.js';
import type { Snapshot } from '../../model/snapshot.js';
import { parseKinds, type ParseKind } from '../../parse/kinds.js';
import { parse } from '../../parse/parse.js';

export interface FileSpec {
  readonly path: string;
  readonly node: string | null;
  readonly kind: ParseKind | null;
}

/** `NODE=name:KIND:path`, `KIND:path`, `NODE=name:path`, `path`. */
export function parseFileSpec(arg: string): FileSpec {
  let rest = arg;
  let node: string | null = null;
  let kind: ParseKind | null = null;
  for (;;) {
    const m = /^NODE=([^:]+):(.+)$/.exec(rest);
    if (m) {
      node = m[1]!;
      rest = m[2]!;
      continue;
    }
    const k = /^([a-z-]+):(.+)$/.exec(rest);
    if (k && (parseKinds as readonly string[]).includes(k[1]!)) {
      kind = k[1] as ParseKind;
      rest = k[2]!;
      continue;
    }
    break;
  }
  return { path: rest, node, kind };
}

interface Meta {
  command?: string;
  node?: string;
  takenAt?: string;
  origin?: string;
}

function readMeta(path: string): Meta {
  const metaPath = path.replace(/\.txt$/, '') + '.meta.json';
  if (metaPath === path || !existsSync(metaPath)) return {};
  try {
    return JSON.parse(readFileSync(metaPath, 'utf8')) as Meta;
  } catch {
    return {};
  }
}

export class AnalyzeInputError extends Error {}

export function loadCapture(spec: FileSpec): ParsedCapture {
  let text: string;
  try {
    text = readFileSync(spec.path, 'utf8');
  } catch (err) {
    throw new AnalyzeInputError(
      `cannot read ${spec.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (give a file of captured command output)`,
    );
  }
  const meta = readMeta(spec.path);
  const result = parse({
    text,
    ...(meta.command !== undefined && { command: meta.command }),
    ...(spec.kind !== null && { as: spec.kind }),
  });
  return {
    kind: result.kind,
    value: result.value,
    source: {
      node: spec.node ?? meta.node ?? null,
      command: meta.command ?? null,
      takenAt: meta.takenAt ?? statSync(spec.path).mtime.toISOString(),
      origin: meta.origin ?? spec.path,
    },
  };
}

export function loadSnapshot(args: readonly string[]): { snapshot: Snapshot; unparsed: string[] } {
  const captures = args.map((a) => loadCapture(parseFileSpec(a)));
  const unparsed = captures.filter((c) => c.kind === 'unparsed').map((c) => c.source.origin ?? '?');
  return { snapshot: snapshotFromParsed(captures), unparsed };
}

/** Every `*.txt` (or other non-meta) file of a directory, in name order; `x@NODE.txt` names its node. */
export function dirArgs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new AnalyzeInputError(
      `cannot read directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return names
    .filter(
      (n) => !n.endsWith('.meta.json') && !n.endsWith('.expected.json') && statSync(join(dir, n)).isFile(),
    )
    .map((n) => {
      const m = /@([^@.]+)\.[^.]+$/.exec(basename(n));
      return m ? `NODE=${m[1]}:${join(dir, n)}` : join(dir, n);
    });
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description(
      "join captured outputs (kubectl, iptables-save, curl answers) into one snapshot and show each service's data path and what does not add up",
    )
    .argument(
      '[files...]',
      'captured outputs; prefix with NODE=name: and/or KIND: (e.g. NODE=node-a:iptables-save:dump.txt)',
    )
    .option('--format <format>', 'json or text', 'json')
    .option('--diff <dirs...>', 'compare two snapshots: BEFORE_DIR AFTER_DIR')
    .action((files: string[], opts: { format: string; diff?: string[] }) => {
      if (opts.format !== 'json' && opts.format !== 'text') {
        process.stderr.write(`labdeck analyze: --format must be json or text, not "${opts.format}"\n`);
        process.exitCode = 2;
        return;
      }
      try {
        if (opts.diff) {
          const dirs = [...opts.diff, ...files];
          if (dirs.length !== 2) {
            process.stderr.write('labdeck analyze --diff needs two directories: BEFORE_DIR AFTER_DIR\n');
            process.exitCode = 2;
            return;
          }
          const before = loadSnapshot(dirArgs(dirs[0]!)).snapshot;
          const after = loadSnapshot(dirArgs(dirs[1]!)).snapshot;
          const d = diffSnapshots(before, after);
          process.stdout.write(
            opts.format === 'text' ? formatDiffText(d) : JSON.stringify(d, null, 2) + '\n',
          );
          return;
        }
        if (files.length === 0) {
          process.stderr.write('labdeck analyze: give one or more files of captured output (see --help)\n');
          process.exitCode = 2;
          return;
        }
        const { snapshot, unparsed } = loadSnapshot(files);
        for (const u of unparsed)
          process.stderr.write(
            `labdeck analyze: ${u}: no parser recognised it; prefix KIND: to say what it is\n`,
          );
        const a = analyzeSnapshot(snapshot);
        process.stdout.write(
          opts.format === 'text'
            ? formatAnalysisText(a)
            : JSON.stringify({ services: a.services, findings: a.findings }, null, 2) + '\n',
        );
      } catch (err) {
        if (err instanceof AnalyzeInputError) {
          process.stderr.write(`labdeck analyze: ${err.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw err;
      }
    });
}
