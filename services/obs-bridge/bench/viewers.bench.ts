// What viewers see, measured on the RTMP output: a flash/beep feed (every frame numbered) through a user-space
// UDP link → ingest → srt-live-transmit → OBS → RTMP sink, recorded and analysed frame by frame. Outages of
// 0.5–4 s and a sender kill; frozen picture on air, good picture cut, switches, delay sender → output before
// and 10 s after each outage, A/V offset, OBS's audio buffering, and irlkit's added delay against OBS reading
// the sender directly (false failovers over 30 minutes: alive.bench.ts). The switcher runs for real first
// (auto mode, a fresh stack: no flap history); then a recording with the switcher in manual mode (program
// stays Live) is the truth of when the picture froze, against which irlkit's rule, the earlier rule and
// NOALBS's rule are replayed on the same ingest traces.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SWITCHER_SETTINGS } from '@irlkit/shared';
import {
  analyseRecording,
  avOffsets,
  FLASH_FPS,
  type FlashFeed,
  flashContext,
  freeUdpPort,
  frozenRuns,
  otherSceneSpans,
  type Recording,
  frameDelays as senderDelays,
  senderFrameOfImage,
  startFlashFeed,
  startRecorder,
  startStack,
  startUdpLink,
  waitFor,
} from '@irlkit/test-kit';
import { percentile, writeBenchSection } from '../../../test/bench/report.ts';
import { replayIrlkit, replayNoalbs, type Switch, type TraceEvent } from './replay.ts';

const SRT_LATENCY_MS = 2000;
const OUTAGES_MS = [500, 1000, 1500, 2500, 4000];
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 16_000);
const AV_MS = Number(process.env.BENCH_AV_MS ?? 120_000); // the goal's full run: 600000
const FRAME_MS = 1000 / FLASH_FPS;
/** Fresh opens of each path in the added-delay phase (the delay of one open varies by a few hundred ms). */
const ADDED_ROUNDS = Number(process.env.BENCH_ADDED_ROUNDS ?? 5);
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'irlkit-viewers-bench-'));

const stack = await startStack({
  bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'viewers_bench' },
  ingestEnv: { SRT_LATENCY_MS: String(SRT_LATENCY_MS) },
});
const { observer, bridge } = stack;
const link = await startUdpLink({ host: '127.0.0.1', port: stack.srtPort });
const program: Array<{ t: number; scene: string | null }> = [];
bridge.obs.onProgramScene((scene) => program.push({ t: Date.now(), scene }));
let trace: TraceEvent[] = [];
observer.subscribe('ingest.link', (e) => {
  if (e.event === 'stalled') happenings.push({ t: Date.now(), what: 'ingest.link stalled', mark: true });
  if (e.event !== 'rejected') trace.push({ t: Date.now(), type: 'link', event: e.event, lastPacketTs: e.lastPacketTs, playoutMs: e.playoutMs ?? null });
});
observer.subscribe('ingest.stats', (s) => trace.push({ t: Date.now(), type: 'stats', connected: s.connected, bitrateKbps: s.bitrateKbps, rttMs: s.rttMs }));
const audioWarnings: string[] = [];
/** OBS's audio warnings by phase (index into audioWarnings where each phase began). */
const warningsFrom: Record<string, number> = { B: 0 };
/** What happened when (wall ms), for an A/V pair beyond the goal to be read beside: logs, OBS's warnings, anchors.
 * `mark`: one of OBS's warnings, a feed stall or a late event loop, listed on the A/V recording's clock. */
