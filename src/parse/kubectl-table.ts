/**
 * kubectl's table output → KubeObjects. Columns are found from the header's positions (kubectl pads cells with
 * tabwriter, at least three spaces apart), never by splitting on spaces: `NOMINATED NODE` is one header, and
 * `80:30361/TCP,443:31000/TCP` one cell. Reads `-o wide`, `-A` (NAMESPACE first), `--show-labels`,
 * `--no-headers` (columns then come from the resource named in `opts.resource` or the count of cells),
 * and several tables in one output (`kubectl get all`, `get pods,svc`: blank-line separated, `pod/` prefixes).
 */
import type { ParseResult } from '../model/diagnostic.js';
import type { KubeObjects, KubeTable } from '../model/kube.js';
import { canonicalResource, emptyObjects, mapTable, resourceOf } from './kube-map.js';
import { Diagnostics, field, segments, splitLines, stripAnsi, type Segment } from './text.js';

export interface KubectlTableOptions {
  /** The resource asked for (`pods`, `svc`, …) from the command line; needed to read `--no-headers`. */
  resource?: string;
  /** `--no-headers` was given. */
  noHeaders?: boolean;
  /** `-o wide`. */
  wide?: boolean;
  /** `-A` / `--all-namespaces`. */
  allNamespaces?: boolean;
  /** `--show-labels`. */
  showLabels?: boolean;
  /** The namespace the command read (`-n kube-system`), given to rows without a NAMESPACE column. */
  namespace?: string;
}

export type KubectlTableResult = ParseResult<'kubectl-table', KubeObjects>;

const HEADER_WORD = /^[A-Z][A-Z0-9()-]*(?: [A-Z][A-Z0-9()-]*)*$/;

/** A line is a header when every cell is an upper-case header word and it starts with NAME or NAMESPACE. */
export function isHeader(segs: Segment[]): boolean {
  if (segs.length < 2) return false;
  const first = segs[0]!.text;
  if (first !== 'NAME' && first !== 'NAMESPACE') return false;
  return segs.every((s) => HEADER_WORD.test(s.text));
}

