/**
 * What the sandbox cluster "is" at a moment: the plan plus the faults that are on, turned into
 * (a) the Kubernetes objects the API double serves and (b) the Services + endpoints each node's kube-proxy
 * rules are generated from. Pure: both sides come from the same data, so kubectl and iptables agree unless a
 * fault says they should not.
 */
import { createHash } from 'node:crypto';
import type { KubeProxyRulesOptions, ServicePortSpec } from './kube-proxy-rules.js';
import { CLUSTER_CIDR, selects } from './topology.js';
import type { NodePlan, PodPlan, SandboxPlan, ServicePlan } from './topology.js';

export const FAULTS = [
  'stale-sep',
  'missing-endpoint',
  'skewed-probability',
  'dead-pod',
  'node-drift',
  'hostkey-change',
  'bastion-down',
] as const;
export type FaultName = (typeof FAULTS)[number];
export type FaultSet = Readonly<Partial<Record<FaultName, boolean>>>;

export const FAULT_DESCRIPTIONS: Readonly<Record<FaultName, string>> = {
  'stale-sep': 'every node keeps a KUBE-SEP for a kuard pod that is gone (its IP answers nothing)',
  'missing-endpoint': 'one running kuard pod matches the selector but is not in Endpoints (nor in iptables)',
  'skewed-probability':
    'the first KUBE-SVC rule of kuard says 0.5 instead of 1/n, so one pod takes half the traffic',
  'dead-pod': "one kuard pod's server is killed; the pod is still Running and still an endpoint",
  'node-drift':
    "the last worker's kube-proxy chains lag behind: one kuard endpoint fewer than on the other nodes",
  'hostkey-change': "worker-1's SSH host key is replaced, so known_hosts no longer matches",
  'bastion-down': "the bastion's sshd is stopped",
};

export function isFaultName(s: string): s is FaultName {
  return (FAULTS as readonly string[]).includes(s);
}

/** Which pod or node each fault acts on (stable, so `off` undoes exactly what `on` did). */
export function faultTargets(plan: SandboxPlan): {
  missingEndpointPod: PodPlan;
  deadPod: PodPlan;
  driftNode: NodePlan;
  driftDroppedPod: PodPlan;
  hostkeyNode: NodePlan;
} {
  const pods = plan.pods;
  return {
    missingEndpointPod: pods[pods.length - 1]!,
    deadPod: pods[Math.min(1, pods.length - 1)]!,
    driftNode: plan.nodes[plan.nodes.length - 1]!,
    driftDroppedPod: pods[0]!,
    hostkeyNode: plan.nodes[1]!,
  };
}

/** Pods that the endpoints controller would list for a service (before any kube-proxy staleness). */
export function endpointPods(plan: SandboxPlan, svc: ServicePlan, faults: FaultSet): PodPlan[] {
  if (!svc.selector) return [];
  const missing = faults['missing-endpoint'] ? faultTargets(plan).missingEndpointPod.name : undefined;
  const sel = svc.selector;
  return plan.pods.filter((p) => selects(sel, p.labels) && !(svc.name === 'kuard' && p.name === missing));
}

/** The Services + endpoints kube-proxy on `node` works from. */
export function kubeProxyServices(plan: SandboxPlan, faults: FaultSet, node: string): ServicePortSpec[] {
  const t = faultTargets(plan);
  return plan.services.map((svc) => {
    let endpoints: { ip: string; port: number }[];
    if (!svc.selector) {
      endpoints = [{ ip: plan.apiServer.ip, port: plan.apiServer.port }];
    } else {
      let pods = endpointPods(plan, svc, faults);
      if (svc.name === 'kuard' && faults['node-drift'] && node === t.driftNode.name) {
        pods = pods.filter((p) => p.name !== t.driftDroppedPod.name);
      }
      endpoints = pods.map((p) => ({ ip: p.ip, port: svc.targetPort }));
      if (svc.name === 'kuard' && faults['stale-sep'])
        endpoints.push({ ip: plan.phantomPodIp, port: svc.targetPort });
    }
    return {
      namespace: svc.namespace,
      name: svc.name,
      portName: svc.portName,
      protocol: 'TCP' as const,
      clusterIP: svc.clusterIP,
      port: svc.port,
      ...(svc.nodePort ? { nodePort: svc.nodePort } : {}),
      endpoints,
    };
  });
}

