import { useMemo } from 'react';
import type { NodeRow, PodRow, PodServiceRef } from '../../../src/api/contract';
import { WindowedTable, type Column } from './WindowedTable';

const byText = (a: string | null, b: string | null) => (a ?? '').localeCompare(b ?? '');
const byNumber = (a: number | null, b: number | null) => (a ?? -1) - (b ?? -1);

/** `10.244.1.5` sorts before `10.244.1.10`; other addresses after, as text. */
function ipKey(ip: string | null): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip ?? '');
  return m
    ? m
        .slice(1)
        .map((o) => o.padStart(3, '0'))
        .join('.')
    : `~${ip ?? ''}`;
}

const endpointWords: Record<PodServiceRef['endpoint'], { mark: string; title: string; bad: boolean }> = {
  ready: { mark: '✓', title: 'a ready endpoint: gets service traffic', bad: false },
  'not-ready': {
    mark: '✗ not ready',
    title: 'listed under notReadyAddresses: no new connections',
    bad: true,
  },
  missing: {
    mark: '✗ not an endpoint',
    title: 'the endpoints were captured whole and do not list it',
    bad: true,
  },
  unknown: { mark: '?', title: 'endpoints not captured (or the table cut the list)', bad: false },
};

const markWords = {
  'no-service': 'selected by no Service',
  'not-ready': 'not ready',
  'not-endpoint': 'selected but not a ready endpoint',
} as const;

function Services({ pod }: { pod: PodRow }) {
  if (pod.services.length === 0) return <span className="warn">no Service</span>;
  return (
    <>
      {pod.services.map((s, i) => {
        const w = endpointWords[s.endpoint];
        return (
          <span
            key={s.name}
            className={w.bad ? 'bad-text' : ''}
            title={`${s.name}: ${w.title}${s.matchedBy === 'endpoint' ? ' (tied by an endpoint, not by labels)' : ''}`}
          >
            {i > 0 ? ', ' : ''}
            {s.name} {w.mark}
          </span>
        );
      })}
    </>
  );
}

const podColumns: readonly Column<PodRow>[] = [
  {
    key: 'name',
    label: 'name',
    width: 190,
    compare: (a, b) => byText(a.name, b.name),
    cell: (p) => p.name,
  },
  {
    key: 'ip',
    label: 'IP',
    width: 140,
    className: 'mono',
    compare: (a, b) => byText(ipKey(a.ip), ipKey(b.ip)),
    cell: (p) => (p.ip ?? '–') + (p.hostNetwork ? ' (host)' : ''),
  },
  {
    key: 'node',
    label: 'node',
    width: 170,
    compare: (a, b) => byText(a.node, b.node),
    cell: (p) => p.node ?? '–',
  },
  {
    key: 'ready',
    label: 'ready',
    width: 46,
    compare: (a, b) =>
      byNumber(a.isReady === null ? null : +a.isReady, b.isReady === null ? null : +b.isReady),
    cell: (p) => p.ready ?? '?',
  },
  {
    key: 'status',
    label: 'status',
    width: 80,
    compare: (a, b) => byText(a.status, b.status),
    cell: (p) => p.status ?? '?',
  },
  {
    key: 'restarts',
    label: 'restarts',
    width: 56,
    className: 'num',
    compare: (a, b) => byNumber(a.restarts, b.restarts),
    cell: (p) => p.restarts ?? '?',
  },
  {
    key: 'services',
    label: 'services · endpoint?',
    title: 'Services that select the pod (or list it), and whether their endpoints list it as ready',
    width: 220,
    compare: (a, b) => a.services.length - b.services.length,
    cell: (p) => <Services pod={p} />,
  },
  {
    key: 'namespace',
    label: 'namespace',
    width: 90,
    compare: (a, b) => byText(a.namespace, b.namespace),
    cell: (p) => p.namespace,
  },
];

function podRowProps(p: PodRow) {
  const cls = p.marks.includes('not-ready') || p.marks.includes('not-endpoint') ? 'bad' : '';
  return {
    className: `${cls}${p.marks.includes('no-service') ? ' unselected' : ''}`,
    ...(p.marks.length > 0 && { title: p.marks.map((m) => markWords[m]).join('; ') }),
    'data-testid': 'pod-row',
    'data-pod': `${p.namespace}/${p.name}`,
    'data-marks': p.marks.join(' '),
  };
}

