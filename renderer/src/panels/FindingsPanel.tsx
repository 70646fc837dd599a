import type { SnapshotView } from '../../../src/api/contract';

const icons = { error: '✖', warning: '▲', info: 'ℹ' } as const;

/** What does not add up, each with the evidence it rests on. */
export function FindingsPanel({ view }: { view: SnapshotView | null }) {
  const findings = view?.analysis.findings ?? [];
  if (findings.length === 0) {
    return (
      <p className="hint">{view?.captures.length ? 'Everything captured adds up.' : 'No captures yet.'}</p>
    );
  }
  return (
    <ol className="findings">
      {findings.map((f, i) => (
        <li key={i} className={`finding ${f.severity}`} data-testid="finding" data-code={f.code}>
          <div>
            <span className="icon">{icons[f.severity]}</span> <strong>{f.message}</strong>
          </div>
          <div className="small">
            <code>{f.code}</code> · {f.subject.namespace}/{f.subject.name}
            {f.subject.port ? `:${f.subject.port}` : ''}
            {f.subject.node ? ` on ${f.subject.node}` : ''}
          </div>
          <ul className="evidence">
            {f.evidence.map((e, j) => (
              <li key={j}>
                {e.object && (
                  <span className="small">
                    {e.object}
                    {e.field ? ` · ${e.field}` : ''}:{' '}
                  </span>
                )}
                <code>{e.text}</code>
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ol>
  );
}
