// kubectl-debug runs against a kubectl *double* (there is no Kubernetes API server here): a script that logs each
// call's argv and plays kubectl's part — `debug node/N` prints the line real kubectl prints with the pod it made,
// `wait` succeeds, `exec POD -- chroot /host sh -c CMD` runs CMD here, `delete` is only logged.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubectlDebugTarget } from '../../src/targets/kubectlDebugTarget.js';
import { KubectlExecTarget } from '../../src/targets/kubectlExecTarget.js';
import { LocalTarget } from '../../src/targets/localTarget.js';
import type { Target } from '../../src/targets/target.js';

describe('a node shell through kubectl debug (kubectl double, real local workstation)', () => {
  let dir: string;
  let kubectl: string;
  let log: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'labdeck-kdebug-'));
    log = join(dir, 'calls');
    kubectl = join(dir, 'kubectl-double');
    writeFileSync(
      kubectl,
      [
        '#!/bin/sh',
        `echo "$*" >> ${log}`,
        'while [ "$#" -gt 0 ]; do case "$1" in --kubeconfig=*|--context=*) shift ;; *) break ;; esac; done',
        'case "$1" in',
        '  debug) [ "$2" = node/broken ] && { echo "error: nodes \\"broken\\" not found" >&2; exit 1; }',
        '         echo "Creating debugging pod node-debugger-worker1-x7k2p with container debugger on node worker1." ;;',
        '  wait) echo "pod/node-debugger-worker1-x7k2p condition met" ;;',
        '  exec) while [ "$1" != "--" ]; do shift; done; shift 3; exec "$@" ;;',
        '  delete) echo "pod \\"$4\\" deleted" ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(kubectl, 0o755);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const calls = (): string[] => readFileSync(log, 'utf8').trim().split('\n');

  it('starts one debugging pod at the first command, runs each command in it on the node, deletes it at the end', async () => {
    writeFileSync(log, '');
    const target = new KubectlDebugTarget({
      node: 'worker1',
      image: 'busybox:1.36',
      namespace: 'default',
      kubeconfig: '/k/config',
      via: new LocalTarget(),
      kubectl,
    });
    expect(target.description).toMatch(/^node worker1 through a kubectl debug pod/);
    expect(await target.run('echo on-the-node; exit 4', {})).toMatchObject({
      stdout: 'on-the-node\n',
      exitCode: 4,
    });
    expect(await target.run('printf \'%s\' "$0"', {})).toMatchObject({ stdout: 'sh', exitCode: 0 });
    expect(calls()).toEqual([
      '--kubeconfig=/k/config debug node/worker1 --namespace=default --image=busybox:1.36 --profile=sysadmin -- sleep 86400',
      '--kubeconfig=/k/config wait --namespace=default --for=condition=Ready pod/node-debugger-worker1-x7k2p --timeout=120s',
      '--kubeconfig=/k/config exec --namespace=default node-debugger-worker1-x7k2p -- chroot /host sh -c echo on-the-node; exit 4',
      `--kubeconfig=/k/config exec --namespace=default node-debugger-worker1-x7k2p -- chroot /host sh -c printf '%s' "$0"`,
    ]);
    target.dispose();
    await expect
      .poll(() => calls().at(-1))
      .toBe('--kubeconfig=/k/config delete --namespace=default pod node-debugger-worker1-x7k2p --wait=false');
  });

  it('names what went wrong when kubectl cannot start the pod, and tries again at the next command', async () => {
    writeFileSync(log, '');
    const target = new KubectlDebugTarget({
      node: 'broken',
      image: 'busybox:1.36',
      namespace: 'default',
      via: new LocalTarget(),
      kubectl,
    });
    const r = await target.run('true', {});
    expect(r.exitCode).toBeNull();
    expect(r.stderr).toBe(
      'kubectl debug node/broken did not start a pod (exit 1): error: nodes "broken" not found\n',
    );
    await target.run('true', {});
    expect(calls().filter((c) => c.startsWith('debug'))).toHaveLength(2);
    target.dispose();
  });

  it('refuses parameters that kubectl would read as options', () => {
    expect(
      () =>
        new KubectlDebugTarget({
          node: '--all',
          image: 'busybox',
          namespace: 'default',
          via: new LocalTarget(),
          kubectl,
        }),
    ).toThrow(/cannot start with "-"/);
  });

  it('refuses, at bind time, a workstation that cannot run a program as an argv (exec and debug alike)', () => {
    // A target with run() only, as a replayed workstation is: kubectl could only be spliced into a shell string.
    const shellOnly: Target = {
      description: 'replay of workstation/workstation',
      recorded: true,
      run: () => Promise.reject(new Error('not reached')),
      dispose: () => {},
    };
    const advice =
      'needs a workstation that runs programs (replay of workstation/workstation cannot); bind the workstation role to "local" or {ssh: …}';
    expect(
      () =>
        new KubectlDebugTarget({ node: 'worker1', image: 'busybox', namespace: 'default', via: shellOnly }),
    ).toThrow(`kubectl debug ${advice}`);
    expect(() => new KubectlExecTarget({ pod: 'kuard', namespace: 'default', via: shellOnly })).toThrow(
      `kubectl exec ${advice}`,
    );
  });
});
