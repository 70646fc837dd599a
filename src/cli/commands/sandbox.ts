import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, watchFile, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FAULTS, FAULT_DESCRIPTIONS, isFaultName } from '../../sandbox/cluster-state.js';
import type { ClusterObjects } from '../../sandbox/cluster-state.js';
import { KubeApiDouble } from '../../sandbox/kube-api-double.js';
import type { ExecRequest } from '../../sandbox/kube-api-double.js';
import { startKuard } from '../../sandbox/kuard-server.js';
import { DEFAULT_BASE_DIR, Sandbox, SandboxError, preflight } from '../../sandbox/sandbox.js';
import type { SandboxEnv, SandboxInfo } from '../../sandbox/sandbox.js';
import { DEFAULT_INSTANCE } from '../../sandbox/topology.js';

/**
 * How to run this very CLI again inside a namespace (for the pod servers and the API double). From a build it is
 * `node dist/cli.js`; under tsx the loader flags are in execArgv. Tests that call `main()` in-process set
 * LABDECK_SANDBOX_SELF to a JSON argv array.
 */
export function selfCommand(): string[] {
  const env = process.env['LABDECK_SANDBOX_SELF'];
  if (env) return JSON.parse(env) as string[];
  return [process.execPath, ...process.execArgv, process.argv[1] ?? ''];
}

function sandboxFor(
  opts: { name: string; dir: string; workers?: string; pods?: string },
  quiet = false,
): Sandbox {
  const sudoUid = Number(process.env['SUDO_UID']);
  const sudoGid = Number(process.env['SUDO_GID']);
  const env: SandboxEnv = {
    baseDir: opts.dir,
    selfCommand: selfCommand(),
    ...(Number.isInteger(sudoUid) && sudoUid > 0 && Number.isInteger(sudoGid)
      ? { clientOwner: { uid: sudoUid, gid: sudoGid } }
      : {}),
    ...(quiet ? {} : { log: (l: string) => process.stderr.write(`labdeck sandbox: ${l}\n`) }),
  };
  return new Sandbox(env, {
    name: opts.name,
    ...(opts.workers ? { workers: Number(opts.workers) } : {}),
    ...(opts.pods ? { pods: Number(opts.pods) } : {}),
  });
}

function fail(err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(msg.startsWith('labdeck sandbox') ? `${msg}\n` : `labdeck sandbox: ${msg}\n`);
  process.exitCode =
    err instanceof SandboxError && (err.code === 'not-root' || err.code === 'not-linux') ? 3 : 1;
}

