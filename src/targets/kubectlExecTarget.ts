import type { CommandResult, RunOptions, Target } from './target.js';

export interface KubectlExecTargetOptions {
  readonly pod: string;
  readonly namespace: string;
  readonly container?: string;
  readonly context?: string;
  /** A path on the machine `via` runs on. */
  readonly kubeconfig?: string;
  /** Where kubectl runs: the workstation role's target (local or ssh). It must be able to run an argv. */
  readonly via: Target;
  /** The kubectl program (default `kubectl` on the PATH of `via`). */
  readonly kubectl?: string;
}

/**
 * A role inside a pod: `kubectl exec [--kubeconfig K] [--context C] -n NS POD [-c CONTAINER] -- sh -c CMD`,
 * run on the workstation's target as an argv. Our parameters (pod, namespace, …) are single arguments there,
 * never spliced into a shell string; the lab's command is the one shell text, for `sh -c` inside the pod.
 * kubectl exits with the command's status ("command terminated with exit code N" on stderr).
 */
export class KubectlExecTarget implements Target {
  readonly description: string;
  readonly recorded: boolean;
  private readonly prefix: readonly string[];

  constructor(private readonly opts: KubectlExecTargetOptions) {
    if (!opts.via.runArgv)
      throw new Error(
        `kubectl exec needs a workstation that runs programs (${opts.via.description} cannot); bind the workstation role to "local" or {ssh: …}`,
      );
    if (opts.pod.startsWith('-') || opts.namespace.startsWith('-') || opts.container?.startsWith('-'))
      throw new Error(`kubectl exec: pod, namespace and container names cannot start with "-"`);
    this.recorded = opts.via.recorded;
    this.prefix = [
      opts.kubectl ?? 'kubectl',
      ...(opts.kubeconfig ? [`--kubeconfig=${opts.kubeconfig}`] : []),
      ...(opts.context ? [`--context=${opts.context}`] : []),
      'exec',
      `--namespace=${opts.namespace}`,
      opts.pod,
      ...(opts.container ? [`--container=${opts.container}`] : []),
      '--',
      'sh',
      '-c',
    ];
    this.description = `pod ${opts.namespace}/${opts.pod}${opts.container ? ` (${opts.container})` : ''} via kubectl on ${opts.via.description}`;
  }

  /** The argv for one command (for display and tests). */
  argv(command: string): string[] {
    return [...this.prefix, command];
  }

  run(command: string, runOpts: RunOptions): Promise<CommandResult> {
    const runArgv = this.opts.via.runArgv as NonNullable<Target['runArgv']>;
    return runArgv.call(this.opts.via, this.argv(command), runOpts);
  }

  dispose(): void {
    // The workstation's target belongs to its own role; nothing of ours to release.
  }
}
