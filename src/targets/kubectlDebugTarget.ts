import { kubectlVia, type KubectlRun, type KubectlViaOptions } from './kubectlVia.js';
import type { CommandResult, RunOptions, Target } from './target.js';

export interface KubectlDebugTargetOptions extends KubectlViaOptions {
  readonly node: string;
  readonly image: string;
  readonly namespace: string;
}

/** `kubectl debug` prints this line (on stdout or stderr, by version) with the pod it made. */
const createdPod = /Creating debugging pod (\S+) with container/;

/**
 * A node's shell where SSH is not available: at the first command, `kubectl debug node/NAME --profile=sysadmin`
 * starts one debugging pod on the node (the node's root filesystem at /host, its network and processes), and
 * each command runs there as `kubectl exec POD -- chroot /host sh -c CMD`, so it sees the node as a login on it
 * would (`iptables-save`, `/etc/cni/net.d`). The pod is deleted when the target is disposed. Our parameters are
 * single arguments of kubectl, never spliced into a shell string.
 */
export class KubectlDebugTarget implements Target {
  readonly description: string;
  readonly recorded: boolean;
  private readonly kubectl: KubectlRun;
  private pod: Promise<string> | undefined;

  constructor(private readonly opts: KubectlDebugTargetOptions) {
    this.kubectl = kubectlVia('kubectl debug', opts);
    for (const v of [opts.node, opts.namespace, opts.image])
      if (v.startsWith('-'))
        throw new Error(`kubectl debug: node, namespace and image cannot start with "-"`);
    this.recorded = opts.via.recorded;
    this.description = `node ${opts.node} through a kubectl debug pod (${opts.image}) via kubectl on ${opts.via.description}`;
  }

  /** Starts the debugging pod once, and waits until it runs. */
  private start(runOpts: RunOptions): Promise<string> {
    this.pod ??= (async () => {
      const ns = `--namespace=${this.opts.namespace}`;
      const made = await this.kubectl(
        [
          'debug',
          `node/${this.opts.node}`,
          ns,
          `--image=${this.opts.image}`,
          '--profile=sysadmin',
          '--',
          'sleep',
          '86400',
        ],
        runOpts,
      );
      const pod = createdPod.exec(`${made.stdout}\n${made.stderr}`)?.[1];
      if (made.exitCode !== 0 || !pod) {
        throw new Error(
          `kubectl debug node/${this.opts.node} did not start a pod (exit ${made.exitCode ?? 'none'}): ${(made.stderr || made.stdout).trim()}`,
        );
      }
      const ready = await this.kubectl(
        ['wait', ns, '--for=condition=Ready', `pod/${pod}`, '--timeout=120s'],
        runOpts,
      );
      if (ready.exitCode !== 0) {
        void this.kubectl(['delete', ns, 'pod', pod, '--wait=false'], {});
        throw new Error(
          `the debugging pod ${pod} on ${this.opts.node} did not become ready: ${ready.stderr.trim()}`,
        );
      }
      return pod;
    })();
    this.pod.catch(() => (this.pod = undefined));
    return this.pod;
  }

  async run(command: string, runOpts: RunOptions): Promise<CommandResult> {
    const startedAt = Date.now();
    let pod: string;
    try {
      pod = await this.start(runOpts);
    } catch (err) {
      return {
        stdout: '',
        stderr: `${(err as Error).message}\n`,
        exitCode: null,
        startedAt,
        endedAt: Date.now(),
      };
    }
    return this.kubectl(
      ['exec', `--namespace=${this.opts.namespace}`, pod, '--', 'chroot', '/host', 'sh', '-c', command],
      runOpts,
    );
  }

  dispose(): void {
    const pod = this.pod;
    this.pod = undefined;
    // The pod goes when the lab is done with the node: nothing is left on the cluster.
    void pod
      ?.then((name) =>
        this.kubectl(['delete', `--namespace=${this.opts.namespace}`, 'pod', name, '--wait=false'], {}),
      )
      .catch(() => {});
  }
}
