/**
 * The inventory (every pod and node as rows): from the seed's own captures (test/fixtures/…/seed-*.txt), from the
 * kubectl 1.32 layouts of the double-* fixtures, and, where no capture has the case (a pod behind two Services, a
 * podCIDR), from world.ts's model objects (a double of kubectl's parsed output).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  analyzeSnapshot,
  inventoryView,
  ipv4Range,
  snapshotFromParsed,
  type InventoryView,
  type ParsedCapture,
} from '../../src/analyze/index.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { parse } from '../../src/parse/parse.js';
import {
  captured,
  endpoints,
  manyKuardPods,
  node,
  pod,
  service,
  snapshotOf,
  type WorldPod,
} from './support/world.js';

const f = 'test/fixtures';

/** Parses fixture files as a terminal capture would (command from the .meta.json) and builds the snapshot. */
function snapshotOfFiles(files: readonly string[], nodeOf: Record<string, string> = {}): Snapshot {
  const captures: ParsedCapture[] = files.map((file) => {
    const meta = JSON.parse(readFileSync(`${f}/${file}.meta.json`, 'utf8')) as { command?: string };
    const text = readFileSync(`${f}/${file}.txt`, 'utf8');
    const r = parse({ text, ...(meta.command ? { command: meta.command } : {}) });
    return {
      kind: r.kind,
      value: r.value,
      source: { node: nodeOf[file] ?? null, command: meta.command ?? null, takenAt: null },
    };
  });
  return snapshotFromParsed(captures);
}

function inventory(snapshot: Snapshot): InventoryView {
  return inventoryView(snapshot, analyzeSnapshot(snapshot).services);
}

describe('inventory from the seed', () => {
  it('lists every pod of `kubectl get pods -o wide` with no Service, and its nodes with their pod IPs', () => {
    const inv = inventory(snapshotOfFiles(['kubectl-table/seed-networking-get-pods-wide']));
    expect(inv.pods).toHaveLength(10);
    expect(inv.podsOmitted).toBe(0);
    expect(inv.namespaces).toEqual(['default']);
    expect(inv.pods[0]).toEqual({
      namespace: 'default',
      name: 'kuard-dbdd7955d-4kdbr',
      ready: '1/1',
      isReady: true,
      status: 'Running',
      restarts: 0,
      ip: '192.168.3.140',
      node: 'ip-10-0-8-254.ap-northeast-2.compute.internal',
      hostNetwork: false,
      services: [],
      marks: ['no-service'],
    });
    expect(inv.pods.every((p) => p.marks.join() === 'no-service')).toBe(true);
    expect(inv.nodes).toEqual([
      {
        name: 'ip-10-0-8-176.ap-northeast-2.compute.internal',
        captured: false,
        iptables: false,
        status: null,
        roles: [],
        internalIP: null,
        pods: 5,
        hostNetworkPods: 0,
        podCIDR: null,
        podIPs: { first: '192.168.49.6', last: '192.168.49.10', count: 5, covering: '192.168.49.0/28' },
        outsidePodCIDR: 0,
      },
      {
        name: 'ip-10-0-8-254.ap-northeast-2.compute.internal',
        captured: false,
        iptables: false,
        status: null,
        roles: [],
        internalIP: null,
        pods: 5,
        hostNetworkPods: 0,
        podCIDR: null,
        podIPs: { first: '192.168.3.136', last: '192.168.3.140', count: 5, covering: '192.168.3.136/29' },
        outsidePodCIDR: 0,
      },
    ]);
  });

  it("lists a node known only from its iptables-save (the seed's master, which runs no kuard pod)", () => {
    const dump = 'iptables-save/seed-clusterip-iptables-save-less';
    const inv = inventory(
      snapshotOfFiles(['kubectl-table/seed-networking-get-pods-wide', dump], { [dump]: 'ip-10-0-18-181' }),
    );
    expect(inv.nodes.find((n) => n.name === 'ip-10-0-18-181')).toMatchObject({
      captured: false,
      iptables: true,
      pods: 0,
      podIPs: null,
    });
    expect(inv.nodes.filter((n) => n.iptables).map((n) => n.name)).toEqual(['ip-10-0-18-181']);
    expect(inv.nodes).toHaveLength(3);
  });

  it('ties every kuard pod to the kuard Service as a ready endpoint once its Service and Endpoints are captured', () => {
    const inv = inventory(
      snapshotOfFiles([
        'kubectl-table/seed-node-to-pod-get-po-wide',
        'kubectl-object/seed-clusterip-svc-yaml',
        'kubectl-object/seed-none-endpoints-yaml',
      ]),
    );
    expect(inv.pods).toHaveLength(10);
    for (const p of inv.pods) {
      // The table has no labels: the endpoints' targetRef ties each pod.
      expect(p.services).toEqual([{ name: 'kuard', matchedBy: 'endpoint', endpoint: 'ready' }]);
      expect(p.marks).toEqual([]);
    }
  });
});