/** Column sets kubectl prints per resource (for `--no-headers`), by count of cells. */
const KNOWN_COLUMNS: Record<string, string[][]> = {
  pods: [
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE'],
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE'],
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
  ],
  services: [
    ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
  ],
  endpoints: [['NAME', 'ENDPOINTS', 'AGE']],
  endpointslices: [['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']],
  nodes: [
    ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    [
      'NAME',
      'STATUS',
      'ROLES',
      'AGE',
      'VERSION',
      'INTERNAL-IP',
      'EXTERNAL-IP',
      'OS-IMAGE',
      'KERNEL-VERSION',
      'CONTAINER-RUNTIME',
    ],
  ],
  deployments: [
    ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    ['NAME', 'DESIRED', 'CURRENT', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
  ],
};

interface Block {
  header: Segment[] | null;
  headerLine: number;
  rows: { n: number; text: string }[];
}

export function parseKubectlTable(text: string, opts: KubectlTableOptions = {}): KubectlTableResult {
  const diags = new Diagnostics();
  const value = emptyObjects();
  value.tables = [];
  const lines = splitLines(text);
  const blocks: Block[] = [];
  let cur: Block | null = null;
  for (const l of lines) {
    const t = stripAnsi(l.text);
    if (t.trim() === '') {
      cur = null; // sections of `kubectl get all` are blank-line separated
      continue;
    }
    if (/^(error: |Error from server|The connection to the server .* was refused)/.test(t.trim())) {
      // kubectl printed an error (on stderr, which a terminal shows inline) instead of a table
      diags.error('kubectl-error', l.n, 1, field(t.trim(), diags, l.n, 1));
      cur = null;
      continue;
    }
    if (/^No resources found/.test(t.trim())) {
      diags.info('kubectl-no-resources', l.n, 1, t.trim());
      cur = null;
      continue;
    }
    const segs = segments(t);
    if (!opts.noHeaders && isHeader(segs)) {
      cur = { header: segs, headerLine: l.n, rows: [] };
      blocks.push(cur);
      continue;
    }
    if (cur === null) {
      cur = { header: null, headerLine: l.n, rows: [] };
      blocks.push(cur);
    }
    cur.rows.push({ n: l.n, text: t });
  }
  if (blocks.length === 0) {
    if (!diags.list.some((d) => d.code === 'kubectl-no-resources' || d.code === 'kubectl-error'))
      diags.error('kubectl-table-empty', 1, 1, 'no table found (expected a header line starting with NAME)');
    return { kind: 'kubectl-table', value, diagnostics: diags.done() };
  }
  for (const b of blocks) {
    const table = readBlock(b, opts, diags);
    if (table === null) continue;
    value.tables.push(table);
    mapTable(table, opts.namespace ?? null, value, diags);
  }
  return { kind: 'kubectl-table', value, diagnostics: diags.done() };
}

function readBlock(b: Block, opts: KubectlTableOptions, diags: Diagnostics): KubeTable | null {
  let columns: string[];
  let starts: number[] | null;
  if (b.header !== null) {
    columns = b.header.map((s) => s.text);
    starts = b.header.map((s) => s.start);
  } else {
    // No header: `--no-headers`, or text cut above the header.
    const first = b.rows[0];
    const count = first ? segments(first.text).length : 0;
    const guessed = guessColumns(opts, count);
    if (guessed === null) {
      diags.error(
        'kubectl-table-no-header',
        b.headerLine,
        1,
        opts.noHeaders
          ? `--no-headers output of ${count} columns: name the resource (kubectl get RESOURCE) to read it`
          : 'rows without a header line (NAME …): paste the header too, or give the command line',
      );
      return null;
    }
    columns = guessed;
    starts = null;
  }
  const table: KubeTable = { resource: null, columns, rows: [], line: b.headerLine };
  for (const r of b.rows) {
    const segs = segments(r.text);
    const cells = starts === null ? byOrder(segs, columns.length) : byPosition(segs, starts);
    if (cells.misaligned)
      diags.warn(
        'kubectl-column-misaligned',
        r.n,
        cells.misaligned,
        'a cell does not start under its header; the row was read by nearest column',
      );
    if (cells.extra)
      diags.warn(
        'kubectl-extra-cells',
        r.n,
        cells.extra,
        'more cells than header columns; extra text joined',
      );
    const filled = cells.values.reduce((n, v, i) => (v !== '' ? i + 1 : n), 0);
    if (filled < columns.length && filled > 0)
      diags.warn(
        'kubectl-row-short',
        r.n,
        r.text.trimEnd().length + 1,
        `row has ${filled} of ${columns.length} cells (${columns.slice(filled).join(', ')} missing): output cut short?`,
      );
    table.rows.push(cells.values.map((v, i) => field(v, diags, r.n, (starts?.[i] ?? 0) + 1)));
  }
  table.resource = resourceOf(opts.resource ?? null, table);
  return table;
}

function guessColumns(opts: KubectlTableOptions, count: number): string[] | null {
  const res = opts.resource ? canonicalResource(opts.resource) : null;
  if (res === null) return null;
  const sets = KNOWN_COLUMNS[res];
  if (!sets) return null;
  const ns = opts.allNamespaces ? 1 : 0;
  const labels = opts.showLabels ? 1 : 0;
  for (const set of sets) {
    if (set.length + ns + labels === count) {
      const cols = [...set];
      if (ns) cols.unshift('NAMESPACE');
      if (labels) cols.push('LABELS');
      return cols;
    }
  }
  return null;
}

interface Cells {
  values: string[];
  /** 1-based column of the first misaligned cell, or 0. */
  misaligned: number;
  extra: number;
}

function byOrder(segs: Segment[], n: number): Cells {
  const values = segs.slice(0, n).map((s) => s.text);
  while (values.length < n) values.push('');
  const extra = segs.length > n ? segs[n]!.start + 1 : 0;
  if (extra)
    values[n - 1] = segs
      .slice(n - 1)
      .map((s) => s.text)
      .join('  ');
  return { values, misaligned: 0, extra };
}

/** Each cell goes to the column whose header starts where it starts; a shifted cell goes to the next free one. */
function byPosition(segs: Segment[], starts: number[]): Cells {
  const n = starts.length;
  const values: string[] = new Array<string>(n).fill('');
  let misaligned = 0;
  let extra = 0;
  let col = 0;
  for (const s of segs) {
    let k = col;
    while (k + 1 < n && starts[k + 1]! <= s.start) k++;
    if (starts[k] !== s.start && !misaligned) misaligned = s.start + 1;
    if (values[k] !== '') {
      if (k + 1 < n) k++;
      else {
        if (!extra) extra = s.start + 1;
        values[k] = `${values[k]}  ${s.text}`;
        continue;
      }
    }
    values[k] = s.text;
    col = k;
  }
  return { values, misaligned, extra };
}
