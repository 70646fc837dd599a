import { useCallback, useEffect, useState } from 'react';
import type { KubeContextInfo, KubeStatusView } from '../../../src/api/contract';
import type { ApiClient } from '../api/client';
import { useSshHosts } from '../ssh/useSshHosts';

function describe(s: KubeStatusView): string {
  const where = `${s.context ?? ''}${s.via ? ` via ${s.via}` : ''}`;
  switch (s.state) {
    case 'connecting':
      return `Connecting to ${where}…`;
    case 'connected': {
      const c = s.counts;
      const counts = c ? ` · ${c.pods} pods · ${c.services} services · ${c.nodes} nodes` : '';
      return `Live: ${where}${s.namespace ? ` (namespace ${s.namespace})` : ''}${counts}`;
    }
    case 'reconnecting':
      return `Reconnecting to ${where}…`;
    case 'failed':
      return `Not connected (${where})`;
    case 'disconnected':
      return 'Not connected to a cluster.';
  }
}

/**
 * The live-cluster control above the cluster panel: pick a kubeconfig context, optionally an SSH host to tunnel
 * through (a bastion), connect or disconnect; the state and the last error are read out to screen readers. The
 * cluster's pods, services and endpoints then join the snapshot the panels show.
 */
export function ClusterConnect({ api }: { api: ApiClient }) {
  const [status, setStatus] = useState<KubeStatusView | null>(null);
  const [contexts, setContexts] = useState<readonly KubeContextInfo[]>([]);
  const [contextsError, setContextsError] = useState<string | null>(null);
  const [kubeconfig, setKubeconfig] = useState('');
  const [context, setContext] = useState('');
  const [via, setVia] = useState('');
  const [sshConfig, setSshConfig] = useState('');
  const [busy, setBusy] = useState(false);
  const [callError, setCallError] = useState<string | null>(null);

  useEffect(() => {
    void api.call('kube.status', {}).then(setStatus, () => {});
    return api.listen('kube.state', setStatus);
  }, [api]);

  const loadContexts = useCallback(() => {
    api.call('kube.contexts', kubeconfig.trim() ? { kubeconfig: kubeconfig.trim() } : {}).then(
      (v) => {
        setContexts(v.contexts);
        setContextsError(null);
        setContext((prev) =>
          v.contexts.some((c) => c.name === prev) ? prev : (v.contexts.find((c) => c.current)?.name ?? ''),
        );
      },
      (e: Error) => {
        setContexts([]);
        setContextsError(e.message);
      },
    );
  }, [api, kubeconfig]);

  useEffect(() => {
    const t = setTimeout(loadContexts, 200);
    return () => clearTimeout(t);
  }, [loadContexts]);

  const hosts = useSshHosts(api, sshConfig);

  const live = status !== null && status.state !== 'disconnected' && status.state !== 'failed';

  const connect = async () => {
    setBusy(true);
    setCallError(null);
    try {
      await api.call('kube.connect', {
        ...(kubeconfig.trim() ? { kubeconfig: kubeconfig.trim() } : {}),
        ...(context ? { context } : {}),
        ...(via.trim() ? { via: via.trim() } : {}),
        ...(sshConfig.trim() ? { sshConfig: sshConfig.trim() } : {}),
      });
    } catch (e) {
      setCallError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const disconnect = async () => {
    setBusy(true);
    try {
      await api.call('kube.disconnect', {});
    } catch (e) {
      setCallError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const error = callError ?? status?.error?.message ?? null;
  return (
    <section
      className="cluster-connect"
      aria-labelledby="cluster-connect-title"
      data-testid="cluster-connect"
    >
      <h2 id="cluster-connect-title">Live cluster</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void (live ? disconnect() : connect());
        }}
      >
        <div className="row">
          <label>
            Context
            <select
              aria-label="Kubernetes context"
              value={context}
              disabled={live || busy}
              onChange={(e) => setContext(e.target.value)}
            >
              {contexts.length === 0 && <option value="">(no kubeconfig contexts)</option>}
              {contexts.map((c) => (
                <option key={c.name} value={c.name} title={c.server ?? ''}>
                  {c.name}
                  {c.current ? ' (current)' : ''}
                </option>
              ))}
            </select>
          </label>
          <label>
            Through SSH host
            <input
              aria-label="Through SSH host"
              list="kube-ssh-hosts"
              placeholder="none (direct)"
              value={via}
              disabled={live || busy}
              onChange={(e) => setVia(e.target.value)}
            />
          </label>
          <datalist id="kube-ssh-hosts">
            {hosts.map((h) => (
              <option key={h} value={h} />
            ))}
          </datalist>
          <button
            type="submit"
            disabled={busy || (!live && contexts.length === 0)}
            data-testid="cluster-connect-button"
          >
            {/* Not "Connect": that is the SSH dialog's button, and a second one would be ambiguous to find by name. */}
            {live ? 'Stop watching' : 'Watch cluster'}
          </button>
        </div>
        <details>
          <summary>Files</summary>
          <label>
            Kubeconfig
            <input
              aria-label="Kubeconfig file"
              placeholder="$KUBECONFIG or ~/.kube/config"
              value={kubeconfig}
              disabled={live || busy}
              onChange={(e) => setKubeconfig(e.target.value)}
            />
          </label>
          <label>
            OpenSSH config
            <input
              aria-label="OpenSSH config for the tunnel"
              placeholder="~/.ssh/config"
              value={sshConfig}
              disabled={live || busy}
              onChange={(e) => setSshConfig(e.target.value)}
            />
          </label>
          {contextsError && <p className="small warn">{contextsError}</p>}
        </details>
      </form>
      <p className="small" role="status" aria-live="polite" data-testid="cluster-state">
        {status ? describe(status) : 'Not connected to a cluster.'}
        {status?.truncated ? ' · large cluster: the panels show the first objects only' : ''}
        {status?.tlsUnverified ? ' · TLS NOT VERIFIED (insecure-skip-tls-verify)' : ''}
      </p>
      {error && (
        <p className="small warn" role="alert" data-testid="cluster-error">
          {error}
        </p>
      )}
    </section>
  );
}
