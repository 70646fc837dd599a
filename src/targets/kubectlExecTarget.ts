import { kubectlVia, type KubectlRun, type KubectlViaOptions } from './kubectlVia.js';
import type { CommandResult, RunOptions, Target } from './target.js';

export interface KubectlExecTargetOptions extends KubectlViaOptions {
  readonly pod: string;
  readonly namespace: string;
  readonly container?: string;
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
  private readonly kubectl: KubectlRun;
  private readonly prefix: readonly string[];

  constructor(opts: KubectlExecTargetOptions) {
    this.kubectl = kubectlVia('kubectl exec', opts);
    if (opts.pod.startsWith('-') || opts.namespace.startsWith('-') || opts.container?.startsWith('-'))
      throw new Error(`kubectl exec: pod, namespace and container names cannot start with "-"`);
    this.recorded = opts.via.recorded;
    this.prefix = [
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

  run(command: string, runOpts: RunOptions): Promise<CommandResult> {
    return this.kubectl([...this.prefix, command], runOpts);
  }

  dispose(): void {
    // The workstation's target belongs to its own role; nothing of ours to release.
  }
}
