// What viewers see, measured on the RTMP output: a flash/beep feed (every frame numbered) through a user-space
// UDP link → ingest → srt-live-transmit → OBS → RTMP sink, recorded and analysed frame by frame. Outages of
// 0.5–4 s and a sender kill; frozen picture on air, good picture cut, switches, delay sender → output before
// and 10 s after each outage, A/V offset, OBS's audio buffering, false failovers on a lossy link, and
// irlkit's added delay against OBS reading the sender directly. The first recording is made with the
// switcher in manual mode (program stays Live): it is the truth of when the picture froze, against which
// irlkit's rule, the earlier rule and NOALBS's rule are replayed on the same ingest traces.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SWITCHER_SETTINGS } from '@irlkit/shared';
import {
  analyseRecording,
  avOffsets,
  FLASH_FPS,
  type FlashFeed,
  freeUdpPort,
  frozenRuns,
  otherSceneSpans,
  type Recording,
  senderFrameOfImage,
  srtUrl,
  startFlashFeed,
  startRecorder,
  startStack,
  startUdpLink,
  waitFor,
} from '@irlkit/test-kit';
import { percentile, writeBenchSection } from '../../../test/bench/report.ts';
import { replayIrlkit, replayNoalbs, type Switch, type TraceEvent } from './replay.ts';

const SRT_LATENCY_MS = 2000;
const OUTPUT_LATENCY_MS = Number(process.env.BENCH_OUTPUT_LATENCY_MS ?? 200);
const OUTAGES_MS = [500, 1000, 1500, 2500, 4000];
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 16_000);
const AV_MS = Number(process.env.BENCH_AV_MS ?? 120_000); // the goal's full run: 600000
const ALIVE_MS = Number(process.env.BENCH_ALIVE_MS ?? 120_000); // the goal's full run: 1800000
const FRAME_MS = 1000 / FLASH_FPS;
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'irlkit-viewers-bench-'));

const stack = await startStack({
  bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'viewers_bench' },
  ingestEnv: { SRT_LATENCY_MS: String(SRT_LATENCY_MS), INGEST_OUTPUT_LATENCY_MS: String(OUTPUT_LATENCY_MS) },
  outputLatencyMs: OUTPUT_LATENCY_MS,
});
const { observer, bridge } = stack;
const link = await startUdpLink({ host: '127.0.0.1', port: stack.srtPort });
const program: Array<{ t: number; scene: string | null }> = [];
bridge.obs.onProgramScene((scene) => program.push({ t: Date.now(), scene }));
let trace: TraceEvent[] = [];
observer.subscribe('ingest.link', (e) => {
  if (e.event !== 'rejected') trace.push({ t: Date.now(), type: 'link', event: e.event, lastPacketTs: e.lastPacketTs, playoutMs: e.playoutMs ?? null });
});
observer.subscribe('ingest.stats', (s) => trace.push({ t: Date.now(), type: 'stats', connected: s.connected, bitrateKbps: s.bitrateKbps, rttMs: s.rttMs }));
const audioWarnings: string[] = [];
observer.subscribe('process', (e) => {
  if (e.event === 'warning' && e.detail) audioWarnings.push(e.detail);
});
const request = async <N extends Parameters<typeof observer.request>[0]>(name: N, body: Parameters<typeof observer.request<N>>[1]) => {
  const reply = await observer.request(name, body);
  if (!reply.ok) throw new Error(`${name}: ${reply.error}`);
};
await request('stream.start', {});
await waitFor(() => bridge.obs.isStreaming(), 'OBS streaming', 30_000);

const onProgram = (scene: string, timeoutMs: number) =>
  waitFor(() => bridge.obs.programScene() === scene, `${scene} on program`, timeoutMs, 20).catch((error: Error) => log(`(continuing) ${error.message}`));
const startFeed = () => startFlashFeed({ port: link.port, latencyMs: 500, bitrateKbps: 2000 });

interface Outage {
  durationMs: number | 'kill';
  cutAt: number;
  restoreAt: number;
}

