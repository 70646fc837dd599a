/**
 * The inventory: every pod and node of a snapshot as table rows, whether or not a Service selects them. Each pod row
 * says which Services tie to it (the service view's own join: selector, or an endpoint naming it) and whether it is
 * one of their endpoints; each node row counts its pods and shows the pod IPs seen there. Pure: the same snapshot
 * and service views always give the same rows, in the same order.
 */
import type { Node } from '../model/node.js';
import type { Snapshot } from '../model/snapshot.js';
import { defaultNamespace, mergeSnapshot, objectKey, podReady, type MergedEndpoints } from './normalize.js';
import type { ServiceView } from './view.js';

/** How a pod stands in one Service's endpoints. */
export type EndpointState =
  /** Listed under `addresses`: gets service traffic. */
  | 'ready'
  /** Listed under `notReadyAddresses`: no new connections until its readiness probe passes. */
  | 'not-ready'
  /** The service's endpoints were captured whole and do not list it. */
  | 'missing'
  /** The endpoints were not captured, or a table cut the list (`+ 7 more...`): nobody can say. */
  | 'unknown';

export interface PodServiceRef {
  readonly name: string;
  /** `selector`: its labels match the selector; `endpoint`: only an endpoint ties it (no labels captured, …). */
  readonly matchedBy: 'selector' | 'endpoint';
  readonly endpoint: EndpointState;
}

/** Why a pod row deserves a look. */
export type PodMark =
  /** No Service selects it or lists it: reachable only by its own IP. */
  | 'no-service'
  /** READY is not all containers (`0/1`). */
  | 'not-ready'
  /** A Service selects it but its endpoints do not list it as ready. */
  | 'not-endpoint';

export interface PodRow {
  /** `default` when the capture did not say (a table without `-A`). */
  readonly namespace: string;
  readonly name: string;
  /** As printed: `1/1`. */
  readonly ready: string | null;
  /** All containers ready; null when the capture did not say. */
  readonly isReady: boolean | null;
  readonly status: string | null;
  readonly restarts: number | null;
  readonly ip: string | null;
  readonly node: string | null;
  /** The pod's IP is its node's own address (hostNetwork). */
  readonly hostNetwork: boolean;
  /** Services of its namespace that tie to it, by name. */
  readonly services: readonly PodServiceRef[];
  readonly marks: readonly PodMark[];
}

/** The pod IPs seen on a node (IPv4, hostNetwork pods left out): lowest, highest, how many. */
export interface PodIpRange {
  readonly first: string;
  readonly last: string;
  readonly count: number;
  /** The smallest prefix holding all of them: what the IPs show, not the node's allocation. */
  readonly covering: string;
}

export interface NodeRow {
  readonly name: string;
  /** false when no Node was captured and the name comes only from pods' NODE column or an iptables-save capture. */
  readonly captured: boolean;
  /** An `iptables-save` of this node is in the snapshot (its kube-proxy chains are in the Services view). */
  readonly iptables: boolean;
  readonly status: string | null;
  readonly roles: readonly string[];
  readonly internalIP: string | null;
  readonly pods: number;
  /** Pods whose IP is the node's own address. */
  readonly hostNetworkPods: number;
  /** `spec.podCIDR` when a Node object said it (tables do not). */
  readonly podCIDR: string | null;
  readonly podIPs: PodIpRange | null;
  /** Pods on this node whose IP lies outside its podCIDR (only when the podCIDR is known). */
  readonly outsidePodCIDR: number;
}

export interface InventoryView {
  readonly pods: readonly PodRow[];
  /** Pods left out beyond `maxPods` (the rows are sorted by namespace and name; the last ones go). */
  readonly podsOmitted: number;
  readonly nodes: readonly NodeRow[];
  readonly nodesOmitted: number;
  /** Every namespace of the pods, sorted: for a filter. */
  readonly namespaces: readonly string[];
}

export interface InventoryOptions {
  /**
   * Row caps, so the view stays well below the API's 4 M-character message limit: a row is about 250 characters in
   * JSON, so 5,000 pods (the live watch's cap) take about 1.3 M.
   */
  readonly maxPods?: number;
  readonly maxNodes?: number;
}

const defaultMaxPods = 5000;
const defaultMaxNodes = 2000;

/** `10.244.1.5` → 0x0af40105; anything that is not a dotted IPv4 address → null. */
function ipv4ToNumber(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return null;
    n = n * 256 + octet;
  }
  return n;
}

function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `10.244.1.0/24` → [first, last] as numbers; not an IPv4 CIDR → null. */
function ipv4Cidr(cidr: string): [number, number] | null {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
  const base = m ? ipv4ToNumber(m[1]!) : null;
  const bits = m ? Number(m[2]) : NaN;
  if (base === null || !(bits >= 0 && bits <= 32)) return null;
  const size = 2 ** (32 - bits);
  const first = base - (base % size);
  return [first, first + size - 1];
}

/** The lowest, highest and smallest covering prefix of some IPv4 addresses; null when there are none. */
export function ipv4Range(ips: readonly string[]): PodIpRange | null {
  const nums = ips.map(ipv4ToNumber).filter((n): n is number => n !== null);
  if (nums.length === 0) return null;
  let lo = nums[0]!;
  let hi = nums[0]!;
  for (const n of nums) {
    if (n < lo) lo = n;
    if (n > hi) hi = n;
  }
  let bits = 32;
  while (bits > 0 && Math.floor(lo / 2 ** (32 - bits)) !== Math.floor(hi / 2 ** (32 - bits))) bits--;
  const size = 2 ** (32 - bits);
  return {
    first: numberToIpv4(lo),
    last: numberToIpv4(hi),
    count: nums.length,
    covering: `${numberToIpv4(lo - (lo % size))}/${bits}`,
  };
}