export function kubeProxyOptions(faults: FaultSet): KubeProxyRulesOptions {
  const skew = faults['skewed-probability'];
  return {
    clusterCIDR: CLUSTER_CIDR,
    ...(skew
      ? {
          probability: (svc: ServicePortSpec, i: number, n: number) =>
            svc.name === 'kuard' && i === 0 ? '0.5000000000' : (1 / (n - i)).toFixed(10),
        }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes objects

/** Facts about the machine that real nodes report (kernel, OS image); passed in to keep this pure. */
export interface HostFacts {
  readonly kernelVersion: string;
  readonly osImage: string;
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid: string;
    readonly creationTimestamp: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly [k: string]: unknown;
  };
  readonly [k: string]: unknown;
}

export interface ClusterObjects {
  readonly namespaces: KubeObject[];
  readonly nodes: KubeObject[];
  readonly pods: KubeObject[];
  readonly services: KubeObject[];
  readonly endpoints: KubeObject[];
  readonly endpointslices: KubeObject[];
  readonly deployments: KubeObject[];
}

export function uid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function byIpString(a: PodPlan, b: PodPlan): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0;
}

export function clusterObjects(
  plan: SandboxPlan,
  faults: FaultSet,
  createdAt: string,
  host: HostFacts,
): ClusterObjects {
  const u = (kind: string, ns: string, name: string): string => uid(`${plan.name}/${kind}/${ns}/${name}`);
  const meta = (
    kind: string,
    name: string,
    ns?: string,
    labels?: Record<string, string>,
    extra: object = {},
  ) => ({
    name,
    ...(ns ? { namespace: ns } : {}),
    uid: u(kind, ns ?? '', name),
    creationTimestamp: createdAt,
    ...(labels ? { labels } : {}),
    ...extra,
  });

  const namespaces = ['default', 'kube-node-lease', 'kube-public', 'kube-system'].map((n) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: meta('Namespace', n, undefined, { 'kubernetes.io/metadata.name': n }),
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  }));

  const nodes = plan.nodes.map((n) => {
    const labels: Record<string, string> = {
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': n.name,
      'kubernetes.io/os': 'linux',
    };
    if (n.role === 'control-plane') labels['node-role.kubernetes.io/control-plane'] = '';
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: meta('Node', n.name, undefined, labels),
      spec: {
        podCIDR: n.podCIDR,
        podCIDRs: [n.podCIDR],
        ...(n.role === 'control-plane'
          ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }
          : {}),
      },
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
            lastHeartbeatTime: createdAt,
            lastTransitionTime: createdAt,
          },
        ],
        addresses: [
          { type: 'InternalIP', address: n.ip },
          { type: 'Hostname', address: n.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: u('machine', '', n.name).replace(/-/g, ''),
          systemUUID: u('system', '', n.name),
          bootID: u('boot', '', n.name),
          kernelVersion: host.kernelVersion,
          osImage: host.osImage,
          containerRuntimeVersion: 'containerd://1.7.24',
          kubeletVersion: 'v1.32.0',
          kubeProxyVersion: 'v1.32.0',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    };
  });

  const nodeByName = new Map(plan.nodes.map((n) => [n.name, n]));
  const pods: KubeObject[] = plan.pods.map((p) => {
    const rs = `kuard-${p.labels['pod-template-hash'] ?? ''}`;
    const hostIP = nodeByName.get(p.node)!.ip;
    const cond = (type: string) => ({
      type,
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: createdAt,
    });
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(
        'Pod',
        p.name,
        p.namespace,
        { ...p.labels },
        {
          generateName: `${rs}-`,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: rs,
              uid: u('ReplicaSet', p.namespace, rs),
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
      ),
      spec: {
        containers: [
          {
            // `kubectl create deployment kuard --image=…/kuard-amd64:1` names the container after the image.
            name: 'kuard-amd64',
            image: 'gcr.io/kuar-demo/kuard-amd64:1',
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            resources: {},
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        serviceAccountName: 'default',
        serviceAccount: 'default',
        nodeName: p.node,
        securityContext: {},
        schedulerName: 'default-scheduler',
        enableServiceLinks: true,
        priority: 0,
        preemptionPolicy: 'PreemptLowerPriority',
      },
      status: {
        phase: 'Running',
        conditions: [
          cond('PodReadyToStartContainers'),
          cond('Initialized'),
          cond('Ready'),
          cond('ContainersReady'),
          cond('PodScheduled'),
        ],
        hostIP,
        hostIPs: [{ ip: hostIP }],
        podIP: p.ip,
        podIPs: [{ ip: p.ip }],
        startTime: createdAt,
        containerStatuses: [
          {
            name: 'kuard-amd64',
            state: { running: { startedAt: createdAt } },
            lastState: {},
            ready: true,
            restartCount: 0,
            image: 'gcr.io/kuar-demo/kuard-amd64:1',
            imageID:
              'gcr.io/kuar-demo/kuard-amd64@sha256:bd17153e9a3319f401acc7a27759243f37d422c06cbbf01cb3e1f54bbbfe14f4',
            containerID: `containerd://${createHash('sha256').update(`${plan.name}/${p.name}`).digest('hex')}`,
            started: true,
          },
        ],
        qosClass: 'BestEffort',
      },
    };
  });

  // kube-proxy, the DaemonSet kubeadm installs: one host-network pod per node (the lab lists them by k8s-app).
  const kubeProxyHash = createHash('sha256').update(`${plan.name}/kube-proxy`).digest('hex').slice(0, 10);
  for (const n of plan.nodes) {
    const podHash = createHash('sha256').update(`${plan.name}/kube-proxy/${n.name}`).digest('hex');
    const name = `kube-proxy-${podHash.slice(0, 5).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)]!)}`;
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(
        'Pod',
        name,
        'kube-system',
        {
          'controller-revision-hash': kubeProxyHash,
          'k8s-app': 'kube-proxy',
          'pod-template-generation': '1',
        },
        {
          generateName: 'kube-proxy-',
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'DaemonSet',
              name: 'kube-proxy',
              uid: u('DaemonSet', 'kube-system', 'kube-proxy'),
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
      ),
      spec: {
        containers: [
          {
            name: 'kube-proxy',
            image: 'registry.k8s.io/kube-proxy:v1.32.0',
            command: [
              '/usr/local/bin/kube-proxy',
              '--config=/var/lib/kube-proxy/config.conf',
              `--hostname-override=${n.name}`,
            ],
            resources: {},
            securityContext: { privileged: true },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        serviceAccountName: 'kube-proxy',
        serviceAccount: 'kube-proxy',
        nodeName: n.name,
        hostNetwork: true,
        securityContext: {},
        schedulerName: 'default-scheduler',
        tolerations: [{ operator: 'Exists' }],
        priorityClassName: 'system-node-critical',
        priority: 2000001000,
        preemptionPolicy: 'PreemptLowerPriority',
      },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: createdAt },
          { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: createdAt },
          { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: createdAt },
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: createdAt },
        ],
        hostIP: n.ip,
        hostIPs: [{ ip: n.ip }],
        podIP: n.ip,
        podIPs: [{ ip: n.ip }],
        startTime: createdAt,
        containerStatuses: [
          {
            name: 'kube-proxy',
            state: { running: { startedAt: createdAt } },
            lastState: {},
            ready: true,
            restartCount: 0,
            image: 'registry.k8s.io/kube-proxy:v1.32.0',
            imageID: 'registry.k8s.io/kube-proxy@sha256:labdeck-sandbox-double',
            containerID: `containerd://${podHash}`,
            started: true,
          },
        ],
        qosClass: 'BestEffort',
      },
    });
  }

  // The Deployment behind the kuard pods, as `kubectl create deployment kuard --image=… --replicas=N` makes it.
  const kuardPods = plan.pods.filter((p) => p.labels['app'] === 'kuard');
  const templateHash = kuardPods[0]?.labels['pod-template-hash'];
  const deployments: KubeObject[] = kuardPods.length
    ? [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: meta(
            'Deployment',
            'kuard',
            'default',
            { app: 'kuard' },
            { generation: 1, annotations: { 'deployment.kubernetes.io/revision': '1' } },
          ),
          spec: {
            replicas: kuardPods.length,
            selector: { matchLabels: { app: 'kuard' } },
            template: {
              metadata: { creationTimestamp: null, labels: { app: 'kuard' } },
              spec: {
                containers: [
                  {
                    name: 'kuard-amd64',
                    image: 'gcr.io/kuar-demo/kuard-amd64:1',
                    resources: {},
                    terminationMessagePath: '/dev/termination-log',
                    terminationMessagePolicy: 'File',
                    imagePullPolicy: 'IfNotPresent',
                  },
                ],
                restartPolicy: 'Always',
                terminationGracePeriodSeconds: 30,
                dnsPolicy: 'ClusterFirst',
                securityContext: {},
                schedulerName: 'default-scheduler',
              },
            },
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
            revisionHistoryLimit: 10,
            progressDeadlineSeconds: 600,
          },
          status: {
            observedGeneration: 1,
            replicas: kuardPods.length,
            updatedReplicas: kuardPods.length,
            readyReplicas: kuardPods.length,
            availableReplicas: kuardPods.length,
            conditions: [
              {
                type: 'Available',
                status: 'True',
                lastUpdateTime: createdAt,
                lastTransitionTime: createdAt,
                reason: 'MinimumReplicasAvailable',
                message: 'Deployment has minimum availability.',
              },
              {
                type: 'Progressing',
                status: 'True',
                lastUpdateTime: createdAt,
                lastTransitionTime: createdAt,
                reason: 'NewReplicaSetAvailable',
                message: `ReplicaSet "kuard-${templateHash ?? ''}" has successfully progressed.`,
              },
            ],
          },
        },
      ]
    : [];

  const services = plan.services.map((s) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(
      'Service',
      s.name,
      s.namespace,
      s.selector ? { app: 'kuard' } : { component: 'apiserver', provider: 'kubernetes' },
    ),
    spec: {
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [
        {
          ...(s.portName ? { name: s.portName } : {}),
          protocol: 'TCP',
          port: s.port,
          targetPort: s.targetPort,
          ...(s.nodePort ? { nodePort: s.nodePort } : {}),
        },
      ],
      ...(s.selector ? { selector: { ...s.selector } } : {}),
      sessionAffinity: 'None',
      type: s.type,
      ...(s.type === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: true } : {}),
      ...(s.type !== 'ClusterIP' ? { externalTrafficPolicy: 'Cluster' } : {}),
    },
    status: { loadBalancer: {} },
  }));

  const endpoints: KubeObject[] = [];
  const endpointslices: KubeObject[] = [];
  for (const s of plan.services) {
    const port = { ...(s.portName ? { name: s.portName } : {}), port: s.targetPort, protocol: 'TCP' };
    // EndpointSlice ports are pointers upstream; the controller always sets name, "" for an unnamed port
    // (kubectl describe dereferences it).
    const slicePort = { name: s.portName, protocol: 'TCP', port: s.targetPort };
    const labels: Record<string, string> = s.selector
      ? { app: 'kuard' }
      : { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
    const sliceName = s.selector ? `${s.name}-${uid(`${plan.name}/slice/${s.name}`).slice(0, 5)}` : s.name;
    if (!s.selector) {
      endpoints.push({
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: meta('Endpoints', s.name, s.namespace, labels),
        subsets: [{ addresses: [{ ip: plan.apiServer.ip }], ports: [port] }],
      });
      endpointslices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta('EndpointSlice', sliceName, s.namespace, { 'kubernetes.io/service-name': s.name }),
        addressType: 'IPv4',
        endpoints: [
          { addresses: [plan.apiServer.ip], conditions: { ready: true, serving: true, terminating: false } },
        ],
        ports: [slicePort],
      });
      continue;
    }
    const eps = endpointPods(plan, s, faults).sort(byIpString);
    const targetRef = (p: PodPlan) => ({
      kind: 'Pod',
      namespace: p.namespace,
      name: p.name,
      uid: u('Pod', p.namespace, p.name),
    });
    endpoints.push({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: meta('Endpoints', s.name, s.namespace, labels),
      ...(eps.length
        ? {
            subsets: [
              {
                addresses: eps.map((p) => ({ ip: p.ip, nodeName: p.node, targetRef: targetRef(p) })),
                ports: [port],
              },
            ],
          }
        : {}),
    });
    endpointslices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: meta(
        'EndpointSlice',
        sliceName,
        s.namespace,
        {
          ...labels,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          'kubernetes.io/service-name': s.name,
        },
        {
          generateName: `${s.name}-`,
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'Service',
              name: s.name,
              uid: u('Service', s.namespace, s.name),
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
      ),
      addressType: 'IPv4',
      endpoints: eps.map((p) => ({
        addresses: [p.ip],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: p.node,
        targetRef: targetRef(p),
      })),
      ports: [slicePort],
    });
  }

  return { namespaces, nodes, pods, services, endpoints, endpointslices, deployments };
}

