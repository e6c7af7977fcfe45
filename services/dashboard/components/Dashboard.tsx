'use client';
// The control room: live state from the SSE stream, commands as POSTs whose replies are shown.
import type { CommandVerb, IngestLink, IngestSrtla, IngestStats, LogEntry, ObsScreenshot, ObsState, ProcessEvent, SwitcherState } from '@irlkit/shared';
import { useEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

const WINDOW_MS = 5 * 60_000;
const STALE_STATS_MS = 3000;

interface Point {
  t: number;
  bitrate: number;
  rtt: number | null;
  loss: number;
}

export function Dashboard({ desktopUrl, streamId }: { desktopUrl: string; streamId: string }) {
  const [obs, setObs] = useState<ObsState | null>(null);
  const [switcher, setSwitcher] = useState<SwitcherState | null>(null);
  const [stats, setStats] = useState<IngestStats | null>(null);
  const [link, setLink] = useState<IngestLink | null>(null);
  const [srtla, setSrtla] = useState<IngestSrtla | null>(null);
  const [shot, setShot] = useState<ObsScreenshot | null>(null);
  const [timelineEntries, setTimeline] = useState<LogEntry[]>([]);
  const [points, setPoints] = useState<Point[]>([]);
  const [reply, setReply] = useState<{ text: string; ok: boolean } | null>(null);
  const [connected, setConnected] = useState(false);
  /** Latest state of each container the bridge's watchdog follows (compose deployments only). */
  const [containers, setContainers] = useState<Record<string, ProcessEvent>>({});
  const [now, setNow] = useState(Date.now());
  const statsAt = useRef(0);

  useEffect(() => {
    let source: EventSource | undefined;
    let checkTimer: ReturnType<typeof setTimeout> | undefined;
    let disposed = false;
    let serverClockOffset = 0;

    // After an error: an ended session goes to the login page; while the server is unreachable (a
    // restart, a network hiccup) keep asking, once a second; once it answers, reconnect if the browser
    // gave up (it stops retrying for good after any non-200 answer, such as a 502 from a proxy). One
    // chain of questions at a time: `checking` covers the request and the wait after it.
    let checking = false;
    const later = (next: () => void) => {
      checkTimer = setTimeout(() => {
        checkTimer = undefined;
        next();
      }, 1000);
    };
    const check = () => {
      if (disposed || source?.readyState === EventSource.OPEN) {
        checking = false;
        return;
      }
      checking = true;
      fetch('/api/events', { method: 'HEAD', cache: 'no-store' }).then(
        (r) => {
          if (disposed) return;
          if (r.status === 401) window.location.assign('/login');
          else if (r.ok && source?.readyState === EventSource.CLOSED) {
            checking = false;
            later(connect);
          } else later(check);
        },
        () => {
          if (!disposed) later(check);
        },
      );
    };

    const connect = () => {
      source?.close();
      const current = new EventSource('/api/events');
      source = current;
      const on = <T,>(name: string, handle: (payload: T) => void) =>
        current.addEventListener(name, (event) => handle(JSON.parse((event as MessageEvent).data) as T));
      // First on every connection: what the server remembers (latest state, timeline, the chart's last
      // minutes), replayed through the same handlers as live events.
      current.addEventListener('snapshot', (event) => {
        const snapshot = JSON.parse((event as MessageEvent).data) as { serverNow: number; events: Array<{ name: string; payload: unknown }> };
        serverClockOffset = Date.now() - snapshot.serverNow;
        setTimeline([]);
        setPoints([]);
        for (const { name, payload } of snapshot.events) current.dispatchEvent(new MessageEvent(name, { data: JSON.stringify(payload) }));
      });
      current.onopen = () => setConnected(true);
      current.onerror = () => {
        setConnected(false);
        if (!checking) check();
      };
      on<ObsState>('obs.state', setObs);
      on<SwitcherState>('switcher.state', setSwitcher);
      on<IngestLink>('ingest.link', setLink);
      on<IngestSrtla>('ingest.srtla', setSrtla);
      on<ObsScreenshot>('obs.screenshot', setShot);
      on<LogEntry>('log', (entry) => setTimeline((list) => [entry, ...list].slice(0, 50)));
      on<ProcessEvent>('process', (e) => {
        if (e.kind === 'container') setContainers((list) => ({ ...list, [e.child]: e }));
        setTimeline((list) =>
          [
            {
              ts: e.ts,
              level: e.event === 'exited' ? 'error' : 'info',
              source: e.service,
              message: `${e.child} ${e.event}${e.restartInMs ? ` (restart in ${e.restartInMs} ms)` : ''}`,
            } as LogEntry,
            ...list,
          ].slice(0, 50),
        );
      });
      on<IngestStats>('ingest.stats', (s) => {
        // How long ago the sample was taken, by the server's clock: remembered samples are not fresh.
        statsAt.current = Math.min(Date.now(), s.ts + serverClockOffset);
        setStats(s);
        setPoints((list) => [
          ...list.filter((p) => s.ts - p.t < WINDOW_MS),
          { t: s.ts, bitrate: s.bitrateKbps, rtt: s.rttMs, loss: s.deltas.lost + s.deltas.dropped },
        ]);
      });
    };

    connect();
    const clock = setInterval(() => setNow(Date.now()), 500);
    return () => {
      disposed = true;
      source?.close();
      if (checkTimer) clearTimeout(checkTimer);
      clearInterval(clock);
    };
  }, []);

  async function command(verb: CommandVerb, body: object = {}, label: string = verb) {
    setReply({ text: `${label}…`, ok: true });
    const response = await fetch(`/api/commands/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const result = (await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }))) as { ok: boolean; error?: string; queued?: string };
    // A command accepted while OBS is down says so ("queued: OBS is restarting"): it is carried out on its return.
    setReply(result.ok ? { text: `${label}: ${result.queued ?? 'done'}`, ok: true } : { text: `${label}: ${result.error ?? 'failed'}`, ok: false });
  }

  const statsStale = !stats || now - statsAt.current > STALE_STATS_MS;
  const obsDown = !obs?.reachable;
  const feedState = !stats || statsStale ? 'no data' : link?.event === 'stalled' ? 'stalled' : stats.connected ? 'connected' : 'offline';
  const thresholds = switcher?.thresholds;
  const chartData = useMemo(() => points.map((p) => ({ ...p, label: new Date(p.t).toLocaleTimeString() })), [points]);

  return (
    <main className="grid">
      <header className="top">
        <div className={`onair ${obs?.streaming ? 'live' : ''}`} data-testid="onair">
          {obs?.streaming ? 'ON AIR' : 'OFF AIR'}
          <span className="timecode" data-testid="timecode">
            {obs?.streamTimecode?.slice(0, 8) ?? '--:--:--'}
          </span>
        </div>
        <div className="meta">
          <span className={`dot ${connected ? 'ok' : 'bad'}`} title={connected ? 'live updates' : 'reconnecting'} />
          <span>{streamId}</span>
          <a href={desktopUrl} target="_blank" rel="noreferrer" data-testid="desktop-link">
            OBS desktop ↗
          </a>
          <button type="button" className="ghost" data-testid="logout" onClick={() => logOut(false)}>
            Log out
          </button>
          <button
            type="button"
            className="ghost"
            data-testid="logout-everywhere"
            onClick={() => window.confirm('Log out every browser and device, this one included?') && logOut(true)}
          >
            Log out everywhere
          </button>
        </div>
      </header>

      <section className="card preview">
        <div className={`frame ${obsDown ? 'stale' : ''}`}>
          {shot ? (
            // biome-ignore lint/performance/noImgElement: a base64 frame replaced every second; next/image would only add a wrapper
            <img src={`data:image/${shot.format};base64,${shot.data}`} alt="program preview" data-testid="preview" data-ts={shot.ts} />
          ) : (
            <div className="placeholder">no preview yet</div>
          )}
          {obsDown && (
            <div className="banner" data-testid="obs-stale">
              OBS unreachable{obs?.error ? `: ${obs.error}` : ''}
            </div>
          )}
        </div>
        <div className="row">
          <span>
            Scene: <strong data-testid="program-scene">{obs?.programScene ?? '—'}</strong>
          </span>
          <span>{obs?.outputKbps != null ? `${obs.outputKbps} kbit/s out` : ''}</span>
        </div>
      </section>

      <section className="card status">
        <div className={`pill feed-${feedState.replace(' ', '-')}`} data-testid="ingest-state">
          Feed: {feedState}
          {stats?.peer && !statsStale ? <small> {stats.peer}</small> : null}
          {stats?.streamId && !statsStale ? <small data-testid="stream-id"> · stream id {stats.streamId}</small> : null}
        </div>
        <div className={`pill sw-${switcher?.state ?? 'unknown'}`} data-testid="switcher-state">
          {switcher ? switcher.state.toUpperCase() : '—'}
          <small data-testid="switcher-reason">{switcher ? ` ${switcher.reason} · since ${new Date(switcher.since).toLocaleTimeString()}` : ''}</small>
        </div>
        <div className="row">
          <span>
            {statsStale ? (
              <em className="stale-text" data-testid="stats-stale">
                no stats for 3 s
              </em>
            ) : (
              `${stats?.bitrateKbps} kbit/s · RTT ${stats?.rttMs ?? '—'} ms`
            )}
          </span>
          <label className="toggle">
            <input
              type="checkbox"
              data-testid="auto-toggle"
              checked={switcher?.mode === 'auto'}
              onChange={(e) => command('switcher.mode', { mode: e.target.checked ? 'auto' : 'manual' }, `switcher ${e.target.checked ? 'auto' : 'manual'}`)}
            />
            auto switch
          </label>
        </div>
        {Object.keys(containers).length > 0 && (
          <div className="row" data-testid="containers">
            {Object.values(containers).map((c) => (
              <span key={c.child} className={['healthy', 'started'].includes(c.event) ? '' : 'stale-text'} data-testid={`container-${c.child}`}>
                {c.child} container: {c.event}
              </span>
            ))}
          </div>
        )}
      </section>

      <section className="card controls">
        <div className="buttons">
          {obs?.streaming ? (
            <button
              type="button"
              className="danger"
              data-testid="stop"
              onClick={() => window.confirm('Stop the stream?') && command('stream.stop', {}, 'stop stream')}
            >
              Stop stream
            </button>
          ) : (
            <button type="button" className="go" data-testid="start" onClick={() => command('stream.start', {}, 'start stream')}>
              Start stream
            </button>
          )}
          <button
            type="button"
            data-testid="mute"
            className={obs?.micMuted ? 'danger' : ''}
            onClick={() => command('audio.mute', { muted: !obs?.micMuted }, obs?.micMuted ? 'unmute' : 'mute')}
          >
            {obs?.micMuted ? 'Mic muted' : 'Mic on'}
          </button>
        </div>
        <div className="scenes" data-testid="scenes">
          {(obs?.scenes ?? []).map((scene) => (
            <button
              type="button"
              key={scene}
              data-testid={`scene-${scene}`}
              className={scene === obs?.programScene ? 'current' : ''}
              onClick={() => command('scene.set', { scene }, `scene ${scene}`)}
            >
              {scene}
            </button>
          ))}
        </div>
        <p className={reply?.ok === false ? 'error' : 'note'} role="status" data-testid="reply">
          {reply?.text ?? ' '}
        </p>
      </section>

      <section className="card chart">
        <h2>Bitrate</h2>
        <div className="plot" data-testid="chart" data-points={points.length}>
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={chartData} margin={{ top: 4, right: 8, bottom: 0, left: -12 }}>
              <CartesianGrid stroke="#263043" strokeDasharray="3 3" />
              <XAxis dataKey="label" hide />
              <YAxis stroke="#7d8aa5" fontSize={11} />
              <Tooltip contentStyle={{ background: '#151a24', border: '1px solid #263043' }} />
              {thresholds && <ReferenceLine y={thresholds.lowEnterKbps} stroke="#e5484d" strokeDasharray="4 4" ifOverflow="extendDomain" />}
              {thresholds && <ReferenceLine y={thresholds.lowLeaveKbps} stroke="#46a758" strokeDasharray="4 4" ifOverflow="extendDomain" />}
              <Line type="monotone" dataKey="bitrate" stroke="#4c8dff" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
        <h2>RTT and loss</h2>
        <div className="plot small">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={chartData} margin={{ top: 4, right: 8, bottom: 0, left: -12 }}>
              <CartesianGrid stroke="#263043" strokeDasharray="3 3" />
              <XAxis dataKey="label" hide />
              <YAxis stroke="#7d8aa5" fontSize={11} />
              {thresholds && thresholds.rttEnterMs > 0 && (
                <ReferenceLine y={thresholds.rttEnterMs} stroke="#e5484d" strokeDasharray="4 4" ifOverflow="extendDomain" />
              )}
              <Line type="monotone" dataKey="rtt" stroke="#f5a524" dot={false} isAnimationActive={false} />
              <Line type="monotone" dataKey="loss" stroke="#e5484d" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </section>

      {srtla && srtla.links.length > 0 && (
        <section className="card">
          <h2>Bonded links</h2>
          <table data-testid="srtla-table">
            <thead>
              <tr>
                <th>link</th>
                <th>kbit/s</th>
                <th>share</th>
                <th>last seen</th>
              </tr>
            </thead>
            <tbody>
              {srtla.links.map((l) => (
                <tr key={`${l.group}-${l.address}`} className={l.lastSeenMsAgo > 2000 ? 'stale' : ''}>
                  <td>{l.address}</td>
                  <td>{Math.round(l.bitrateKbps)}</td>
                  <td>{Math.round(l.share * 100)}%</td>
                  <td>{(l.lastSeenMsAgo / 1000).toFixed(1)} s</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <section className="card">
        <h2>Timeline</h2>
        <ol className="timeline" data-testid="timeline">
          {timelineEntries.map((e, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: entries have no id and two can share a millisecond
            <li key={`${e.ts}-${i}`} className={e.level}>
              <time>{new Date(e.ts).toLocaleTimeString()}</time> {e.message}
            </li>
          ))}
        </ol>
      </section>

      {thresholds && (
        <Settings key={JSON.stringify(thresholds)} thresholds={thresholds} onSave={(patch) => command('switcher.config', patch, 'save settings')} />
      )}
    </main>
  );
}

/** Ends this browser's session (or every session, everywhere) and goes to the login. */
function logOut(everywhere: boolean): void {
  void fetch('/api/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ everywhere }) }).finally(() => {
    window.location.href = '/login';
  });
}

const FIELDS = [
  ['lowEnterKbps', 'Low below (kbit/s)'],
  ['lowLeaveKbps', 'Live again above (kbit/s)'],
  ['rttEnterMs', 'Low when RTT over (ms, 0 = off)'],
  ['lowWindowMs', 'Low after (ms)'],
  ['recoverHoldMs', 'Live again after (ms)'],
  ['stopAfterOfflineMin', 'Stop stream after offline (min, 0 = never)'],
] as const;

function Settings({ thresholds, onSave }: { thresholds: SwitcherState['thresholds']; onSave(patch: Record<string, number>): void }) {
  const [values, setValues] = useState<Record<string, string>>(Object.fromEntries(FIELDS.map(([k]) => [k, String(thresholds[k])])));
  return (
    <section className="card">
      <h2>Switcher settings</h2>
      <form
        className="settings"
        data-testid="settings"
        onSubmit={(e) => {
          e.preventDefault();
          onSave(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)])));
        }}
      >
        {FIELDS.map(([key, label]) => (
          <label key={key}>
            {label}
            <input inputMode="numeric" value={values[key]} data-testid={`setting-${key}`} onChange={(e) => setValues({ ...values, [key]: e.target.value })} />
          </label>
        ))}
        <button type="submit" data-testid="save-settings">
          Save
        </button>
      </form>
    </section>
  );
}