export function describeUp(info: SandboxInfo): string {
  const ssh = `ssh -F ${info.sshConfig}`;
  const svc = info.services
    .map((s) => `${s.name} ${s.clusterIP}:${s.port}${s.nodePort ? ` (NodePort ${s.nodePort})` : ''}`)
    .join(', ');
  const kuard = info.services.find((s) => s.name === 'kuard');
  const nameOpt = info.name === DEFAULT_INSTANCE ? '' : ` --name ${info.name}`;
  return [
    `LabDeck sandbox "${info.name}" is up.`,
    `  bastion     ${info.bastion}   (reachable from this machine)`,
    ...info.nodes.map(
      (n) =>
        `  ${n.name.padEnd(10)}  ${n.ip.padEnd(12)}  (through the bastion; ${info.pods.filter((p) => p.node === n.name).length} pods)`,
    ),
    `  kube-api double  ${info.apiServer}  (on master; a test double, not a real API server)`,
    `  services    ${svc}`,
    `  ssh_config  ${info.sshConfig}`,
    `  inventory   ${info.inventory}   (binds the lab roles to these machines)`,
    `  kubeconfig  ${info.kubeconfig}   (the double's admin context; reach it through the bastion)`,
    info.faults.length ? `  faults on   ${info.faults.join(', ')}` : '',
    '',
    'Try next:',
    `  ${ssh} master kubectl get pods -o wide`,
    `  ${ssh} worker-1 iptables-save -t nat`,
    kuard ? `  ${ssh} master curl -s ${kuard.clusterIP}/env/api` : '',
    kuard?.nodePort ? `  ${ssh} worker-2 curl -s ${info.nodes[1]?.ip ?? ''}:${kuard.nodePort}/env/api` : '',
    `  ${ssh} worker-1 cat /etc/cni/net.d/10-calico.conflist`,
    `  labdeck kube get pods --kubeconfig ${info.kubeconfig} --via bastion -F ${info.sshConfig}`,
    `  labdeck lab run labs/tgik-002-networking-and-services --inventory ${info.inventory} --skip-setup`,
    `  sudo labdeck sandbox fault stale-sep on${nameOpt}     (faults: ${FAULTS.join(', ')})`,
    `  sudo labdeck sandbox down${nameOpt}`,
    '',
  ]
    .filter((l, i, a) => l !== '' || i === a.length - 1 || a[i - 1] !== '')
    .join('\n');
}

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description(
      'a lab network on this machine (root, Linux): bastion, nodes and pods in network namespaces',
    );
  const common = (c: Command) =>
    c
      .option('--name <name>', 'instance name (letters and digits, at most 10)', DEFAULT_INSTANCE)
      .option('--dir <dir>', 'where instance state, keys and configs live', DEFAULT_BASE_DIR);

  common(sandbox.command('up').description('build the lab network (idempotent) and print how to reach it'))
    .option('--workers <n>', 'worker nodes', '2')
    .option('--pods <n>', 'kuard pods', '10')
    .action(async (opts: { name: string; dir: string; workers: string; pods: string }) => {
      try {
        const pre = preflight();
        if (pre) throw pre;
        const info = await sandboxFor(opts).up();
        process.stdout.write(describeUp(info));
      } catch (err) {
        fail(err);
      }
    });

  common(
    sandbox
      .command('down')
      .description('remove every namespace, link, rule, mount, process and file of the lab'),
  ).action(async (opts: { name: string; dir: string }) => {
    try {
      const pre = preflight();
      if (pre) throw pre;
      const r = await sandboxFor(opts).down();
      process.stdout.write(
        r.removed.length
          ? `removed: ${r.removed.join(', ')}\n`
          : `nothing of sandbox "${opts.name}" was left\n`,
      );
    } catch (err) {
      fail(err);
    }
  });

  common(sandbox.command('status').description('say whether the lab is up and healthy'))
    .option('--json', 'print JSON')
    .action(async (opts: { name: string; dir: string; json?: boolean }) => {
      try {
        const pre = preflight();
        if (pre) throw pre;
        const st = await sandboxFor(opts, true).status();
        if (opts.json) process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
        else if (!st.up) process.stdout.write(`sandbox "${opts.name}" is not up\n`);
        else {
          process.stdout.write(describeUp(st.info));
          process.stdout.write(st.healthy ? 'healthy\n' : `problems:\n  ${st.problems.join('\n  ')}\n`);
        }
        if (!st.up || !st.healthy) process.exitCode = 1;
      } catch (err) {
        fail(err);
      }
    });

  common(
    sandbox
      .command('fault')
      .description(
        `turn a fault on or off: ${FAULTS.map((f) => `\n  ${f.padEnd(19)} ${FAULT_DESCRIPTIONS[f]}`).join('')}`,
      )
      .argument('<fault>', FAULTS.join(' | '))
      .argument('<state>', 'on | off'),
  ).action(async (fault: string, state: string, opts: { name: string; dir: string }) => {
    try {
      if (!isFaultName(fault)) throw new Error(`unknown fault "${fault}"; one of: ${FAULTS.join(', ')}`);
      if (state !== 'on' && state !== 'off') throw new Error(`state must be on or off, not "${state}"`);
      await sandboxFor(opts).fault(fault, state === 'on');
      process.stdout.write(
        state === 'on' ? `fault ${fault} is on: ${FAULT_DESCRIPTIONS[fault]}\n` : `fault ${fault} is off\n`,
      );
    } catch (err) {
      fail(err);
    }
  });

  common(
    sandbox
      .command('api-gone')
      .description('make the kube-api double answer 410 Gone to open and old watches'),
  ).action((opts: { name: string; dir: string }) => {
    try {
      const sb = sandboxFor(opts, true);
      if (sb.readState()?.phase !== 'up') {
        throw new SandboxError(
          `sandbox "${opts.name}" is not up; run \`labdeck sandbox up\` first`,
          'not-up',
        );
      }
      writeFileSync(`${sb.dir}/api-double.expire`, `${Date.now()}\n`);
      process.stdout.write('the kube-api double expires its watch history now (410 Gone)\n');
    } catch (err) {
      fail(err);
    }
  });

  // Hidden: the servers `up` starts inside namespaces.
  sandbox
    .command('_kuard', { hidden: true })
    .requiredOption('--listen <host:port>')
    .requiredOption('--response <file>')
    .option('--ready <file>')
    .action(async (opts: { listen: string; response: string; ready?: string }) => {
      const [host, port] = splitHostPort(opts.listen);
      const server = await startKuard({
        host,
        port,
        responseFile: opts.response,
        ...(opts.ready ? { readyFile: opts.ready } : {}),
      });
      await untilSignal(() => server.close());
    });

  sandbox
    .command('_api-double', { hidden: true })
    .requiredOption('--listen <host:port>')
    .requiredOption('--state <file>')
    .option('--ready <file>')
    .option('--tls-cert <file>')
    .option('--tls-key <file>')
    .option('--instance <name>', 'sandbox instance whose pod namespaces `kubectl exec` enters')
    .action(
      async (opts: {
        listen: string;
        state: string;
        ready?: string;
        tlsCert?: string;
        tlsKey?: string;
        instance?: string;
      }) => {
        const [host, port] = splitHostPort(opts.listen);
        const instance = opts.instance;
        const double = new KubeApiDouble({
          serverAddress: opts.listen,
          ...(instance ? { exec: (r: ExecRequest) => execInPod(instance, dirname(opts.state), r) } : {}),
        });
        const load = () => {
          try {
            double.update(JSON.parse(readFileSync(opts.state, 'utf8')) as ClusterObjects);
          } catch (err) {
            process.stderr.write(`kube-api double: cannot load ${opts.state}: ${String(err)}\n`);
          }
        };
        load();
        const tls =
          opts.tlsCert && opts.tlsKey
            ? { cert: readFileSync(opts.tlsCert, 'utf8'), key: readFileSync(opts.tlsKey, 'utf8') }
            : undefined;
        await double.listen(host, port, tls);
        watchFile(opts.state, { interval: 200 }, load);
        const expireFile = opts.state.replace(/cluster\.json$/, 'api-double.expire');
        watchFile(expireFile, { interval: 200 }, (cur) => {
          if (cur.mtimeMs > 0) double.expire();
        });
        if (opts.ready) writeFileSync(opts.ready, `${process.pid}\n`);
        await untilSignal(() => void double.close());
      },
    );
}

