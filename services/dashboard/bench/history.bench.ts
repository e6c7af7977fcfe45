// History benchmark: JetStream storage per streamed hour (an hour of live events at their real rates through
// the dashboard's recorder, into a real nats-server), the report's build time for a 4-hour session (read from
// JetStream and built; goal ≤ 1 s), and the session list with 90 days of history behind it.
import { silentLogger } from '@irlkit/shared';
import { startNats, testBus } from '@irlkit/test-kit';
import { validEvents } from '../../../packages/shared/test/samples.ts';
import { summarize, writeBenchSection } from '../../../test/bench/report.ts';
import { HistoryRecorder } from '../lib/history/recorder.ts';
import { buildReport } from '../lib/history/report.ts';
import { SessionIndex } from '../lib/history/sessions.ts';
import { type HistoryRecord, HistoryStore } from '../lib/history/store.ts';
import { scriptedSession, storeHistory } from '../test/scripted-session.ts';

const limits = { maxAgeMs: 90 * 86_400_000, maxBytes: { events: 256 * 1024 * 1024, samples: 2048 * 1024 * 1024 } };

async function storagePerHour(): Promise<{ events: { bytes: number; messages: number }; samples: { bytes: number; messages: number } }> {
  const nats = await startNats();
  const publisher = await testBus(nats, 'main', 'publisher');
  const dashboard = await testBus(nats, 'main', 'dashboard');
  const store = new HistoryStore(dashboard.nc, 'main', limits, silentLogger());
  const recorder = new HistoryRecorder(dashboard, store, silentLogger());
  recorder.start();
  await recorder.ready;
  await dashboard.nc.flush();
  const t0 = Date.now() - 3_600_000;
  const links = [0, 1].map(
    (i) => ({ ...validEvents['ingest.srtla'].links[0], address: `10.0.0.${i + 2}:4000`, share: 0.5 }) as (typeof validEvents)['ingest.srtla']['links'][number],
  );
  // One hour as the services publish it: stats 4 Hz, SRTLA 1 Hz with two links, OBS and switcher state 1 Hz,
  // a timeline entry and a link event every two minutes.
  for (let ms = 0; ms < 3_600_000; ms += 250) {
    const ts = t0 + ms;
    publisher.publish('ingest.stats', { ...validEvents['ingest.stats'], ts, bitrateKbps: 3000 + (ms % 7000) / 10, rttMs: 40 + (ms % 300) / 10 });
    if (ms % 1000 === 0) {
      publisher.publish('ingest.srtla', { ...validEvents['ingest.srtla'], ts, links });
      publisher.publish('obs.state', { ...validEvents['obs.state'], ts, streamTimecode: new Date(ms).toISOString().slice(11, 23), totalFrames: ms / 33 });
      publisher.publish('switcher.state', { ...validEvents['switcher.state'], ts, since: t0 });
    }
    if (ms % 120_000 === 0) {
      publisher.publish('log', { ts, level: 'warn', source: 'switcher', message: 'Switched to Offline: feed stalled: no packet for 500 ms' });
      publisher.publish('ingest.link', { ...validEvents['ingest.link'], ts });
    }
    if (ms % 20_000 === 0) await publisher.nc.flush();
  }
  await publisher.nc.flush();
  await new Promise((r) => setTimeout(r, 2000));
  await dashboard.nc.flush();
  const usage = await store.usage();
  recorder.stop();
  await publisher.closeConnection();
  await dashboard.closeConnection();
  await nats.stop();
  const pick = (name: string) => {
    const u = usage.find((s) => s.stream === name);
    return { bytes: u?.bytes ?? 0, messages: u?.messages ?? 0 };
  };
  return { events: pick('IRLKIT_EVENTS'), samples: pick('IRLKIT_SAMPLES') };
}

/** A 4-hour session: the scripted 5 minutes' events repeated, with 1 Hz samples throughout. */
function fourHours(t0: number): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  for (let block = 0; block < 48; block++) {
    const start = t0 + block * 300_000;
    for (const r of scriptedSession(start)) {
      // Only the first block starts and only the last stops the stream.
      if (r.name === 'obs.state' && !r.payload.streaming && r.payload.reachable && block < 47) continue;
      if (r.name === 'obs.state' && r.payload.ts === start && block > 0) continue;
      if ((r.name === 'ingest.stats' || r.name === 'ingest.srtla') && r.payload.ts >= start + 300_000) continue;
      records.push(r);
    }
  }
  return records.sort((a, b) => a.payload.ts - b.payload.ts);
}

