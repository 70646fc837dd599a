/**
 * `kubectl get … -o yaml|json` (single objects, `List`s, several `---` documents) → KubeObjects, and
 * kubeconfig files → Kubeconfig (credentials are never copied). YAML through the `yaml` package; JSON first
 * through JSON.parse for speed, then through `yaml` when it fails, to report where.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import type { ParseResult } from '../model/diagnostic.js';
import type { KubeObjects, Kubeconfig } from '../model/kube.js';
import { emptyObjects, mapObject } from './kube-map.js';
import { Diagnostics, neutralise, neutraliseDeep } from './text.js';

export type KubectlObjectResult = ParseResult<'kubectl-object', KubeObjects>;
export type KubeconfigResult = ParseResult<'kubeconfig', Kubeconfig>;

/** Documents of a YAML or JSON text as plain values, with syntax errors as diagnostics. */
export function readDocuments(text: string, diags: Diagnostics): unknown[] {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return [JSON.parse(t) as unknown];
    } catch {
      // fall through: yaml reports the position
    }
  }
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false });
  const out: unknown[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    for (const e of d.errors) {
      const pos = lc.linePos(e.pos[0]);
      diags.error(
        `yaml-${e.code.toLowerCase().replace(/_/g, '-')}`,
        pos.line,
        pos.col,
        neutralise(e.message.split('\n')[0] ?? e.message),
      );
    }
    if (d.contents === null) continue;
    try {
      out.push(d.toJS({ maxAliasCount: 100 }));
    } catch (err) {
      diags.error('yaml-unreadable', 1, 1, neutralise(err instanceof Error ? err.message : String(err)));
    }
  }
  return out;
}

export function parseKubectlObject(text: string): KubectlObjectResult {
  const diags = new Diagnostics();
  const value = emptyObjects();
  const docs = readDocuments(text, diags);
  if (docs.length === 0 && !diags.list.length)
    diags.error('kubectl-object-empty', 1, 1, 'no YAML or JSON document');
  docs.forEach((d, i) => {
    if (!mapObject(d, value))
      diags.error(
        'kubectl-object-not-kubernetes',
        1,
        1,
        `document ${i + 1} is not a Kubernetes object (needs kind and metadata.name)`,
      );
  });
  neutraliseDeep(value, diags);
  return { kind: 'kubectl-object', value, diagnostics: diags.done() };
}

export function parseKubeconfig(text: string): KubeconfigResult {
  const diags = new Diagnostics();
  const value: Kubeconfig = { currentContext: null, clusters: [], users: [], contexts: [] };
  const docs = readDocuments(text, diags);
  const doc = docs[0];
  const o =
    doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : null;
  if (o === null || (o.kind !== undefined && o.kind !== 'Config')) {
    diags.error(
      'kubeconfig-not-config',
      1,
      1,
      'not a kubeconfig (expected kind: Config with clusters/users/contexts)',
    );
    return { kind: 'kubeconfig', value, diagnostics: diags.done() };
  }
  const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const rec = (v: unknown): Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(rec) : []);
  value.currentContext = s(o['current-context']);
  for (const c of list(o.clusters))
    value.clusters.push({ name: s(c.name) ?? '', server: s(rec(c.cluster).server) });
  for (const u of list(o.users))
    // Which kinds of credential are present, never their values.
    value.users.push({ name: s(u.name) ?? '', auth: Object.keys(rec(u.user)).sort() });
  for (const c of list(o.contexts)) {
    const ctx = rec(c.context);
    value.contexts.push({
      name: s(c.name) ?? '',
      cluster: s(ctx.cluster),
      user: s(ctx.user),
      namespace: s(ctx.namespace),
    });
  }
  return { kind: 'kubeconfig', value: neutraliseDeep(value, diags), diagnostics: diags.done() };
}
