/**
 * The sandbox's plan: every name, address and object of one instance, derived from its name and index alone.
 * Pure (no I/O): `up` builds exactly this, `down` sweeps what it names, the API double serves what it says.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_INSTANCE = 'ldsb';
/** Keeps `${name}-bst` (the one root-namespace interface) within Linux's 15-character IFNAMSIZ limit. */
export const MAX_NAME_LENGTH = 10;
export const NAME_PATTERN = /^[a-z][a-z0-9]*$/;
/** The only root-namespace subnet the sandbox uses: one /30 per instance inside 10.255.0.0/16. */
export const ROOT_SUBNET = '10.255.0.0/16';
export const NODE_CIDR = '10.0.8.0/24';
export const CLUSTER_CIDR = '192.168.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/12';
export const API_PORT = 6443;
export const KUARD_PORT = 8080;

export interface NodePlan {
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly netns: string;
  readonly ip: string;
  readonly podCIDR: string;
}

export interface PodPlan {
  readonly name: string;
  readonly namespace: string;
  readonly netns: string;
  readonly node: string;
  readonly ip: string;
  /** Host side of the pod's veth, named like Calico does: "cali" + 11 hex chars of sha1("<ns>.<pod>"). */
  readonly hostIf: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ServicePlan {
  readonly name: string;
  readonly namespace: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  readonly clusterIP: string;
  readonly port: number;
  readonly portName: string;
  readonly targetPort: number;
  readonly nodePort?: number;
  /** Pods selected by labels; absent for `kubernetes`, whose endpoint is the API server. */
  readonly selector?: Readonly<Record<string, string>>;
}

export interface SandboxPlan {
  readonly name: string;
  readonly index: number;
  readonly rootIf: string;
  readonly rootIp: string;
  readonly bastionIp: string;
  readonly rootPrefix: 30;
  readonly lanNetns: string;
  readonly bastion: { readonly netns: string; readonly lanIp: string };
  readonly nodes: readonly NodePlan[];
  readonly pods: readonly PodPlan[];
  readonly services: readonly ServicePlan[];
  /** A pod IP that no pod has: the "stale-sep" fault points a KUBE-SEP at it, as if its pod had been deleted. */
  readonly phantomPodIp: string;
  readonly apiServer: { readonly ip: string; readonly port: number };
}

export interface PlanOptions {
  readonly name?: string;
  readonly index?: number;
  readonly workers?: number;
  readonly pods?: number;
}

/** Why a name cannot be used, or undefined when it can. */
export function checkInstanceName(name: string): string | undefined {
  if (!NAME_PATTERN.test(name))
    return `sandbox name "${name}" must be lower-case letters and digits, starting with a letter`;
  if (name.length > MAX_NAME_LENGTH)
    return `sandbox name "${name}" is longer than ${MAX_NAME_LENGTH} characters (interface names are limited to 15)`;
  return undefined;
}

/** Instance index: 0 for the product default, else a stable hash of the name in 1..16383 (one /30 each). */
export function instanceIndex(name: string): number {
  if (name === DEFAULT_INSTANCE) return 0;
  const h = createHash('sha256').update(name).digest();
  return 1 + (h.readUInt16BE(0) % 16383);
}

export function rootAddresses(index: number): { rootIp: string; bastionIp: string } {
  if (!Number.isInteger(index) || index < 0 || index > 16383)
    throw new RangeError(`instance index ${index} out of 0..16383`);
  const base = index * 4;
  const third = base >> 8;
  const fourth = base & 255;
  return { rootIp: `10.255.${third}.${fourth + 1}`, bastionIp: `10.255.${third}.${fourth + 2}` };
}

/** Kubernetes' random-suffix alphabet (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0/1/3). */
const K8S_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function k8sString(seed: string, length: number): string {
  const h = createHash('sha256').update(seed).digest();
  let s = '';
  for (let i = 0; i < length; i++) s += K8S_ALPHABET[h[i]! % K8S_ALPHABET.length];
  return s;
}

export function calicoInterfaceName(namespace: string, pod: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

export function planSandbox(opts: PlanOptions = {}): SandboxPlan {
  const name = opts.name ?? DEFAULT_INSTANCE;
  const problem = checkInstanceName(name);
  if (problem) throw new Error(problem);
  const index = opts.index ?? instanceIndex(name);
  const workers = opts.workers ?? 2;
  const podCount = opts.pods ?? 10;
  if (workers < 1 || workers > 20) throw new RangeError(`workers must be 1..20, got ${workers}`);
  if (podCount < 1 || podCount > 200) throw new RangeError(`pods must be 1..200, got ${podCount}`);
  const { rootIp, bastionIp } = rootAddresses(index);

  const nodes: NodePlan[] = [
    {
      name: 'master',
      role: 'control-plane',
      netns: `${name}-master`,
      ip: '10.0.8.10',
      podCIDR: '192.168.0.0/24',
    },
  ];
  for (let w = 1; w <= workers; w++) {
    nodes.push({
      name: `worker-${w}`,
      role: 'worker',
      netns: `${name}-worker-${w}`,
      ip: `10.0.8.${10 + w}`,
      podCIDR: `192.168.${w}.0/24`,
    });
  }

  const templateHash = k8sString(`${name}/kuard/template`, 10);
  const pods: PodPlan[] = [];
  const perNode = new Map<string, number>();
  const canary = Math.max(1, Math.min(3, podCount - 1));
  for (let i = 0; i < podCount; i++) {
    const node = nodes[1 + (i % workers)]!;
    const k = perNode.get(node.name) ?? 0;
    perNode.set(node.name, k + 1);
    const podName = `kuard-${templateHash}-${k8sString(`${name}/kuard/${i}`, 5)}`;
    const labels: Record<string, string> = { app: 'kuard', 'pod-template-hash': templateHash };
    if (i < canary) labels['track'] = 'canary';
    pods.push({
      name: podName,
      namespace: 'default',
      netns: `${name}-pod-${podName}`,
      node: node.name,
      ip: `${node.podCIDR.split('.').slice(0, 3).join('.')}.${10 + k}`,
      hostIf: calicoInterfaceName('default', podName),
      labels,
    });
  }

  // ClusterIPs and the NodePort are the seed cluster's (kuard 10.97.169.67, NodePort 31986), and kuard is the
  // LoadBalancer of the seed's `kubectl expose deployment kuard --type=LoadBalancer` (no cloud controller here, so
  // its ingress stays pending, as on bare metal). Labels are today's `kubectl create deployment kuard` (app=kuard;
  // the seed's 2019 `kubectl run` labelled run=kuard), what the TGIK-002 lab's setup step creates.
  const services: ServicePlan[] = [
    {
      name: 'kubernetes',
      namespace: 'default',
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      port: 443,
      portName: 'https',
      targetPort: API_PORT,
    },
    {
      name: 'kuard',
      namespace: 'default',
      type: 'LoadBalancer',
      clusterIP: '10.97.169.67',
      port: 80,
      portName: '',
      targetPort: KUARD_PORT,
      nodePort: 31986,
      selector: { app: 'kuard' },
    },
    {
      name: 'kuard-canary',
      namespace: 'default',
      type: 'ClusterIP',
      clusterIP: '10.110.41.209',
      port: 80,
      portName: '',
      targetPort: KUARD_PORT,
      selector: { app: 'kuard', track: 'canary' },
    },
  ];

  return {
    name,
    index,
    rootIf: `${name}-bst`,
    rootIp,
    bastionIp,
    rootPrefix: 30,
    lanNetns: `${name}-lan`,
    bastion: { netns: `${name}-bastion`, lanIp: '10.0.8.1' },
    nodes,
    pods,
    services,
    phantomPodIp: '192.168.1.250',
    apiServer: { ip: nodes[0]!.ip, port: API_PORT },
  };
}

/** Every network namespace of the plan. */
export function planNamespaces(plan: SandboxPlan): string[] {
  return [
    plan.bastion.netns,
    plan.lanNetns,
    ...plan.nodes.map((n) => n.netns),
    ...plan.pods.map((p) => p.netns),
  ];
}

export function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
