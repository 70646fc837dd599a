/**
 * Mapping kubectl tables and API objects onto the model (Pod, Node, Service, Endpoints, Deployment).
 * Shared by the table parser and the yaml/json parser so both print the same JSON.
 */
import type { Deployment } from '../model/deployment.js';
import type { EndpointAddress, EndpointPort, Endpoints } from '../model/endpoints.js';
import type { KubeObjects, KubeTable } from '../model/kube.js';
import type { Node } from '../model/node.js';
import type { Pod } from '../model/pod.js';
import type { Service, ServicePort } from '../model/service.js';
import { int, type Diagnostics } from './text.js';

export function emptyObjects(): KubeObjects {
  return { pods: [], nodes: [], services: [], endpoints: [], deployments: [], others: [] };
}

const PREFIX_RESOURCE: Record<string, string> = {
  pod: 'pods',
  service: 'services',
  endpoints: 'endpoints',
  node: 'nodes',
  'deployment.apps': 'deployments',
  'deployment.extensions': 'deployments',
  deployment: 'deployments',
  'replicaset.apps': 'replicasets',
  'replicaset.extensions': 'replicasets',
  'daemonset.apps': 'daemonsets',
  'statefulset.apps': 'statefulsets',
  'endpointslice.discovery.k8s.io': 'endpointslices',
};

const CANON: Record<string, string> = {
  po: 'pods',
  pod: 'pods',
  pods: 'pods',
  services: 'services',
  endpoints: 'endpoints',
  nodes: 'nodes',
  deployments: 'deployments',
  replicasets: 'replicasets',
  daemonsets: 'daemonsets',
  statefulsets: 'statefulsets',
  endpointslices: 'endpointslices',
  svc: 'services',
  service: 'services',
  ep: 'endpoints',
  endpoint: 'endpoints',
  no: 'nodes',
  node: 'nodes',
  deploy: 'deployments',
  deployment: 'deployments',
  'deployment.apps': 'deployments',
  rs: 'replicasets',
  replicaset: 'replicasets',
  ds: 'daemonsets',
  daemonset: 'daemonsets',
  sts: 'statefulsets',
  statefulset: 'statefulsets',
  endpointslice: 'endpointslices',
  'endpointslice.discovery.k8s.io': 'endpointslices',
};

/** `po`, `pod`, `deployment.apps` → `pods`, `deployments`; unknown names lower-cased as given. */
export function canonicalResource(resource: string): string {
  const r = resource.toLowerCase();
  return CANON[r] ?? r;
}

/** Which resource a table lists: `kind/` name prefixes (get all), else the command's, else the header's shape. */
export function resourceOf(asked: string | null, table: KubeTable): string | null {
  const nameCol = table.columns.indexOf('NAME');
  const firstName = nameCol >= 0 ? table.rows[0]?.[nameCol] : undefined;
  if (firstName !== undefined) {
    const slash = firstName.indexOf('/');
    if (slash > 0) {
      const p = firstName.slice(0, slash);
      return PREFIX_RESOURCE[p] ?? p;
    }
  }
  if (asked !== null && !asked.includes(',') && asked !== 'all') {
    return canonicalResource(asked.split('/')[0]!);
  }
  const c = new Set(table.columns);
  if (c.has('STATUS') && c.has('RESTARTS')) return 'pods';
  if (c.has('CLUSTER-IP') && c.has('PORT(S)')) return 'services';
  if (c.has('ADDRESSTYPE')) return 'endpointslices';
  if (c.has('ENDPOINTS')) return 'endpoints';
  if (c.has('ROLES') && c.has('VERSION')) return 'nodes';
  if (c.has('UP-TO-DATE') && !c.has('NODE SELECTOR')) return 'deployments';
  if (c.has('NODE SELECTOR')) return 'daemonsets';
  if (c.has('DESIRED') && c.has('CURRENT')) return 'replicasets';
  return null;
}

function nul(v: string | undefined): string | null {
  if (v === undefined || v === '' || v === '<none>' || v === '<unknown>') return null;
  return v;
}

