import { SshConnectionFactory, batchPrompts } from '../ssh/index.js';
import { KubectlDebugTarget } from './kubectlDebugTarget.js';
import { KubectlExecTarget } from './kubectlExecTarget.js';
import { LocalTarget } from './localTarget.js';
import { loadRecording, type Recording } from './recording.js';
import { ReplayTarget } from './replayTarget.js';
import { SshTarget, type SshTargetHostKeys } from './sshTarget.js';
import type { Target } from './target.js';

/** A binding from an inventory (src/labs/inventory.ts has the same shape, with paths already absolute). */
export type TargetBinding =
  | { readonly kind: 'local'; readonly cwd?: string; readonly env?: Readonly<Record<string, string>> }
  | { readonly kind: 'replay'; readonly recording: string; readonly instance?: string }
  | {
      readonly kind: 'ssh';
      readonly config: string;
      readonly host: string;
      readonly hostKeys?: SshTargetHostKeys;
    }
  | {
      readonly kind: 'kubectl-exec';
      readonly pod: string;
      readonly namespace: string;
      readonly container?: string;
      readonly context?: string;
      readonly kubeconfig?: string;
    }
  | {
      readonly kind: 'kubectl-debug';
      readonly node: string;
      readonly image: string;
      readonly namespace: string;
      readonly context?: string;
      readonly kubeconfig?: string;
    };

export interface TargetContext {
  readonly role: string;
  readonly instance: string;
  /** Recordings already loaded, by directory, so several roles share one read. */
  readonly recordings?: Map<string, Recording>;
  readonly clock?: () => number;
  /** One factory for every ssh target of a run, so roles behind the same chain share its connection. */
  readonly ssh?: SshConnectionFactory;
  /** The workstation role's target: where kubectl runs for kubectl-exec roles. */
  readonly workstation?: Target;
}

/** Makes the target for one role instance; a binding that cannot work (no workstation for kubectl) fails here. */
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
    case 'ssh':
      try {
        return new SshTarget({
          config: binding.config,
          host: binding.host,
          ...(binding.hostKeys ? { hostKeys: binding.hostKeys } : {}),
          factory: ctx.ssh ?? new SshConnectionFactory({ prompts: batchPrompts }),
          ...(ctx.clock ? { clock: ctx.clock } : {}),
        });
      } catch (e) {
        throw new Error(`role "${ctx.role}": ${(e as Error).message}`);
      }
    case 'kubectl-exec':
      if (!ctx.workstation)
        throw new Error(
          `role "${ctx.role}": kubectl-exec runs kubectl on the workstation, but no workstation role is bound`,
        );
      return new KubectlExecTarget({ ...binding, via: ctx.workstation });
    case 'kubectl-debug':
      if (!ctx.workstation)
        throw new Error(
          `role "${ctx.role}": kubectl-debug runs kubectl on the workstation, but no workstation role is bound`,
        );
      return new KubectlDebugTarget({ ...binding, via: ctx.workstation });
  }
}