/**
 * Every pod, windowed: thousands of rows render only what is in view. Name, IP and node come first: they are what a
 * pod-to-pod step asks, and the side panel is narrow (namespace, which the filter above also picks, comes last).
 */
export function PodsTable({ pods }: { pods: readonly PodRow[] }) {
  return (
    <WindowedTable
      label="Pods"
      testId="pods-table"
      rows={pods}
      columns={podColumns}
      rowKey={(p) => `${p.namespace}/${p.name}`}
      rowProps={podRowProps}
    />
  );
}

function podIps(n: NodeRow): string {
  if (!n.podIPs) return n.pods > 0 ? '(no pod IPs)' : '–';
  const r = n.podIPs;
  return r.count === 1 ? r.first : `${r.first} – ${r.last} (${r.count})`;
}

/** Every node: status, roles, its address, how many pods, and the pod addresses seen there. */
export function NodesTable({
  nodes,
  onShowPods,
}: {
  nodes: readonly NodeRow[];
  onShowPods: (node: string) => void;
}) {
  const columns = useMemo<readonly Column<NodeRow>[]>(
    () => [
      {
        key: 'name',
        label: 'name',
        width: 200,
        compare: (a, b) => byText(a.name, b.name),
        cell: (n) => n.name,
      },
      {
        key: 'status',
        label: 'status',
        width: 90,
        compare: (a, b) => byText(a.status, b.status),
        cell: (n) =>
          n.captured ? (
            (n.status ?? '?')
          ) : (
            <span
              className="small"
              title={
                n.pods > 0
                  ? "No Node was captured: the name comes from pods' NODE column"
                  : 'No Node was captured: the name comes from an iptables-save taken on it'
              }
            >
              {n.pods > 0 ? '(seen in pods)' : '(from its iptables-save)'}
            </span>
          ),
      },
      {
        key: 'roles',
        label: 'roles',
        width: 100,
        compare: (a, b) => byText(a.roles.join(), b.roles.join()),
        cell: (n) => (n.captured ? n.roles.join(',') || '<none>' : ''),
      },
      {
        key: 'internalIP',
        label: 'internal IP',
        width: 110,
        className: 'mono',
        compare: (a, b) => byText(ipKey(a.internalIP), ipKey(b.internalIP)),
        cell: (n) => n.internalIP ?? '–',
      },
      {
        key: 'pods',
        label: 'pods',
        width: 80,
        className: 'num',
        compare: (a, b) => a.pods - b.pods,
        cell: (n) =>
          n.pods > 0 ? (
            <button
              type="button"
              className="link"
              title={`Show the pods on ${n.name}`}
              onClick={() => onShowPods(n.name)}
            >
              {n.pods}
              {n.hostNetworkPods > 0 ? ` (${n.hostNetworkPods} host)` : ''}
            </button>
          ) : (
            0
          ),
      },
      {
        key: 'podCIDR',
        label: 'podCIDR',
        title: "spec.podCIDR, when a Node object said it (tables don't show it)",
        width: 110,
        className: 'mono',
        compare: (a, b) => byText(ipKey(a.podCIDR), ipKey(b.podCIDR)),
        cell: (n) => n.podCIDR ?? '–',
      },
      {
        key: 'podIPs',
        label: 'pod IPs seen',
        title: 'The lowest and highest pod IP on the node (hostNetwork pods left out), and how many',
        width: 230,
        className: 'mono',
        compare: (a, b) => byText(ipKey(a.podIPs?.first ?? null), ipKey(b.podIPs?.first ?? null)),
        cell: (n) => (
          <span
            title={
              n.podIPs
                ? `all within ${n.podIPs.covering} (the smallest prefix holding them: what the IPs show, not the node's allocation)`
                : undefined
            }
          >
            {podIps(n)}
            {n.outsidePodCIDR > 0 ? ` · ${n.outsidePodCIDR} outside podCIDR` : ''}
          </span>
        ),
      },
    ],
    [onShowPods],
  );
  return (
    <WindowedTable
      label="Nodes"
      testId="nodes-table"
      rows={nodes}
      columns={columns}
      rowKey={(n) => n.name}
      rowProps={(n) => ({
        className: n.outsidePodCIDR > 0 || (n.status !== null && !/^Ready\b/.test(n.status)) ? 'bad' : '',
        'data-testid': 'node-row',
        'data-node': n.name,
      })}
    />
  );
}