/** Outages of each length, then a sender kill; returns their wall-clock times. */
async function runOutages(feed: FlashFeed): Promise<Outage[]> {
  const outages: Outage[] = [];
  for (const durationMs of OUTAGES_MS) {
    await sleep(SPACING_MS - durationMs);
    const cutAt = Date.now();
    link.cut();
    await sleep(durationMs);
    link.restore();
    outages.push({ durationMs, cutAt, restoreAt: Date.now() });
    log(`outage ${durationMs} ms`);
  }
  await sleep(SPACING_MS);
  const cutAt = Date.now();
  await feed.kill9();
  outages.push({ durationMs: 'kill', cutAt, restoreAt: Number.POSITIVE_INFINITY });
  await sleep(8000);
  return outages;
}

/** Records the output while `during` runs; `anchor` is a wall time of a scene change seen on the output. */
async function record(name: string, during: () => Promise<void>) {
  const recorder = startRecorder(stack.sink.playUrl('test'), join(dir, `${name}.flv`));
  await sleep(2500);
  await during();
  await recorder.stop();
  return { rec: analyseRecording(recorder.file), arrivalWallMs: recorder.arrivalWallMs() };
}

/** Output time − wall time of OBS's render, from program changes and where they show on the output. */
function renderOffset(rec: Recording, changes: Array<{ t: number; scene: string | null }>): number {
  const spans = otherSceneSpans(rec);
  const offsets: number[] = [];
  for (const c of changes) {
    const edge = c.scene === 'Live' ? spans.map((s) => s.toMs) : spans.map((s) => s.fromMs);
    // The output edge nearest to where the last offset puts this change.
    const guess = offsets[0] !== undefined ? c.t + offsets[0] : undefined;
    const nearest = edge.reduce<number | undefined>(
      (best, e) => (best === undefined || (guess !== undefined && Math.abs(e - guess) < Math.abs(best - guess)) ? e : best),
      undefined,
    );
    if (nearest !== undefined) offsets.push(nearest - c.t);
  }
  return percentile(offsets, 50);
}

type Span = { fromMs: number; toMs: number };
const overlap = (a: Span, b: Span) => Math.max(0, Math.min(a.toMs, b.toMs) - Math.max(a.fromMs, b.fromMs));
const sumOverlap = (spans: Span[], window: Span) => spans.reduce((s, x) => s + overlap(x, window), 0);

// --- A: the truth (manual mode, Live stays on program) ---------------------------------------------
await request('switcher.mode', { mode: 'manual' });
let feed = startFeed();
await waitFor(() => trace.some((e) => e.type === 'link' && e.event === 'connected'), 'the sender connected', 30_000);
await sleep(4000);
trace = [];
const anchorChanges: Array<{ t: number; scene: string }> = [];
let referenceOutages: Outage[] = [];
const reference = await record('reference', async () => {
  // A scene flip whose edges on the output tie output time to wall time.
  await request('scene.set', { scene: 'Offline' });
  anchorChanges.push({ t: Date.now(), scene: 'Offline' });
  await sleep(1000);
  await request('scene.set', { scene: 'Live' });
  anchorChanges.push({ t: Date.now(), scene: 'Live' });
  referenceOutages = await runOutages(feed);
});
const refTrace = trace;
const refOffset = renderOffset(reference.rec, anchorChanges);
const refFrozen = frozenRuns(reference.rec);
log(
  `reference: ${reference.rec.frames.length} frames, render offset ${refOffset} ms, frozen runs ${refFrozen.map((r) => `${Math.round(r.toMs - r.fromMs)}`).join(',')}`,
);

