/**
 * A snapshot: everything LabDeck has captured about a cluster at one moment, each piece stamped with where and when it
 * was taken. Parsers (src/parse) and, later, the live API (src/kube) fill it; src/analyze reads it.
 * The objects are the parsers' own model types: a field a capture did not show stays null, never guessed.
 */
import type { CniConfig } from './cni.js';
import type { Route } from './addresses.js';
import type { Endpoints } from './endpoints.js';
import type { IptablesRuleset } from './iptables.js';
import type { Node } from './node.js';
import type { Pod } from './pod.js';
import type { Service } from './service.js';

/** Where and when a piece was captured. `takenAt` is an ISO-8601 string given by the caller (analysis has no clock). */
export interface CaptureSource {
  /** The machine the command ran on (a node name, or e.g. "workstation"); null when not known. */
  readonly node: string | null;
  /** The command line whose output this is, e.g. `iptables-save`; null when not known. */
  readonly command: string | null;
  readonly takenAt: string | null;
  /** A file name or seed section the text came from. */
  readonly origin?: string;
}

/** One captured piece: a value and the capture it came from. */
export interface Captured<T> {
  readonly source: CaptureSource;
  readonly value: T;
}

/**
 * Observed answers to repeated requests, e.g. the HOSTNAME kuard's `/env/api` printed for each of N requests to a
 * service address. `values` has one entry per answer, in order.
 */
export interface Samples {
  /** What was asked, e.g. `10.110.41.209:80`; null when not known. */
  readonly target: string | null;
  /** The service the requests went to, when known. */
  readonly service: { readonly namespace: string; readonly name: string; readonly port?: string } | null;
  /** What each value names: a pod's hostname (kuard HOSTNAME = pod name) or the IP that answered. */
  readonly valueKind: 'hostname' | 'ip';
  readonly values: readonly string[];
}

/** Other evidence of how a node implements services: `ipvsadm -Ln` or `nft list ruleset` text, as captured. */
export interface BackendHint {
  readonly kind: 'ipvs' | 'nftables';
  readonly text: string;
}

export interface Snapshot {
  readonly pods: readonly Captured<readonly Pod[]>[];
  readonly nodes: readonly Captured<readonly Node[]>[];
  readonly services: readonly Captured<readonly Service[]>[];
  /** Endpoints objects and EndpointSlices mapped onto them (`source: 'endpointslice'`). */
  readonly endpoints: readonly Captured<readonly Endpoints[]>[];
  /** One per `iptables-save` capture; `source.node` says whose. A node may have several (legacy and nft). */
  readonly rulesets: readonly Captured<IptablesRuleset>[];
  readonly cniConfigs: readonly Captured<CniConfig>[];
  readonly routes: readonly Captured<readonly Route[]>[];
  readonly samples: readonly Captured<Samples>[];
  readonly backendHints: readonly Captured<BackendHint>[];
}

export function emptySnapshot(): Snapshot {
  return {
    pods: [],
    nodes: [],
    services: [],
    endpoints: [],
    rulesets: [],
    cniConfigs: [],
    routes: [],
    samples: [],
    backendHints: [],
  };
}
