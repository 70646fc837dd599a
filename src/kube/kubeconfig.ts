/**
 * Kubeconfig loading and contexts, with client-node's own reader (same merging and field names as kubectl).
 * Only names, servers and namespaces leave this file: never a token, a password or a key.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeError } from './errors.js';

export interface KubeconfigSource {
  /** A kubeconfig file (`--kubeconfig`); else `$KUBECONFIG` (a list), else `~/.kube/config`. */
  readonly file?: string;
  /** The environment to read KUBECONFIG and HOME from (injected for tests). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadedKubeconfig {
  readonly config: KubeConfig;
  /** The files read, in order. */
  readonly files: readonly string[];
}

export interface KubeContextInfo {
  readonly name: string;
  readonly cluster: string;
  readonly user: string;
  readonly namespace: string | null;
  /** The cluster's server URL, null when the cluster is missing. */
  readonly server: string | null;
  readonly tlsServerName: string | null;
  readonly current: boolean;
}

/** The files a source names, like kubectl: `--kubeconfig`, else every entry of `$KUBECONFIG`, else the default. */
function kubeconfigFiles(source: KubeconfigSource = {}): string[] {
  const env = source.env ?? process.env;
  if (source.file) return [expandHome(source.file, env)];
  const list = env['KUBECONFIG'];
  if (list) {
    return list
      .split(delimiter)
      .filter((f) => f !== '')
      .map((f) => expandHome(f, env));
  }
  return [join(env['HOME'] ?? homedir(), '.kube', 'config')];
}

function expandHome(file: string, env: Readonly<Record<string, string | undefined>>): string {
  const home = env['HOME'] ?? homedir();
  return file === '~' ? home : file.startsWith('~/') ? join(home, file.slice(2)) : file;
}

/** Reads and merges the kubeconfig files; a clear KubeError when none is there or one does not parse. */
export function loadKubeconfig(source: KubeconfigSource = {}): LoadedKubeconfig {
  const files = kubeconfigFiles(source);
  const present = files.filter((f) => existsSync(f));
  if (present.length === 0) {
    throw new KubeError(
      'kubeconfig-not-found',
      files.join(delimiter),
      `no kubeconfig at ${files.join(', ')}: give one with --kubeconfig FILE or set KUBECONFIG (the cluster's admin.conf, or what your provider's CLI writes).`,
    );
  }
  let config: KubeConfig | undefined;
  for (const file of present) {
    const kc = new KubeConfig();
    try {
      // Read here, so a read error names the file and nothing of its content.
      const text = readFileSync(file, 'utf8');
      kc.loadFromString(text);
      // Relative certificate-authority / client-certificate paths are relative to the file (as kubectl).
      (kc as unknown as { makePathsAbsolute(dir: string): void }).makePathsAbsolute(
        file.slice(0, Math.max(file.lastIndexOf('/'), 0)) || '/',
      );
    } catch (err) {
      throw new KubeError(
        'kubeconfig-invalid',
        file,
        `cannot read the kubeconfig ${file}: ${firstLine(err)}. It must be YAML with clusters, users and contexts (kubectl config view shows what kubectl makes of it).`,
      );
    }
    if (config === undefined) config = kc;
    else mergeFirstWins(config, kc);
  }
  return { config: config!, files: present };
}

/** kubectl's merge: the first file to name a cluster, user or context wins, and the first current-context. */
function mergeFirstWins(into: KubeConfig, from: KubeConfig): void {
  for (const c of from.clusters) if (!into.getCluster(c.name)) into.addCluster(c);
  for (const u of from.users) if (!into.getUser(u.name)) into.addUser(u);
  for (const c of from.contexts) if (!into.getContextObject(c.name)) into.addContext(c);
  if (!into.currentContext && from.currentContext) into.setCurrentContext(from.currentContext);
}

/** Only the first line of a loader error: YAML errors can quote the offending line, which may hold a secret. */
function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  const line = m.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export function listContexts(config: KubeConfig): KubeContextInfo[] {
  const current = config.getCurrentContext();
  return config.getContexts().map((c) => {
    const cluster = config.getCluster(c.cluster);
    return {
      name: c.name,
      cluster: c.cluster,
      user: c.user,
      namespace: c.namespace ?? null,
      server: cluster?.server ?? null,
      tlsServerName: cluster?.tlsServerName ?? null,
      current: c.name === current,
    };
  });
}
