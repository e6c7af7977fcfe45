// False failovers: a lossy but alive link for 30 minutes (5 % random loss, gaps of 0.2–1.5 s every 3–10 s, all
// shorter than the SRT latency) through the real chain (flash/beep feed → user-space UDP link → ingest →
// srt-live-transmit → OBS → RTMP), the switcher in auto mode. Counted: scene switches, and on the recorded RTMP
// output the frozen picture on air and the A/V offset, so "no switch" cannot hide a picture viewers saw stop.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseRecording, avOffsets, flashContext, frozenRuns, startFlashFeed, startRecorder, startStack, startUdpLink, waitFor } from '@irlkit/test-kit';
import { percentile, writeBenchSection } from '../../../test/bench/report.ts';

const SRT_LATENCY_MS = 2000;
const ALIVE_MS = Number(process.env.BENCH_ALIVE_MS ?? 1_800_000);
const LOSS = 0.05;
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'irlkit-alive-bench-'));

const stack = await startStack({
  bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'alive_bench' },
  ingestEnv: { SRT_LATENCY_MS: String(SRT_LATENCY_MS) },
});
const { observer, bridge } = stack;
const link = await startUdpLink({ host: '127.0.0.1', port: stack.srtPort });
const program: Array<{ t: number; scene: string | null }> = [];
bridge.obs.onProgramScene((scene) => program.push({ t: Date.now(), scene }));
const linkEvents: Record<string, number> = {};
observer.subscribe('ingest.link', (e) => {
  linkEvents[e.event] = (linkEvents[e.event] ?? 0) + 1;
});
const switcherStates: string[] = [];
observer.subscribe('switcher.state', (s) => {
  const line = `${s.state}: ${s.reason}`;
  if (switcherStates.at(-1) !== line) switcherStates.push(line);
});
const warnings: string[] = [];
/** Children that died (OBS, srt-live-transmit, Xvfb): each one is a cut on air whatever the switcher does. */
const deaths: string[] = [];
observer.subscribe('process', (e) => {
  if (e.event === 'warning' && e.detail) warnings.push(e.detail);
  if (e.event === 'exited') deaths.push(`${new Date(e.ts).toISOString().slice(11, 19)} ${e.child} (${e.signal ?? `code ${e.exitCode}`})`);
});
/** The switcher's timeline warnings, e.g. its frozen-picture watch restarting the feed input while Live. */
const switcherWarnings: string[] = [];
observer.subscribe('log', (e) => {
  if (e.source === 'watchdog' && e.level !== 'info') switcherWarnings.push(`${new Date(e.ts).toISOString().slice(11, 19)} ${e.message}`);
});
const reply = await observer.request('stream.start', {});
if (!reply.ok) throw new Error(`stream.start: ${reply.error}`);
await waitFor(() => bridge.obs.isStreaming(), 'OBS streaming', 30_000);

const feed = startFlashFeed({ port: link.port, latencyMs: 500, bitrateKbps: 2000 });
await waitFor(() => bridge.obs.programScene() === 'Live', 'Live on program', 40_000, 20);
await sleep(5000);
const statesFrom = switcherStates.length;
const switcherWarningsFrom = switcherWarnings.length;
const deathsFrom = deaths.length;
const programFrom = program.length;
for (const key of Object.keys(linkEvents)) delete linkEvents[key];
const recorder = startRecorder(stack.sink.playUrl('test'), join(dir, 'alive.flv'));
await sleep(2500);

let seed = 20261201;
const random = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};
const gaps: number[] = [];
// The machine's 1-minute load, sampled through the run: anything else busy on the 2 cores shows up on air too.
const loads: number[] = [];
const loadTimer = setInterval(() => loads.push(loadavg()[0] as number), 10_000);
link.loss(LOSS);
const start = Date.now();
while (Date.now() - start < ALIVE_MS) {
  await sleep(3000 + random() * 7000);
  const gapMs = 200 + random() * 1300;
  link.cut();
  await sleep(gapMs);
  link.restore();
  gaps.push(gapMs);
  if (gaps.length % 50 === 0) log(`${Math.round((Date.now() - start) / 1000)} s: ${gaps.length} gaps, ${program.length - programFrom} switches`);
}
link.loss(0);
clearInterval(loadTimer);
await sleep(3000);
await recorder.stop();
const switches = program.slice(programFrom);
const states = switcherStates.slice(statesFrom);
const rec = await analyseRecording(recorder.file);
const onAir = rec.frames.filter((f) => f.scene === 'feed').length;
const frozen = frozenRuns(rec);
// What frozenRuns cannot see: feed frames whose number cannot be read (a broken-up picture), and sender frames
// that never reached the output (the player skipped them).
const feedFrames = rec.frames.filter((f) => f.scene === 'feed' && !f.flash);
const unreadable = feedFrames.filter((f) => f.senderFrame === null).length;
let skipped = 0;
let previous: number | null = null;
for (const f of feedFrames) {
  if (f.senderFrame === null) continue;
  // A flash hides 3 numbers a second; a jump over more than those is picture viewers never saw.
  if (previous !== null && f.senderFrame > previous + 4) skipped += f.senderFrame - previous - 1;
  previous = f.senderFrame;
}
const frozenMs = frozen.reduce((sum, r) => sum + (r.toMs - r.fromMs), 0);
// Frozen runs by 5-minute stretch of the recording: spread out (the link) or bunched (something else).
const stretchMs = 300_000;
const frozenByStretch = Array.from(
  { length: Math.ceil(ALIVE_MS / stretchMs) },
  (_, i) => frozen.filter((r) => Math.floor((r.fromMs - (rec.frames[0]?.ptsMs ?? 0)) / stretchMs) === i).length,
);
const offsets = avOffsets(rec).map((o) => o.offsetMs);
// Each pair off by more than 45 ms, with what the picture did around it (a stalled or skipping picture, or sound off it).
const beyond = avOffsets(rec)
  .filter((o) => Math.abs(o.offsetMs) > 45)
  .map((o) => {
    const at = `${Math.round((o.atMs - rec.firstPtsMs) / 1000)} s in: ${Math.round(o.offsetMs)} ms`;
    const c = flashContext(rec, o.atMs, o.atMs + o.offsetMs);
    if (!c || c.shownLateMs === null || c.againstClockMs === null) return `${at} (no numbered frame around the flash)`;
    return `${at} (white frames on air ${c.whiteShown} of 3, shown ${Math.round(c.shownLateMs)} ms after due by the frame before; the beep against the picture's clock ${Math.round(c.againstClockMs)} ms)`;
  });
