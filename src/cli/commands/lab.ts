import type { Command } from 'commander';
import { dataDir, packageRoot } from '../../api/paths.js';
import {
  bindInventory,
  recordedWithoutSetup,
  recordingObserver,
  replayInventory,
  type BoundInventory,
} from '../../api/labBinding.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseOutput as parseLabOutput } from '../../labs/parseOutput.js';
import { AnalyzedSnapshot } from '../../labs/analyzedSnapshot.js';
import { checkInventory, loadInventory, type Inventory } from '../../labs/inventory.js';
import { formatProblem, loadLabDir } from '../../labs/loadLab.js';
import type { Lab, LabProblem } from '../../labs/model.js';
import { progressFile, ProgressStore } from '../../labs/progress.js';
import {
  LabRunner,
  type ConfirmFn,
  type ParseFn,
  type RunSummary,
  type StepResult,
} from '../../labs/runner.js';
import { TrustStore } from '../../labs/trust.js';
import { loadRecording, RecordingWriter, type Recording } from '../../targets/recording.js';

/** The parsers labs use: src/labs/parseOutput.ts (basic kinds there, everything else in src/parse). */
export const parseOutput: ParseFn = parseLabOutput;

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}
function err(s: string): void {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
}

function printProblems(errors: readonly LabProblem[], warnings: readonly LabProblem[]): void {
  for (const p of errors) err(`error: ${formatProblem(p)}`);
  for (const p of warnings) err(`warning: ${formatProblem(p)}`);
}

function loadValid(dir: string): Lab | undefined {
  const r = loadLabDir(dir);
  printProblems(r.errors, r.warnings);
  if (!r.lab) err(`${dir}: the lab has ${r.errors.length} problem(s); nothing ran.`);
  return r.lab;
}

const mark = { done: '✔', failed: '✘', skipped: '–' } as const;

function printStep(r: StepResult, index: number): void {
  const passed = r.checks.filter((c) => c.status === 'done').length;
  out(`${mark[r.status]} step ${index}: ${r.title} (${passed}/${r.checks.length} checks)`);
  if (r.message) out(`    ${r.message}`);
  for (const b of r.blocks) if (b.status === 'skipped') out(`    – block ${b.id}: ${b.message ?? 'skipped'}`);
  for (const c of r.checks) {
    if (c.status === 'done') {
      out(`    ✔ ${c.id}: ${c.title}`);
      continue;
    }
    out(`    ${mark[c.status]} ${c.id}: ${c.message ?? c.status}`);
    for (const e of c.evidence) out(`        ${e}`);
    if (c.hint && c.status === 'failed') out(`        hint: ${c.hint}`);
  }
}

function printSummary(s: RunSummary): void {
  const steps = s.steps.length;
  const done = s.steps.filter((r) => r.status === 'done').length;
  out(
    `${s.recorded ? '[RECORDED] ' : ''}${s.ok ? 'PASS' : 'FAIL'}: ${done}/${steps} steps done; checks: ${s.checks.passed} passed, ${s.checks.failed} failed, ${s.checks.skipped} skipped`,
  );
}

function ttyConfirm(): ConfirmFn | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (req) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const a = await rl.question(
        `\nThis lab is not trusted. Run on ${req.where}:\n  $ ${req.command}\n[y/N] `,
      );
      return /^y(es)?$/i.test(a.trim());
    } finally {
      rl.close();
    }
  };
}

interface RunFlags {
  inventory?: string;
  from?: string;
  resume?: boolean;
  skipSetup?: boolean;
  json?: boolean;
  replay?: string;
  record?: string;
  dataDir?: string;
}