async function reportBuild(): Promise<{ records: number; read: number[]; build: number[]; outages: number }> {
  const nats = await startNats();
  const bus = await testBus(nats, 'main', 'dashboard');
  const store = new HistoryStore(bus.nc, 'main', limits, silentLogger());
  await store.ensureStreams();
  const t0 = Date.now() - 4 * 3_600_000 - 60_000;
  const records = fourHours(t0);
  await storeHistory(bus, store, records);
  const sessions = new SessionIndex(store);
  const [session] = await sessions.list();
  if (!session || session.endTs === null || session.endTs - session.startTs < 4 * 3_600_000 - 1000)
    throw new Error(`expected one 4-hour session, got ${JSON.stringify(session)}`);
  const read: number[] = [];
  const build: number[] = [];
  let outages = 0;
  for (let trial = 0; trial < 5; trial++) {
    const started = performance.now();
    const report = await sessions.report(session.id);
    read.push(performance.now() - started);
    outages = report?.outages.length ?? 0;
    const pure = performance.now();
    buildReport(session, records, Date.now());
    build.push(performance.now() - pure);
  }
  await bus.closeConnection();
  await nats.stop();
  return { records: records.length, read, build, outages };
}

/**
 * 90 days of a dashboard that was up all along (an OBS and a switcher heartbeat a minute in the events stream):
 * the first list reads every OBS state (at start, off the request path); later ones only what came since.
 */
async function sessionList(): Promise<{ records: number; first: number; later: number[] }> {
  const nats = await startNats();
  const bus = await testBus(nats, 'main', 'dashboard');
  const store = new HistoryStore(bus.nc, 'main', limits, silentLogger());
  await store.ensureStreams();
  const days = 90;
  const t0 = Date.now() - days * 86_400_000;
  let records = 0;
  // Streaming four hours a day.
  const streaming = (ts: number) => (ts - t0) % 86_400_000 < 4 * 3_600_000;
  for (let ts = t0; ts < Date.now() - 60_000; ts += 60_000) {
    store.append('obs.state', { ...validEvents['obs.state'], ts, streaming: streaming(ts) });
    store.append('switcher.state', { ...validEvents['switcher.state'], ts, since: t0 });
    records += 2;
    if (records % 4000 === 0) await bus.nc.flush();
  }
  await bus.nc.flush();
  const index = new SessionIndex(store);
  const started = performance.now();
  const listed = await index.list();
  const first = performance.now() - started;
  if (listed.length !== days) throw new Error(`expected ${days} sessions, got ${listed.length}`);
  const later: number[] = [];
  for (let trial = 0; trial < 5; trial++) {
    const ts = Date.now();
    store.append('obs.state', { ...validEvents['obs.state'], ts, streaming: false });
    store.append('switcher.state', { ...validEvents['switcher.state'], ts, since: t0 });
    await bus.nc.flush();
    const s = performance.now();
    await index.list();
    later.push(performance.now() - s);
  }
  await bus.closeConnection();
  await nats.stop();
  return { records, first, later };
}

const hour = await storagePerHour();
const perHourMb = (hour.events.bytes + hour.samples.bytes) / 1024 / 1024;
const fourHourResult = await reportBuild();
const list = await sessionList();
const later = summarize(list.later);
const read = summarize(fourHourResult.read);
const build = summarize(fourHourResult.build);
const body = `
One streamed hour of live events at the rates the services publish them (statistics 4 Hz, SRTLA with two links
1 Hz, OBS and switcher state 1 Hz, a timeline entry and a link event every two minutes), through the dashboard's
recorder into a real nats-server (file storage); sizes from JetStream's stream info.

| stream | messages per hour | bytes per hour |
|---|---|---|
| IRLKIT_EVENTS (timeline, link events, OBS/switcher changes) | ${hour.events.messages} | ${(hour.events.bytes / 1024).toFixed(0)} KiB |
| IRLKIT_SAMPLES (1 Hz statistics and SRTLA) | ${hour.samples.messages} | ${(hour.samples.bytes / 1024 / 1024).toFixed(2)} MiB |
| total | ${hour.events.messages + hour.samples.messages} | **${perHourMb.toFixed(2)} MiB per streamed hour** |

With the default limits (2048 MiB of samples, 256 MiB of events, 90 days) that is about
${Math.floor(2048 / (hour.samples.bytes / 1024 / 1024))} streamed hours before the oldest samples go.

Report of a 4-hour session (${fourHourResult.records} records: 1 Hz statistics and SRTLA samples, ${fourHourResult.outages} outages, OBS
kills, link drop-outs), 5 trials. Goal: ≤ 1 s.

| step | median ms | p95 ms | max ms |
|---|---|---|---|
| read from JetStream and build (\`GET /api/sessions/<id>\` minus HTTP) | ${read.median.toFixed(0)} | ${read.p95.toFixed(0)} | ${read.max.toFixed(0)} |
| build alone (records in memory) | ${build.median.toFixed(0)} | ${build.p95.toFixed(0)} | ${build.max.toFixed(0)} |

Session list (\`GET /api/sessions\` minus HTTP) with 90 days of history behind it: a dashboard up all along writes an
OBS and a switcher heartbeat a minute (${list.records} records; streaming four hours a day, 90 sessions).

| step | ms |
|---|---|
| first list: every OBS state read (at the server's start, before any request) | ${list.first.toFixed(0)} |
| a later list: only the OBS states since the last (median of 5 / max) | ${later.median.toFixed(0)} / ${later.max.toFixed(0)} |
`;
writeBenchSection('history', 'History: storage per streamed hour, report build time', 'pnpm bench history', body);
process.stdout.write(body);
