// irlkit's added delay: the same OBS media input, opened afresh, meets a new flash feed either through irlkit
// (ingest's SRT door → srt-live-transmit → TCP from a keyframe) or directly (OBS as the SRT listener). Through
// irlkit twice: with OBS's player opened before the streamer starts (what OBS does when it waits for a streamer, and
// what the switcher's reopen on a returning sender gives), and with it reopened on a feed already flowing (a player
// joining mid-stream). Sender → RTMP output delay per open, paths alternating, so a drift of the whole machine over
// the run falls on every path alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseRecording, type FlashFeed, frameDelays, freeUdpPort, startFlashFeed, startRecorder, startStack, waitFor } from '@irlkit/test-kit';
import { percentile, writeBenchSection } from '../../../test/bench/report.ts';

const SRT_LATENCY_MS = 2000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'irlkit-added-delay-'));

const stack = await startStack({ ingestEnv: { SRT_LATENCY_MS: String(SRT_LATENCY_MS) } });
const { observer, bridge } = stack;
let connectedAt = 0;
observer.subscribe('ingest.link', (e) => {
  if (e.event === 'connected') connectedAt = Date.now();
});
const request = async <N extends Parameters<typeof observer.request>[0]>(name: N, body: Parameters<typeof observer.request<N>>[1]) => {
  const reply = await observer.request(name, body);
  if (!reply.ok) throw new Error(`${name}: ${reply.error}`);
};
await request('stream.start', {});
await waitFor(() => bridge.obs.isStreaming(), 'OBS streaming', 30_000);
await request('switcher.mode', { mode: 'manual' });
await request('scene.set', { scene: 'Live' });
const input = 'SRT feed';
const { inputSettings } = await bridge.obs.call('reading the feed input', (ws) => ws.call('GetInputSettings', { inputName: input }));
const relayUrl = String((inputSettings as { input?: unknown }).input);
const setUrl = (url: string) =>
  bridge.obs.call('pointing the feed input', (ws) => ws.call('SetInputSettings', { inputName: input, inputSettings: { input: url }, overlay: true }));
const feedTo = (port: number) => startFlashFeed({ port, latencyMs: 500, bitrateKbps: 2000 });

/** Lets the fresh player settle, records 10 s of the output, returns the median delay. */
async function measure(name: string, sender: FlashFeed): Promise<number> {
  await sleep(9000);
  const recorder = startRecorder(stack.sink.playUrl('test'), join(dir, `${name}.flv`));
  await sleep(10_000);
  await recorder.stop();
  return percentile(
    frameDelays(await analyseRecording(recorder.file), recorder.arrivalWallMs(), sender).map((d) => d.delayMs),
    50,
  );
}

type Path = 'irlkit, OBS waiting for the streamer' | 'direct' | 'irlkit, OBS reopened on the flowing feed';
const PATHS: Path[] = ['irlkit, OBS waiting for the streamer', 'direct', 'irlkit, OBS reopened on the flowing feed'];

/** Starts a sender on ingest's SRT port and waits until ingest has taken it. */
async function irlkitSender(): Promise<FlashFeed> {
  connectedAt = 0;
  const sender = feedTo(stack.srtPort);
  await waitFor(() => connectedAt > 0, 'ingest to take the sender', 10_000).catch(async (error) => {
    await sender.stop();
    throw error;
  });
  return sender;
}

/** One open of a path: a fresh player and a new sender. */
async function open(path: Path, name: string): Promise<number> {
  if (path === 'irlkit, OBS waiting for the streamer') {
    await bridge.obs.reopenMediaInput(input);
    await sleep(1000);
    const sender = await irlkitSender();
    try {
      return await measure(name, sender);
    } finally {
      await sender.stop();
    }
  }
  if (path === 'irlkit, OBS reopened on the flowing feed') {
    const sender = await irlkitSender();
    try {
      // srt-live-transmit releases the stream SRT_LATENCY_MS after it took the sender: well after that.
      await sleep(SRT_LATENCY_MS + 2000);
      await bridge.obs.reopenMediaInput(input);
      return await measure(name, sender);
    } finally {
      await sender.stop();
    }
  }
  const port = await freeUdpPort();
  await setUrl(`srt://127.0.0.1:${port}?mode=listener&latency=${SRT_LATENCY_MS * 1000}`);
  await sleep(1000);
  const sender = feedTo(port);
  try {
    return await measure(name, sender);
  } finally {
    await sender.stop();
    await setUrl(relayUrl);
  }
}

const results = new Map<Path, number[]>(PATHS.map((p) => [p, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const path of PATHS) {
    const ms = await open(path, `${round}-${path.replace(/\W+/g, '-')}`);
    results.get(path)?.push(ms);
    log(`round ${round} ${path}: ${Math.round(ms)} ms`);
    await sleep(3000);
  }
await stack.stop();
rmSync(dir, { recursive: true, force: true });

const median = (p: Path) => percentile(results.get(p) ?? [], 50);
const row = (p: Path) => `| ${p} | ${(results.get(p) ?? []).map((ms) => (ms / 1000).toFixed(2)).join(', ')} | ${(median(p) / 1000).toFixed(2)} |`;
const added = (a: Path, b: Path) => Math.round(median(a) - median(b));
writeBenchSection(
  'added-delay',
  "irlkit's added delay: OBS reading the sender through irlkit or directly",
  `pnpm bench added-delay${ROUNDS !== 3 ? ` (BENCH_ROUNDS=${ROUNDS})` : ''}`,
  `
One OBS 29 media input, opened afresh for each new flash feed (640×360/30 fps, 2000 kbit/s, SRT latency
${SRT_LATENCY_MS} ms), in a private network namespace. **direct**: OBS is the SRT listener
(\`mode=listener&latency=${SRT_LATENCY_MS * 1000}\`) and the sender calls it 1 s later. **irlkit, OBS waiting for the
streamer**: OBS's player is opened on ingest's TCP output, the sender calls ingest's SRT port 1 s later. **irlkit, OBS
reopened on the flowing feed**: the player is opened ${(SRT_LATENCY_MS + 2000) / 1000} s after ingest took the sender, so it joins the stream at a
keyframe mid-stream. Sender → RTMP output delay, median of each open over 10 s, paths alternating, ${ROUNDS} opens each.
Goal (issue 12): irlkit adds ≤ 100 ms.

| path | delay of each open, s | median, s |
|---|---|---|
${PATHS.map(row).join('\n')}

**Added by irlkit: ${added('irlkit, OBS waiting for the streamer', 'direct')} ms** (OBS waiting for the streamer, against direct). A player that joins
mid-stream plays ${added('irlkit, OBS reopened on the flowing feed', 'irlkit, OBS waiting for the streamer')} ms later than one that met the stream from its first packet.
`,
);
log('added-delay benchmark written to docs/BENCHMARKS.md');
process.exit(0);
