import {
  analyzeSnapshot,
  inventoryView,
  snapshotFromParsed,
  type Analysis,
  type InventoryView,
  type ParsedCapture,
  type ServiceView,
} from '../analyze/index.js';
import type { Diagnostic } from '../model/diagnostic.js';
import { parse } from '../parse/parse.js';
import type { ParseKind } from '../parse/kinds.js';
import type { Disposable } from './server.js';

/**
 * Where a capture came from: a command finished in a terminal, text the user pasted, a lab step, or the live
 * Kubernetes API (a watch on a connected cluster, kept up to date in place).
 */
export type CaptureOrigin = 'terminal' | 'paste' | 'lab' | 'kube';

export interface CaptureInfo {
  readonly id: string;
  readonly kind: string;
  readonly origin: CaptureOrigin;
  readonly node: string | null;
  readonly command: string | null;
  readonly takenAt: string;
  readonly errors: number;
  readonly warnings: number;
  /** The first diagnostics, for the capture list (`line 3: …`). */
  readonly problems: readonly string[];
}

export interface SnapshotView {
  readonly captures: readonly CaptureInfo[];
  readonly analysis: Analysis;
  /** Every pod and node as rows, tied to the analysis's services (the cluster panel's Pods and Nodes views). */
  readonly inventory: InventoryView;
}

export interface AddText {
  readonly text: string;
  readonly command?: string;
  readonly node?: string;
  /** A parser kind; by default detection picks one from the command line and the text. */
  readonly as?: ParseKind;
  readonly origin: CaptureOrigin;
}

interface Entry {
  readonly info: CaptureInfo;
  readonly capture: ParsedCapture;
  /** A live capture's key (`setLive`): updated in place, never piled up. */
  readonly liveKey?: string;
}

/** Kinds that feed the snapshot; others (hostname, kubeconfig, …) parse but add nothing to compare. */
const snapshotKinds = new Set([
  'kubectl-table',
  'kubectl-object',
  'iptables-save',
  'cni-config',
  'ip-route',
  'kuard-env',
  'transcript',
]);

/** At most this many captures are kept; the oldest go first. */
const maxCaptures = 200;

function summarise(
  diagnostics: readonly Diagnostic[],
): Pick<CaptureInfo, 'errors' | 'warnings' | 'problems'> {
  return {
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
    problems: diagnostics
      .filter((d) => d.severity !== 'info')
      .slice(0, 3)
      .map((d) => `line ${d.line}: ${d.message}`),
  };
}

/**
 * The workspace's snapshot of a cluster: every recognised output — a command finished in any terminal, text the
 * user pasted, a lab step's capture — parsed, stamped with where and when, and analysed together, so the panels can
 * line up pods, services, endpoints and each node's chains and say what does not add up.
 */
