// The timeline: switches, reconnects, restarts and errors, newest first.
import type { LogEntry } from '@irlkit/shared';

export function Timeline({ entries }: { entries: LogEntry[] }) {
  return (
    <section className="card">
      <h2>Timeline</h2>
      <ol className="timeline" data-testid="timeline">
        {entries.map((e, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: entries have no id and two can share a millisecond
          <li key={`${e.ts}-${i}`} className={e.level}>
            <time>{new Date(e.ts).toLocaleTimeString()}</time> {e.message}
          </li>
        ))}
      </ol>
    </section>
  );
}
