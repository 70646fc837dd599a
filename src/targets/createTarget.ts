import { LocalTarget } from './localTarget.js';
import { loadRecording, type Recording } from './recording.js';
import { ReplayTarget } from './replayTarget.js';
import { TargetNotSupportedError, type Target } from './target.js';

/** A binding from an inventory (src/labs/inventory.ts has the same shape, with paths already absolute). */
export type TargetBinding =
  | { readonly kind: 'local'; readonly cwd?: string; readonly env?: Readonly<Record<string, string>> }
  | { readonly kind: 'replay'; readonly recording: string; readonly instance?: string }
  | { readonly kind: 'ssh' | 'kubectl-exec' | 'kubectl-debug' };

export interface TargetContext {
  readonly role: string;
  readonly instance: string;
  /** Recordings already loaded, by directory, so several roles share one read. */
  readonly recordings?: Map<string, Recording>;
  readonly clock?: () => number;
}

/** Makes the target for one role instance; kinds this build cannot reach yet fail here, at bind time. */
export function createTarget(binding: TargetBinding, ctx: TargetContext): Target {
  switch (binding.kind) {
    case 'local':
      return new LocalTarget({
        ...(binding.cwd ? { cwd: binding.cwd } : {}),
        ...(binding.env ? { env: binding.env } : {}),
        ...(ctx.clock ? { clock: ctx.clock } : {}),
      });
    case 'replay': {
      let rec = ctx.recordings?.get(binding.recording);
      if (!rec) {
        rec = loadRecording(binding.recording);
        ctx.recordings?.set(binding.recording, rec);
      }
      return new ReplayTarget(rec, ctx.role, binding.instance ?? ctx.instance, ctx.clock);
    }
    default:
      throw new TargetNotSupportedError(ctx.role, binding.kind);
  }
}
