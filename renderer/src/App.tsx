import { useCallback, useEffect, useMemo, useState } from 'react';
import type {
  AppInfo,
  SnapshotView,
  SshPromptRequest,
  TerminalBlock,
  TerminalInfo,
} from '../../src/api/contract';
import type { ApiClient } from './api/client';
import { TerminalView } from './terminal/TerminalView';
import { LinkDialog } from './LinkDialog';
import { isOpenableLink } from '../../src/api/safety';
import { ClusterPanel } from './panels/ClusterPanel';
import { ClusterConnect } from './panels/ClusterConnect';
import { FindingsPanel } from './panels/FindingsPanel';
import { CapturesPanel } from './panels/CapturesPanel';
import { LabPanel } from './labs/LabPanel';
import { SshConnectDialog, SshPromptDialog } from './ssh/SshDialogs';
import { ForwardsPanel } from './ssh/ForwardsPanel';

const sideTabs = ['cluster', 'findings', 'commands', 'captures', 'forwards'] as const;
type SideTab = (typeof sideTabs)[number];

interface Tab {
  readonly key: number;
  /** Terminal ids shown side by side (a split). */
  readonly panes: readonly string[];
}

function describeExit(info: TerminalInfo): string {
  if (!info.exit) return 'running';
  if (info.exit.reason) return info.exit.reason;
  if (info.exit.signal) return `killed by signal ${info.exit.signal}`;
  return `exited with ${info.exit.exitCode ?? '?'}`;
}

