import { useEffect, useState } from 'react';
import type { ForwardInfoView } from '../../../src/api/contract';
import type { ApiClient } from '../api/client';
import { useSshHosts } from './useSshHosts';

/** Remote ports where a browser is the usual client: only these get a clickable http link. */
const httpPorts = new Set([80, 443, 3000, 5000, 8000, 8001, 8008, 8080, 8081, 8443, 8888, 9090]);

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The link a forward's local end offers, or null when its target is not http-ish. */
function forwardLink(f: ForwardInfoView): string | null {
  if (!f.listening || !httpPorts.has(f.remotePort)) return null;
  const host =
    f.listening.address === '0.0.0.0' || f.listening.address === '::' ? '127.0.0.1' : f.listening.address;
  return `${f.remotePort === 443 || f.remotePort === 8443 ? 'https' : 'http'}://${hostForUrl(host)}:${f.listening.port}/`;
}

/** The bind address of an OpenSSH `-L` spec, as far as the UI needs it to warn; the backend decides. */
function bindOfSpec(spec: string): string {
  const s = spec.trim().replace(/^-L\s*/, '');
  const v6 = /^\[([^\]]*)\]:/.exec(s);
  if (v6) return v6[1] ?? '';
  const parts = s.split(':');
  if (parts.length === 4) return parts[0] === '*' ? '0.0.0.0' : parts[0] || '127.0.0.1';
  return '127.0.0.1';
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127(\.\d{1,3}){3}$/.test(address);
}

function describeBytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1048576
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1048576).toFixed(1)} MiB`;
}

const stateText: Record<ForwardInfoView['state'], string> = {
  connecting: 'connecting…',
  listening: 'listening',
  reconnecting: 'reconnecting…',
  disconnected: 'disconnected',
  failed: 'failed',
};

/**
 * SSH local forwards (`ssh -L`): what listens where, to which target through which host, and a form to add
 * one on a host the SSH terminals know. Links open only through the app's link confirmation (`onLink`).
 */
export function ForwardsPanel(props: {
  api: ApiClient;
  onLink: (url: string) => void;
  /** Destinations of the open SSH terminals, offered first. */
  knownDestinations: readonly string[];
}) {
  const { api } = props;
  const [forwards, setForwards] = useState<readonly ForwardInfoView[]>([]);
  const [destination, setDestination] = useState('');
  const [config, setConfig] = useState('');
  const [mode, setMode] = useState<'spec' | 'fields'>('spec');
  const [spec, setSpec] = useState('');
  const [bindAddress, setBindAddress] = useState('127.0.0.1');
  const [bindPort, setBindPort] = useState('');
  const [remoteHost, setRemoteHost] = useState('localhost');
  const [remotePort, setRemotePort] = useState('');
  const [expose, setExpose] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    api.call('forwards.list', {}).then(setForwards, () => {});
    return api.listen('forwards.changed', setForwards);
  }, [api]);

  const hosts = useSshHosts(api, config);

  const bind = mode === 'spec' ? bindOfSpec(spec) : bindAddress.trim() || '127.0.0.1';
  const exposed = !isLoopback(bind);
  const ready =
    destination.trim() !== '' &&
    (mode === 'spec'
      ? spec.trim() !== ''
      : bindPort.trim() !== '' && remoteHost.trim() !== '' && remotePort.trim() !== '') &&
    (!exposed || expose);

  const open = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const target =
        mode === 'spec'
          ? { spec: spec.trim() }
          : {
              fields: {
                bindAddress: bindAddress.trim() || '127.0.0.1',
                bindPort: Number(bindPort),
                remoteHost: remoteHost.trim(),
                remotePort: Number(remotePort),
              },
            };
      const f = await api.call('forwards.open', {
        destination: destination.trim(),
        ...(config.trim() ? { config: config.trim() } : {}),
        ...target,
        ...(exposed ? { exposeBeyondLoopback: true } : {}),
      });
      setMessage(
        `Listening on ${f.listening ? `${hostForUrl(f.listening.address)}:${f.listening.port}` : f.spec}.`,
      );
      setSpec('');
      setExpose(false);
    } catch (e) {
      setMessage((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const close = async (f: ForwardInfoView) => {
    try {
      await api.call('forwards.close', { id: f.id });
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  const reconnect = async (f: ForwardInfoView) => {
    try {
      await api.call('forwards.reconnect', { id: f.id });
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  const destinations = [...new Set([...props.knownDestinations, ...hosts])];

  return (
    <div className="forwards" aria-label="SSH forwards">
      <form
        className="forward-form"
        aria-label="Add a local forward"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready && !busy) void open();
        }}
      >
        <p className="small">
          Local forward (<code>ssh -L</code>) on an SSH host, over the same connection as its terminals:
        </p>
        <div className="row">
          <input
            aria-label="Forward SSH host"
            list="forward-hosts"
            placeholder="SSH host (as for terminals)"
            value={destination}
            onChange={(e) => setDestination(e.target.value)}
          />
          <input
            aria-label="Forward SSH config file"
            placeholder="~/.ssh/config (default)"
            value={config}
            onChange={(e) => setConfig(e.target.value)}
          />
        </div>
        <datalist id="forward-hosts">
          {destinations.map((h) => (
            <option key={h} value={h} />
          ))}
        </datalist>
        <fieldset className="row mode" aria-label="How to give the forward">
          <label>
            <input
              type="radio"
              name="forward-mode"
              checked={mode === 'spec'}
              onChange={() => setMode('spec')}
            />
            -L syntax
          </label>
          <label>
            <input
              type="radio"
              name="forward-mode"
              checked={mode === 'fields'}
              onChange={() => setMode('fields')}
            />
            fields
          </label>
        </fieldset>
        {mode === 'spec' ? (
          <input
            aria-label="Forward spec"
            className="mono"
            placeholder="[bind:]port:host:hostport, e.g. 8080:localhost:8080"
            value={spec}
            onChange={(e) => setSpec(e.target.value)}
          />
        ) : (
          <div className="row">
            <input
              aria-label="Bind address"
              value={bindAddress}
              onChange={(e) => setBindAddress(e.target.value)}
            />
            <input
              aria-label="Local port"
              inputMode="numeric"
              placeholder="port (0 = any)"
              value={bindPort}
              onChange={(e) => setBindPort(e.target.value)}
            />
            <input
              aria-label="Remote host"
              value={remoteHost}
              onChange={(e) => setRemoteHost(e.target.value)}
            />
            <input
              aria-label="Remote port"
              inputMode="numeric"
              placeholder="port"
              value={remotePort}
              onChange={(e) => setRemotePort(e.target.value)}
            />
          </div>
        )}
        {exposed && (
          <div className="warn" aria-live="polite">
            <p>
              <strong>{bind}</strong> is not a loopback address: other machines that can reach this one could
              connect through your SSH login to the remote target.
            </p>
            <label>
              <input type="checkbox" checked={expose} onChange={(e) => setExpose(e.target.checked)} />
              Listen on {bind} anyway
            </label>
          </div>
        )}
        <div className="row">
          <button type="submit" disabled={!ready || busy}>
            {busy ? 'Opening…' : 'Add forward'}
          </button>
        </div>
        {message && (
          <p className="small" role="status">
            {message}
          </p>
        )}
      </form>
      {forwards.length === 0 && (
        <p className="hint">
          No forwards. Add one above, like the seed&apos;s <code>-L8080:localhost:8080</code> to the master,
          then browse the app on the local port.
        </p>
      )}
      <ul className="forward-list" aria-label="Forwards">
        {forwards.map((f) => {
          const link = forwardLink(f);
          const local = f.listening
            ? `${hostForUrl(f.listening.address)}:${f.listening.port}`
            : `${hostForUrl(f.bindAddress)}:${f.bindPort}`;
          return (
            <li key={f.id} className={`forward ${f.state}`} data-testid="forward" data-state={f.state}>
              <div className="forward-head">
                {link ? (
                  <button className="link mono" onClick={() => props.onLink(link)} title={`Open ${link}`}>
                    {link}
                  </button>
                ) : (
                  <code>{local}</code>
                )}
                <span aria-hidden="true"> → </span>
                <code>
                  {hostForUrl(f.remoteHost)}:{f.remotePort}
                </code>
                <span className={`tag state-${f.state}`} data-testid="forward-state">
                  {stateText[f.state]}
                </span>
                {f.state === 'disconnected' && (
                  <button
                    aria-label={`Reconnect forward ${local} to ${f.remoteHost}:${f.remotePort}`}
                    onClick={() => void reconnect(f)}
                  >
                    Reconnect
                  </button>
                )}
                <button
                  aria-label={`Close forward ${local} to ${f.remoteHost}:${f.remotePort}`}
                  onClick={() => void close(f)}
                >
                  Close
                </button>
              </div>
              <div className="small">
                via {f.connection ?? f.destination}
                {f.origin === 'ssh_config' ? ' · from ssh_config LocalForward' : ''} · {f.activeConnections}{' '}
                open / {f.totalConnections} connections · ↑{describeBytes(f.bytesOut)} ↓
                {describeBytes(f.bytesIn)}
              </div>
              {f.exposed && (
                <div className="small warn">Listening on {f.bindAddress}: reachable from other machines.</div>
              )}
              {f.error && (
                <div className="small warn" role="status">
                  {f.error.message} ({f.error.where}). {f.error.advice}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
