import { useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';

/** Every row is this tall (CSS `table.windowed tbody tr`), so the rows in view follow from the scroll offset. */
const rowHeight = 22;
/** Rows rendered above and below the visible ones, so a quick scroll does not show blank space. */
const overscan = 12;

export interface Column<R> {
  readonly key: string;
  readonly label: string;
  readonly title?: string;
  /** Width in pixels: the table has a fixed layout, so columns do not jump as other rows scroll in. */
  readonly width: number;
  readonly className?: string;
  /** Sorts by this column when its header is clicked; none: not sortable. */
  readonly compare?: (a: R, b: R) => number;
  readonly cell: (row: R) => ReactNode;
}

interface Sort {
  readonly key: string;
  readonly dir: 1 | -1;
}

/**
 * A table that renders only the rows in view (plus a few either side): thousands of rows stay one scroll container
 * of fixed-height rows, with spacer rows standing in for the others. Headers are real `<th>`s; a click on a
 * sortable header sorts by it, a second click reverses.
 */
export function WindowedTable<R>(props: {
  readonly label: string;
  readonly testId: string;
  readonly rows: readonly R[];
  readonly columns: readonly Column<R>[];
  readonly rowKey: (row: R) => string;
  readonly rowProps?: (row: R) => {
    readonly className?: string;
    readonly title?: string;
    readonly [data: `data-${string}`]: string;
  };
}) {
  const { rows, columns } = props;
  const [sort, setSort] = useState<Sort | null>(null);
  const sorted = useMemo(() => {
    const compare = sort && columns.find((c) => c.key === sort.key)?.compare;
    return compare ? [...rows].sort((a, b) => compare(a, b) * sort.dir) : rows;
  }, [rows, columns, sort]);
  const scroller = useRef<HTMLDivElement>(null);
  const [frame, setFrame] = useState({ top: 0, height: 600 });
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setFrame({ top: el.scrollTop, height: el.clientHeight });
    update();
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(frame.top / rowHeight) - overscan);
  const last = Math.min(sorted.length, Math.ceil((frame.top + frame.height) / rowHeight) + overscan);
  const width = columns.reduce((sum, c) => sum + c.width, 0);
  return (
    <div
      className="windowed-scroll"
      ref={scroller}
      onScroll={(e) => setFrame({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight })}
    >
      <table
        className="grid windowed"
        aria-label={props.label}
        aria-rowcount={sorted.length + 1}
        data-testid={props.testId}
        style={{ width }}
      >
        <colgroup>
          {columns.map((c) => (
            <col key={c.key} style={{ width: c.width }} />
          ))}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            {columns.map((c) => {
              const dir = sort?.key === c.key ? sort.dir : 0;
              return (
                <th
                  key={c.key}
                  scope="col"
                  title={c.title}
                  aria-sort={dir === 1 ? 'ascending' : dir === -1 ? 'descending' : undefined}
                >
                  {c.compare ? (
                    <button
                      type="button"
                      className="sort"
                      onClick={() => setSort({ key: c.key, dir: dir === 1 ? -1 : 1 })}
                    >
                      {c.label}
                      {dir === 1 ? ' ▲' : dir === -1 ? ' ▼' : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {first > 0 && <tr aria-hidden="true" style={{ height: first * rowHeight }} />}
          {sorted.slice(first, last).map((row, i) => (
            <tr key={props.rowKey(row)} aria-rowindex={first + i + 2} {...props.rowProps?.(row)}>
              {columns.map((c) => (
                <td key={c.key} className={c.className}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
          {last < sorted.length && (
            <tr aria-hidden="true" style={{ height: (sorted.length - last) * rowHeight }} />
          )}
        </tbody>
      </table>
    </div>
  );
}
