// A scripted 10-minute stream session on the real path (ffmpeg's test pattern → SRTLA sender on 2 links → ingest → srt-live-transmit → OBS →
// RTMP sink, obs-bridge's switcher, the dashboard recording the history into JetStream): Start, the sender killed and
// back, both bonded links dropped and back, Stop. The dashboard's report, built from that history, must list the two
// outages with their causes, and starts and lengths within 1 s of the switcher's own state changes on NATS (the
// switcher's detection delay is by design, so those, not the script's clock, are the reference).
import type { Bus, EventPayload } from '@irlkit/shared';
import {
  collectEvents,
  freeUdpPort,
  nextEvent,
  type SrtlaSender,
  startDashboard,
  startReconnectingFeed,
  startSrtFeed,
  startSrtlaSender,
  startStack,
  type TestDashboard,
  type TestStack,
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionReport, StreamSession } from '../services/dashboard/lib/history/report.ts';

/**
 * The session lasts SESSION_MINUTES (10 by default, as a short IRL stream): two outages of 20 s each, and
 * the rest Live in three equal parts, long enough for the history's downsampling and the report's
 * percentiles to work on real minutes of statistics.
 */
const SESSION_MS = Number(process.env.SESSION_MINUTES ?? 10) * 60_000;
const HOLD_OUT_MS = 20_000;
const HOLD_LIVE_MS = Math.max(30_000, Math.round((SESSION_MS - 2 * HOLD_OUT_MS) / 3));
const SRT_LATENCY_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (ts: number) => sleep(Math.max(0, ts - Date.now()));

let stack: TestStack;
let dashboard: TestDashboard;
let sender: SrtlaSender;
let srtlaPort: number;

beforeAll(async () => {
  srtlaPort = await freeUdpPort();
  stack = await startStack({
    bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'session_report' },
    ingestEnv: { SRTLA_PORT: String(srtlaPort), SRTLA_BIND: '127.0.0.1', SRT_LATENCY_MS: String(SRT_LATENCY_MS) },
  });
  dashboard = await startDashboard(stack.nats);
  sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
}, 240_000);

afterAll(async () => {
  await sender?.stop();
  await dashboard?.stop();
  await stack?.stop();
});

