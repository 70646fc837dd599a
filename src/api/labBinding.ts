import { join } from 'node:path';
import type { Inventory, RoleInstance } from '../labs/inventory.js';
import type { Lab } from '../labs/model.js';
import type { BoundTarget, RunObserver } from '../labs/runner.js';
import { batchPrompts, SshConnectionFactory, type SshPrompts } from '../ssh/index.js';
import { createTarget } from '../targets/createTarget.js';
import type { Recording, RecordingWriter } from '../targets/recording.js';

/** Binds every role of a lab to the recording's instances of it (a role it never recorded answers as itself). */
export function replayInventory(lab: Lab, recDir: string, rec: Recording): Inventory {
  const roles = new Map<string, RoleInstance[]>();
  for (const r of lab.roles) {
    const names = [...new Set(rec.casts.filter((c) => c.role === r.id).map((c) => c.instance))];
    roles.set(
      r.id,
      (names.length ? names : [r.id]).map((instance) => ({
        role: r.id,
        instance,
        spec: { kind: 'replay', recording: recDir, instance },
      })),
    );
  }
  return { file: join(recDir, 'recording.json'), environment: `replay-${rec.name}`, roles };
}

/**
 * The recording was made with --skip-setup (e.g. against the sandbox, which already has the state): it has no
 * setup commands to answer with, so its replay skips them the same way.
 */
export function recordedWithoutSetup(lab: Lab, rec: Recording): boolean {
  const recorded = new Set(rec.entries.map((e) => e.block));
  const setup = lab.steps.flatMap((st) => st.blocks.filter((b) => b.kind === 'setup').map((b) => b.id));
  return setup.length > 0 && !setup.some((id) => recorded.has(id));
}

/** The machines of a run, by role; disposing releases every target and the run's SSH connections. */
export interface BoundInventory {
  readonly targets: ReadonlyMap<string, readonly BoundTarget[]>;
  dispose(): void;
}

/**
 * Makes every role's targets now, so an unsupported or broken binding fails before anything runs. One SSH
 * factory serves the run, so roles behind the same jump chain share one connection; the workstation binds first,
 * because kubectl-exec roles run kubectl there.
 */
export function bindInventory(
  lab: Lab,
  inventory: Inventory,
  opts: { readonly recordings?: Map<string, Recording>; readonly prompts?: SshPrompts } = {},
): BoundInventory {
  const bound = new Map<string, BoundTarget[]>();
  const ssh = new SshConnectionFactory({ prompts: opts.prompts ?? batchPrompts });
  const dispose = (): void => {
    for (const list of bound.values()) for (const b of list) b.target.dispose();
    bound.clear();
  };
  const order = [...inventory.roles].sort(
    ([a], [b]) => Number(b === 'workstation') - Number(a === 'workstation'),
  );
  try {
    for (const [role, instances] of order) {
      if (!lab.roles.some((r) => r.id === role)) continue;
      const workstation = bound.get('workstation')?.[0]?.target;
      bound.set(
        role,
        instances.map((i) => ({
          instance: i.instance,
          target: createTarget(i.spec, {
            role,
            instance: i.instance,
            ...(opts.recordings ? { recordings: opts.recordings } : {}),
            ssh,
            ...(workstation ? { workstation } : {}),
          }),
        })),
      );
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { targets: bound, dispose };
}

/** The part of a run's observer that writes a recording (`--record`): step markers and every command. */
export function recordingObserver(writer: RecordingWriter): Pick<RunObserver, 'step' | 'command'> {
  return {
    step: (s) => writer.step(s.id, s.title),
    command: (c) =>
      writer.command({
        step: c.step,
        block: c.block,
        ...(c.check ? { check: c.check } : {}),
        role: c.role,
        instance: c.instance,
        command: c.command,
        ...(c.parse ? { parse: c.parse } : {}),
        stdout: c.result.stdout,
        stderr: c.result.stderr,
        exitCode: c.result.exitCode,
        startedAt: c.result.startedAt,
        endedAt: c.result.endedAt,
      }),
  };
}
