'use client';
// The stream's sessions, newest first, each a link to its report.
import { useEffect, useState } from 'react';
import type { StreamSession } from '../../lib/history/report';
import { type Column, Table } from '../Table';
import { clock, day, duration } from './format';

const COLUMNS: Array<Column<StreamSession>> = [
  { label: 'Day', cell: (s) => <a href={`/sessions/${s.id}`}>{day(s.startTs)}</a> },
  { label: 'From', cell: (s) => clock(s.startTs) },
  { label: 'To', cell: (s) => (s.endTs === null ? 'on air' : clock(s.endTs)) },
  { label: 'Length', cell: (s) => duration((s.endTs ?? Date.now()) - s.startTs) },
];

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
          <Table testId="sessions" columns={COLUMNS} rows={sessions} rowKey={(s) => s.id} />
        </section>
      )}
    </main>
  );
}