const happenings: Array<{ t: number; what: string; mark?: boolean }> = [];
observer.subscribe('process', (e) => {
  if (e.event === 'warning' && e.detail) audioWarnings.push(e.detail);
  happenings.push({ t: Date.now(), what: `${e.child} ${e.event}${e.detail ? `: ${e.detail}` : ''}`, mark: e.event === 'warning' });
});
observer.subscribe('log', (e) => happenings.push({ t: e.ts, what: `${e.source}: ${e.message}` }));
// This process also runs ingest, whose feed output hands OBS the stream: a late event loop here is a late feed there.
let loopDue = Date.now() + 10;
setInterval(() => {
  const lateMs = Date.now() - loopDue;
  if (lateMs > 40) happenings.push({ t: Date.now(), what: `this process's event loop ${lateMs} ms late`, mark: true });
  loopDue = Date.now() + 10;
}, 10).unref();
let anchors = 0;
observer.subscribe('heartbeat', (h) => {
  const n = (h.detail as { feedAudioAnchors?: unknown } | undefined)?.feedAudioAnchors;
  if (h.service === 'obs-bridge' && typeof n === 'number' && n !== anchors) {
    happenings.push({ t: h.ts, what: `feed audio anchored (${n - anchors} since the last heartbeat)` });
    anchors = n;
  }
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
  return { rec: await analyseRecording(recorder.file), arrivalWallMs: recorder.arrivalWallMs() };
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

interface Row {
  frozenMs: number;
  cutMs: number;
  heldMs: number;
  switches: number;
}
/**
 * Per outage: frozen on air (frozen and not covered), good picture cut before the freeze, and held on Offline
 * after the picture moved again, judged in the window from the cut to the next outage or the recording's end.
 */
function judge(off: Span[], frozen: Span[], outage: Outage, offset: number, switches: number, endMs: number): Row {
  const window = { fromMs: outage.cutAt + offset - 500, toMs: Math.min(outage.cutAt + offset + SPACING_MS - 1500, endMs) };
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
const endOf = (rec: Recording) => (rec.frames.at(-1)?.ptsMs ?? 0) + FRAME_MS;

/** Waits until a source's picture shows sender frames moving forward (two readings apart). */
async function waitMoving(source: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: number | null = null;
  while (Date.now() < until) {
    const n = senderFrameOfImage(await bridge.obs.sourceScreenshot(source, 96, 'png').catch(() => ''));
    if (n !== null && n < 60_000) {
      if (last !== null && n > last) return;
      last = n;
    }
    await sleep(300);
  }
  throw new Error(`no moving picture on ${source} within ${timeoutMs} ms`);
}

/** Sender → RTMP output of every fresh numbered frame of a recording (ms), at its wall-clock time on air. */
function frameDelays(r: { rec: Recording; arrivalWallMs: number }, sender: FlashFeed, offset: number): Array<{ wallMs: number; delayMs: number }> {
  // The recording's times are the publisher's (as old as OBS's stream): arrival counts from its first packet.
  return senderDelays(r.rec, r.arrivalWallMs, sender).map((d) => ({ wallMs: d.ptsMs - offset, delayMs: d.delayMs }));
}

// --- B: irlkit live (auto mode, a fresh switcher: no flap history), measured on the output ---------------
await request('switcher.mode', { mode: 'auto' });
let feed = startFeed();
await onProgram('Live', 40_000);
await sleep(5000);
const programFrom = program.length;
let liveOutages: Outage[] = [];
const liveFeed = feed;
const live = await record('irlkit', async () => {
  liveOutages = await runOutages(liveFeed);
});
const liveChanges = program.slice(programFrom).filter((c) => c.scene === 'Live' || c.scene === 'Offline');
// Without a scene change to tie output time to wall time, the recorder's arrival does (OBS → recorder in between).
const liveOffset = liveChanges.length ? renderOffset(live.rec, liveChanges) : live.rec.firstPtsMs - live.arrivalWallMs;
const liveFrozen = frozenRuns(live.rec).map((r) => ({ fromMs: r.fromMs, toMs: r.toMs }));
const liveOff = otherSceneSpans(live.rec);
const liveDelays = frameDelays(live, liveFeed, liveOffset);
const delayAt = (wallFrom: number, wallTo: number) => {
  const values = liveDelays.filter((d) => d.wallMs >= wallFrom && d.wallMs < wallTo).map((d) => d.delayMs);
  return values.length ? percentile(values, 50) : Number.NaN;
};
const delays = liveOutages
  .filter((o) => o.durationMs !== 'kill')
  .map((o, i, all) => {
    const afterMs = delayAt(o.restoreAt + 10_000, o.restoreAt + 12_000);
    // Not on air 10 s after (still on Offline): the first 2 s on air again, before the next outage.
    const next = all[i + 1]?.cutAt ?? o.restoreAt + SPACING_MS;
    const back = Number.isFinite(afterMs) ? undefined : liveDelays.find((d) => d.wallMs > o.restoreAt + 1000 && d.wallMs < next)?.wallMs;
    return {
      durationMs: o.durationMs as number,
      beforeMs: delayAt(o.cutAt - 5000, o.cutAt),
      afterMs: back !== undefined ? delayAt(back, Math.min(back + 2000, next)) : afterMs,
      backAfterMs: back !== undefined ? back - o.restoreAt : undefined,
    };
  });
const steadyMs = delays[0]?.beforeMs ?? Number.NaN;
log(`delays ${JSON.stringify(delays)}`);

// --- A: the truth (manual mode, Live stays on program) ---------------------------------------------
warningsFrom.A = audioWarnings.length;
await request('switcher.mode', { mode: 'manual' });
await request('scene.set', { scene: 'Live' });
trace = [];
feed = startFeed();
await waitFor(() => trace.some((e) => e.type === 'link' && e.event === 'connected'), 'the sender connected', 30_000);
await waitMoving('SRT feed', 30_000);
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
const refFeed = feed;
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
const refSpans: Span[] = refFrozen.map((r) => ({ fromMs: r.fromMs, toMs: r.toMs }));
const endOfRef = endOf(reference.rec);
const replayRows: Record<string, Row[]> = {};
for (const [name, switches] of Object.entries(rules)) {
  const off = offlineSpans(switches, refOffset, endOfRef);
  replayRows[name] = referenceOutages.map((o, i) => {
    const next = referenceOutages[i + 1]?.cutAt ?? Number.POSITIVE_INFINITY;
    const count = switches.filter((s) => s.t >= o.cutAt && s.t < next).length;
    return judge(off, refSpans, o, refOffset, count, endOfRef);
  });
}
log(`replayed ${JSON.stringify(replayRows)}`);

// The measured run, judged on its own recording. Offline hides whether the picture behind it froze, so the
// sender's frame numbers tell: good picture cut = frames on the wire before the cut (so already delivered) that
// Offline kept off air; held = Offline time beyond that and beyond the freeze the same outage caused with
// the program left on Live (the manual run), i.e. moving picture kept off air after the gap.
const refFreezeOf = (o: Outage, i: number) => {
  const ref = referenceOutages[i];
  if (!ref || o.durationMs === 'kill') return Number.POSITIVE_INFINITY;
  const window = { fromMs: ref.cutAt + refOffset - 500, toMs: Math.min(ref.cutAt + refOffset + SPACING_MS - 1500, endOfRef) };
  return sumOverlap(refSpans, window);
};
const liveEnd = endOf(live.rec);
// Frames the sender had read but not yet sent when it was killed (its encoder and muxer hold them): in the
// manual run every frame sent before the kill reached the output, so the last one shown tells how far behind
// its pacing the wire was. A cut of the link at time t has lost those frames too.
const refKill = referenceOutages.find((o) => o.durationMs === 'kill');
const refShown = reference.rec.frames.filter((f) => f.senderFrame !== null).map((f) => f.senderFrame as number);
const pipelineFrames = refKill && refShown.length ? Math.max(0, refFeed.frameAt(refKill.cutAt) - Math.max(...refShown)) : 0;
log(`sender pipeline: ${pipelineFrames} frames (${Math.round(pipelineFrames * FRAME_MS)} ms) read but not sent at a kill`);
const liveRows: Row[] = liveOutages.map((o, i) => {
  const next = liveOutages[i + 1]?.cutAt ?? Number.POSITIVE_INFINITY;
  const switches = liveChanges.filter((c) => c.t >= o.cutAt && c.t < next).length;
  const window = { fromMs: o.cutAt + liveOffset - 500, toMs: Math.min(o.cutAt + liveOffset + SPACING_MS - 1500, liveEnd) };
  const frozenMs = sumOverlap(liveFrozen, window);
  const off = liveOff.filter((x) => overlap(x, window) > 0);
  const first = off[0];
  if (!first) return { frozenMs, cutMs: 0, heldMs: 0, switches };
  const shownBefore = live.rec.frames.filter((f) => f.ptsMs < first.fromMs && f.senderFrame !== null).map((f) => f.senderFrame as number);
  const lastShown = shownBefore.length ? Math.max(...shownBefore) : 0;
  const cutMs = Math.max(0, liveFeed.frameAt(o.cutAt) - pipelineFrames - lastShown) * FRAME_MS;
  const offMs = sumOverlap(off, window);
  const heldMs = Math.max(0, offMs - cutMs - refFreezeOf(o, i));
  return { frozenMs, cutMs, heldMs, switches };
});
log(`measured rows ${JSON.stringify(liveRows)}`);

// --- report (written after A, and again with C and D; a later phase that fails leaves its rows "—") ----
interface AddedRound {
  path: 'irlkit' | 'direct';
  delayMs: number;
  frames: number;
  /** Median A/V offset (audio − video) of this open, ms; null with no flash/beep pair. */
  avMs: number | null;
}
interface Later {
  /** beyond: each pair off by more than 45 ms, with what the picture did around it (flashContext). */
  av?: { n: number; min: number; max: number; median: number; drift: number; outages: number; beyond: string[] };
  added?: AddedRound[];
  failed?: string[];
}
const later: Later = { failed: [] };
const fmt = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '—');
const label = (o: Outage) => (o.durationMs === 'kill' ? 'sender `kill -9`' : `${(o.durationMs as number) / 1000} s outage`);
function addedSummary() {
  const of = (path: AddedRound['path']) => (later.added ?? []).filter((r) => r.path === path).map((r) => r.delayMs);
  const irlkit = percentile(of('irlkit'), 50);
  const direct = percentile(of('direct'), 50);
  return { irlkit, direct, added: irlkit - direct };
}
/** The A/V offsets of one path's fresh opens, as "a, b, c ms (range x…y)". */
function avPerOpen(path: AddedRound['path']): string {
  const values = (later.added ?? []).filter((r) => r.path === path && r.avMs !== null).map((r) => Math.round(r.avMs as number));
  return values.length ? `${values.join(', ')} ms (${Math.min(...values)}…${Math.max(...values)})` : '—';
}
function warningsIn(phase: string, next?: string): string[] {
  const from = warningsFrom[phase];
  if (from === undefined) return [];
  const to = next !== undefined ? (warningsFrom[next] ?? audioWarnings.length) : audioWarnings.length;
  return audioWarnings.slice(from, to);
}
function writeReport(): void {
  const rows = referenceOutages.map((o, i) => {
    const cell = (r: Row | undefined) => (r ? `${fmt(r.frozenMs)} / ${fmt(r.cutMs)} / ${fmt(r.heldMs)} / ${r.switches}` : '—');
    return `| ${label(o)} | ${cell(liveRows[i])} | ${cell(replayRows.irlkit?.[i])} | ${cell(replayRows.earlier?.[i])} | ${cell(replayRows.noalbs?.[i])} |`;
  });
  const delayRows = delays.map(
    (d) =>
      `| ${d.durationMs / 1000} s | ${fmt(d.beforeMs)} | ${fmt(d.afterMs)}${d.backAfterMs !== undefined ? ` (on Offline 10 s after; measured from its return to Live, ${fmt(d.backAfterMs)} s after the link)` : ''} | ${Number.isFinite(d.afterMs - steadyMs) ? Math.round(d.afterMs - steadyMs) : '—'} |`,
  );
  const added = addedSummary();
  const av = later.av;
  const phaseWarnings = (['B', 'A', 'C', 'D'] as const).map((p, i, all) => {
    const w = warningsIn(p, all[i + 1]);
    return `${{ B: 'switcher run', A: 'manual run', C: 'A/V run', D: 'added delay' }[p]}: ${w.length ? `${w.length} (${w.slice(0, 4).join('; ')}${w.length > 4 ? '; …' : ''})` : 'none'}`;
  });
  log(JSON.stringify({ rows, delayRows, later, added, audioWarnings }, null, 1));
  writeBenchSection(
    'viewers',
    'What viewers see: frozen picture, good picture cut, delay and A/V sync on the RTMP output',
    `pnpm bench viewers${AV_MS !== 600_000 ? ` (BENCH_AV_MS=${AV_MS}; the goal's full run: BENCH_AV_MS=600000)` : ''}`,
    `
Real components in a private network namespace: a flash/beep feed (ffmpeg lavfi: 640×360/30 fps test
pattern, the first 3 frames of every second white and a 1 kHz beep for the same 100 ms, every frame's
number drawn in 16 boxes) sent over SRT through a user-space UDP link (outages = every datagram dropped)
→ ingest (SRT latency ${SRT_LATENCY_MS} ms) → srt-live-transmit → TCP (each reader starting at a keyframe) → OBS 29 → RTMP (nginx), recorded
with \`ffmpeg -c copy\` and read back frame by frame (scene on air, sender frame shown) and sample by sample (beeps).
Outages every ${SPACING_MS / 1000} s. False failovers over 30 minutes of a lossy link: the next section (\`pnpm bench alive\`).
${later.failed?.length ? `\n**Phases that failed in this run** (their rows below are empty): ${later.failed.join('; ')}\n` : ''}
**Per outage** — frozen picture on air / good picture cut before the freeze / held on Offline after
the picture moved again / scene switches, in seconds. Goal: frozen and cut ≤ 0.2 s each; outages
shorter than the latency → 0 switches. "Measured" is irlkit's switcher running for real (auto mode, run
first on a fresh stack so no earlier outage counts into its flap damping), judged on its own
recording; the other columns replay the ingest traces of a second recording made with the switcher in manual mode
(program stays Live, so it shows exactly when the picture froze) through each rule: irlkit's deadline
(last packet + playout + pictureLagMs; the live switcher also watches the input's picture, which a replay
cannot), the earlier rule (Offline with ingest's stall event, 500 ms after the last packet) and NOALBS's
(1 s polls, 6 identical samples). Replays take the moving picture as confirmed 300 ms after the link returns.

| outage | irlkit, measured | irlkit deadline, replayed | earlier rule (stall at 500 ms), replayed | NOALBS rule, replayed |
|---|---|---|---|---|
${rows.join('\n')}

**Delay sender → RTMP output** (irlkit, measured run): median over the 5 s before each outage and over
10–12 s after it ended (frame send time from the sender's pacing, arrival at the recorder).
Goal: back within 100 ms of steady.

| outage | before s | 10 s after s | after − steady ms |
|---|---|---|---|
${delayRows.join('\n')}

**A/V offset** over ${AV_MS / 60_000} min with ${av?.outages ?? '—'} outages (0.5–4 s) and 10 s of 5 % random loss: ${
      av
        ? `${av.n} flash/beep pairs on air, offset (audio − video) from ${Math.round(av.min)} to ${Math.round(av.max)} ms (median ${Math.round(av.median)}), drift (mean of the last 30 s − the first 30 s) ${Math.round(av.drift)} ms`
        : '—'
    }.
Goal: |offset| ≤ 45 ms, drift ≤ 20 ms.${av?.beyond.length ? `\nPairs beyond ±45 ms, with the picture around them: ${av.beyond.join('; ')}.` : ''}

**OBS's audio warnings** (OBS's log lines on audio buffering and lagging audio, surfaced as \`process\` warnings), by phase:
${phaseWarnings.map((w) => `- ${w}`).join('\n')}

**irlkit's added delay**: the same OBS input pointed in turn at irlkit's relay and at the sender itself (a listener
with the same SRT latency, ${SRT_LATENCY_MS} ms), each path opened afresh ${Math.max(0, ...['irlkit', 'direct'].map((p) => (later.added ?? []).filter((r) => r.path === p).length))} times, the
sender → RTMP output delay measured as above over 10 s each: ${
      later.added?.length
        ? `${later.added.map((r) => `${r.path} ${fmt(r.delayMs)} s`).join(', ')}. Median irlkit ${fmt(added.irlkit)} s, direct ${fmt(added.direct)} s: **added ${Math.round(added.added)} ms**`
        : '—'
    }. Goal ≤ 100 ms.

**A/V offset of each fresh open** (audio − video, median of each of the rounds above; flat within one open): through
irlkit ${avPerOpen('irlkit')}; OBS reading the sender directly ${avPerOpen('direct')}.
`,
  );
}
writeReport();

// --- C: A/V offset over outages and 5 % loss ------------------------------------------------------------
await feed.stop();
try {
  warningsFrom.C = audioWarnings.length;
  await request('switcher.mode', { mode: 'auto' });
  feed = startFeed();
  await onProgram('Live', 60_000);
  await sleep(4000);
  // 10 outages (0.5–4 s, in turn) and 10 s of 5 % random loss in the middle, evenly spread.
  const slots = 11;
  let outages = 0;
  const av = await record('av', async () => {
    const start = Date.now();
    const every = AV_MS / slots;
    for (let k = 0; k < slots; k++) {
      await sleep(Math.max(0, start + k * every + every / 2 - Date.now()));
      if (k === 5) {
        link.loss(0.05);
        await sleep(10_000);
        link.loss(0);
      } else {
        link.cut();
        await sleep(OUTAGES_MS[outages % OUTAGES_MS.length] as number);
        link.restore();
        outages += 1;
      }
    }
    await sleep(Math.max(0, start + AV_MS - Date.now()));
  });
  const offsets = avOffsets(av.rec);
  const offsetValues = offsets.map((o) => o.offsetMs);
  const firstWindow = offsets.filter((o) => o.atMs < (offsets[0]?.atMs ?? 0) + 30_000).map((o) => o.offsetMs);
  const lastWindow = offsets.filter((o) => o.atMs > (offsets.at(-1)?.atMs ?? 0) - 30_000).map((o) => o.offsetMs);
  const mean = (v: number[]) => v.reduce((sum, x) => sum + x, 0) / Math.max(1, v.length);
  later.av = {
    n: offsetValues.length,
    min: Math.min(...offsetValues),
    max: Math.max(...offsetValues),
    median: percentile(offsetValues, 50),
    drift: mean(lastWindow) - mean(firstWindow),
    outages,
    beyond: offsets
      .filter((o) => Math.abs(o.offsetMs) > 45)
      .map((o) => {
        const at = `${Math.round((o.atMs - av.rec.firstPtsMs) / 1000)} s in: ${Math.round(o.offsetMs)} ms`;
        const c = flashContext(av.rec, o.atMs, o.atMs + o.offsetMs);
        if (!c || c.shownLateMs === null || c.againstClockMs === null) return `${at} (no numbered frame around the flash)`;
        return `${at} (white frames on air ${c.whiteShown} of 3; the flash shown ${Math.round(c.shownLateMs)} ms after frame #${c.flashFrame} was due by frame #${c.before?.frame} before it, #${c.after?.frame} next; the beep against the picture's clock ${Math.round(c.againstClockMs)} ms)`;
      }),
  };
  // Beside each pair beyond the goal: every beep onset near its flash and what happened around its time on air.
  const wallOf = (ptsMs: number) => av.arrivalWallMs + (ptsMs - av.rec.firstPtsMs);
  // Where on the recording OBS said it dropped the feed's audio (a beep in the hole reads early), and the outages.
  const sIn = (wallMs: number) => `${((wallMs - av.arrivalWallMs) / 1000).toFixed(1)} s in`;
  const marks = happenings.filter((h) => h.mark && h.t >= av.arrivalWallMs);
  log(`during the A/V recording (its clock): ${marks.map((h) => `${sIn(h.t)} ${h.what}`).join(' | ') || 'no OBS warning, no stall'}`);
  for (const o of offsets.filter((x) => Math.abs(x.offsetMs) > 45)) {
    const near = av.rec.beepsMs.filter((b) => Math.abs(b - o.atMs) < 1500).map((b) => Math.round(b - o.atMs));
    const around = happenings.filter((h) => Math.abs(h.t - wallOf(o.atMs)) < 6000).map((h) => `${((h.t - wallOf(o.atMs)) / 1000).toFixed(2)} s ${h.what}`);
    log(
      `A/V pair beyond 45 ms, ${Math.round((o.atMs - av.rec.firstPtsMs) / 1000)} s in: beeps at ${near.join(', ')} ms from the flash; around it (from its time on air): ${around.join(' | ') || 'nothing'}`,
    );
  }
  if (later.av.beyond.length > 0) {
    mkdirSync('test-artifacts', { recursive: true });
    copyFileSync(join(dir, 'av.flv'), 'test-artifacts/viewers-av.flv');
    log('the A/V recording is kept: test-artifacts/viewers-av.flv');
  }
  log(`A/V: ${JSON.stringify(later.av)}; offsets ${offsets.map((o) => `${Math.round(o.atMs / 1000)}:${Math.round(o.offsetMs)}`).join(' ')}`);
} catch (error) {
  later.failed?.push(`A/V: ${(error as Error).message}`);
  log(`phase C failed: ${(error as Error).stack}`);
}
link.loss(0);
link.restore();
writeReport();

/** Starts a sender and waits for ingest to take it; ingest refuses one while it still holds the last sender's session: then again. */
async function startConnectedFeed(): Promise<FlashFeed> {
  for (let attempt = 1; ; attempt++) {
    trace = [];
    const sender = startFeed();
    try {
      await waitFor(() => trace.some((e) => e.type === 'link' && e.event === 'connected'), 'the sender connected', 8000);
      return sender;
    } catch (error) {
      await sender.stop();
      if (attempt >= 5) throw error;
      log(`sender not taken (attempt ${attempt}): again`);
      await sleep(2000);
    }
  }
}

// --- D: irlkit's added delay: the feed input pointed at irlkit's relay, then at the sender itself ---------
try {
  warningsFrom.D = audioWarnings.length;
  await feed.stop();
  await request('switcher.mode', { mode: 'manual' });
  await request('scene.set', { scene: 'Live' });
  const input = 'SRT feed';
  const { inputSettings } = await bridge.obs.call('reading the feed input', (ws) => ws.call('GetInputSettings', { inputName: input }));
  const relayUrl = String((inputSettings as { input?: unknown }).input);
  const directPort = await freeUdpPort();
  const directUrl = `srt://127.0.0.1:${directPort}?mode=listener&latency=${SRT_LATENCY_MS * 1000}`;
  const setUrl = (url: string) =>
    bridge.obs.call('pointing the feed input', (ws) => ws.call('SetInputSettings', { inputName: input, inputSettings: { input: url }, overlay: true }));
  const rounds: AddedRound[] = [];
  for (let round = 0; round < ADDED_ROUNDS * 2; round++) {
    const path: AddedRound['path'] = round % 2 === 0 ? 'irlkit' : 'direct';
    // Setting the URL gives the input a fresh player (it is the same for irlkit's path: a reopen).
    let sender: FlashFeed;
    if (path === 'irlkit') {
      await setUrl(relayUrl);
      sender = await startConnectedFeed();
      await sleep(1500);
      // A fresh player on the flowing feed, as the direct path gets.
      await bridge.obs.reopenMediaInput(input);
    } else {
      await setUrl(directUrl);
      await sleep(500);
      sender = startFlashFeed({ port: directPort, latencyMs: 500, bitrateKbps: 2000 });
    }
    try {
      await waitMoving(input, 30_000);
      await sleep(5000);
      const r = await record(`added-${round}`, async () => {
        await sleep(10_000);
      });
      const values = frameDelays(r, sender, 0).map((d) => d.delayMs);
      // Each fresh open of OBS's media input keeps an A/V offset of its own: the same recording tells it.
      const av = avOffsets(r.rec).map((o) => o.offsetMs);
      const avMs = av.length ? percentile(av, 50) : null;
      rounds.push({ path, delayMs: percentile(values, 50), frames: values.length, avMs });
      log(`added delay round ${round} (${path}): ${percentile(values, 50)} ms over ${values.length} frames; A/V ${avMs} ms over ${av.length} pairs`);
    } finally {
      await sender.stop();
    }
  }
  later.added = rounds;
  await setUrl(relayUrl);
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
