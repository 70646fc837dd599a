import type { Command } from 'commander';
import type { KubeObjects } from '../../model/kube.js';
import {
  KubeError,
  connectKubeClient,
  listContexts,
  loadKubeconfig,
  type KubeClient,
  type KubeResource,
  type SshKubeTunnel,
} from '../../kube/index.js';
import { emptyObjects, mapObject } from '../../parse/kube-map.js';
import { SshConnectionFactory } from '../../ssh/index.js';
import { ttyPrompts } from '../ttyPrompts.js';

interface KubeGetOptions {
  kubeconfig?: string;
  context?: string;
  via?: string;
  F?: string;
  namespace?: string;
  allNamespaces?: boolean;
  json?: boolean;
  insecureSkipTlsVerify?: boolean;
}

const resources: Record<string, KubeResource> = {
  pods: 'pods',
  pod: 'pods',
  po: 'pods',
  services: 'services',
  service: 'services',
  svc: 'services',
  endpoints: 'endpoints',
  ep: 'endpoints',
  endpointslices: 'endpointslices',
  endpointslice: 'endpointslices',
  nodes: 'nodes',
  node: 'nodes',
  no: 'nodes',
};

/**
 * `labdeck kube`: contexts of a kubeconfig, and `get` straight from the API server (directly, or through an SSH
 * host with `--via`), printed as the model JSON `labdeck parse` prints for `kubectl -o json` (docs/json.md).
 * Exit 0 on success, 1 when the cluster could not be read (unreachable, TLS, 401/403, tunnel), 2 for usage and
 * kubeconfig errors. One line on stderr says what went wrong; credentials never appear.
 */
export function registerKube(program: Command): void {
  const kube = program
    .command('kube')
    .description('read a live cluster through the Kubernetes API (docs/kube.md)');
  kube
    .command('contexts')
    .description('list the contexts of the kubeconfig (no credentials are printed)')
    .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, else ~/.kube/config)')
    .option('--json', 'print JSON')
    .action((opts: { kubeconfig?: string; json?: boolean }) => {
      try {
        const { config } = loadKubeconfig(opts.kubeconfig ? { file: opts.kubeconfig } : {});
        const contexts = listContexts(config);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(contexts, null, 2)}\n`);
          return;
        }
        const rows = contexts.map((c) => [
          c.current ? '*' : '',
          c.name,
          c.cluster,
          c.user,
          c.namespace ?? '',
          c.server ?? '',
        ]);
        process.stdout.write(table(['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE', 'SERVER'], rows));
      } catch (err) {
        process.exitCode = report(err);
      }
    });
  kube
    .command('get')
    .description('get pods, services, endpoints, endpointslices or nodes from the API server')
    .argument('<resource>', 'pods | services | endpoints | endpointslices | nodes (and kubectl short names)')
    .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default its current-context)')
    .option(
      '--via <sshhost>',
      'reach the API server through this SSH host (an ssh_config Host), e.g. a bastion',
    )
    .option('-F <file>', 'ssh_config file for --via (default ~/.ssh/config)')
    .option('-n, --namespace <ns>', "namespace (default the context's, else default)")
    .option('-A, --all-namespaces', 'every namespace')
    .option('--json', 'print the parse result JSON (kind kubectl-object), as labdeck parse does')
    .option('--insecure-skip-tls-verify', 'allow a kubeconfig cluster that skips TLS verification')
    .action(async (resource: string, opts: KubeGetOptions) => {
      process.exitCode = await get(resource, opts);
    });
}

async function get(resourceArg: string, opts: KubeGetOptions): Promise<number> {
  const resource = resources[resourceArg.toLowerCase()];
  if (!resource) {
    process.stderr.write(
      `labdeck kube get: unknown resource "${resourceArg}" (pods, services, endpoints, endpointslices, nodes)\n`,
    );
    return 2;
  }
  let tunnel: SshKubeTunnel | undefined;
  let client: KubeClient | undefined;
  const factory = new SshConnectionFactory({ prompts: ttyPrompts() });
  try {
    const { config } = loadKubeconfig(opts.kubeconfig ? { file: opts.kubeconfig } : {});
    ({ client, tunnel } = await connectKubeClient({
      config,
      context: opts.context,
      allowInsecureTls: opts.insecureSkipTlsVerify,
      via: opts.via ? { factory, host: opts.via, sshConfigFile: opts.F } : undefined,
    }));
    const ns =
      resource === 'nodes' || opts.allNamespaces ? null : (opts.namespace ?? client.defaultNamespace);
    const list = await client.list(resource, ns);
    const value: KubeObjects = emptyObjects();
    for (const item of list.items) mapObject(item, value);
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ kind: 'kubectl-object', value, diagnostics: [] }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(text(resource, value, ns === null));
    }
    return 0;
  } catch (err) {
    return report(err);
  } finally {
    client?.dispose();
    tunnel?.dispose();
  }
}

/** One line on stderr; the exit code: 2 for the user's input (kubeconfig, context), 1 for the cluster. */
function report(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`labdeck kube: ${message}\n`);
  if (err instanceof KubeError)
    return ['kubeconfig-not-found', 'kubeconfig-invalid', 'no-such-context', 'insecure-tls-refused'].includes(
      err.code,
    )
      ? 2
      : 1;
  return 1;
}

function text(resource: KubeResource, o: KubeObjects, allNs: boolean): string {
  const ns = (v: string | null) => (allNs ? [v ?? ''] : []);
  const nsHead = allNs ? ['NAMESPACE'] : [];
  switch (resource) {
    case 'pods':
      return table(
        [...nsHead, 'NAME', 'READY', 'STATUS', 'RESTARTS', 'IP', 'NODE'],
        o.pods.map((p) => [
          ...ns(p.namespace),
          p.name,
          p.ready ?? '',
          p.status ?? '',
          String(p.restarts ?? ''),
          p.ip ?? '',
          p.node ?? '',
        ]),
      );
    case 'services':
      return table(
        [...nsHead, 'NAME', 'TYPE', 'CLUSTER-IP', 'PORT(S)', 'SELECTOR'],
        o.services.map((s) => [
          ...ns(s.namespace),
          s.name,
          s.type ?? '',
          s.clusterIP ?? '',
          s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',') ||
            '<none>',
          s.selector
            ? Object.entries(s.selector)
                .map(([k, v]) => `${k}=${v}`)
                .join(',') || '<none>'
            : '',
        ]),
      );
    case 'endpoints':
    case 'endpointslices':
      return table(
        [...nsHead, 'NAME', resource === 'endpointslices' ? 'SERVICE' : 'ENDPOINTS', 'ADDRESSES'],
        o.endpoints.map((e) => [
          ...ns(e.namespace),
          e.name,
          resource === 'endpointslices'
            ? (e.serviceName ?? '')
            : e.ports.map((p) => String(p.port)).join(',') || '<none>',
          [...e.addresses.map((a) => a.ip), ...e.notReadyAddresses.map((a) => `${a.ip}(not ready)`)].join(
            ',',
          ) || '<none>',
        ]),
      );
    case 'nodes':
      return table(
        ['NAME', 'STATUS', 'ROLES', 'VERSION', 'INTERNAL-IP'],
        o.nodes.map((n) => [
          n.name,
          n.status ?? '',
          n.roles.join(',') || '<none>',
          n.version ?? '',
          n.internalIP ?? '',
        ]),
      );
  }
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join('')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