// The same traces through each rule. Where the live run saw frames move again is rule-specific, so
// every rule gets the moving picture confirmed 300 ms after the link returns (the frame watch's usual time).
const replayTrace: TraceEvent[] = [
  ...refTrace.filter((e) => e.type !== 'frames'),
  ...refTrace.filter((e) => e.type === 'link' && (e.event === 'connected' || e.event === 'resumed')).map((e) => ({ t: e.t + 300, type: 'frames' as const })),
];
const rules: Record<string, Switch[]> = {
  irlkit: replayIrlkit(replayTrace, DEFAULT_SWITCHER_SETTINGS, 'live', 'freeze'),
  earlier: replayIrlkit(replayTrace, DEFAULT_SWITCHER_SETTINGS, 'live', 'stall'),
  noalbs: replayNoalbs(replayTrace, DEFAULT_SWITCHER_SETTINGS, 'live'),
};

/** Offline spans (output time) of a rule's switches. */
function offlineSpans(switches: Switch[], offset: number, endMs: number): Span[] {
  const spans: Span[] = [];
  let from: number | null = null;
  for (const s of [...switches].sort((a, b) => a.t - b.t)) {
    if (s.state === 'offline' && from === null) from = s.t + offset;
    else if (s.state !== 'offline' && from !== null) {
      spans.push({ fromMs: from, toMs: s.t + offset });
      from = null;
    }
  }
  if (from !== null) spans.push({ fromMs: from, toMs: endMs });
  return spans;
}

interface Row {
  frozenMs: number;
  cutMs: number;
  heldMs: number;
  switches: number;
}
const endOfRef = (reference.rec.frames.at(-1)?.ptsMs ?? 0) + FRAME_MS;
/** Per outage: frozen on air (frozen and not covered), good picture cut before the freeze, and held on Offline after the picture moved again. */
function judge(off: Span[], frozen: Span[], outage: Outage, offset: number, switches: number): Row {
  const window = { fromMs: outage.cutAt + offset - 500, toMs: Math.min(outage.cutAt + offset + SPACING_MS - 1500, endOfRef) };
  const freeze = frozen.filter((f) => overlap(f, window) > 0);
  const firstFreeze = freeze[0]?.fromMs ?? window.toMs;
  const lastFreezeEnd = freeze.at(-1)?.toMs ?? window.toMs;
  let frozenOnAir = 0;
  for (const f of freeze)
    frozenOnAir += overlap(f, window) - sumOverlap(off, { fromMs: Math.max(f.fromMs, window.fromMs), toMs: Math.min(f.toMs, window.toMs) });
  const cut = sumOverlap(off, { fromMs: window.fromMs, toMs: Math.min(firstFreeze, window.toMs) });
  const held = freeze.length ? sumOverlap(off, { fromMs: lastFreezeEnd, toMs: window.toMs }) : 0;
  return { frozenMs: frozenOnAir, cutMs: cut, heldMs: held, switches };
}
const refSpans: Span[] = refFrozen.map((r) => ({ fromMs: r.fromMs, toMs: r.toMs }));
const replayRows: Record<string, Row[]> = {};
for (const [name, switches] of Object.entries(rules)) {
  const off = offlineSpans(switches, refOffset, endOfRef);
  replayRows[name] = referenceOutages.map((o, i) => {
    const next = referenceOutages[i + 1]?.cutAt ?? Number.POSITIVE_INFINITY;
    const count = switches.filter((s) => s.t >= o.cutAt && s.t < next).length;
    return judge(off, refSpans, o, refOffset, count);
  });
}

