import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type {
  Block,
  CheckResult,
  LabCommandView,
  LabConfirmRequest,
  LabDocument,
  LabSessionInfo,
  LabSummary,
  Step,
} from '../../../src/api/contract';
import type { ApiClient } from '../api/client';
import { segments } from './markdown';

const statusMark = { done: '✔', failed: '✘', skipped: '–' } as const;

function Output({ view }: { view: LabCommandView }) {
  return (
    <div className={`lab-output ${view.exitCode === 0 ? 'ok' : 'failed'}`} data-testid="lab-output">
      <div className="small">
        {view.recorded && <span className="recorded">RECORDED</span>} {view.where} · exit{' '}
        {view.exitCode ?? '–'}
        {view.parsedAs ? ` · read as ${view.parsedAs}` : ''}
      </div>
      {view.stdout && <pre>{view.stdout}</pre>}
      {view.stderr && <pre className="stderr">{view.stderr}</pre>}
    </div>
  );
}

function RunnableBlock(props: {
  block: Block;
  outputs: readonly LabCommandView[];
  running: boolean;
  canRun: boolean;
  onRun: () => void;
}) {
  const { block } = props;
  return (
    <div className="lab-block" data-testid={`lab-block-${block.id}`}>
      <div className="lab-block-head">
        <span className="tag">{block.role}</span>
        {block.kind !== 'solve' && <span className="tag">{block.kind}</span>}
        {block.parse && <span className="small">→ {block.parse}</span>}
        <span className="spacer" />
        <button onClick={props.onRun} disabled={!props.canRun || props.running}>
          {props.running ? 'Running…' : 'Run'}
        </button>
      </div>
      <pre className="command">{block.command}</pre>
      {props.outputs.map((o, i) => (
        <Output key={i} view={o} />
      ))}
    </div>
  );
}