export class SnapshotService implements Disposable {
  private readonly entries: Entry[] = [];
  private nextId = 1;
  private cached: SnapshotView | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly onChange: (view: SnapshotView) => void,
    private readonly now: () => Date = () => new Date(),
    /** Analysis runs this long after the last change, so a burst of commands is analysed once. */
    private readonly settleMs = 50,
  ) {}

  /** Parses and adds a capture; returns null when no parser recognised the text (nothing is added). */
  add(input: AddText): CaptureInfo | null {
    const result = parse({
      text: input.text,
      ...(input.command ? { command: input.command } : {}),
      ...(input.as ? { as: input.as } : {}),
    });
    if (!snapshotKinds.has(result.kind)) return null;
    const info: CaptureInfo = {
      ...cleanInfo(
        `c${this.nextId++}`,
        result.kind,
        { node: input.node ?? null, command: input.command ?? null, origin: input.origin },
        this.now().toISOString(),
      ),
      ...summarise(result.diagnostics),
    };
    this.push(info, captureOf(info, result.value));
    return info;
  }

  /** Adds output someone else already parsed (a lab step's capture), if it is a kind the snapshot uses. */
  addParsed(
    kind: string,
    value: unknown,
    source: { readonly node: string | null; readonly command: string | null; readonly origin: CaptureOrigin },
  ): CaptureInfo | null {
    if (!snapshotKinds.has(kind)) return null;
    const info = cleanInfo(`c${this.nextId++}`, kind, source, this.now().toISOString());
    this.push(info, captureOf(info, value));
    return info;
  }

  /**
   * A live source's piece (the kube watch's pods, services, …): replaces the capture kept under `key`, keeping its
   * id and place, or adds it; `value` null removes it. Returns the capture's info, or null when removed or not a
   * snapshot kind.
   */
  setLive(
    key: string,
    kind: string,
    value: unknown,
    source: { readonly node: string | null; readonly command: string | null; readonly origin: CaptureOrigin },
  ): CaptureInfo | null {
    const at = this.entries.findIndex((e) => e.liveKey === key);
    if (value === null || !snapshotKinds.has(kind)) {
      if (at >= 0) {
        this.entries.splice(at, 1);
        this.changed();
      }
      return null;
    }
    const id = at >= 0 ? this.entries[at]!.info.id : `c${this.nextId++}`;
    const info = cleanInfo(id, kind, source, this.now().toISOString());
    const entry: Entry = { info, capture: captureOf(info, value), liveKey: key };
    if (at >= 0) {
      this.entries[at] = entry;
      this.changed();
    } else this.push(entry.info, entry.capture, key);
    return info;
  }

  private push(info: CaptureInfo, capture: ParsedCapture, liveKey?: string): void {
    this.entries.push(liveKey === undefined ? { info, capture } : { info, capture, liveKey });
    if (this.entries.length > maxCaptures) this.entries.splice(0, this.entries.length - maxCaptures);
    this.changed();
  }

  remove(id: string): boolean {
    const at = this.entries.findIndex((e) => e.info.id === id);
    if (at < 0) return false;
    this.entries.splice(at, 1);
    this.changed();
    return true;
  }

  /** Removes every capture, or only those of one origin (a new lab session replaces the previous one's). */
  clear(origin?: CaptureOrigin): void {
    const kept = origin === undefined ? [] : this.entries.filter((e) => e.info.origin !== origin);
    this.entries.splice(0, this.entries.length, ...kept);
    this.changed();
  }

  view(): SnapshotView {
    if (!this.cached) {
      const snapshot = snapshotFromParsed(this.entries.map((e) => e.capture));
      const analysis = analyzeSnapshot(snapshot);
      this.cached = {
        captures: this.entries.map((e) => e.info),
        analysis: { ...analysis, services: analysis.services.map((svc) => cutService(svc)) },
        inventory: inventoryView(snapshot, analysis.services),
      };
    }
    return this.cached;
  }

  private changed(): void {
    this.cached = null;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onChange(this.view()), this.settleMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** A capture's info with no problems counted (a capture that came already parsed; `add` counts its own). */
function cleanInfo(
  id: string,
  kind: string,
  source: { readonly node: string | null; readonly command: string | null; readonly origin: CaptureOrigin },
  takenAt: string,
): CaptureInfo {
  return {
    id,
    kind,
    origin: source.origin,
    node: source.node,
    command: source.command,
    takenAt,
    errors: 0,
    warnings: 0,
    problems: [],
  };
}

/** The analysis's view of a capture: its value, and where and when it was taken (from its info). */
function captureOf(info: CaptureInfo, value: unknown): ParsedCapture {
  const { kind, node, command, takenAt, origin } = info;
  return { kind, value, source: { node, command, takenAt, origin } };
}

/**
 * Rows per Service list (pods, endpoints, each node's backends) in the view the workbench is sent on every change:
 * a live cluster's Service may have thousands of pods, and the Pods view (the inventory) lists them all anyway.
 */
export const VIEW_ROWS_PER_SERVICE = 200;

/** A Service's lists cut to VIEW_ROWS_PER_SERVICE, keeping the endpoints of the pods kept; `cutFrom` says how long
 * they were. A Service within the limit is returned as it is. */
export function cutService(svc: ServiceView, max = VIEW_ROWS_PER_SERVICE): ServiceView {
  const backends = Object.values(svc.nodes).reduce((n, v) => Math.max(n, v.backends.length), 0);
  if (svc.pods.length <= max && svc.endpoints.length <= max && backends <= max) return svc;
  const pods = svc.pods.slice(0, max);
  const keptIps = new Set(pods.map((p) => p.ip));
  const ofKept = svc.endpoints.filter((e) => keptIps.has(e.ip));
  const others = svc.endpoints.filter((e) => !keptIps.has(e.ip));
  const endpoints = [...ofKept, ...others.slice(0, Math.max(0, max - ofKept.length))];
  const nodes = Object.fromEntries(
    Object.entries(svc.nodes).map(([node, v]) => [node, { ...v, backends: v.backends.slice(0, max) }]),
  );
  return {
    ...svc,
    pods,
    endpoints,
    nodes,
    cutFrom: {
      pods: svc.pods.length,
      endpoints: svc.endpoints.length,
      backends: Object.fromEntries(Object.entries(svc.nodes).map(([node, v]) => [node, v.backends.length])),
    },
  };
}