async function runLab(dirArg: string, flags: RunFlags): Promise<number> {
  const dir = resolve(dirArg);
  const lab = loadValid(dir);
  if (!lab) return 2;
  let inventory: Inventory;
  let replaySkipsSetup = false;
  const recordings = new Map<string, Recording>();
  if (flags.replay) {
    const recDir = resolve(flags.replay);
    let rec: Recording;
    try {
      rec = loadRecording(recDir);
    } catch (e) {
      err(`error: ${(e as Error).message}`);
      return 2;
    }
    if (rec.lab.id !== lab.id) {
      err(`error: ${recDir} is a recording of lab "${rec.lab.id}", not "${lab.id}"`);
      return 2;
    }
    recordings.set(recDir, rec);
    inventory = replayInventory(lab, recDir, rec);
    replaySkipsSetup = recordedWithoutSetup(lab, rec);
  } else {
    if (!flags.inventory) {
      err('error: --inventory FILE is required (or --replay RECORDING); see docs/labs.md, "Inventory"');
      return 2;
    }
    const inv = loadInventory(resolve(flags.inventory));
    if (!('inventory' in inv)) {
      printProblems(inv.problems, []);
      return 2;
    }
    const fit = checkInventory(lab, inv.inventory);
    const problems = [...inv.problems, ...fit.errors];
    printProblems(problems, fit.warnings);
    if (problems.length) return 2;
    inventory = inv.inventory;
  }

  // Bind every role now, so an unsupported binding fails before anything runs.
  let bound: BoundInventory;
  try {
    bound = bindInventory(lab, inventory, { recordings });
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 2;
  }

  const data = dataDir(flags.dataDir);
  const trust = new TrustStore(join(data, 'trust.json'), join(packageRoot(), 'labs'));
  const replaying = flags.replay !== undefined;
  const trustState = replaying ? undefined : trust.state(dir);
  const trusted = replaying || trustState?.trusted === true;
  const confirm = ttyConfirm();
  if (!trusted) {
    err(
      `This lab is not trusted (${trustState?.reason === 'changed-since-trusted' ? 'it changed since you trusted it' : "it is not one of LabDeck's own labs"}): every command is shown and needs your yes.` +
        (confirm
          ? ''
          : ` There is no terminal to ask, so nothing will run. Review ${dir} and run \`labdeck lab trust ${dirArg}\`.`),
    );
  }
  const progress = ProgressStore.open(
    progressFile(data, lab.id, inventory.environment),
    lab.id,
    inventory.environment,
  );
  if (progress.recoveredFrom)
    err(`warning: the saved progress was unreadable; kept it as ${progress.recoveredFrom}`);
  const writer = flags.record
    ? new RecordingWriter(resolve(flags.record), {
        lab: { id: lab.id, title: lab.title },
        name: resolve(flags.record).split(/[\\/]/).pop() ?? 'recording',
        environment: inventory.environment,
      })
    : undefined;
  const runner = new LabRunner({
    lab,
    targets: (role) => bound.targets.get(role) ?? [],
    parse: parseOutput,
    snapshot: new AnalyzedSnapshot(),
    progress,
    trusted,
    ...(confirm ? { confirm } : {}),
    observer: {
      ...(writer ? recordingObserver(writer) : {}),
      stepDone: (r) => {
        if (!flags.json) printStep(r, lab.steps.findIndex((s) => s.id === r.id) + 1);
      },
    },
  });
  try {
    const from = flags.resume ? progress.resumeAt(lab.steps.map((s) => s.id)) : flags.from;
    if (flags.resume && from === undefined) {
      out('Every step is already done or skipped in this environment.');
      return 0;
    }
    if (!flags.json) {
      out(`Lab: ${lab.title} (${lab.id}), environment "${inventory.environment}"`);
      if (replaying) {
        const first = [...bound.targets.values()][0]?.[0];
        out(`[RECORDED] Nothing runs: results come from the ${first?.target.description ?? 'recording'}.`);
        if (replaySkipsSetup && !flags.skipSetup)
          out('[RECORDED] The recording was made with --skip-setup: setup blocks are skipped.');
      }
    }
    const summary = await runner.runAll({
      ...(from ? { from } : {}),
      ...(flags.skipSetup || replaySkipsSetup ? { skipSetup: true } : {}),
    });
    await progress.flush();
    if (writer) {
      const where = await writer.close();
      if (!flags.json) out(`Recorded to ${where}`);
    }
    const findings = runner.state().findings;
    if (flags.json)
      out(JSON.stringify({ ...summary, environment: inventory.environment, findings }, null, 2));
    else {
      if (findings.length) {
        out(`Findings from the analysed captures (${findings.length}):`);
        for (const f of findings) out(`  ${f.severity ?? 'info'} ${f.code}: ${f.message}`);
      }
      printSummary(summary);
    }
    return summary.ok ? 0 : 1;
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 2;
  } finally {
    runner.dispose();
    bound.dispose();
  }
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('validate, trust and run labs (docs/labs.md)');
  lab
    .command('validate')
    .description('check a lab folder and report every problem with its place and advice')
    .argument('<dir>', 'the lab folder (holds lab.md)')
    .option('--json', 'print the problems as JSON')
    .action((dir: string, opts: { json?: boolean }) => {
      const r = loadLabDir(resolve(dir));
      if (opts.json) {
        out(JSON.stringify({ ok: r.errors.length === 0, errors: r.errors, warnings: r.warnings }, null, 2));
      } else {
        printProblems(r.errors, r.warnings);
        if (r.lab)
          out(
            `${r.lab.id}: valid: ${r.lab.steps.length} steps, ${r.lab.steps.reduce((n, s) => n + s.blocks.length, 0)} blocks, ${r.lab.steps.reduce((n, s) => n + s.checks.length, 0)} checks, roles ${r.lab.roles.map((x) => x.id).join(', ')}${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ''}`,
          );
        else err(`${dir}: ${r.errors.length} problem(s)`);
      }
      process.exitCode = r.errors.length === 0 ? 0 : 1;
    });
  lab
    .command('run')
    .description('run a lab headless: every step and check; exit 0 only if all checks pass')
    .argument('<dir>', 'the lab folder')
    .option('--inventory <file>', 'the YAML file binding roles to machines')
    .option('--from <step>', 'start at this step (id or title)')
    .option('--resume', 'start at the first step not yet done in this environment')
    .option('--skip-setup', 'skip setup blocks (the environment already has their state)')
    .option('--json', 'print the results as JSON')
    .option('--replay <recording>', 'play a recording folder instead of running anything (no cluster needed)')
    .option('--record <dir>', 'save this run as a recording into this folder')
    .option(
      '--data-dir <dir>',
      'where progress and trust are kept (default $LABDECK_DATA_DIR or ~/.local/share/labdeck)',
    )
    .action(async (dir: string, flags: RunFlags) => {
      process.exitCode = await runLab(dir, flags);
    });
  lab
    .command('trust')
    .description('trust a lab folder as it is now (a later change makes it untrusted again)')
    .argument('<dir>', 'the lab folder')
    .option('--revoke', 'stop trusting it')
    .option('--data-dir <dir>', 'where trust is kept')
    .action(async (dir: string, opts: { revoke?: boolean; dataDir?: string }) => {
      const store = new TrustStore(join(dataDir(opts.dataDir), 'trust.json'), join(packageRoot(), 'labs'));
      const abs = resolve(dir);
      if (!existsSync(join(abs, 'lab.md'))) {
        err(`error: ${abs} has no lab.md`);
        process.exitCode = 2;
        return;
      }
      if (opts.revoke) {
        await store.revoke(abs);
        out(`${abs}: no longer trusted`);
      } else {
        const hash = await store.trust(abs);
        out(`${abs}: trusted as ${hash}`);
      }
      process.exitCode = 0;
    });
}
