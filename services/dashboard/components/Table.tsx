// The dashboard's one table shape: a header row of labels and a row per item, each cell drawn by its
// column. Used by the live panels and the session pages alike.
import type { ReactNode } from 'react';

export interface Column<T> {
  label: string;
  cell: (row: T) => ReactNode;
  /** On the header and every cell of the column (e.g. "wide"). */
  className?: string;
}

export function Table<T>({
  testId,
  columns,
  rows,
  rowKey,
  rowClass,
}: {
  testId: string;
  columns: Array<Column<T>>;
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  rowClass?: (row: T) => string | undefined;
}) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.label} className={c.className}>
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)} className={rowClass?.(row)}>
            {columns.map((c) => (
              <td key={c.label} className={c.className}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
