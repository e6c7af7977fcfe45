'use client';
// One session's report: what viewers saw (time per state), every outage with its cause, the bitrate over the
// session on coloured state bands, the bonded links, switches and restarts; JSON and CSV export, printable.
import { useEffect, useMemo, useState } from 'react';
import { Area, CartesianGrid, ComposedChart, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CAUSE_LABELS, type Segment, type SessionReport } from '../../lib/history/report';
import { type Column, Table } from '../Table';
import { clock, day, duration } from './format';

const OUTAGE_COLUMNS: Array<Column<SessionReport['outages'][number]>> = [
  { label: 'When', cell: (o) => clock(o.startTs) },
  { label: 'How long', cell: (o) => duration(o.durationMs) },
  { label: 'Cause', cell: (o) => <span className={`cause ${o.cause}`}>{CAUSE_LABELS[o.cause]}</span> },
  { label: 'Detail', cell: (o) => o.detail, className: 'wide' },
];

const LINK_COLUMNS: Array<Column<SessionReport['links'][number]>> = [
  { label: 'Link', cell: (l) => l.address },
  { label: 'Share', cell: (l) => `${Math.round(l.share * 100)} %` },
  { label: 'Mean', cell: (l) => `${l.meanKbps} kbit/s` },
  { label: 'Drop-outs', cell: (l) => l.dropOuts },
];

const SEGMENT_COLORS: Record<Segment, string> = { live: '#46a758', low: '#f5a524', offline: '#e5484d', manual: '#8e7cc3', stopped: '#5b6478' };
const SEGMENT_LABELS: Record<Segment, string> = { live: 'Live', low: 'Low', offline: 'Offline', manual: 'By hand', stopped: 'Not streaming' };

export function SessionReportView({ id }: { id: string }) {
  const [report, setReport] = useState<SessionReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetch(`/api/sessions/${encodeURIComponent(id)}`, { cache: 'no-store' })
      .then((r) => r.json())
      .then((body: { ok: boolean; report?: SessionReport; error?: string }) =>
        body.ok && body.report ? setReport(body.report) : setError(body.error ?? 'failed'),
      )
      .catch((e: Error) => setError(e.message));
  }, [id]);
  const chart = useMemo(() => report?.chart.map((p) => ({ ...p, label: clock(p.t) })) ?? [], [report]);
  if (error)
    return (
      <main className="report">
        <p className="error">{error}</p>
        <a href="/sessions">← Sessions</a>
      </main>
    );
  if (!report) return <main className="report">Loading…</main>;
  const { session } = report;
  const total = Math.max(1, report.durationMs);
  return (
    <main className="report" data-testid="report">
      <header className="top">
        <div>
          <h1>
            {day(session.startTs)}, {clock(session.startTs)}–{session.endTs === null ? 'on air' : clock(session.endTs)}
          </h1>
          <span className="note" data-testid="report-duration">
            {duration(report.durationMs)} · {report.outages.length} outage{report.outages.length === 1 ? '' : 's'} · {report.switches.length} switch
            {report.switches.length === 1 ? '' : 'es'} · {report.restarts.length} restart{report.restarts.length === 1 ? '' : 's'}
          </span>
        </div>
        <nav className="meta noprint">
          <a href="/sessions">← Sessions</a>
          <a href={`/api/sessions/${session.id}?download=1`} data-testid="export-json">
            JSON
          </a>
          <a href={`/api/sessions/${session.id}?format=csv`} data-testid="export-csv">
            CSV
          </a>
          <button type="button" className="ghost" onClick={() => window.print()}>
            Print
          </button>
        </nav>
      </header>

      <section className="card">
        <h2>What viewers saw</h2>
        <div className="bar" data-testid="state-bar">
          {report.segments.map((s) => (
            <span
              key={`${s.startTs}-${s.segment}`}
              title={`${SEGMENT_LABELS[s.segment]} ${clock(s.startTs)}–${clock(s.endTs)}`}
              style={{ width: `${(100 * (s.endTs - s.startTs)) / total}%`, background: SEGMENT_COLORS[s.segment] }}
            />
          ))}
        </div>
        <ul className="legend" data-testid="time-by-state">
          {(Object.keys(SEGMENT_LABELS) as Segment[]).map((k) => (
            <li key={k}>
              <i style={{ background: SEGMENT_COLORS[k] }} /> {SEGMENT_LABELS[k]} <b>{duration(report.timeMs[k])}</b> (
              {Math.round((100 * report.timeMs[k]) / total)} %)
            </li>
          ))}
        </ul>
      </section>

      <section className="card">
        <h2>Bitrate (kbit/s)</h2>
        <div className="plot tall" data-testid="report-chart">
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={chart} margin={{ top: 4, right: 8, bottom: 0, left: -8 }}>
              <CartesianGrid stroke="#263043" strokeDasharray="3 3" />
              {report.segments
                .filter((s) => s.segment !== 'live')
                .map((s) => (
                  <ReferenceArea
                    key={`${s.startTs}-band`}
                    x1={clock(s.startTs)}
                    x2={clock(s.endTs)}
                    fill={SEGMENT_COLORS[s.segment]}
                    fillOpacity={0.25}
                    ifOverflow="extendDomain"
                  />
                ))}
              <XAxis dataKey="label" stroke="#7d8aa5" fontSize={11} minTickGap={40} />
              <YAxis stroke="#7d8aa5" fontSize={11} />
              <Tooltip contentStyle={{ background: '#151a24', border: '1px solid #263043' }} />
              <Area
                type="monotone"
                dataKey="bitrateKbps"
                name="kbit/s"
                stroke="#4c8dff"
                fill="#4c8dff"
                fillOpacity={0.2}
                dot={false}
                isAnimationActive={false}
              />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
        <p className="note">
          Bitrate p5 / p50 / p95: {report.bitrateKbps.p5 ?? '–'} / {report.bitrateKbps.p50 ?? '–'} / {report.bitrateKbps.p95 ?? '–'} kbit/s · RTT p50 / p95:{' '}
          {report.rttMs.p50 ?? '–'} / {report.rttMs.p95 ?? '–'} ms · lost {report.packets.lost}, dropped {report.packets.dropped} packets
        </p>
      </section>

      <section className="card">
        <h2>Outages</h2>
        {report.outages.length === 0 ? (
          <p className="note">None: the feed was on air the whole time.</p>
        ) : (
          <Table testId="outages" columns={OUTAGE_COLUMNS} rows={report.outages} rowKey={(o) => o.startTs} />
        )}
      </section>

      {report.links.length > 0 && (
        <section className="card">
          <h2>Bonded links</h2>
          <Table testId="report-links" columns={LINK_COLUMNS} rows={report.links} rowKey={(l) => l.address} />
        </section>
      )}

      <section className="card">
        <h2>Switches and restarts</h2>
        <ol className="timeline">
          {[
            ...report.switches.map((s) => ({ ts: s.ts, text: `${s.from} → ${s.to}: ${s.reason}`, level: s.to === 'live' ? 'info' : 'warn' })),
            ...report.restarts.map((r) => ({ ts: r.ts, text: `${r.what} restarted (${r.detail})`, level: 'error' })),
          ]
            .sort((a, b) => a.ts - b.ts)
            .map((e) => (
              <li key={`${e.ts}-${e.text}`} className={e.level}>
                <time>{clock(e.ts)}</time> {e.text}
              </li>
            ))}
        </ol>
      </section>
    </main>
  );
}