const firstAt = rec.frames[0]?.ptsMs ?? 0;
const minutes = (rec.frames.at(-1)?.ptsMs ?? 0) - firstAt;
const avMean = (from: number, to: number) => {
  const v = avOffsets(rec)
    .filter((o) => o.atMs >= from && o.atMs < to)
    .map((o) => o.offsetMs);
  return v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
};
const drift = avMean(firstAt + minutes - 60_000, firstAt + minutes) - avMean(firstAt, firstAt + 60_000);
await feed.stop();
await link.stop();
await stack.stop();
rmSync(dir, { recursive: true, force: true });

const result = {
  minutes: ALIVE_MS / 60_000,
  gaps: gaps.length,
  longestGapMs: Math.round(Math.max(...gaps)),
  switches: switches.map((s) => `${new Date(s.t).toISOString().slice(11, 19)} ${s.scene}`),
  states,
  linkEvents,
  frames: rec.frames.length,
  onAir,
  frozen: frozen.map((r) => Math.round(r.toMs - r.fromMs)),
  frozenMs,
  frozenByStretch,
  unreadable,
  skipped,
  deaths: deaths.slice(deathsFrom),
  switcherWarnings: switcherWarnings.slice(switcherWarningsFrom),
  load: { max: Math.max(...loads), median: percentile(loads, 50) },
  av: { n: offsets.length, min: Math.min(...offsets), max: Math.max(...offsets), median: percentile(offsets, 50), drift, beyond },
  warnings,
};
log(JSON.stringify(result, null, 1));
const longest = frozen.length ? Math.max(...frozen.map((r) => r.toMs - r.fromMs)) : 0;
writeBenchSection(
  'alive',
  'False failovers: a lossy but alive link for 30 minutes',
  `pnpm bench alive${ALIVE_MS !== 1_800_000 ? ` (BENCH_ALIVE_MS=${ALIVE_MS}; the goal's run: 1800000)` : ''}`,
  `
The chain of the previous section (flash/beep feed → user-space UDP link → ingest, SRT latency ${SRT_LATENCY_MS} ms →
srt-live-transmit → OBS 29 → RTMP, recorded), switcher in auto mode with its default settings, for
${ALIVE_MS / 60_000} minutes of ${LOSS * 100} % random loss both ways with a gap (every datagram dropped) of 0.2–1.5 s
every 3–10 s: ${gaps.length} gaps, the longest ${(Math.max(...gaps) / 1000).toFixed(2)} s. Goal: 0 switches.

| scene switches | switcher state changes | ingest link events | frames on air (feed scene) | frozen picture on air | A/V offset (audio − video) |
|---|---|---|---|---|---|
| **${switches.length}** | ${states.length} | ${Object.entries(linkEvents)
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ', ',
    )} | ${onAir} of ${rec.frames.length} | ${frozen.length} frames held over 100 ms, frozen beyond their own frame time ${(frozenMs / 1000).toFixed(2)} s in all (longest ${(longest / 1000).toFixed(2)} s) | ${offsets.length} pairs, ${Math.round(Math.min(...offsets))} … ${Math.round(Math.max(...offsets))} ms, drift (last minute − first) ${Math.round(drift)} ms |

${switches.length ? `Switches: ${result.switches.join(', ')}. Switcher states: ${states.join('; ')}.\n` : ''}Feed frames whose number could not be read (broken-up picture): ${unreadable}; sender frames skipped on air (not counting flashes): ${skipped}.
Children that died: ${result.deaths.length ? result.deaths.join(', ') : 'none'}. The switcher's warnings: ${result.switcherWarnings.length ? `${result.switcherWarnings.length} (${result.switcherWarnings.slice(0, 6).join('; ')}${result.switcherWarnings.length > 6 ? '; …' : ''})` : 'none'}.
Frozen runs per 5 minutes: ${frozenByStretch.join(', ')}. The machine's 1-minute load during the run: median ${percentile(loads, 50).toFixed(2)}, max ${Math.max(...loads).toFixed(2)} (2 cores).
${beyond.length ? `A/V pairs beyond ±45 ms: ${beyond.slice(0, 8).join('; ')}${beyond.length > 8 ? `; … (${beyond.length} in all)` : ''}.\n` : ''}OBS's audio warnings during the run: ${warnings.length ? `${warnings.length} (${warnings.slice(0, 5).join('; ')}${warnings.length > 5 ? '; …' : ''})` : 'none'}.
`,
);
log('alive benchmark written to docs/BENCHMARKS.md');
process.exit(0);