describe('inventory from kubectl 1.32 layouts (double-* fixtures)', () => {
  const inv = inventory(
    snapshotOfFiles([
      'kubectl-table/double-get-pods-A-wide',
      'kubectl-table/double-get-pods-show-labels',
      'kubectl-table/double-get-nodes-wide',
      'kubectl-table/double-get-svc-wide',
      'kubectl-table/double-get-endpoints',
    ]),
  );
  const row = (name: string) => inv.pods.find((p) => p.name === name)!;

  it('marks a pending pod not ready and selected by no Service', () => {
    expect(row('kuard-5d8c7b9f4-pending')).toMatchObject({
      ready: '0/1',
      isReady: false,
      status: 'Pending',
      ip: null,
      node: null,
      services: [],
      marks: ['no-service', 'not-ready'],
    });
  });

  it('ties a labelled pod to every Service whose selector matches, with what the endpoints say', () => {
    expect(row('kuard-5d8c7b9f4-2xkqp').services).toEqual([
      // headless has no endpoints captured; kuard's table shows this pod's IP.
      { name: 'headless', matchedBy: 'selector', endpoint: 'unknown' },
      { name: 'kuard', matchedBy: 'selector', endpoint: 'ready' },
    ]);
    expect(row('kuard-5d8c7b9f4-2xkqp').marks).toEqual([]);
    // The unlabelled pod on kind-worker2: only kuard's endpoint table (its IP 10.244.2.3) ties it.
    expect(row('kuard-5d8c7b9f4-7wz9m')).toMatchObject({
      restarts: 2,
      services: [{ name: 'kuard', matchedBy: 'endpoint', endpoint: 'ready' }],
      marks: [],
    });
  });

  it('counts a kube-proxy pod on its node as hostNetwork, leaves it out of the pod IP range, lists every node', () => {
    expect(row('kube-proxy-9xk2c')).toMatchObject({ namespace: 'kube-system', hostNetwork: true });
    expect(inv.namespaces).toEqual(['default', 'kube-system']);
    expect(inv.nodes.map((n) => [n.name, n.captured, n.status, n.roles, n.internalIP, n.pods])).toEqual([
      ['kind-control-plane', true, 'Ready', ['control-plane'], '172.18.0.2', 0],
      ['kind-worker', true, 'Ready,SchedulingDisabled', [], '172.18.0.3', 2],
      ['kind-worker2', false, null, [], null, 1],
    ]);
    const worker = inv.nodes.find((n) => n.name === 'kind-worker')!;
    expect(worker.hostNetworkPods).toBe(1);
    expect(worker.podIPs).toEqual({
      first: '10.244.1.5',
      last: '10.244.1.5',
      count: 1,
      covering: '10.244.1.5/32',
    });
    // A node with no pods has no pod IP range, and none is made up.
    expect(inv.nodes[0]!.podIPs).toBeNull();
    expect(inv.nodes[0]!.podCIDR).toBeNull();
  });
});

