// When to alert the streamer: the feed lost for longer than N seconds, the stream stopped (and why), OBS
// restarted, the platform's output or a restream destination failing, the disk nearly full. Pure: events and
// a clock in, alerts out.
import type { EventName, EventPayload } from '@irlkit/shared';

export const ALERT_KINDS = ['feed-lost', 'stream-stopped', 'obs-restarted', 'destination-failing', 'disk-full'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  kind: AlertKind;
  ts: number;
  severity: 'warning' | 'critical' | 'info';
  title: string;
  message: string;
}

export interface AlertRulesSettings {
  /** Alert kinds the streamer chose. */
  kinds: ReadonlySet<AlertKind>;
  /** The feed must be lost this long before it is worth an alert. */
  feedLostMs: number;
  /** Used disk at or above this percentage is "nearly full". */
  diskPercent: number;
}

/** How long to wait, after the stream stopped, for the timeline to tell why. */
export const STOP_REASON_WAIT_MS = 5000;
/** The same kind is not repeated within this time (a crash loop is one alert, not one a second). */
export const REPEAT_AFTER_MS = 60_000;
/** A restream destination failing this long while the program is live is worth an alert (a reconnect takes a few seconds). */
export const DESTINATION_FAILING_MS = 15_000;

interface FailingDestination {
  name: string;
  since: number;
  error: string | null;
  /** Its "Destination failing" alert went out. */
  told: boolean;
}

export class AlertRules {
  private offlineSince: number | null = null;
  private feedLostSent = false;
  private streaming: boolean | null = null;
  private reachable = true;
  private pendingStop: { ts: number; reachable: boolean } | null = null;
  private lastStopLog: { ts: number; by: 'hand' | 'switcher'; message: string } | null = null;
  private readonly lastSent = new Map<AlertKind, number>();
  private diskWasFull = false;
  /** Restream destinations failing (or reconnecting) while the program is live, by id. */
  private readonly failingDestinations = new Map<string, FailingDestination>();

  constructor(private readonly settings: AlertRulesSettings) {}

  observe<N extends EventName>(name: N, payload: EventPayload<N>, now: number): Alert[] {
    const alerts: Array<Alert | null> = [];
    if (name === 'switcher.state') {
      const s = payload as EventPayload<'switcher.state'>;
      if (s.state === 'offline') {
        if (this.offlineSince === null || s.since !== this.offlineSince) {
          if (this.offlineSince === null) this.feedLostSent = false;
          this.offlineSince = s.since;
        }
      } else {
        if (this.feedLostSent && this.offlineSince !== null) {
          const seconds = Math.round((s.since - this.offlineSince) / 1000);
          alerts.push(this.make('feed-lost', now, 'info', 'Feed back', `The feed is back after ${seconds} s (${s.state}: ${s.reason}).`, true));
        }
        this.offlineSince = null;
        this.feedLostSent = false;
      }
    } else if (name === 'obs.state') {
      const o = payload as EventPayload<'obs.state'>;
      if (this.streaming === true && !o.streaming) this.pendingStop = { ts: o.ts, reachable: o.reachable };
      if (o.streaming) this.pendingStop = null;
      this.streaming = o.streaming;
      this.reachable = o.reachable;
    } else if (name === 'log') {
      const entry = payload as EventPayload<'log'>;
      if (/^Stream stopped$/.test(entry.message)) this.lastStopLog = { ts: entry.ts, by: 'hand', message: 'stopped by hand' };
      else if (/^Stream stopped: /.test(entry.message))
        this.lastStopLog = { ts: entry.ts, by: 'switcher', message: entry.message.slice('Stream stopped: '.length) };
      else if (/^Could not put back streaming/.test(entry.message)) {
        alerts.push(this.make('destination-failing', now, 'critical', 'Stream output failing', entry.message));
      }
    } else if (name === 'restream.state') {
      alerts.push(...this.observeDestinations(payload as EventPayload<'restream.state'>, now));
    } else if (name === 'process') {
      const p = payload as EventPayload<'process'>;
      if (p.child === 'obs' && (p.event === 'exited' || p.event === 'restarting')) {
        const why = p.detail ?? (p.signal ? `signal ${p.signal}` : p.exitCode !== null ? `exit code ${p.exitCode}` : p.event);
        alerts.push(
          this.make(
            'obs-restarted',
            now,
            'critical',
            'OBS restarted',
            `OBS ${p.event === 'exited' ? 'exited' : 'is being restarted'} (${why}); the watchdog brings it back.`,
          ),
        );
      }
    }
    return [...alerts, ...this.tick(now)].filter((a): a is Alert => a !== null);
  }