/** A service's endpoints by the pod they name, and by IP for those that name none: whether any of them is ready. */
interface EndpointIndex {
  readonly byPod: ReadonlyMap<string, boolean>;
  readonly byIp: ReadonlyMap<string, boolean>;
  /** The endpoints were captured whole: a pod they do not list is not one of them. */
  readonly complete: boolean;
}

function indexEndpoints(service: ServiceView, eps: MergedEndpoints | undefined): EndpointIndex {
  const byPod = new Map<string, boolean>();
  const byIp = new Map<string, boolean>();
  for (const e of service.endpoints) {
    const map = e.pod !== null ? byPod : byIp;
    const key = e.pod ?? e.ip;
    map.set(key, (map.get(key) ?? false) || e.ready);
  }
  return { byPod, byIp, complete: eps !== undefined && eps.omitted === 0 };
}

function endpointState(index: EndpointIndex, pod: { name: string; ip: string | null }): EndpointState {
  const found = index.byPod.get(pod.name) ?? (pod.ip !== null ? index.byIp.get(pod.ip) : undefined);
  if (found !== undefined) return found ? 'ready' : 'not-ready';
  return index.complete ? 'missing' : 'unknown';
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every pod and node of `snapshot` as rows, tied to the Services of `services` (analyzeSnapshot's service views of
 * the same snapshot, so the pod ↔ service join is the one the service view shows).
 */
export function inventoryView(
  snapshot: Snapshot,
  services: readonly ServiceView[],
  options: InventoryOptions = {},
): InventoryView {
  const merged = mergeSnapshot(snapshot);
  const maxPods = options.maxPods ?? defaultMaxPods;
  const maxNodes = options.maxNodes ?? defaultMaxNodes;

  // Pod key → the services that tie to it.
  const refs = new Map<string, PodServiceRef[]>();
  for (const s of services) {
    const index = indexEndpoints(s, merged.endpoints.get(objectKey(s.namespace, s.name)));
    for (const p of s.pods) {
      const key = objectKey(s.namespace, p.name);
      const list = refs.get(key) ?? [];
      list.push({ name: s.name, matchedBy: p.matchedBy, endpoint: endpointState(index, p) });
      refs.set(key, list);
    }
  }

  const nodeAddresses = new Map<string, Set<string>>();
  for (const n of merged.nodes.values())
    nodeAddresses.set(
      n.name,
      new Set([n.internalIP, n.externalIP].filter((ip): ip is string => ip !== null)),
    );

  const all: PodRow[] = [];
  for (const { value: pod } of merged.pods.values()) {
    const namespace = pod.namespace ?? defaultNamespace;
    const isReady = podReady(pod);
    const services = refs.get(objectKey(namespace, pod.name)) ?? [];
    const hostNetwork =
      pod.ip !== null && pod.node !== null && (nodeAddresses.get(pod.node)?.has(pod.ip) ?? false);
    const marks: PodMark[] = [];
    if (services.length === 0) marks.push('no-service');
    if (isReady === false) marks.push('not-ready');
    if (
      services.some(
        (s) => s.matchedBy === 'selector' && (s.endpoint === 'missing' || s.endpoint === 'not-ready'),
      )
    )
      marks.push('not-endpoint');
    all.push({
      namespace,
      name: pod.name,
      ready: pod.ready,
      isReady,
      status: pod.status,
      restarts: pod.restarts,
      ip: pod.ip,
      node: pod.node,
      hostNetwork,
      services,
      marks,
    });
  }
  all.sort((a, b) => byText(a.namespace, b.namespace) || byText(a.name, b.name));

  // Nodes: every captured Node, every name in a pod's NODE column, and every node whose iptables-save was captured.
  const podsOn = new Map<string, PodRow[]>();
  for (const p of all) {
    if (p.node === null) continue;
    const list = podsOn.get(p.node) ?? [];
    list.push(p);
    podsOn.set(p.node, list);
  }
  const dumped = new Set(
    snapshot.rulesets.map((r) => r.source.node).filter((n): n is string => n !== null && n !== ''),
  );
  const names = [...new Set([...merged.nodes.keys(), ...podsOn.keys(), ...dumped])].sort(byText);
  const nodes: NodeRow[] = names.map((name) => {
    const n: Node | undefined = merged.nodes.get(name);
    const onNode = podsOn.get(name) ?? [];
    const podIps = onNode.filter((p) => !p.hostNetwork && p.ip !== null).map((p) => p.ip!);
    const cidr = n?.podCIDR ? ipv4Cidr(n.podCIDR) : null;
    const outside = cidr
      ? podIps.filter((ip) => {
          const v = ipv4ToNumber(ip);
          return v !== null && (v < cidr[0] || v > cidr[1]);
        }).length
      : 0;
    return {
      name,
      captured: n !== undefined,
      iptables: dumped.has(name),
      status: n?.status ?? null,
      roles: n?.roles ?? [],
      internalIP: n?.internalIP ?? null,
      pods: onNode.length,
      hostNetworkPods: onNode.filter((p) => p.hostNetwork).length,
      podCIDR: n?.podCIDR ?? null,
      podIPs: ipv4Range(podIps),
      outsidePodCIDR: outside,
    };
  });

  return {
    pods: all.slice(0, maxPods),
    podsOmitted: Math.max(0, all.length - maxPods),
    nodes: nodes.slice(0, maxNodes),
    nodesOmitted: Math.max(0, nodes.length - maxNodes),
    namespaces: [...new Set(all.map((p) => p.namespace))].sort(byText),
  };
}
