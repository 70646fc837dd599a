import { useState } from 'react';
import type { SnapshotView } from '../../../src/api/contract';
import type { ApiClient } from '../api/client';
import { maxMessageChars } from '../../../src/api/protocol';

/** What one paste may carry: the API's message limit less room for the rest of the message. */
const maxPasteChars = maxMessageChars - 64 * 1024;

/** The captures behind the snapshot, and a place to paste output taken elsewhere. */
export function CapturesPanel({ api, view }: { api: ApiClient; view: SnapshotView | null }) {
  const [text, setText] = useState('');
  const [command, setCommand] = useState('');
  const [node, setNode] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const add = async () => {
    if (text.length > maxPasteChars) {
      setMessage(
        `That is ${(text.length / 1048576).toFixed(1)} M characters, more than a paste can carry (${maxPasteChars / 1048576} M). Run the command in a terminal here, or save it to a file and run labdeck analyze FILE.`,
      );
      return;
    }
    // What was sent: the box is cleared after it is added only if it still holds that, so text typed or pasted
    // meanwhile is never lost; the message says "Adding…" until this one is answered.
    const submitted = text;
    setBusy(true);
    setMessage('Adding…');
    try {
      const { captured } = await api.call('snapshot.add', {
        text: submitted,
        ...(command.trim() ? { command: command.trim() } : {}),
        ...(node.trim() ? { node: node.trim() } : {}),
      });
      if (captured) {
        setText((now) => (now === submitted ? '' : now));
        setMessage(`Added as ${captured.kind}${captured.errors ? ` with ${captured.errors} problems` : ''}.`);
      } else {
        setMessage(
          'No parser recognised this text. Give the command that printed it, or check what was pasted.',
        );
      }
    } catch (e) {
      setMessage((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="captures">
      <form
        className="paste"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <textarea
          aria-label="Output to add"
          placeholder="Paste output: kubectl get pods -o wide, iptables-save, kubectl get svc -o yaml, …"
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={6}
        />
        <div className="row">
          <input
            aria-label="Command"
            placeholder="command (optional)"
            value={command}
            onChange={(e) => setCommand(e.target.value)}
          />
          <input
            aria-label="Node"
            placeholder="node (for iptables-save)"
            value={node}
            onChange={(e) => setNode(e.target.value)}
          />
          <button type="submit" disabled={busy || !text.trim()}>
            Add
          </button>
        </div>
        {message && <p className="small">{message}</p>}
      </form>
      <ol className="capture-list">
        {(view?.captures ?? []).map((c) => (
          <li key={c.id}>
            <div>
              <code>{c.kind}</code> {c.node ? `on ${c.node}` : ''} · {c.origin} ·{' '}
              {new Date(c.takenAt).toLocaleTimeString()}
              <button
                className="link"
                aria-label={`Remove capture ${c.id}`}
                onClick={() => void api.call('snapshot.remove', { id: c.id })}
              >
                remove
              </button>
            </div>
            {c.command && <code className="small">{c.command}</code>}
            {c.problems.map((p) => (
              <div key={p} className="small warn">
                {p}
              </div>
            ))}
          </li>
        ))}
      </ol>
      {(view?.captures.length ?? 0) > 0 && (
        <button onClick={() => void api.call('snapshot.clear', {})}>Clear all</button>
      )}
    </div>
  );
}