export function App({ api }: { readonly api: ApiClient }) {
  const [appInfo, setAppInfo] = useState<AppInfo | null>(null);
  const [terminals, setTerminals] = useState<ReadonlyMap<string, TerminalInfo>>(new Map());
  const [blocks, setBlocks] = useState<ReadonlyMap<string, readonly TerminalBlock[]>>(new Map());
  const [tabs, setTabs] = useState<readonly Tab[]>([]);
  const [activeTab, setActiveTab] = useState<number | null>(null);
  const [focused, setFocused] = useState<string | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [disconnected, setDisconnected] = useState<string | null>(null);
  const [snapshot, setSnapshot] = useState<SnapshotView | null>(null);
  const [sideTab, setSideTab] = useState<SideTab>('cluster');
  const [showLab, setShowLab] = useState(true);
  const [sshDialog, setSshDialog] = useState(false);
  const [sshPrompts, setSshPrompts] = useState<readonly SshPromptRequest[]>([]);
  const [connecting, setConnecting] = useState<string | null>(null);
  const [restored, setRestored] = useState<ReadonlySet<string>>(new Set());
  /** SSH destinations opened in this window, offered first when adding a forward. */
  const [sshDestinations, setSshDestinations] = useState<readonly string[]>([]);

  const upsert = useCallback((info: TerminalInfo) => {
    setTerminals((prev) => new Map(prev).set(info.id, info));
  }, []);

  /** Shows a terminal in a tab of its own, unless a tab already shows it (e.g. a lab opened it for a role). */
  const showInTab = useCallback((id: string) => {
    setTabs((prev) => {
      const existing = prev.find((t) => t.panes.includes(id));
      if (existing) {
        setActiveTab(existing.key);
        return prev;
      }
      const key = Date.now() + Math.random();
      setActiveTab(key);
      return [...prev, { key, panes: [id] }];
    });
  }, []);

  useEffect(() => {
    api.call('app.info', {}).then(setAppInfo, (e: Error) => setError(e.message));
    api.call('snapshot.get', {}).then(setSnapshot, () => {});
    // After a reload the shells are still there: show each in a tab again.
    api.call('terminal.list', {}).then(
      (list) => {
        if (list.length === 0) return;
        setTerminals(new Map(list.map((t) => [t.id, t])));
        setRestored(new Set(list.map((t) => t.id)));
        const restoredTabs = list.map((t, i) => ({ key: i + 1, panes: [t.id] }));
        setTabs(restoredTabs);
        setActiveTab(restoredTabs.at(-1)?.key ?? null);
      },
      () => {},
    );
    const offs = [
      api.listen('snapshot.changed', setSnapshot),
      api.listen('ssh.prompt', (prompt) => setSshPrompts((prev) => [...prev, prompt])),
      api.listen('terminal.info', upsert),
      // A terminal the backend opened (a lab role's machine, where its commands are typed) gets a tab.
      api.listen('terminal.opened', (info) => {
        upsert(info);
        showInTab(info.id);
      }),
      api.listen('terminal.exit', ({ id, exit }) =>
        setTerminals((prev) => {
          const info = prev.get(id);
          return info ? new Map(prev).set(id, { ...info, exit }) : prev;
        }),
      ),
      api.listen('terminal.block', ({ id, block }) =>
        setBlocks((prev) => new Map(prev).set(id, [...(prev.get(id) ?? []), block])),
      ),
      api.onClose((reason) => setDisconnected(reason)),
    ];
    return () => offs.forEach((off) => off());
  }, [api, upsert, showInTab]);

  const createTerminal = useCallback(
    async (ssh?: { destination: string; config: string | undefined }): Promise<string | null> => {
      try {
        if (ssh) setConnecting(ssh.destination);
        const info = ssh
          ? await api.call('terminal.create', {
              kind: 'ssh',
              cols: 100,
              rows: 30,
              destination: ssh.destination,
              ...(ssh.config ? { config: ssh.config } : {}),
            })
          : await api.call('terminal.create', { kind: 'local', cols: 100, rows: 30 });
        upsert(info);
        setFocused(info.id);
        if (ssh)
          setSshDestinations((prev) => (prev.includes(ssh.destination) ? prev : [...prev, ssh.destination]));
        return info.id;
      } catch (e) {
        setError(`Could not open a terminal: ${(e as Error).message}`);
        return null;
      } finally {
        setConnecting(null);
      }
    },
    [api, upsert],
  );

  const newTab = useCallback(
    async (ssh?: { destination: string; config: string | undefined }) => {
      const id = await createTerminal(ssh);
      if (id) showInTab(id);
    },
    [createTerminal, showInTab],
  );

  const split = useCallback(async () => {
    if (activeTab === null) return newTab();
    const id = await createTerminal();
    if (!id) return;
    setTabs((prev) => prev.map((t) => (t.key === activeTab ? { ...t, panes: [...t.panes, id] } : t)));
  }, [activeTab, createTerminal, newTab]);

  const reconnect = useCallback(
    async (oldId: string) => {
      try {
        const info = await api.call('terminal.reconnect', { id: oldId });
        upsert(info);
        setTabs((prev) =>
          prev.map((t) => ({ ...t, panes: t.panes.map((p) => (p === oldId ? info.id : p)) })),
        );
        setFocused(info.id);
      } catch (e) {
        setError(`Could not reconnect: ${(e as Error).message}`);
      }
    },
    [api, upsert],
  );

  const closeTab = useCallback(
    (key: number) => {
      const tab = tabs.find((t) => t.key === key);
      for (const id of tab?.panes ?? []) void api.call('terminal.close', { id }).catch(() => {});
      const rest = tabs.filter((t) => t.key !== key);
      setTabs(rest);
      if (activeTab === key) setActiveTab(rest.at(-1)?.key ?? null);
    },
    [api, tabs, activeTab],
  );

  const toggleRecording = useCallback(
    async (info: TerminalInfo) => {
      try {
        const { file } = await api.call('terminal.record', { id: info.id, on: info.recording === null });
        upsert({ ...info, recording: file });
      } catch (e) {
        setError(`Recording failed: ${(e as Error).message}`);
      }
    },
    [api, upsert],
  );

  const openLink = useCallback(
    async (url: string) => {
      setLink(null);
      if (!isOpenableLink(url)) {
        setError(`Only http and https links open; not ${url}`);
        return;
      }
      if (appInfo?.host === 'electron') {
        await api.call('app.openExternal', { url }).catch((e: Error) => setError(e.message));
      } else {
        window.open(url, '_blank', 'noopener,noreferrer');
      }
    },
    [api, appInfo],
  );

  const focusedBlocks = useMemo(() => (focused ? (blocks.get(focused) ?? []) : []), [blocks, focused]);

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">LabDeck</span>
        {appInfo && (
          <span className="host-badge" data-testid="host-badge">
            {appInfo.host} host · v{appInfo.version}
          </span>
        )}
        <span className="spacer" />
        <button data-testid="toggle-lab" aria-pressed={showLab} onClick={() => setShowLab((v) => !v)}>
          Lab guide
        </button>
        <button data-testid="new-terminal" onClick={() => void newTab()}>
          New terminal
        </button>
        <button data-testid="ssh-terminal" onClick={() => setSshDialog(true)} disabled={connecting !== null}>
          {connecting ? `Connecting to ${connecting}…` : 'SSH…'}
        </button>
        <button data-testid="split-terminal" onClick={() => void split()} disabled={activeTab === null}>
          Split
        </button>
      </header>
      {disconnected && (
        <div className="banner error">{disconnected}. Restart LabDeck and reload this page.</div>
      )}
      {error && (
        <div className="banner error" role="alert">
          {error} <button onClick={() => setError(null)}>Dismiss</button>
        </div>
      )}
      <nav className="tabs" role="tablist">
        {tabs.map((tab) => {
          const first = terminals.get(tab.panes[0] ?? '');
          return (
            <div key={tab.key} className={`tab ${tab.key === activeTab ? 'active' : ''}`} role="tab">
              <button className="tab-title" onClick={() => setActiveTab(tab.key)} title={first?.cwd ?? ''}>
                {first?.title || first?.shell || 'terminal'}
                {tab.panes.length > 1 ? ` +${tab.panes.length - 1}` : ''}
                {first?.exit ? ` (${describeExit(first)})` : ''}
              </button>
              <button className="tab-close" aria-label="Close tab" onClick={() => closeTab(tab.key)}>
                ×
              </button>
            </div>
          );
        })}
      </nav>
      <main className="workspace">
        <aside className="lab-column" style={{ display: showLab ? 'flex' : 'none' }}>
          <LabPanel api={api} onLink={setLink} onError={setError} />
        </aside>
        <section className="terminals">
          {tabs.length === 0 && (
            <div className="empty">
              <p>No terminal open.</p>
              <button onClick={() => void newTab()}>Open a local terminal</button>
            </div>
          )}
          {tabs.map((tab) => (
            <div
              key={tab.key}
              className="tab-panes"
              style={{ display: tab.key === activeTab ? 'flex' : 'none' }}
            >
              {tab.panes.map((id) => {
                const info = terminals.get(id);
                return (
                  <div key={id} className={`pane ${focused === id ? 'focused' : ''}`}>
                    <TerminalView
                      api={api}
                      id={id}
                      visible={tab.key === activeTab}
                      exited={Boolean(info?.exit)}
                      onLink={setLink}
                      onFocus={() => setFocused(id)}
                      restore={restored.has(id)}
                    />
                    {info && (
                      <div className="statusline" data-testid={`status-${id}`}>
                        <span>{info.shell}</span>
                        <span>pid {info.pid ?? '–'}</span>
                        <span className="cwd">{info.cwd ?? ''}</span>
                        <span className={info.exit ? 'exit' : ''}>{describeExit(info)}</span>
                        {info.kind === 'ssh' && info.exit && (
                          <button onClick={() => void reconnect(info.id)}>Reconnect</button>
                        )}
                        <button onClick={() => void toggleRecording(info)}>
                          {info.recording ? 'Stop recording' : 'Record'}
                        </button>
                      </div>
                    )}
                  </div>
                );
              })}
            </div>
          ))}
        </section>
        <aside className="side">
          <nav className="side-tabs" role="tablist">
            {sideTabs.map((t) => (
              <button
                key={t}
                role="tab"
                aria-selected={sideTab === t}
                className={sideTab === t ? 'active' : ''}
                data-testid={`side-${t}`}
                onClick={() => setSideTab(t)}
              >
                {t === 'findings' && snapshot?.analysis.findings.length
                  ? `findings (${snapshot.analysis.findings.length})`
                  : t}
              </button>
            ))}
          </nav>
          <div className="side-body">
            {sideTab === 'cluster' && (
              <>
                <ClusterConnect api={api} />
                <ClusterPanel view={snapshot} />
              </>
            )}
            {sideTab === 'findings' && <FindingsPanel view={snapshot} />}
            {sideTab === 'captures' && <CapturesPanel api={api} view={snapshot} />}
            {sideTab === 'forwards' && (
              <ForwardsPanel api={api} onLink={setLink} knownDestinations={sshDestinations} />
            )}
            {sideTab === 'commands' && (
              <div className="blocks" aria-label="Commands">
                {focusedBlocks.length === 0 && (
                  <p className="hint">
                    Commands you run in the focused terminal appear here with their exit codes.
                  </p>
                )}
                <ol>
                  {focusedBlocks.map((b) => (
                    <li key={b.seq} className={b.exitCode === 0 ? 'ok' : 'failed'} data-testid="block">
                      <code>{b.command}</code>
                      <span className="exit-code">exit {b.exitCode ?? '?'}</span>
                      <span className="duration">{Math.max(0, b.endedAt - b.startedAt)} ms</span>
                    </li>
                  ))}
                </ol>
              </div>
            )}
          </div>
        </aside>
      </main>
      {sshDialog && (
        <SshConnectDialog
          api={api}
          onCancel={() => setSshDialog(false)}
          onConnect={(destination, config) => {
            setSshDialog(false);
            void newTab({ destination, config });
          }}
        />
      )}
      {sshPrompts[0] && (
        <SshPromptDialog
          key={sshPrompts[0].request}
          prompt={sshPrompts[0]}
          onAnswer={(answer) => {
            const request = sshPrompts[0]!.request;
            setSshPrompts((prev) => prev.slice(1));
            void api.call('ssh.answer', { request, answer }).catch((e: Error) => setError(e.message));
          }}
        />
      )}
      {link && <LinkDialog url={link} onOpen={() => void openLink(link)} onCancel={() => setLink(null)} />}
    </div>
  );
}
