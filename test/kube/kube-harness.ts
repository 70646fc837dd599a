/**
 * Shared by the kube tests: a throwaway PKI made with the real openssl (a CA and an API server certificate whose
 * only name is `api.double.test`), the kube-api **double** serving the sandbox's cluster objects over loopback TLS,
 * and kubeconfig text pointing at it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { clusterObjects, type ClusterObjects } from '../../src/sandbox/cluster-state.js';
import { KubeApiDouble, type KubeApiDoubleOptions } from '../../src/sandbox/kube-api-double.js';
import { planSandbox } from '../../src/sandbox/topology.js';

export const SERVER_NAME = 'api.double.test';

export interface Pki {
  readonly dir: string;
  readonly caPem: string;
  readonly otherCaPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  dispose(): void;
}

/** A CA, a second unrelated CA, and a server certificate for `names` signed by the first. */
export function makePki(names: readonly string[] = [`DNS:${SERVER_NAME}`]): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'labdeck-kube-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  for (const ca of ['ca', 'other-ca'])
    ssl(
      ['req', '-x509', ...ec, '-keyout', join(dir, `${ca}.key`), '-out', join(dir, `${ca}.crt`)].concat([
        '-subj',
        `/CN=${ca}`,
        '-days',
        '2',
      ]),
    );
  ssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    join(dir, 'server.key'),
    '-out',
    join(dir, 'server.crt'),
    '-subj',
    '/CN=kube-apiserver',
    '-days',
    '2',
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-addext',
    `subjectAltName=${names.join(',')}`,
  ]);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    caPem: read('ca.crt'),
    otherCaPem: read('other-ca.crt'),
    certPem: read('server.crt'),
    keyPem: read('server.key'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const plan = planSandbox({ name: 'ldk', pods: 6 });
export function objects(): ClusterObjects {
  return clusterObjects(plan, {}, '2026-01-01T00:00:00Z', {
    kernelVersion: '6.1.0',
    osImage: 'Debian GNU/Linux 12 (bookworm)',
  });
}

export async function startDouble(
  pki: Pki,
  options: KubeApiDoubleOptions = {},
  port = 0,
): Promise<{ double: KubeApiDouble; port: number; server: Server }> {
  const double = new KubeApiDouble({ bookmarkIntervalMs: 200, ...options });
  double.update(objects());
  const server = await double.listen('127.0.0.1', port, { cert: pki.certPem, key: pki.keyPem });
  return { double, port: (server.address() as { port: number }).port, server };
}

/** How many connections a server holds open (to check a client left none behind). */
export function openConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}

export interface ContextSpec {
  readonly name: string;
  readonly server: string;
  readonly ca: string;
  readonly tlsServerName?: string;
  readonly token?: string;
  readonly user?: string;
  readonly namespace?: string;
  readonly insecure?: boolean;
}

/** Kubeconfig YAML for the given contexts (one cluster and user each); the first is current. */
export function kubeconfigText(contexts: readonly ContextSpec[]): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:'];
  for (const c of contexts) {
    lines.push(`- name: ${c.name}-cluster`, '  cluster:', `    server: ${c.server}`);
    lines.push(`    certificate-authority-data: ${Buffer.from(c.ca).toString('base64')}`);
    if (c.tlsServerName) lines.push(`    tls-server-name: ${c.tlsServerName}`);
    if (c.insecure) lines.push('    insecure-skip-tls-verify: true');
  }
  lines.push('users:');
  for (const c of contexts) {
    lines.push(`- name: ${c.user ?? `${c.name}-user`}`, '  user:');
    lines.push(c.token ? `    token: ${c.token}` : '    {}');
  }
  lines.push('contexts:');
  for (const c of contexts) {
    lines.push(`- name: ${c.name}`, '  context:', `    cluster: ${c.name}-cluster`);
    lines.push(`    user: ${c.user ?? `${c.name}-user`}`);
    if (c.namespace) lines.push(`    namespace: ${c.namespace}`);
  }
  lines.push(`current-context: ${contexts[0]?.name ?? ''}`, '');
  return lines.join('\n');
}

export interface KubeFixture {
  readonly pki: Pki;
  /** A throwaway folder (gone after dispose). */
  readonly tmp: string;
  readonly double: KubeApiDouble;
  readonly port: number;
  readonly server: Server;
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** tmp/config: the kubeconfig of the contexts given (mode 0600); none written when there are none. */
  readonly kubeconfig: string;
  dispose(): Promise<void>;
}

/**
 * The API double over loopback TLS with a throwaway PKI and folder, and a kubeconfig of `contexts(url, pki)` for
 * it: the set-up every kube test starts from.
 */
export async function startKubeFixture(
  prefix: string,
  contexts: (url: string, pki: Pki) => readonly ContextSpec[] = () => [],
  options: KubeApiDoubleOptions = {},
): Promise<KubeFixture> {
  const pki = makePki();
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  try {
    const { double, port, server } = await startDouble(pki, options);
    const url = `https://127.0.0.1:${port}`;
    const kubeconfig = join(tmp, 'config');
    const specs = contexts(url, pki);
    if (specs.length > 0) writeFileSync(kubeconfig, kubeconfigText(specs), { mode: 0o600 });
    return {
      pki,
      tmp,
      double,
      port,
      server,
      url,
      kubeconfig,
      async dispose() {
        await double.close();
        pki.dispose();
        rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    pki.dispose();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