describe('inventory joins (model objects)', () => {
  const a: WorldPod = { name: 'web-a', ip: '10.244.1.11', node: 'node-a', labels: { app: 'web' } };
  const b: WorldPod = { name: 'web-b', ip: '10.244.1.12', node: 'node-a', labels: { app: 'web' } };
  const c: WorldPod = {
    name: 'web-c',
    ip: '10.244.2.13',
    node: 'node-b',
    labels: { app: 'web' },
    ready: false,
  };
  const lone: WorldPod = { name: 'debug', ip: '10.244.9.9', node: 'node-b', labels: { run: 'debug' } };
  const svc = (name: string, clusterIP: string) =>
    service({ name, clusterIP, port: 80, portName: 'http', targetPort: 8080, selector: { app: 'web' } });
  const snapshot = snapshotOf({
    pods: [captured([a, b, c, lone].map(pod), null, 'kubectl get pods -o yaml')],
    nodes: [
      captured(
        [
          { ...node('node-a', '10.0.0.1'), podCIDR: '10.244.1.0/24' },
          { ...node('node-b', '10.0.0.2'), podCIDR: '10.244.2.0/24' },
        ],
        null,
        'kubectl get nodes -o yaml',
      ),
    ],
    services: [
      captured([svc('web', '10.96.0.10'), svc('web-canary', '10.96.0.11')], null, 'kubectl get svc -o yaml'),
    ],
    endpoints: [
      captured(
        [endpoints('web', 'http', 8080, [a], [c]), endpoints('web-canary', 'http', 8080, [a])],
        null,
        'kubectl get endpoints -o yaml',
      ),
    ],
  });
  const inv = inventory(snapshot);
  const row = (name: string) => inv.pods.find((p) => p.name === name)!;

  it('shows a pod that is a ready endpoint of two Services', () => {
    expect(row('web-a').services).toEqual([
      { name: 'web', matchedBy: 'selector', endpoint: 'ready' },
      { name: 'web-canary', matchedBy: 'selector', endpoint: 'ready' },
    ]);
    expect(row('web-a').marks).toEqual([]);
  });

  it('marks a selected pod missing from complete endpoints, and a not-ready one listed as not ready', () => {
    expect(row('web-b').services.map((s) => s.endpoint)).toEqual(['missing', 'missing']);
    expect(row('web-b').marks).toEqual(['not-endpoint']);
    expect(row('web-c').services.map((s) => s.endpoint)).toEqual(['not-ready', 'missing']);
    expect(row('web-c').marks).toEqual(['not-ready', 'not-endpoint']);
    expect(row('debug').marks).toEqual(['no-service']);
  });

  it('gives each node its podCIDR and says which pod IPs lie outside it', () => {
    const b2 = inv.nodes.find((n) => n.name === 'node-b')!;
    expect(b2).toMatchObject({ podCIDR: '10.244.2.0/24', pods: 2, outsidePodCIDR: 1 });
    expect(b2.podIPs).toEqual({
      first: '10.244.2.13',
      last: '10.244.9.9',
      count: 2,
      covering: '10.244.0.0/20',
    });
    expect(inv.nodes.find((n) => n.name === 'node-a')!.outsidePodCIDR).toBe(0);
  });

  it('caps the rows and says how many it left out', () => {
    const capped = inventoryView(snapshot, analyzeSnapshot(snapshot).services, { maxPods: 3, maxNodes: 1 });
    expect(capped.pods.map((p) => p.name)).toEqual(['debug', 'web-a', 'web-b']);
    expect(capped.podsOmitted).toBe(1);
    expect(capped.nodes.map((n) => n.name)).toEqual(['node-a']);
    expect(capped.nodesOmitted).toBe(1);
  });
});

describe('ipv4Range', () => {
  it('spans the lowest to the highest address with the smallest prefix covering both; skips what is not IPv4', () => {
    expect(ipv4Range(['10.0.0.255', '10.0.1.0', 'fd00::1', 'x'])).toEqual({
      first: '10.0.0.255',
      last: '10.0.1.0',
      count: 2,
      covering: '10.0.0.0/23',
    });
    expect(ipv4Range(['0.0.0.0', '255.255.255.255'])!.covering).toBe('0.0.0.0/0');
    expect(ipv4Range(['fd00::1'])).toBeNull();
  });
});

describe('inventory size', () => {
  it('keeps at most 5,000 pod rows, under 2 M characters as JSON even when every pod is behind two Services', () => {
    const pods = manyKuardPods(6000, (i) => `ip-10-0-${i % 50}-1.ap-northeast-2.compute.internal`);
    const svc = (name: string, clusterIP: string) =>
      service({ name, clusterIP, port: 80, portName: 'http', targetPort: 8080, selector: { app: 'kuard' } });
    const inv = inventory(
      snapshotOf({
        pods: [captured(pods.map(pod), null, 'kubectl get pods -o yaml')],
        services: [captured([svc('kuard', '10.96.0.10'), svc('kuard-canary', '10.96.0.11')], null, 'svc')],
        endpoints: [
          captured(
            [endpoints('kuard', 'http', 8080, pods), endpoints('kuard-canary', 'http', 8080, pods)],
            null,
            'endpoints',
          ),
        ],
      }),
    );
    expect(inv.pods).toHaveLength(5000);
    expect(inv.podsOmitted).toBe(1000);
    expect(inv.pods[4999]!.name).toBe('kuard-5d8c7b9f4-04999');
    expect(inv.pods.every((p) => p.services.length === 2 && p.marks.length === 0)).toBe(true);
    expect(inv.nodes).toHaveLength(50);
    expect(JSON.stringify(inv).length).toBeLessThan(2_000_000);
  });
});
