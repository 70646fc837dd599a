import type { BackendView, ServiceView, SnapshotView } from '../../../src/api/contract';

function percent(p: number): string {
  return `${(p * 100).toFixed(p < 0.01 ? 2 : 1)} %`;
}

function shortChain(chain: string): string {
  return chain.length > 22 ? `${chain.slice(0, 21)}…` : chain;
}

function Backends({ backends }: { backends: readonly BackendView[] }) {
  return (
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
        {backends.map((b) => (
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
  );
}

function Service({ service }: { service: ServiceView }) {
  const nodes = Object.entries(service.nodes);
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
      <details open={service.pods.length <= 12}>
        <summary>
          {service.pods.length} pods · {service.endpoints.length} endpoints
        </summary>
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
            {service.pods.map((p) => {
              const endpoint = service.endpoints.find((e) => e.ip === p.ip);
              return (
                <tr key={p.name} className={endpoint || p.ready === false ? '' : 'bad'}>
                  <td>{p.name}</td>
                  <td className="mono">{p.ip ?? '–'}</td>
                  <td>{p.node ?? '–'}</td>
                  <td>{p.ready === null ? '?' : p.ready ? 'yes' : 'no'}</td>
                  <td className="mono">{endpoint ? `${endpoint.ip}:${endpoint.port ?? '?'}` : 'missing'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
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
          <Backends backends={view.backends} />
        </section>
      ))}
    </article>
  );
}

/** The data path of every service in the snapshot: selector → pods → endpoints → each node's chains. */
export function ClusterPanel({ view }: { view: SnapshotView | null }) {
  if (!view || view.analysis.services.length === 0) {
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
      {view.analysis.services.map((s) => (
        <Service key={`${s.namespace}/${s.name}`} service={s} />
      ))}
    </div>
  );
}
