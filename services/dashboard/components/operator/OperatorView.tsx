'use client';
// The operator's page: one line per stream of the host (switcher state and since when, the feed's
// bitrate and RTT, OBS streaming or not, last heard from), read every 2 s, with Start/Stop per stream.
import { useCallback, useEffect, useState } from 'react';
import type { StreamOverview } from '../../lib/operator/overview';
import type { CommandReply, CommandResult } from '../commands';
import { useNow } from '../live/useLiveEvents';
import { type Column, Table } from '../Table';

const REFRESH_MS = 2000;
const STATE_BADGE = { live: 'connected', low: 'reconnecting', offline: 'failed' } as const;

/** "12 s", "4 min", "2 h 5 min" ago. */
function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

async function streamCommand(verb: 'stream.start' | 'stream.stop', stream: string): Promise<CommandResult> {
  const response = await fetch(`/api/operator/commands/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stream }),
  });
  return (await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }))) as CommandResult;
}

export function OperatorView() {
  const [streams, setStreams] = useState<StreamOverview[] | null>(null);
  const [connected, setConnected] = useState(false);
  const [reply, setReply] = useState<CommandReply | null>(null);
  const now = useNow(1000);

  const refresh = useCallback(async () => {
    try {
      const response = await fetch('/api/operator/streams', { cache: 'no-store' });
      if (response.status === 401) {
        window.location.href = '/login';
        return;
      }
      const body = (await response.json()) as { ok: boolean; streams: StreamOverview[] };
      setStreams(body.streams);
      setConnected(true);
    } catch {
      setConnected(false);
    }
  }, []);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  const command = async (verb: 'stream.start' | 'stream.stop', stream: string) => {
    const label = `${verb === 'stream.start' ? 'start' : 'stop'} ${stream}`;
    setReply({ text: `${label}…`, ok: true });
    const result = await streamCommand(verb, stream);
    setReply(result.ok ? { text: `${label}: ${result.queued ?? 'done'}`, ok: true } : { text: `${label}: ${result.error ?? 'failed'}`, ok: false });
    void refresh();
  };

  const columns: Array<Column<StreamOverview>> = [
    { label: 'Stream', cell: (s) => <strong>{s.id}</strong> },
    {
      label: 'Switcher',
      cell: (s) =>
        s.switcher ? (
          <span className={`badge ${STATE_BADGE[s.switcher.state]}`} data-testid={`state-${s.id}`}>
            {s.switcher.state[0]?.toUpperCase()}
            {s.switcher.state.slice(1)}
          </span>
        ) : (
          <span className="badge" data-testid={`state-${s.id}`}>
            unknown
          </span>
        ),
    },
    { label: 'Since', cell: (s) => (s.switcher ? `${ago(now - s.switcher.sinceMs)} (${s.switcher.mode})` : '–') },
    { label: 'Bitrate', cell: (s) => (s.ingest ? (s.ingest.connected ? `${Math.round(s.ingest.bitrateKbps)} kbps` : 'no feed') : '–') },
    { label: 'RTT', cell: (s) => (s.ingest?.connected && s.ingest.rttMs !== null ? `${Math.round(s.ingest.rttMs)} ms` : '–') },
    {
      label: 'OBS',
      cell: (s) => (
        <span data-testid={`obs-${s.id}`}>{s.obs ? (s.obs.reachable ? (s.obs.streaming ? 'streaming' : 'not streaming') : 'unreachable') : '–'}</span>
      ),
    },
    { label: 'Last seen', cell: (s) => (s.lastSeenMs === null ? 'never' : `${ago(now - s.lastSeenMs)} ago`) },
    {
      label: '',
      cell: (s) =>
        s.obs?.streaming ? (
          <button
            type="button"
            className="danger"
            data-testid={`stop-${s.id}`}
            onClick={() => window.confirm(`Stop stream ${s.id}?`) && void command('stream.stop', s.id)}
          >
            Stop stream
          </button>
        ) : (
          <button type="button" className="go" data-testid={`start-${s.id}`} onClick={() => void command('stream.start', s.id)}>
            Start stream
          </button>
        ),
    },
  ];

  return (
    <main className="grid">
      <header className="top">
        <h1>Every stream</h1>
        <div className="meta">
          <span className={`dot ${connected ? 'ok' : 'bad'}`} title={connected ? 'up to date' : 'reconnecting'} />
          <span>operator</span>
          <button type="button" className="ghost" data-testid="logout" onClick={() => logOut()}>
            Log out
          </button>
        </div>
      </header>
      <section className="card every-stream">
        {streams === null ? <p className="note">Loading…</p> : <Table testId="streams" columns={columns} rows={streams} rowKey={(s) => s.id} />}
        <p className={reply?.ok === false ? 'error' : 'note'} role="status" data-testid="reply">
          {reply?.text ?? ' '}
        </p>
      </section>
    </main>
  );
}

function logOut(): void {
  void fetch('/api/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"everywhere":false}' }).finally(() => {
    window.location.href = '/login';
  });
}