/**
 * `kubectl exec` in the sandbox: the command runs in the pod's network namespace (a host-network pod: its node's)
 * with its own hostname (the pod name, in a fresh UTS namespace) and the environment a kubelet gives kuard; the
 * files are the host's (no container image here). argv goes to `exec "$@"` unchanged, never through a shell.
 */
function execInPod(instance: string, dir: string, r: ExecRequest): ChildProcess {
  const name = r.pod.metadata.name;
  const spec = r.pod['spec'] as { hostNetwork?: boolean; nodeName?: string };
  if (spec.hostNetwork) {
    return spawn('ip', ['netns', 'exec', `${instance}-${spec.nodeName ?? ''}`, ...r.command], {
      stdio: 'pipe',
    });
  }
  let env: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  try {
    env = (
      JSON.parse(readFileSync(join(dir, 'pods', `${name}.json`), 'utf8')) as { env: Record<string, string> }
    ).env;
  } catch {
    // not a kuard pod of this instance: the default PATH
  }
  return spawn(
    'ip',
    [
      'netns',
      'exec',
      `${instance}-pod-${name}`,
      'unshare',
      '--uts',
      '--',
      'sh',
      '-c',
      'hostname "$0" && exec "$@"',
      name,
      ...r.command,
    ],
    { stdio: 'pipe', env },
  );
}

function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

async function untilSignal(onStop: () => void): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = () => {
      onStop();
      resolve();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