/** The body a kuard pod answers `GET /env/api` with: the process environment a kubelet gives the container. */
export function kuardEnvResponse(
  plan: SandboxPlan,
  pod: PodPlan,
): { commandLine: string[]; env: Record<string, string> } {
  const env: Record<string, string> = { HOME: '/', HOSTNAME: pod.name };
  // enableServiceLinks: one group of variables per service in the pod's namespace (kubelet envvars.go).
  for (const s of plan.services) {
    const p = s.name.toUpperCase().replace(/-/g, '_');
    const url = `tcp://${s.clusterIP}:${s.port}`;
    env[`${p}_PORT`] = url;
    env[`${p}_PORT_${s.port}_TCP`] = url;
    env[`${p}_PORT_${s.port}_TCP_ADDR`] = s.clusterIP;
    env[`${p}_PORT_${s.port}_TCP_PORT`] = String(s.port);
    env[`${p}_PORT_${s.port}_TCP_PROTO`] = 'tcp';
    env[`${p}_SERVICE_HOST`] = s.clusterIP;
    env[`${p}_SERVICE_PORT`] = String(s.port);
    if (s.portName) env[`${p}_SERVICE_PORT_${s.portName.toUpperCase().replace(/-/g, '_')}`] = String(s.port);
  }
  env['PATH'] = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) sorted[k] = env[k]!;
  return { commandLine: ['/kuard'], env: sorted };
}
