import type { CommandResult, RunOptions, Target } from './target.js';

/** Where and how the kubectl targets run kubectl. */
export interface KubectlViaOptions {
  readonly context?: string;
  /** A path on the machine `via` runs on. */
  readonly kubeconfig?: string;
  /** Where kubectl runs: the workstation role's target (local or ssh). It must be able to run an argv. */
  readonly via: Target;
  /** The kubectl program (default `kubectl` on the PATH of `via`). */
  readonly kubectl?: string;
}

export type KubectlRun = (args: readonly string[], runOpts: RunOptions) => Promise<CommandResult>;

/**
 * kubectl with the binding's kubeconfig and context, run as an argv on the workstation's target: our parameters
 * are single arguments, never spliced into a shell string. Throws (bind time) when `via` cannot run an argv;
 * `what` ("kubectl exec", "kubectl debug") names the binding in that error.
 */
export function kubectlVia(what: string, opts: KubectlViaOptions): KubectlRun {
  const { via } = opts;
  if (!via.runArgv)
    throw new Error(
      `${what} needs a workstation that runs programs (${via.description} cannot); bind the workstation role to "local" or {ssh: …}`,
    );
  const runArgv = via.runArgv.bind(via);
  const base = [
    opts.kubectl ?? 'kubectl',
    ...(opts.kubeconfig ? [`--kubeconfig=${opts.kubeconfig}`] : []),
    ...(opts.context ? [`--context=${opts.context}`] : []),
  ];
  return (args, runOpts) => runArgv([...base, ...args], runOpts);
}
