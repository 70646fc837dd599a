import { useState } from 'react';
import type { SshPromptAnswer, SshPromptRequest } from '../../../src/api/contract';
import type { ApiClient } from '../api/client';
import { useSshHosts } from './useSshHosts';

/** Asks for a destination (a Host of the OpenSSH config, or user@host[:port]) and an optional config file. */
export function SshConnectDialog(props: {
  api: ApiClient;
  onConnect: (destination: string, config: string | undefined) => void;
  onCancel: () => void;
}) {
  const [destination, setDestination] = useState('');
  const [config, setConfig] = useState('');
  const hosts = useSshHosts(props.api, config);
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-labelledby="ssh-title">
      <form
        className="modal"
        onSubmit={(e) => {
          e.preventDefault();
          props.onConnect(destination.trim(), config.trim() || undefined);
        }}
      >
        <h2 id="ssh-title">Open an SSH terminal</h2>
        <label>
          Destination
          <input
            aria-label="Destination"
            list="ssh-hosts"
            autoFocus
            placeholder="master, or user@host:port"
            value={destination}
            onChange={(e) => setDestination(e.target.value)}
          />
        </label>
        <datalist id="ssh-hosts">
          {hosts.map((h) => (
            <option key={h} value={h} />
          ))}
        </datalist>
        <label>
          OpenSSH config file
          <input
            aria-label="SSH config file"
            placeholder="~/.ssh/config (default)"
            value={config}
            onChange={(e) => setConfig(e.target.value)}
          />
        </label>
        <p className="small">
          Jump hosts (ProxyJump, or ProxyCommand with <code>ssh … -W</code> / <code>nc %h %p</code>) come from
          the config. Every hop's host key is checked before anything is sent to it.
        </p>
        <div className="actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" disabled={!destination.trim()}>
            Connect
          </button>
        </div>
      </form>
    </div>
  );
}

/** One question SSH asks while connecting: an unknown host key, a passphrase, a password, keyboard-interactive. */
export function SshPromptDialog(props: {
  prompt: SshPromptRequest;
  onAnswer: (answer: SshPromptAnswer) => void;
}) {
  const { prompt } = props;
  const [secret, setSecret] = useState('');
  const [responses, setResponses] = useState<string[]>(
    prompt.kind === 'keyboardInteractive' ? prompt.prompts.map(() => '') : [],
  );
  if (prompt.kind === 'hostKey') {
    return (
      <div className="modal-backdrop" role="dialog" aria-modal="true" aria-labelledby="hostkey-title">
        <div className="modal" data-testid="host-key-prompt">
          <h2 id="hostkey-title">Unknown host key for {prompt.hop}</h2>
          <p>
            {prompt.host}:{prompt.port} presents a {prompt.keyType} key that is not in your known_hosts:
          </p>
          <p className="url">{prompt.fingerprint}</p>
          {prompt.otherKnownTypes.length > 0 && (
            <p className="warn">
              Keys of other types are known for this host ({prompt.otherKnownTypes.join(', ')}).
            </p>
          )}
          <p className="small">
            Compare it with the fingerprint the host's owner gives you. Nothing is sent before you decide.
          </p>
          <div className="actions">
            <button autoFocus onClick={() => props.onAnswer({ hostKey: 'reject' })}>
              Reject
            </button>
            <button onClick={() => props.onAnswer({ hostKey: 'accept-once' })}>Accept once</button>
            <button onClick={() => props.onAnswer({ hostKey: 'accept-and-remember' })}>
              Accept and remember
            </button>
          </div>
        </div>
      </div>
    );
  }
  const title =
    prompt.kind === 'passphrase'
      ? `Passphrase for ${prompt.identityFile}`
      : prompt.kind === 'password'
        ? `Password for ${prompt.user}@${prompt.host}`
        : prompt.name || `${prompt.hop} asks`;
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-labelledby="secret-title">
      <form
        className="modal"
        onSubmit={(e) => {
          e.preventDefault();
          props.onAnswer(prompt.kind === 'keyboardInteractive' ? { responses } : { secret });
        }}
      >
        <h2 id="secret-title">{title}</h2>
        {prompt.kind === 'keyboardInteractive' ? (
          <>
            {prompt.instructions && <p>{prompt.instructions}</p>}
            {prompt.prompts.map((p, i) => (
              <label key={i}>
                {p.prompt}
                <input
                  type={p.echo ? 'text' : 'password'}
                  autoFocus={i === 0}
                  value={responses[i] ?? ''}
                  onChange={(e) => setResponses((r) => r.map((v, j) => (j === i ? e.target.value : v)))}
                />
              </label>
            ))}
          </>
        ) : (
          <input
            type="password"
            aria-label="Secret"
            autoFocus
            autoComplete="off"
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
          />
        )}
        {'attempt' in prompt && prompt.attempt > 1 && (
          <p className="warn small">That was not accepted; try again.</p>
        )}
        <div className="actions">
          <button type="button" onClick={() => props.onAnswer(null)}>
            Cancel
          </button>
          <button type="submit">OK</button>
        </div>
      </form>
    </div>
  );
}