// --- B: irlkit live (auto mode), measured on the output ---------------------------------------------
await request('switcher.mode', { mode: 'auto' });
feed = startFeed();
await onProgram('Live', 40_000);
await sleep(5000);
const programFrom = program.length;
let liveOutages: Outage[] = [];
const liveFeed = feed;
const live = await record('irlkit', async () => {
  liveOutages = await runOutages(liveFeed);
});
const liveChanges = program.slice(programFrom).filter((c) => c.scene === 'Live' || c.scene === 'Offline');
const liveOffset = liveChanges.length ? renderOffset(live.rec, liveChanges) : refOffset;
const liveFrozen = frozenRuns(live.rec).map((r) => ({ fromMs: r.fromMs, toMs: r.toMs }));
const liveOff = otherSceneSpans(live.rec);
const liveRows = liveOutages.map((o, i) => {
  const next = liveOutages[i + 1]?.cutAt ?? Number.POSITIVE_INFINITY;
  const count = liveChanges.filter((c) => c.t >= o.cutAt && c.t < next).length;
  return judge(liveOff, liveFrozen, o, liveOffset, count);
});
// Sender → RTMP output, for every fresh numbered frame: its arrival at the recorder minus its send time. The
// recording's times are the publisher's (as old as OBS's stream): arrival counts from its first packet.
const fresh = live.rec.frames.filter((f, i, all) => f.senderFrame !== null && f.senderFrame !== all[i - 1]?.senderFrame);
const delayAt = (wallFrom: number, wallTo: number) => {
  const values = fresh
    .filter((f) => f.ptsMs - liveOffset >= wallFrom && f.ptsMs - liveOffset < wallTo)
    .map((f) => live.arrivalWallMs + (f.ptsMs - live.rec.firstPtsMs) - (liveFeed.startWallMs() + (f.senderFrame as number) * FRAME_MS));
  return values.length ? percentile(values, 50) : Number.NaN;
};
const delays = liveOutages
  .filter((o) => o.durationMs !== 'kill')
  .map((o) => ({
    durationMs: o.durationMs as number,
    beforeMs: delayAt(o.cutAt - 5000, o.cutAt),
    afterMs: delayAt(o.restoreAt + 10_000, o.restoreAt + 12_000),
  }));
const steadyMs = delays[0]?.beforeMs ?? Number.NaN;
log(`measured rows ${JSON.stringify(liveRows)}; replayed ${JSON.stringify(replayRows)}; delays ${JSON.stringify(delays)}`);