/** A logged-in GET on the dashboard's API. */
async function api<T>(cookie: string, path: string): Promise<T> {
  const response = await fetch(`${dashboard.url}${path}`, { headers: { cookie } });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function login(): Promise<string> {
  const response = await fetch(`${dashboard.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: dashboard.url },
    body: JSON.stringify({ password: dashboard.password }),
  });
  expect(response.status).toBe(200);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

type SwitcherState = EventPayload<'switcher.state'> & { receivedAt: number };

/** The switcher's outages as it published them: from each change to OFFLINE (its `since`) to the next change away. */
function switcherOutages(states: readonly SwitcherState[]): Array<{ startTs: number; endTs: number; reason: string }> {
  const outages: Array<{ startTs: number; endTs: number; reason: string }> = [];
  let open: { startTs: number; reason: string } | null = null;
  let last: string | null = null;
  for (const s of states) {
    if (s.state === last) continue;
    if (s.state === 'offline') open = { startTs: s.since, reason: s.reason };
    else if (open) {
      outages.push({ ...open, endTs: s.since });
      open = null;
    }
    last = s.state;
  }
  return outages;
}

async function switcherTo(bus: Bus, state: 'live' | 'offline', what: string, timeoutMs: number): Promise<SwitcherState> {
  return nextEvent(bus, 'switcher.state', (s) => s.state === state, what, timeoutMs);
}

it(
  'reports a scripted session (kill, return, both links dropped, return, Stop) as the switcher lived it',
  async () => {
    const { observer } = stack;
    const cookie = await login();
    // The recorder is up: the history streams answer.
    await waitFor(
      async () => (await api<{ sessions: StreamSession[] }>(cookie, '/api/sessions').catch(() => null))?.sessions,
      'the dashboard to list sessions',
      30_000,
      500,
    );
    const states = collectEvents(observer, 'switcher.state');
    const script: Record<string, number> = {};
    let returned: ReturnType<typeof startReconnectingFeed> | undefined;
    const first = startSrtFeed({ port: sender.port, bitrateKbps: 1500, latencyMs: SRT_LATENCY_MS });
    try {
      await waitFor(() => stack.bridge.obs.programScene() === 'Live', `Live on program (sender: ${first.stderr().slice(-300)})`, 60_000, 100);
      const streaming = nextEvent(observer, 'obs.state', (s) => s.streaming, 'OBS streaming', 30_000);
      expect(await observer.request('stream.start', {})).toEqual({ ok: true });
      const started = await streaming;
      script.start = started.receivedAt;
      await sleepUntil(script.start + HOLD_LIVE_MS);

      // 1. The sender dies without a word (its bonded links stay up: the SRTLA sender keeps them alive).
      let offline = switcherTo(observer, 'offline', 'Offline after the sender was killed', 20_000);
      script.kill = Date.now();
      await first.kill9();
      await offline;
      await sleepUntil(script.kill + HOLD_OUT_MS);
      let live = switcherTo(observer, 'live', 'Live after the sender returned', 60_000);
      script.return = Date.now();
      returned = startReconnectingFeed({ port: sender.port, bitrateKbps: 1500, latencyMs: SRT_LATENCY_MS });
      await live;
      await sleep(HOLD_LIVE_MS);

      // 2. Both bonded links go silent (a tunnel), and come back.
      offline = switcherTo(observer, 'offline', 'Offline after both links dropped', 20_000);
      script.cut = Date.now();
      sender.cut(0);
      sender.cut(1);
      await offline;
      await sleepUntil(script.cut + HOLD_OUT_MS);
      live = switcherTo(observer, 'live', 'Live after the links came back', 60_000);
      script.restore = Date.now();
      sender.restore(0);
      sender.restore(1);
      await live;
      await sleep(HOLD_LIVE_MS);

      // 3. Stop.
      const stopped = nextEvent(observer, 'obs.state', (s) => !s.streaming, 'OBS stopped streaming', 30_000);
      script.stop = Date.now();
      expect(await observer.request('stream.stop', {})).toEqual({ ok: true });
      const stop = await stopped;
      script.stopped = stop.receivedAt;
    } finally {
      states.stop();
      await first.stop();
      await returned?.stop();
    }

    // The reference: the switcher's own state changes, as published on NATS during the session.
    const expected = switcherOutages(states.items.filter((s) => s.since >= (script.start as number)));
    const at = (ts: number) => `${((ts - (script.start as number)) / 1000).toFixed(1)} s`;
    process.stdout.write(
      `script: kill ${at(script.kill as number)}, return ${at(script.return as number)}, cut ${at(script.cut as number)}, restore ${at(script.restore as number)}, stop ${at(script.stop as number)}\n` +
        `switcher: ${expected.map((o) => `offline ${at(o.startTs)}–${at(o.endTs)} (${o.reason})`).join('; ')}\n`,
    );
    expect(expected, 'the switcher went Offline exactly twice').toHaveLength(2);

    // The dashboard's report, read back from the history.
    const session = await waitFor(
      async () =>
        (await api<{ sessions: StreamSession[] }>(cookie, '/api/sessions')).sessions.find(
          (s) => s.endTs !== null && Math.abs(s.startTs - (script.start as number)) < 5000,
        ),
      'the stopped session in the list',
      30_000,
      500,
    );
    const { report } = await api<{ report: SessionReport }>(cookie, `/api/sessions/${session.id}`);
    process.stdout.write(
      `report: ${report.outages.map((o) => `${o.cause} ${at(o.startTs)} for ${(o.durationMs / 1000).toFixed(1)} s (${o.detail})`).join('; ')}; time ${JSON.stringify(report.timeMs)}\n`,
    );
    expect(Math.abs(session.startTs - (script.start as number)), 'session start vs OBS streaming on NATS').toBeLessThanOrEqual(1000);
    expect(Math.abs((session.endTs as number) - (script.stopped as number)), 'session end vs OBS stopped on NATS').toBeLessThanOrEqual(1000);
    expect(report.outages.map((o) => o.cause)).toEqual(['sender-stalled', 'link-lost']);
    report.outages.forEach((o, i) => {
      const s = expected[i] as { startTs: number; endTs: number };
      expect(Math.abs(o.startTs - s.startTs), `outage ${i + 1} start vs the switcher's Offline`).toBeLessThanOrEqual(1000);
      expect(Math.abs(o.durationMs - (s.endTs - s.startTs)), `outage ${i + 1} length vs the switcher's`).toBeLessThanOrEqual(1000);
    });
    // And each matches the script it came from: after the act, before the return was complete.
    const [killed, cut] = report.outages as [SessionReport['outages'][0], SessionReport['outages'][0]];
    expect(killed.startTs).toBeGreaterThan(script.kill as number);
    expect(killed.startTs - (script.kill as number), 'Offline after the kill').toBeLessThan(10_000);
    expect(killed.endTs).toBeGreaterThan(script.return as number);
    expect(cut.startTs).toBeGreaterThan(script.cut as number);
    expect(cut.startTs - (script.cut as number), 'Offline after the cut').toBeLessThan(10_000);
    expect(cut.endTs).toBeGreaterThan(script.restore as number);
    // Time on each state adds up to the session, and Offline is the two outages.
    const total = Object.values(report.timeMs).reduce((a, b) => a + b, 0);
    expect(Math.abs(total - report.durationMs)).toBeLessThanOrEqual(1);
    expect(Math.abs(report.timeMs.offline - (killed.durationMs + cut.durationMs))).toBeLessThanOrEqual(1000);
    // Both bonded links were seen, and both dropped out with the cut.
    expect(report.links).toHaveLength(2);
    expect(report.links.every((l) => l.dropOuts >= 1)).toBe(true);
    expect(report.switches.filter((s) => s.to === 'offline')).toHaveLength(2);
    const csv = await fetch(`${dashboard.url}/api/sessions/${session.id}?format=csv`, { headers: { cookie } });
    expect(await csv.text()).toMatch(/sender stalled[\s\S]*link lost/);
  },
  SESSION_MS + 600_000,
);
