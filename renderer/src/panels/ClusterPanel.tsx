import { useCallback, useMemo, useState } from 'react';
import type { BackendView, InventoryView, ServiceView, SnapshotView } from '../../../src/api/contract';
import { NodesTable, PodsTable } from './InventoryViews';

function percent(p: number): string {
  return `${(p * 100).toFixed(p < 0.01 ? 2 : 1)} %`;
}

/** Rows a Service's tables draw at most; the Pods view (windowed) lists every pod. */
const SERVICE_ROWS = 200;

function More({ shown, total, what }: { shown: number; total: number; what: string }) {
  // `total` may be larger than what the view brought: the backend cuts a big Service's lists (cutFrom).
  if (total <= shown) return null;
  return (
    <p className="hint">
      {(total - shown).toLocaleString('en')} more {what} not drawn here ({total.toLocaleString('en')} in all):
      the Pods view lists every pod, with filters.
    </p>
  );
}

function shortChain(chain: string): string {
  return chain.length > 22 ? `${chain.slice(0, 21)}…` : chain;
}

function Backends({ backends, total }: { backends: readonly BackendView[]; total: number }) {
  return (
    <>
      <table className="grid backends">
        <thead>
          <tr>
            <th>chain</th>
            <th>DNAT to</th>
            <th>pod</th>
            <th title="the rule's own --probability">rule p</th>
            <th title="the share of new connections: p_i × Π(1 − p_j) over the rules before it">share</th>
          </tr>
        </thead>
        <tbody>
          {backends.slice(0, SERVICE_ROWS).map((b) => (
            <tr
              key={`${b.servicePort}/${b.chain}`}
              className={b.ip !== null && !b.isEndpoint ? 'bad' : ''}
              title={b.rule}
            >
              <td className="mono">{shortChain(b.chain)}</td>
              <td className="mono">{b.ip ? `${b.ip}:${b.port ?? '?'}` : '(chain not captured)'}</td>
              <td>{b.pod ?? (b.ip !== null && !b.isEndpoint ? 'no endpoint' : '')}</td>
              <td className="num">{b.probability === null ? 'rest' : b.probability.toFixed(5)}</td>
              <td className="share">
                <span className="bar" style={{ width: `${Math.min(100, b.effectiveProbability * 100)}%` }} />
                <span className="num">{percent(b.effectiveProbability)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <More shown={Math.min(SERVICE_ROWS, backends.length)} total={total} what="backends" />
    </>
  );
}

function Service({ service }: { service: ServiceView }) {
  const nodes = Object.entries(service.nodes);
  // Drawn only while open, and at most SERVICE_ROWS rows: a live cluster's Service may have thousands of pods,
  // and the view is replaced on every change.
  const podCount = service.cutFrom?.pods ?? service.pods.length;
  const [open, setOpen] = useState(podCount <= 12);
  const endpointByIp = useMemo(
    () => new Map(service.endpoints.map((e) => [e.ip, e] as const)),
    [service.endpoints],
  );
  return (
    <article className="service" data-testid={`service-${service.namespace}-${service.name}`}>
      <h3>
        {service.namespace}/{service.name}
        <span className="tag">{service.type ?? 'type unknown'}</span>
        {service.clusterIP && <span className="mono">{service.clusterIP}</span>}
      </h3>
      {service.ports.length > 0 && (
        <p className="ports mono">
          {service.ports
            .map(
              (p) =>
                `${p.name ? `${p.name} ` : ''}${p.port}→${p.targetPort ?? '?'}${p.nodePort ? ` nodePort ${p.nodePort}` : ''}/${p.protocol}`,
            )
            .join(', ')}
        </p>
      )}
      {service.notes.map((n) => (
        <p key={n} className="note">
          {n}
        </p>
      ))}
      <details open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>
          {podCount} pods · {service.cutFrom?.endpoints ?? service.endpoints.length} endpoints
        </summary>
        {open && (
          <>
            <table className="grid">
              <thead>
                <tr>
                  <th>pod</th>
                  <th>IP</th>
                  <th>node</th>
                  <th>ready</th>
                  <th>endpoint</th>
                </tr>
              </thead>
              <tbody>
                {service.pods.slice(0, SERVICE_ROWS).map((p) => {
                  const endpoint = p.ip === null ? undefined : endpointByIp.get(p.ip);
                  return (
                    <tr key={p.name} className={endpoint || p.ready === false ? '' : 'bad'}>
                      <td>{p.name}</td>
                      <td className="mono">{p.ip ?? '–'}</td>
                      <td>{p.node ?? '–'}</td>
                      <td>{p.ready === null ? '?' : p.ready ? 'yes' : 'no'}</td>
                      <td className="mono">
                        {endpoint ? `${endpoint.ip}:${endpoint.port ?? '?'}` : 'missing'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <More shown={Math.min(SERVICE_ROWS, service.pods.length)} total={podCount} what="pods" />
          </>
        )}
      </details>
      {nodes.length === 0 && (
        <p className="hint">No iptables-save from a node yet: capture one to see the chains.</p>
      )}
      {nodes.map(([node, view]) => (
        <section key={node} className="node" data-testid={`chains-${node}`}>
          <h4>on {node}</h4>
          {view.ports.map((p) => (
            <p key={p.servicePort} className="mono small">
              {p.clusterIPRule ? 'KUBE-SERVICES ✓' : 'no KUBE-SERVICES entry'}
              {p.nodePortRule ? ' · KUBE-NODEPORTS ✓' : ''} → {p.svcChain ?? 'no KUBE-SVC chain'}
              {p.affinity ? ` · session affinity ${p.affinity.seconds ?? '?'} s` : ''}
            </p>
          ))}
          <Backends
            backends={view.backends}
            total={service.cutFrom?.backends[node] ?? view.backends.length}
          />
        </section>
      ))}
    </article>
  );
}

const modes = [
  { key: 'services', label: 'Services' },
  { key: 'pods', label: 'Pods' },
  { key: 'nodes', label: 'Nodes' },
] as const;
type Mode = (typeof modes)[number]['key'];

function matches(text: string, ...fields: readonly (string | null)[]): boolean {
  return text === '' || fields.some((f) => f !== null && f.toLowerCase().includes(text));
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en')} ${what}`;
}

/** The Pods and Nodes views with their filters: namespace, node, text (name, IP, node), only pods worth a look. */
function Inventory({
  mode,
  inventory,
  onMode,
}: {
  mode: 'pods' | 'nodes';
  inventory: InventoryView;
  onMode: (m: Mode) => void;
}) {
  const [namespace, setNamespace] = useState('');
  const [node, setNode] = useState('');
  // Each view keeps its own text filter: a pod IP typed under Pods would hide every node.
  const [texts, setTexts] = useState({ pods: '', nodes: '' });
  const text = texts[mode];
  const setText = (t: string) => setTexts((all) => ({ ...all, [mode]: t }));
  const [onlyMarked, setOnlyMarked] = useState(false);
  const podNeedle = texts.pods.trim().toLowerCase();
  const nodeNeedle = texts.nodes.trim().toLowerCase();
  const textLabel = mode === 'pods' ? 'Filter pods (name, IP, node)' : 'Filter nodes (name, IP)';
  const pods = useMemo(
    () =>
      inventory.pods.filter(
        (p) =>
          (namespace === '' || p.namespace === namespace) &&
          (node === '' || p.node === node) &&
          (!onlyMarked || p.marks.length > 0) &&
          matches(podNeedle, p.name, p.ip, p.node),
      ),
    [inventory.pods, namespace, node, onlyMarked, podNeedle],
  );
  const nodes = useMemo(
    () => inventory.nodes.filter((n) => matches(nodeNeedle, n.name, n.internalIP, n.podCIDR)),
    [inventory.nodes, nodeNeedle],
  );
  const showPods = useCallback(
    (name: string) => {
      setNode(name);
      setTexts((all) => ({ ...all, pods: '' }));
      onMode('pods');
    },
    [onMode],
  );
  const marked = useMemo(() => {
    const c = { 'no-service': 0, 'not-ready': 0, 'not-endpoint': 0 };
    for (const p of pods) for (const m of p.marks) c[m]++;
    return c;
  }, [pods]);
  return (
    <div className="inventory">
      <div className="filters">
        {mode === 'pods' && (
          <>
            <label>
              Namespace
              <select aria-label="Namespace" value={namespace} onChange={(e) => setNamespace(e.target.value)}>
                <option value="">all</option>
                {inventory.namespaces.map((ns) => (
                  <option key={ns} value={ns}>
                    {ns}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Node
              <select aria-label="Node" value={node} onChange={(e) => setNode(e.target.value)}>
                <option value="">all</option>
                {inventory.nodes.map((n) => (
                  <option key={n.name} value={n.name}>
                    {n.name}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
        <label>
          {textLabel}
          <input
            type="search"
            aria-label={textLabel}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        {mode === 'pods' && (
          <label className="check">
            <input type="checkbox" checked={onlyMarked} onChange={(e) => setOnlyMarked(e.target.checked)} />
            Only pods worth a look
          </label>
        )}
      </div>
      {mode === 'pods' ? (
        <>
          <p className="small" data-testid="pods-summary">
            {count(pods.length, 'pods')}
            {pods.length !== inventory.pods.length ? ` of ${inventory.pods.length.toLocaleString('en')}` : ''}
            {marked['no-service'] > 0 && ` · ${count(marked['no-service'], 'selected by no Service')}`}
            {marked['not-ready'] > 0 && ` · ${count(marked['not-ready'], 'not ready')}`}
            {marked['not-endpoint'] > 0 &&
              ` · ${count(marked['not-endpoint'], 'not a ready endpoint of their Service')}`}
            {inventory.podsOmitted > 0 &&
              ` · ${count(inventory.podsOmitted, 'more not shown (the view holds the first 5,000 by namespace and name)')}`}
          </p>
          <PodsTable pods={pods} />
        </>
      ) : (
        <>
          <p className="small" data-testid="nodes-summary">
            {count(nodes.length, 'nodes')}
            {inventory.nodesOmitted > 0 && ` · ${count(inventory.nodesOmitted, 'more not shown')}`}
          </p>
          <NodesTable nodes={nodes} onShowPods={showPods} />
        </>
      )}
    </div>
  );
}

/**
 * The cluster in three views: per Service (selector → pods → endpoints → each node's chains), every Pod, every Node.
 */
export function ClusterPanel({ view }: { view: SnapshotView | null }) {
  const [mode, setMode] = useState<Mode>('services');
  const inventory = view?.inventory;
  if (!view || (view.analysis.services.length === 0 && !inventory?.pods.length && !inventory?.nodes.length)) {
    return (
      <p className="hint">
        Nothing captured yet. Run <code>kubectl get pods -o wide</code>,{' '}
        <code>kubectl get svc,endpoints -o yaml</code> or <code>iptables-save</code> in a terminal, or paste
        their output under Captures.
      </p>
    );
  }
  return (
    <div className="cluster">
      <div
        className="view-switch"
        role="tablist"
        aria-label="Cluster view"
        onKeyDown={(e) => {
          // The tabs pattern: arrow keys move between tabs, Home/End to the first/last (WAI-ARIA APG, "Tabs").
          const at = modes.findIndex((m) => m.key === mode);
          const to =
            e.key === 'ArrowRight'
              ? (at + 1) % modes.length
              : e.key === 'ArrowLeft'
                ? (at + modes.length - 1) % modes.length
                : e.key === 'Home'
                  ? 0
                  : e.key === 'End'
                    ? modes.length - 1
                    : -1;
          if (to < 0) return;
          e.preventDefault();
          setMode(modes[to]!.key);
          e.currentTarget.querySelectorAll<HTMLElement>('[role="tab"]')[to]?.focus();
        }}
      >
        {modes.map((m) => (
          <button
            key={m.key}
            type="button"
            role="tab"
            id={`cluster-tab-${m.key}`}
            aria-selected={mode === m.key}
            tabIndex={mode === m.key ? 0 : -1}
            aria-controls="cluster-view"
            className={mode === m.key ? 'active' : ''}
            data-testid={`cluster-view-${m.key}`}
            onClick={() => setMode(m.key)}
          >
            {m.label}
            {m.key === 'services' && ` (${view.analysis.services.length})`}
            {m.key === 'pods' &&
              inventory &&
              ` (${(inventory.pods.length + inventory.podsOmitted).toLocaleString('en')})`}
            {m.key === 'nodes' && inventory && ` (${inventory.nodes.length + inventory.nodesOmitted})`}
          </button>
        ))}
      </div>
      <div id="cluster-view" role="tabpanel" aria-labelledby={`cluster-tab-${mode}`}>
        {mode === 'services' &&
          (view.analysis.services.length === 0 ? (
            <p className="hint">No Service captured yet: see every pod and node under Pods and Nodes.</p>
          ) : (
            view.analysis.services.map((s) => <Service key={`${s.namespace}/${s.name}`} service={s} />)
          ))}
        {mode !== 'services' && inventory && <Inventory mode={mode} inventory={inventory} onMode={setMode} />}
      </div>
    </div>
  );
}