function Checks(props: {
  step: Step;
  results: ReadonlyMap<string, CheckResult>;
  running: boolean;
  canRun: boolean;
  onRun: () => void;
}) {
  return (
    <div className="lab-checks" data-testid="lab-checks">
      <div className="lab-block-head">
        <strong>Checks</strong>
        <span className="spacer" />
        <button onClick={props.onRun} disabled={!props.canRun || props.running}>
          {props.running ? 'Checking…' : 'Check'}
        </button>
      </div>
      <ul>
        {props.step.checks.map((c) => {
          const r = props.results.get(c.id);
          return (
            <li key={c.id} className={r?.status ?? 'pending'} data-testid={`check-${c.id}`}>
              <span className="mark">{r ? statusMark[r.status] : '○'}</span> {c.title}
              {r && r.status !== 'done' && r.message && <div className="small">{r.message}</div>}
              {r && r.status !== 'done' && r.evidence.length > 0 && (
                <ul className="evidence">
                  {r.evidence.map((e, i) => (
                    <li key={i}>
                      <code>{e}</code>
                    </li>
                  ))}
                </ul>
              )}
              {r?.status === 'failed' && r.hint && <div className="small hint">Hint: {r.hint}</div>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function StepView(props: {
  step: Step;
  session: LabSessionInfo | null;
  outputs: ReadonlyMap<string, readonly LabCommandView[]>;
  results: ReadonlyMap<string, CheckResult>;
  busy: string | null;
  onRunBlock: (block: Block) => void;
  onRunChecks: () => void;
  onRunStep: () => void;
  onLink: (url: string) => void;
}) {
  const { step } = props;
  const parts = useMemo(() => segments(step.body), [step.body]);
  const onClick = (event: React.MouseEvent): void => {
    const anchor = (event.target as HTMLElement).closest('a');
    if (!anchor) return;
    event.preventDefault();
    // In-page anchors stay in the page; everything else goes through the link dialog (http/https only).
    if (anchor.getAttribute('href')?.startsWith('#')) return;
    props.onLink(anchor.href);
  };
  const runnable = step.blocks;
  return (
    <article className="lab-step" onClick={onClick}>
      <div className="lab-block-head">
        <h2>{step.title}</h2>
        <span className="spacer" />
        <button
          data-testid="run-step"
          title="Run every block of this step, then its checks"
          onClick={props.onRunStep}
          disabled={props.session === null || props.busy !== null}
        >
          {props.busy === `step:${step.id}` ? 'Running…' : 'Run step'}
        </button>
      </div>
      {parts.map((part, i) => {
        if (part.kind === 'html')
          return <div key={i} className="md" dangerouslySetInnerHTML={{ __html: part.html }} />;
        if (part.kind === 'checks')
          return (
            <Checks
              key={i}
              step={step}
              results={props.results}
              running={props.busy === `checks:${step.id}`}
              canRun={props.session !== null && props.busy === null}
              onRun={props.onRunChecks}
            />
          );
        const block = runnable[part.index];
        if (!block) return null;
        return (
          <RunnableBlock
            key={i}
            block={block}
            outputs={props.outputs.get(block.id) ?? []}
            running={props.busy === `block:${block.id}`}
            canRun={props.session !== null && props.busy === null}
            onRun={() => props.onRunBlock(block)}
          />
        );
      })}
    </article>
  );
}

/** The lab guide: pick a lab and where it runs, then read, run and check its steps in any order. */
export function LabPanel({
  api,
  onLink,
  onError,
}: {
  api: ApiClient;
  onLink: (url: string) => void;
  onError: (m: string) => void;
}) {
  const [labs, setLabs] = useState<readonly LabSummary[]>([]);
  const [doc, setDoc] = useState<LabDocument | null>(null);
  const [session, setSession] = useState<LabSessionInfo | null>(null);
  const [stepId, setStepId] = useState<string | null>(null);
  const [outputs, setOutputs] = useState<ReadonlyMap<string, readonly LabCommandView[]>>(new Map());
  const [results, setResults] = useState<ReadonlyMap<string, CheckResult>>(new Map());
  const [busy, setBusy] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<LabConfirmRequest | null>(null);
  const [environment, setEnvironment] = useState<string>('');
  const [inventory, setInventory] = useState('');
  const [folder, setFolder] = useState('');
  const sessionRef = useRef<LabSessionInfo | null>(null);
  sessionRef.current = session;

  useEffect(() => {
    const offs = [
      api.listen('labs.command', (view) => {
        if (view.session !== sessionRef.current?.id) return;
        const key = view.check ?? view.block;
        setOutputs((prev) => {
          const next = new Map(prev);
          // A new run of a block replaces what it showed; several instances (every node) show side by side.
          const kept = (prev.get(key) ?? []).filter((o) => o.instance !== view.instance);
          next.set(key, [...kept, view]);
          return next;
        });
      }),
      api.listen('labs.check', ({ session: s, result }) => {
        if (s === sessionRef.current?.id) setResults((prev) => new Map(prev).set(result.id, result));
      }),
      api.listen('labs.confirm', (request) => {
        if (request.session === sessionRef.current?.id) setConfirm(request);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [api]);

  const start = useCallback(
    async (id: string, binding: { replay: string } | { inventory: string }) => {
      try {
        if (sessionRef.current)
          await api.call('labs.stop', { session: sessionRef.current.id }).catch(() => {});
        const info = await api.call('labs.start', { id, ...binding });
        setSession(info);
        setOutputs(new Map());
        setResults(new Map());
      } catch (e) {
        onError(`Could not start the lab: ${(e as Error).message}`);
      }
    },
    [api, onError],
  );

  const open = useCallback(
    async (id: string) => {
      try {
        const opened = await api.call('labs.open', { id });
        setDoc(opened);
        setStepId(opened.lab.steps[0]?.id ?? null);
        // The default needs no cluster: play the lab's recording (nothing runs anywhere).
        const recording = opened.recordings.find((r) => r.name === 'sandbox') ?? opened.recordings[0];
        if (recording) {
          setEnvironment(`replay:${recording.name}`);
          await start(id, { replay: recording.name });
        } else {
          setEnvironment('inventory');
          setSession(null);
        }
      } catch (e) {
        onError(`Could not open the lab: ${(e as Error).message}`);
      }
    },
    [api, onError, start],
  );

  const listed = useRef(false);
  useEffect(() => {
    if (listed.current) return;
    listed.current = true;
    api.call('labs.list', {}).then(
      (list) => {
        setLabs(list);
        const first = list.find((l) => l.id === 'tgik-002-networking-and-services') ?? list[0];
        if (first) void open(first.id);
      },
      (e: Error) => onError(`Could not list labs: ${e.message}`),
    );
  }, [api, open, onError]);

  const run = async (key: string, work: () => Promise<unknown>): Promise<void> => {
    setBusy(key);
    try {
      await work();
    } catch (e) {
      onError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  if (!doc) {
    return (
      <div className="lab-panel">
        <p className="hint">{labs.length === 0 ? 'No labs found.' : 'Opening…'}</p>
      </div>
    );
  }
  const step = doc.lab.steps.find((s) => s.id === stepId) ?? doc.lab.steps[0];
  const stepStatus = (s: Step): string => {
    const rs = s.checks.map((c) => results.get(c.id)?.status);
    if (rs.length && rs.every((r) => r === 'done')) return statusMark.done;
    if (rs.some((r) => r === 'failed')) return statusMark.failed;
    return '';
  };

  return (
    <div className="lab-panel" data-testid="lab-panel">
      <header className="lab-head">
        <select aria-label="Lab" value={doc.id} onChange={(e) => void open(e.target.value)}>
          {labs.map((l) => (
            <option key={l.id} value={l.id}>
              {l.title}
            </option>
          ))}
        </select>
        <div className="lab-env">
          <select
            aria-label="Where the lab runs"
            value={environment}
            onChange={(e) => {
              setEnvironment(e.target.value);
              if (e.target.value.startsWith('replay:'))
                void start(doc.id, { replay: e.target.value.slice(7) });
            }}
          >
            {doc.recordings.map((r) => (
              <option key={r.name} value={`replay:${r.name}`}>
                Replay: {r.environment}
              </option>
            ))}
            <option value="inventory">My machines (inventory file)…</option>
          </select>
          {environment === 'inventory' && (
            <form
              className="row"
              onSubmit={(e) => {
                e.preventDefault();
                void start(doc.id, { inventory });
              }}
            >
              <input
                aria-label="Inventory file"
                placeholder="/path/to/inventory.yaml"
                value={inventory}
                onChange={(e) => setInventory(e.target.value)}
              />
              <button type="submit" disabled={!inventory.trim()}>
                Bind
              </button>
            </form>
          )}
        </div>
        {session?.recorded && (
          <p className="recorded-banner" data-testid="recorded-banner">
            Recorded run: commands are answered from{' '}
            {doc.recordings.find((r) => environment === `replay:${r.name}`)?.environment ?? 'a recording'}.
            Nothing runs on any machine.
          </p>
        )}
        {!doc.trusted && (
          <p className="warn small" data-testid="untrusted">
            This lab is not one of LabDeck's own: each command is shown with where it runs, and asked first.{' '}
            <button
              onClick={() =>
                void api.call('labs.trust', { id: doc.id, trusted: true }).then(
                  (summary) => setDoc({ ...doc, ...summary }),
                  (e: Error) => onError(e.message),
                )
              }
            >
              Trust this lab
            </button>
          </p>
        )}
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void api.call('labs.add', { dir: folder.trim() }).then(
              async (summary) => {
                setFolder('');
                setLabs(await api.call('labs.list', {}));
                await open(summary.id);
              },
              (err: Error) => onError(err.message),
            );
          }}
        >
          <input
            aria-label="Lab folder"
            placeholder="open a lab folder: /path/to/lab"
            value={folder}
            onChange={(e) => setFolder(e.target.value)}
          />
          <button type="submit" disabled={!folder.trim()}>
            Open
          </button>
        </form>
      </header>
      <ol className="lab-steps">
        {doc.lab.steps.map((s) => (
          <li key={s.id} className={s.id === step?.id ? 'active' : ''}>
            <button onClick={() => setStepId(s.id)} data-testid={`step-${s.id}`}>
              {s.title} <span className="mark">{stepStatus(s)}</span>
            </button>
          </li>
        ))}
      </ol>
      {step && (
        <StepView
          step={step}
          session={session}
          outputs={outputs}
          results={results}
          busy={busy}
          onLink={onLink}
          onRunBlock={(block) =>
            session &&
            void run(`block:${block.id}`, () =>
              api.call('labs.runBlock', { session: session.id, step: step.id, block: block.id }),
            )
          }
          onRunChecks={() =>
            session &&
            void run(`checks:${step.id}`, () =>
              api.call('labs.runChecks', { session: session.id, step: step.id }),
            )
          }
          onRunStep={() =>
            session &&
            void run(`step:${step.id}`, () =>
              api.call('labs.runStep', { session: session.id, step: step.id }),
            )
          }
        />
      )}
      {confirm && (
        <div className="modal-backdrop" role="dialog" aria-modal="true">
          <div className="modal">
            <h2>Run this command?</h2>
            <p>
              This lab is not trusted. It wants to run on <strong>{confirm.where}</strong>:
            </p>
            <pre className="command">{confirm.command}</pre>
            <div className="actions">
              <button
                autoFocus
                onClick={() => {
                  void api.call('labs.answer', { request: confirm.request, yes: false });
                  setConfirm(null);
                }}
              >
                Don't run
              </button>
              <button
                onClick={() => {
                  void api.call('labs.answer', { request: confirm.request, yes: true });
                  setConfirm(null);
                }}
              >
                Run it
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
