'use client';
// The stream's sessions, newest first, each a link to its report.
import { useEffect, useState } from 'react';
import type { StreamSession } from '../../lib/history/report';
import { clock, day, duration } from './format';

export function SessionList() {
  const [sessions, setSessions] = useState<StreamSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetch('/api/sessions', { cache: 'no-store' })
      .then((r) => r.json())
      .then((body: { ok: boolean; sessions?: StreamSession[]; error?: string }) =>
        body.ok ? setSessions(body.sessions ?? []) : setError(body.error ?? 'failed'),
      )
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <main className="report">
      <header className="top">
        <h1>Sessions</h1>
        <a href="/">← Control room</a>
      </header>
      {error && <p className="error">{error}</p>}
      {sessions && sessions.length === 0 && <p className="note">No sessions yet: one starts when the stream starts.</p>}
      {sessions && sessions.length > 0 && (
        <section className="card">
          <table data-testid="sessions">
            <thead>
              <tr>
                <th>Day</th>
                <th>From</th>
                <th>To</th>
                <th>Length</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>
                    <a href={`/sessions/${s.id}`}>{day(s.startTs)}</a>
                  </td>
                  <td>{clock(s.startTs)}</td>
                  <td>{s.endTs === null ? 'on air' : clock(s.endTs)}</td>
                  <td>{duration((s.endTs ?? Date.now()) - s.startTs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </main>
  );
}