/** `run=kuard,app=x` → record; `<none>` → {}. */
export function labelsOf(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === '<none>' || v === '') return out;
  for (const part of v.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function splitName(v: string): string {
  const slash = v.indexOf('/');
  return slash >= 0 ? v.slice(slash + 1) : v;
}

/** `80:30361/TCP,443/TCP` → service ports (table form: no names, no target ports). */
export function servicePortsOf(v: string | undefined): ServicePort[] {
  const out: ServicePort[] = [];
  if (v === undefined || v === '<none>' || v === '') return out;
  for (const part of v.split(',')) {
    const m = /^(\d+)(?::(\d+))?\/(\w+)$/.exec(part);
    if (!m) continue;
    out.push({
      name: null,
      port: Number(m[1]),
      protocol: m[3]!,
      targetPort: null,
      nodePort: m[2] ? Number(m[2]) : null,
    });
  }
  return out;
}

/** `10.0.0.1:8080,10.0.0.2:8080 + 7 more...` → addresses and ports, and how many were cut. */
function endpointsCell(v: string | undefined): {
  addresses: EndpointAddress[];
  ports: EndpointPort[];
  omitted: number;
} {
  const addresses: EndpointAddress[] = [];
  const ports: EndpointPort[] = [];
  let omitted = 0;
  if (v === undefined || v === '<none>' || v === '') return { addresses, ports, omitted };
  let list = v;
  const more = /\s*\+ (\d+) more\.\.\.$/.exec(v);
  if (more) {
    omitted = Number(more[1]);
    list = v.slice(0, more.index);
  }
  const seenIp = new Set<string>();
  const seenPort = new Set<number>();
  for (const part of list.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    let ip = p;
    let port: number | null = null;
    const m = /^\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(p);
    if (m && (p.includes('.') || p.startsWith('['))) {
      ip = m[1]!;
      port = Number(m[2]);
    }
    if (!seenIp.has(ip)) {
      seenIp.add(ip);
      addresses.push({ ip, nodeName: null, targetRef: null });
    }
    if (port !== null && !seenPort.has(port)) {
      seenPort.add(port);
      ports.push({ name: null, port, protocol: 'TCP' });
    }
  }
  return { addresses, ports, omitted };
}

/** Map one table's rows onto the model, into `into`. */
export function mapTable(
  table: KubeTable,
  namespace: string | null,
  into: KubeObjects,
  diags: Diagnostics,
): void {
  const col = (name: string): number => table.columns.indexOf(name);
  const iNs = col('NAMESPACE');
  const iName = col('NAME');
  const iLabels = col('LABELS');
  const iAge = col('AGE');
  table.rows.forEach((row, r) => {
    const get = (name: string): string | undefined => {
      const i = col(name);
      return i >= 0 ? row[i] : undefined;
    };
    const rawName = iName >= 0 ? (row[iName] ?? '') : '';
    const name = splitName(rawName);
    const ns = iNs >= 0 ? (nul(row[iNs]) ?? null) : namespace;
    const age = iAge >= 0 ? nul(row[iAge]) : null;
    const line = table.line + 1 + r;
    if (name === '') {
      diags.warn('kubectl-row-without-name', line, 1, 'a row has no NAME cell');
      return;
    }
    switch (table.resource) {
      case 'pods': {
        const restartsCell = get('RESTARTS');
        const pod: Pod = {
          namespace: ns,
          name,
          ready: nul(get('READY')),
          status: nul(get('STATUS')),
          // `2 (3h ago)` since kubectl 1.22
          restarts: restartsCell === undefined ? null : int(restartsCell.split(' ')[0]),
          age,
          ip: nul(get('IP')),
          node: nul(get('NODE')),
        };
        if (col('NOMINATED NODE') >= 0) pod.nominatedNode = nul(get('NOMINATED NODE'));
        if (col('READINESS GATES') >= 0) pod.readinessGates = nul(get('READINESS GATES'));
        if (iLabels >= 0) pod.labels = labelsOf(row[iLabels]);
        into.pods.push(pod);
        return;
      }
      case 'services': {
        const ext = get('EXTERNAL-IP');
        const extList =
          ext === undefined || ext === '<none>' || ext === '<pending>' || ext === '' ? [] : ext.split(',');
        const type = nul(get('TYPE'));
        const svc: Service = {
          namespace: ns,
          name,
          type,
          clusterIP: nul(get('CLUSTER-IP')),
          // A table cannot tell spec.externalIPs from load-balancer ingress: LoadBalancer rows go to the latter.
          externalIPs: type === 'LoadBalancer' ? [] : type === 'ExternalName' ? [] : extList,
          ports: servicePortsOf(get('PORT(S)')),
          selector: col('SELECTOR') >= 0 ? labelsOf(get('SELECTOR')) : null,
          sessionAffinity: null,
          externalTrafficPolicy: null,
          age,
        };
        if (type === 'LoadBalancer') svc.loadBalancerIngress = extList;
        if (type === 'ExternalName') svc.externalName = extList[0] ?? null;
        if (ext === '<pending>') svc.loadBalancerIngress = [];
        if (iLabels >= 0) svc.labels = labelsOf(row[iLabels]);
        into.services.push(svc);
        return;
      }
      case 'endpoints':
      case 'endpointslices': {
        const cell = endpointsCell(get('ENDPOINTS'));
        const ep: Endpoints = {
          namespace: ns,
          name,
          addresses: cell.addresses,
          notReadyAddresses: [],
          ports: cell.ports,
          source: table.resource === 'endpointslices' ? 'endpointslice' : 'endpoints',
          age,
        };
        if (table.resource === 'endpointslices') {
          const ports = get('PORTS');
          ep.ports =
            ports === undefined || ports === '<unset>'
              ? []
              : ports
                  .split(',')
                  .map((p) => int(p))
                  .filter((p): p is number => p !== null)
                  .map((port) => ({ name: null, port, protocol: 'TCP' }));
          ep.serviceName = null;
        }
        if (cell.omitted) ep.omitted = cell.omitted;
        into.endpoints.push(ep);
        return;
      }
      case 'nodes': {
        const roles = nul(get('ROLES'));
        const node: Node = {
          name,
          status: nul(get('STATUS')),
          roles: roles === null ? [] : roles.split(','),
          internalIP: nul(get('INTERNAL-IP')),
          externalIP: nul(get('EXTERNAL-IP')),
          age,
          version: nul(get('VERSION')),
        };
        if (col('OS-IMAGE') >= 0) node.osImage = nul(get('OS-IMAGE'));
        if (col('KERNEL-VERSION') >= 0) node.kernelVersion = nul(get('KERNEL-VERSION'));
        if (col('CONTAINER-RUNTIME') >= 0) node.containerRuntime = nul(get('CONTAINER-RUNTIME'));
        if (iLabels >= 0) node.labels = labelsOf(row[iLabels]);
        into.nodes.push(node);
        return;
      }
      case 'deployments':
      case 'replicasets':
      case 'daemonsets':
      case 'statefulsets': {
        const ready = get('READY');
        let readyReplicas: number | null = null;
        let replicas = int(get('DESIRED'));
        if (ready !== undefined && ready.includes('/')) {
          const [a, b] = ready.split('/');
          readyReplicas = int(a);
          replicas = replicas ?? int(b);
        } else if (ready !== undefined) readyReplicas = int(ready);
        const kinds: Record<string, string> = {
          deployments: 'Deployment',
          replicasets: 'ReplicaSet',
          daemonsets: 'DaemonSet',
          statefulsets: 'StatefulSet',
        };
        const images = get('IMAGES');
        const d: Deployment = {
          kind: kinds[table.resource]!,
          namespace: ns,
          name,
          replicas,
          readyReplicas,
          updatedReplicas: int(get('UP-TO-DATE')),
          availableReplicas: int(get('AVAILABLE')),
          age,
          selector: col('SELECTOR') >= 0 ? labelsOf(get('SELECTOR')) : null,
          images: images === undefined || images === '<none>' ? [] : images.split(','),
        };
        into.deployments.push(d);
        return;
      }
      default: {
        const slash = rawName.indexOf('/');
        into.others.push({
          kind: slash > 0 ? rawName.slice(0, slash) : (table.resource ?? 'unknown'),
          namespace: ns,
          name,
        });
      }
    }
  });
}

// ---- API objects (yaml/json) ----

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  return null;
}
function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}
function strMap(v: unknown): Record<string, string> | null {
  const o = obj(v);
  if (o === null) return null;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) {
    const s = str(x);
    if (s !== null) out[k] = s;
  }
  return out;
}