  /** Alerts that are due by the clock alone (a feed lost long enough, a stop whose reason is known by now). */
  tick(now: number): Alert[] {
    const alerts: Array<Alert | null> = [];
    if (this.offlineSince !== null && !this.feedLostSent && now - this.offlineSince >= this.settings.feedLostMs) {
      this.feedLostSent = true;
      const seconds = Math.round((now - this.offlineSince) / 1000);
      alerts.push(this.make('feed-lost', now, 'critical', 'Feed lost', `No feed for ${seconds} s: viewers see the Offline scene.`, true));
    }
    const due = [...this.failingDestinations.values()].filter((d) => !d.told && now - d.since >= DESTINATION_FAILING_MS);
    if (due.length > 0) {
      const what = due.map((d) => `${d.name}: ${d.error ?? 'not connected'} (for ${Math.round((now - d.since) / 1000)} s)`).join('; ');
      const alert = this.make('destination-failing', now, 'critical', 'Destination failing', `Viewers there see nothing. ${what}. The relay keeps retrying.`);
      // Held back by the once-a-minute rule: said on a later tick.
      if (alert) for (const d of due) d.told = true;
      alerts.push(alert);
    }
    const stop = this.pendingStop;
    if (stop) {
      const told = this.lastStopLog && Math.abs(this.lastStopLog.ts - stop.ts) <= STOP_REASON_WAIT_MS ? this.lastStopLog : null;
      if (told || now - stop.ts >= STOP_REASON_WAIT_MS) {
        this.pendingStop = null;
        if (told) {
          alerts.push(
            this.make(
              'stream-stopped',
              now,
              'warning',
              'Stream stopped',
              told.by === 'hand' ? 'The stream was stopped by hand.' : `The switcher stopped the stream: ${told.message}.`,
            ),
          );
        } else if (!stop.reachable || !this.reachable) {
          alerts.push(
            this.make(
              'stream-stopped',
              now,
              'critical',
              'Stream stopped',
              'The stream stopped because OBS went away; the watchdog restarts it and puts the stream back.',
            ),
          );
        } else {
          alerts.push(
            this.make('stream-stopped', now, 'critical', 'Stream stopped', 'The stream stopped without anyone asking: the platform ended or refused it.'),
          );
          alerts.push(
            this.make(
              'destination-failing',
              now,
              'critical',
              'Platform output failing',
              'OBS stopped streaming on its own: the platform rejected or dropped the stream.',
            ),
          );
        }
      }
    }
    return alerts.filter((a): a is Alert => a !== null);
  }

  /**
   * The restream service's destinations: one failing (failed or reconnecting; retrying does not reset it) while
   * the program is live starts its clock (the report's own time, as the feed's uses the switcher's `since`);
   * connected again after its alert says so. Off the air, nothing is failing.
   */
  private observeDestinations(r: EventPayload<'restream.state'>, now: number): Array<Alert | null> {
    const alerts: Array<Alert | null> = [];
    const stillFailing = new Set<string>();
    for (const d of r.programLive ? r.destinations : []) {
      const failing = this.failingDestinations.get(d.id);
      if (d.status === 'failed' || d.status === 'reconnecting' || (failing && d.status === 'connecting')) {
        stillFailing.add(d.id);
        if (failing) failing.error = d.error ?? failing.error;
        else this.failingDestinations.set(d.id, { name: d.name, since: r.ts, error: d.error, told: false });
      } else if (d.status === 'connected' && failing?.told) {
        const seconds = Math.round((r.ts - failing.since) / 1000);
        alerts.push(this.make('destination-failing', now, 'info', 'Destination back', `${d.name} receives the stream again (after ${seconds} s).`, true));
      }
    }
    for (const id of this.failingDestinations.keys()) if (!stillFailing.has(id)) this.failingDestinations.delete(id);
    return alerts;
  }

  /** The disk's use, checked now and then; an alert when it crosses the threshold (again after it fell below). */
  observeDisk(usedPercent: number, path: string, now: number): Alert[] {
    const full = usedPercent >= this.settings.diskPercent;
    const crossed = full && !this.diskWasFull;
    this.diskWasFull = full;
    if (!crossed) return [];
    const alert = this.make(
      'disk-full',
      now,
      'warning',
      'Disk nearly full',
      `${path} is ${usedPercent.toFixed(0)} % full (alert at ${this.settings.diskPercent} %).`,
      true,
    );
    return alert ? [alert] : [];
  }

  private make(kind: AlertKind, now: number, severity: Alert['severity'], title: string, message: string, always = false): Alert | null {
    if (!this.settings.kinds.has(kind)) return null;
    const last = this.lastSent.get(kind);
    if (!always && last !== undefined && now - last < REPEAT_AFTER_MS) return null;
    this.lastSent.set(kind, now);
    return { kind, ts: now, severity, title, message };
  }
}
