// The feed and the switcher at a glance: feed state, the switcher's state and why, bitrate and RTT
// (or that statistics stopped), the auto-switch toggle, and the containers the watchdog follows.
import type { IngestLink, IngestStats, ProcessEvent, SwitcherState } from '@irlkit/shared';
import type { Command } from '../commands';

/** Statistics older than this say "no stats": ingest publishes several a second. */
const STALE_STATS_MS = 3000;

interface FeedStatusProps {
  stats: IngestStats | null;
  statsTakenAt: number;
  link: IngestLink | null;
  switcher: SwitcherState | null;
  containers: Record<string, ProcessEvent>;
  now: number;
  command: Command;
}

export function FeedStatus({ stats, statsTakenAt, link, switcher, containers, now, command }: FeedStatusProps) {
  const statsStale = !stats || now - statsTakenAt > STALE_STATS_MS;
  const feedState = !stats || statsStale ? 'no data' : link?.event === 'stalled' ? 'stalled' : stats.connected ? 'connected' : 'offline';
  return (
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
  );
}