function address(v: unknown): EndpointAddress | null {
  const a = obj(v);
  if (a === null) return null;
  const ip = str(a.ip);
  if (ip === null) return null;
  const t = obj(a.targetRef);
  return {
    ip,
    nodeName: str(a.nodeName),
    targetRef: t === null ? null : { kind: str(t.kind), namespace: str(t.namespace), name: str(t.name) },
  };
}

function endpointPorts(v: unknown): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const p of arr(v)) {
    const o = obj(p);
    const port = o ? num(o.port) : null;
    if (o === null || port === null) continue;
    out.push({ name: str(o.name), port, protocol: str(o.protocol) ?? 'TCP' });
  }
  return out;
}

/** One API object into the model. Returns false when it is not an object with kind and metadata.name. */
export function mapObject(v: unknown, into: KubeObjects): boolean {
  const o = obj(v);
  if (o === null) return false;
  const kind = str(o.kind);
  if (kind === 'List' || (kind !== null && kind.endsWith('List') && Array.isArray(o.items))) {
    let ok = true;
    for (const item of arr(o.items)) ok = mapObject(item, into) && ok;
    return ok;
  }
  const meta = obj(o.metadata) ?? {};
  const name = str(meta.name);
  if (kind === null || name === null) return false;
  const namespace = str(meta.namespace);
  const labels = strMap(meta.labels);
  const spec = obj(o.spec) ?? {};
  const status = obj(o.status) ?? {};
  switch (kind) {
    case 'Pod': {
      const statuses = arr(status.containerStatuses).map(obj);
      const containers = arr(spec.containers).length;
      const ready = statuses.filter((s) => s?.ready === true).length;
      const restarts = statuses.reduce((n, s) => n + (num(s?.restartCount) ?? 0), 0);
      const pod: Pod = {
        namespace,
        name,
        ready: containers > 0 ? `${ready}/${containers}` : null,
        status: str(status.phase),
        restarts: statuses.length ? restarts : null,
        age: null,
        ip: str(status.podIP),
        node: str(spec.nodeName),
      };
      if (labels) pod.labels = labels;
      into.pods.push(pod);
      return true;
    }
    case 'Service': {
      const ports: ServicePort[] = [];
      for (const p of arr(spec.ports)) {
        const po = obj(p);
        const port = po ? num(po.port) : null;
        if (po === null || port === null) continue;
        const tp = po.targetPort;
        ports.push({
          name: str(po.name),
          port,
          protocol: str(po.protocol) ?? 'TCP',
          targetPort: typeof tp === 'number' ? tp : typeof tp === 'string' ? (num(tp) ?? tp) : null,
          nodePort: num(po.nodePort),
        });
      }
      const lb = obj(status.loadBalancer);
      const ingress = arr(lb?.ingress)
        .map((i) => {
          const io = obj(i);
          return io ? (str(io.ip) ?? str(io.hostname)) : null;
        })
        .filter((s): s is string => s !== null);
      const svc: Service = {
        namespace,
        name,
        type: str(spec.type) ?? 'ClusterIP',
        clusterIP: str(spec.clusterIP),
        externalIPs: arr(spec.externalIPs)
          .map(str)
          .filter((s): s is string => s !== null),
        ports,
        selector: strMap(spec.selector) ?? {},
        sessionAffinity: str(spec.sessionAffinity),
        externalTrafficPolicy: str(spec.externalTrafficPolicy),
        loadBalancerIngress: ingress,
      };
      if (spec.externalName !== undefined) svc.externalName = str(spec.externalName);
      if (labels) svc.labels = labels;
      into.services.push(svc);
      return true;
    }
    case 'Endpoints': {
      const ep: Endpoints = {
        namespace,
        name,
        addresses: [],
        notReadyAddresses: [],
        ports: [],
        source: 'endpoints',
      };
      for (const s of arr(o.subsets)) {
        const so = obj(s);
        if (so === null) continue;
        for (const a of arr(so.addresses)) {
          const x = address(a);
          if (x) ep.addresses.push(x);
        }
        for (const a of arr(so.notReadyAddresses)) {
          const x = address(a);
          if (x) ep.notReadyAddresses.push(x);
        }
        for (const p of endpointPorts(so.ports))
          if (!ep.ports.some((q) => q.port === p.port && q.name === p.name)) ep.ports.push(p);
      }
      into.endpoints.push(ep);
      return true;
    }
    case 'EndpointSlice': {
      const ep: Endpoints = {
        namespace,
        name,
        addresses: [],
        notReadyAddresses: [],
        ports: endpointPorts(o.ports),
        serviceName: labels?.['kubernetes.io/service-name'] ?? null,
        source: 'endpointslice',
      };
      for (const e of arr(o.endpoints)) {
        const eo = obj(e);
        if (eo === null) continue;
        const cond = obj(eo.conditions);
        const ready = cond?.ready !== false;
        const t = obj(eo.targetRef);
        for (const ip of arr(eo.addresses)) {
          const s = str(ip);
          if (s === null) continue;
          const a: EndpointAddress = {
            ip: s,
            nodeName: str(eo.nodeName),
            targetRef:
              t === null ? null : { kind: str(t.kind), namespace: str(t.namespace), name: str(t.name) },
          };
          (ready ? ep.addresses : ep.notReadyAddresses).push(a);
        }
      }
      into.endpoints.push(ep);
      return true;
    }
    case 'Node': {
      const addrs = arr(status.addresses).map(obj);
      const addr = (t: string): string | null => str(addrs.find((a) => a?.type === t)?.address);
      const conds = arr(status.conditions).map(obj);
      const readyCond = conds.find((c) => c?.type === 'Ready');
      const roles = Object.keys(labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      const info = obj(status.nodeInfo) ?? {};
      const node: Node = {
        name,
        status: readyCond
          ? readyCond.status === 'True'
            ? 'Ready'
            : readyCond.status === 'False'
              ? 'NotReady'
              : 'Unknown'
          : null,
        roles,
        internalIP: addr('InternalIP'),
        externalIP: addr('ExternalIP'),
        version: str(info.kubeletVersion),
        osImage: str(info.osImage),
        kernelVersion: str(info.kernelVersion),
        containerRuntime: str(info.containerRuntimeVersion),
        podCIDR: str(spec.podCIDR),
      };
      if (spec.unschedulable === true && node.status) node.status += ',SchedulingDisabled';
      if (labels) node.labels = labels;
      into.nodes.push(node);
      return true;
    }
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'StatefulSet': {
      const tmpl = obj(obj(spec.template)?.spec);
      const sel = obj(spec.selector);
      const d: Deployment = {
        kind,
        namespace,
        name,
        replicas: kind === 'DaemonSet' ? num(status.desiredNumberScheduled) : num(spec.replicas),
        readyReplicas: kind === 'DaemonSet' ? num(status.numberReady) : num(status.readyReplicas),
        updatedReplicas:
          kind === 'DaemonSet' ? num(status.updatedNumberScheduled) : num(status.updatedReplicas),
        availableReplicas: kind === 'DaemonSet' ? num(status.numberAvailable) : num(status.availableReplicas),
        age: null,
        selector: strMap(sel?.matchLabels) ?? strMap(sel),
        images: arr(tmpl?.containers)
          .map((c) => str(obj(c)?.image))
          .filter((s): s is string => s !== null),
      };
      into.deployments.push(d);
      return true;
    }
    default:
      into.others.push({ kind, namespace, name });
      return true;
  }
}