// --- report (written after B, and again with C and D; a later phase that fails leaves its rows "—") ----
interface Later {
  av?: { n: number; min: number; max: number; drift: number };
  aliveSwitches?: number;
  gaps?: number;
  added?: number[];
  failed?: string[];
}
const later: Later = { failed: [] };
const fmt = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '—');
const label = (o: Outage) => (o.durationMs === 'kill' ? 'sender `kill -9`' : `${(o.durationMs as number) / 1000} s outage`);
function writeReport(): void {
  const rows = referenceOutages.map((o, i) => {
    const cell = (r: Row | undefined) => (r ? `${fmt(r.frozenMs)} / ${fmt(r.cutMs)} / ${fmt(r.heldMs)} / ${r.switches}` : '—');
    return `| ${label(o)} | ${cell(liveRows[i])} | ${cell(replayRows.irlkit?.[i])} | ${cell(replayRows.earlier?.[i])} | ${cell(replayRows.noalbs?.[i])} |`;
  });
  const delayRows = delays.map((d) => `| ${d.durationMs / 1000} s | ${fmt(d.beforeMs)} | ${fmt(d.afterMs)} | ${Math.round(d.afterMs - steadyMs)} |`);
  const addedMedian = later.added?.length ? percentile(later.added, 50) : Number.NaN;
  log(JSON.stringify({ rows, delayRows, later, addedMedian, audioWarnings }, null, 1));
  const av = later.av;
  writeBenchSection(
    'viewers',
    'What viewers see: frozen picture, good picture cut, delay and A/V sync on the RTMP output',
    `pnpm bench viewers${AV_MS !== 600_000 || ALIVE_MS !== 1_800_000 ? ` (BENCH_AV_MS=${AV_MS} BENCH_ALIVE_MS=${ALIVE_MS}; the goals' full runs: BENCH_AV_MS=600000 BENCH_ALIVE_MS=1800000)` : ''}`,
    `
Real components in a private network namespace: a flash/beep feed (ffmpeg lavfi: 640×360/30 fps test
pattern, the first 3 frames of every second white and a 1 kHz beep for the same 100 ms, every frame's
number drawn in 16 boxes) sent over SRT through a user-space UDP link (outages = every datagram dropped)
→ ingest (SRT latency ${SRT_LATENCY_MS} ms) → srt-live-transmit → SRT ${OUTPUT_LATENCY_MS} ms → OBS 29 → RTMP (nginx), recorded
with \`ffmpeg -c copy\` and read back frame by frame (scene on air, sender frame shown) and sample by sample (beeps).
${later.failed?.length ? `\n**Phases that failed in this run** (their rows below are empty): ${later.failed.join('; ')}\n` : ''}
**Per outage** — frozen picture on air / good picture cut before the freeze / held on Offline after
the picture moved again / scene switches, in seconds. Goal: frozen and cut ≤ 0.2 s each; outages
shorter than the latency → 0 switches. "Measured" is irlkit's switcher running for real (auto mode), judged on its own
recording; the other columns replay the ingest traces of one recording made with the switcher in manual mode
(program stays Live, so it shows exactly when the picture froze) through each rule: irlkit's deadline
(last packet + playout + pictureLagMs; the live switcher also watches the input's picture, which a replay
cannot), the earlier rule (Offline with ingest's stall event, 500 ms after the last packet) and NOALBS's
(1 s polls, 6 identical samples). Replays take the moving picture as confirmed 300 ms after the link returns.

| outage | irlkit, measured | irlkit deadline, replayed | earlier rule (stall at 500 ms), replayed | NOALBS rule, replayed |
|---|---|---|---|---|
${rows.join('\n')}

**Delay sender → RTMP output** (irlkit, measured run): median over the 5 s before each outage and over
10–12 s after it ended (frame send time from the sender's pacing, arrival at the recorder; "—": not on air then).
Goal: back within 100 ms of steady.

| outage | before s | 10 s after s | after − steady ms |
|---|---|---|---|
${delayRows.join('\n')}

**A/V offset** over ${AV_MS / 60_000} min with 9 outages (0.5–4 s) and 10 s of 5 % random loss: ${
      av
        ? `${av.n} flash/beep pairs, offset (audio − video) from ${Math.round(av.min)} to ${Math.round(av.max)} ms, drift (last 30 s − first 30 s) ${Math.round(av.drift)} ms`
        : '—'
    }.
Goal: |offset| ≤ 45 ms, drift ≤ 20 ms.

**OBS's audio buffering** (OBS's log lines, surfaced as \`process\` warnings): ${
      audioWarnings.length
        ? `${audioWarnings.length} warnings, the last: ${audioWarnings.slice(-3).join('; ')}`
        : 'no buffering increase or lagging audio reported by OBS during the whole run'
    }.

**False failovers**: ${ALIVE_MS / 60_000} min of a lossy but alive link (5 % random loss, ${later.gaps ?? '—'} gaps of 0.2–1.5 s):
${later.aliveSwitches ?? '—'} scene switches. Goal: 0.

**irlkit's added delay** against OBS reading the same sender directly (one ffmpeg sending to both, screenshots
of both inputs, ${later.added?.length ?? 0} samples): median ${Number.isFinite(addedMedian) ? Math.round(addedMedian) : '—'} ms. Goal ≤ 100 ms.
`,
  );
}
writeReport();

// --- C: A/V offset with outages and 5 % loss, and false failovers on a lossy, alive link ---------------
try {
  feed = startFeed();
  await onProgram('Live', 40_000);
  await sleep(4000);
  const av = await record('av', async () => {
    const start = Date.now();
    const outageEvery = AV_MS / 10;
    for (let k = 0; k < 10; k++) {
      await sleep(Math.max(0, start + k * outageEvery + outageEvery / 2 - Date.now()));
      if (k === 5) {
        link.loss(0.05);
        await sleep(10_000);
        link.loss(0);
      } else {
        link.cut();
        await sleep(OUTAGES_MS[k % OUTAGES_MS.length] as number);
        link.restore();
      }
    }
    await sleep(Math.max(0, start + AV_MS - Date.now()));
  });
  const offsets = avOffsets(av.rec);
  const offsetValues = offsets.map((o) => o.offsetMs);
  const firstWindow = offsets.filter((o) => o.atMs < (offsets[0]?.atMs ?? 0) + 30_000).map((o) => o.offsetMs);
  const lastWindow = offsets.filter((o) => o.atMs > (offsets.at(-1)?.atMs ?? 0) - 30_000).map((o) => o.offsetMs);
  const mean = (v: number[]) => v.reduce((sum, x) => sum + x, 0) / Math.max(1, v.length);
  later.av = { n: offsetValues.length, min: Math.min(...offsetValues), max: Math.max(...offsetValues), drift: mean(lastWindow) - mean(firstWindow) };
  log(`A/V: ${JSON.stringify(later.av)}`);

  await onProgram('Live', 60_000);
  await sleep(3000);
  const aliveFrom = program.length;
  let seed = 20261201;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  link.loss(0.05);
  const aliveStart = Date.now();
  let gaps = 0;
  while (Date.now() - aliveStart < ALIVE_MS) {
    await sleep(3000 + random() * 7000);
    link.cut();
    await sleep(200 + random() * 1300);
    link.restore();
    gaps += 1;
  }
  link.loss(0);
  later.gaps = gaps;
  later.aliveSwitches = program.slice(aliveFrom).length;
  log(`alive: ${gaps} gaps, ${later.aliveSwitches} switches`);
} catch (error) {
  later.failed?.push(`A/V and false failovers: ${(error as Error).message}`);
  log(`phase C failed: ${(error as Error).stack}`);
}
await feed.stop();
link.loss(0);
link.restore();
writeReport();

// --- D: irlkit's added delay against OBS reading the sender directly (one sender, both paths) ----------
try {
  const directPort = await freeUdpPort();
  // In the Live scene, shrunk to a corner pixel: OBS renders (and so screenshots) only a source on program.
  const { sceneItemId } = await bridge.obs.call('adding a direct input', (ws) =>
    ws.call('CreateInput', {
      sceneName: 'Live',
      inputName: 'Direct feed',
      inputKind: 'ffmpeg_source',
      inputSettings: {
        is_local_file: false,
        input: `srt://127.0.0.1:${directPort}?mode=listener&latency=${SRT_LATENCY_MS * 1000}`,
        input_format: 'mpegts',
        close_when_inactive: false,
        restart_on_activate: false,
        buffering_mb: 1,
        seekable: false,
      },
    }),
  );
  await bridge.obs.call('shrinking the direct input', (ws) =>
    ws.call('SetSceneItemTransform', { sceneName: 'Live', sceneItemId, sceneItemTransform: { positionX: 0, positionY: 0, scaleX: 0.004, scaleY: 0.004 } }),
  );
  await sleep(2000);
  const both = startFlashFeed({
    port: link.port,
    outputs: [srtUrl({ port: link.port, latencyMs: 500 }), srtUrl({ port: directPort, latencyMs: SRT_LATENCY_MS })],
  });
  try {
    await onProgram('Live', 40_000);
    await sleep(4000);
    const raster = async (source: string) => {
      const n = senderFrameOfImage(await bridge.obs.sourceScreenshot(source, 96, 'png'));
      return n !== null && n < 60_000 ? n : null; // all boxes white: a flash frame
    };
    const added: number[] = [];
    for (let i = 0; i < 40; i++) {
      const d1 = await raster('Direct feed');
      const k = await raster('SRT feed');
      const d2 = await raster('Direct feed');
      if (d1 !== null && k !== null && d2 !== null && Math.abs(d2 - d1) < 10) added.push(((d1 + d2) / 2 - k) * FRAME_MS);
      await sleep(200);
    }
    later.added = added;
  } finally {
    await both.stop();
  }
} catch (error) {
  later.failed?.push(`added delay: ${(error as Error).message}`);
  log(`phase D failed: ${(error as Error).stack}`);
}
await link.stop();
await stack.stop();
rmSync(dir, { recursive: true, force: true });
writeReport();
log('viewers benchmark written to docs/BENCHMARKS.md');
process.exit(0);
