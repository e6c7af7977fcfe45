// Which way should the feed travel from srt-live-transmit into OBS? Measures, on a real OBS, how long
// after a sender comes back OBS's media source shows a moving picture again, for each candidate path,
// with nothing but OBS's own reconnect logic (no media restart from the switcher). Writes docs/BENCHMARKS.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createLogger } from '@irlkit/shared';
import { freeTcpPort, freeUdpPort, grayRaster, pixelDifference, pixelSpread, startNats, startObs, startSrtFeed } from '@irlkit/test-kit';
import { summarize, writeBenchSection } from '../../../test/bench/report.ts';
import { FeedOutput } from '../../ingest/src/srt/feed-output.ts';
import { ObsClient } from '../src/obs/client.ts';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
/** A trial that shows no moving picture by then counts as this long (and as a failure). */
const GIVE_UP_MS = 20_000;
const INPUT = 'SRT feed';
const log = (line: string) => process.stdout.write(`${line}\n`);

interface FeedPath {
  name: string;
  /** srt-live-transmit's output URL and the URL OBS's media source opens, for a free port. */
  urls(port: number): { relayOutput: string; obsInput: string };
  /** ingest's feed output between them: srt-live-transmit writes to its loopback UDP port, OBS reads it over TCP. */
  feedOutput?: boolean;
  /** Restart OBS's media input the moment srt-live-transmit accepts the sender, as irlkit's switcher does. */
  restartOnConnect?: boolean;
}

const callerUrls = (port: number) => ({
  relayOutput: `srt://127.0.0.1:${port}?mode=listener&latency=200`,
  obsInput: `srt://127.0.0.1:${port}?mode=caller&latency=200000&connect_timeout=500`,
});

const PATHS: FeedPath[] = [
  {
    name: "srt-live-transmit → UDP → ingest's feed output → TCP → OBS (each reader from a keyframe), restarted on connect (irlkit)",
    urls: (port) => ({ relayOutput: '', obsInput: `tcp://127.0.0.1:${port}` }),
    feedOutput: true,
    restartOnConnect: true,
  },
  { name: 'OBS as SRT caller → srt-live-transmit listener, restarted on connect (irlkit before)', urls: callerUrls, restartOnConnect: true },
  { name: 'OBS as SRT caller → srt-live-transmit listener, OBS alone', urls: callerUrls },
  {
    name: 'srt-live-transmit → UDP → OBS',
    urls: (port) => ({ relayOutput: `udp://127.0.0.1:${port}`, obsInput: `udp://127.0.0.1:${port}` }),
  },
  {
    name: 'OBS as SRT listener ← srt-live-transmit caller',
    urls: (port) => ({
      relayOutput: `srt://127.0.0.1:${port}?mode=caller&latency=200`,
      obsInput: `srt://127.0.0.1:${port}?mode=listener&latency=200000`,
    }),
  },
];

const nats = await startNats();
const obsRuntime = await startObs(nats, { OBS_X264_PRESET: 'ultrafast' });
const obs = new ObsClient({ url: obsRuntime.wsUrl, password: obsRuntime.password, micInput: INPUT, log: createLogger('bench', 'warn') });
obs.start();
const deadline = Date.now() + 60_000;
while (!obs.isReachable() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
if (!obs.isReachable()) throw new Error('OBS did not become reachable within 60 s');
await obs.setProgramScene('Live');

/** True once two screenshots of the input 150 ms apart differ and neither is a flat frame. */
async function pictureMoving(): Promise<boolean> {
  try {
    const a = grayRaster(await obs.sourceScreenshot(INPUT, 160, 'png'));
    await new Promise((r) => setTimeout(r, 150));
    const b = grayRaster(await obs.sourceScreenshot(INPUT, 160, 'png'));
    return pixelSpread(b) > 5 && pixelDifference(a, b) > 0.5;
  } catch {
    return false;
  }
}

function startRelay(inputPort: number, output: string, onSenderAccepted: () => void): ChildProcess {
  const relay = spawn('srt-live-transmit', ['-a:yes', '-ll:note', `srt://127.0.0.1:${inputPort}?mode=listener&latency=500`, output], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  createInterface({ input: relay.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    if (line.startsWith('Accepted SRT source connection')) onSenderAccepted();
  });
  return relay;
}

const rows: string[] = [];
for (const path of PATHS) {
  const inputPort = await freeUdpPort();
  const outputPort = path.feedOutput ? await freeTcpPort() : await freeUdpPort();
  const urls = path.urls(outputPort);
  const { obsInput } = urls;
  let relayOutput = urls.relayOutput;
  const feedOutput = path.feedOutput
    ? new FeedOutput({
        bindHost: '127.0.0.1',
        port: outputPort,
        maxReaders: 4,
        maxQueuedBytes: 1024 * 1024,
        keyframeWaitMs: 3000,
        socketBufferBytes: 4 * 1024 * 1024,
        log: createLogger('feed-output', 'warn'),
        onFeed: () => {},
        onReader: () => {},
      })
    : undefined;
  if (feedOutput) relayOutput = `udp://127.0.0.1:${await feedOutput.start()}`;
  await obs.call('pointing the feed input', (ws) => ws.call('SetInputSettings', { inputName: INPUT, inputSettings: { input: obsInput } }));
  const relay = startRelay(inputPort, relayOutput, () => {
    if (path.restartOnConnect) void obs.restartMediaInput(INPUT).catch(() => {});
  });
  const times: number[] = [];
  let failures = 0;
  for (let trial = 1; trial <= TRIALS; trial++) {
    const startedAt = Date.now();
    const feed = startSrtFeed({ port: inputPort, bitrateKbps: 2000, latencyMs: 500, width: 854, height: 480 });
    let movingAt: number | undefined;
    while (Date.now() - startedAt < GIVE_UP_MS) {
      if (await pictureMoving()) {
        movingAt = Date.now();
        break;
      }
    }
    if (movingAt === undefined) failures += 1;
    times.push((movingAt ?? Date.now()) - startedAt);
    log(`${path.name}: trial ${trial}: ${movingAt === undefined ? 'no moving picture' : `${movingAt - startedAt} ms`}`);
    await new Promise((r) => setTimeout(r, 2000));
    await feed.kill9();
    // Let every side notice the loss (SRT's peer idle timeout is 5 s) before the sender returns.
    await new Promise((r) => setTimeout(r, 7000));
  }
  relay.kill('SIGKILL');
  await feedOutput?.stop();
  const s = summarize(times);
  rows.push(`| ${path.name} | ${TRIALS} | ${(s.median / 1000).toFixed(2)} | ${(s.p95 / 1000).toFixed(2)} | ${(s.max / 1000).toFixed(2)} | ${failures} |`);
  log(rows.at(-1) as string);
}

await obs.stop();
await obsRuntime.stop();
await nats.stop();

writeBenchSection(
  'feed-path',
  'Ingest → OBS: how fast each path brings the picture back',
  'pnpm bench feed-path',
  `
A sender (ffmpeg test pattern, 2000 kbit/s over SRT) into srt-live-transmit, and OBS 29's media source
reading srt-live-transmit's output by each candidate path. Each trial starts the sender, waits for a
moving picture on OBS's input (two screenshots 150 ms apart differ), keeps it 2 s, kills the sender
with SIGKILL and waits 7 s. "OBS alone" rows rely on OBS's own reconnect logic (\`reconnect_delay_sec: 1\`);
the first row also restarts the input the moment srt-live-transmit accepts the sender, as irlkit's
switcher does on ingest's \`connected\` (the switcher section measures the whole recovery to \`Live\`). A trial with no moving picture after ${GIVE_UP_MS / 1000} s counts as
${GIVE_UP_MS / 1000} s and as a failure.

| path | trials | median s | p95 s | max s | failures |
|---|---|---|---|---|---|
${rows.join('\n')}

How to read it: the first trial of each path includes OBS opening that input for the first time.
irlkit's path is the first row: OBS reads ingest's feed output over TCP, which starts every reader at a
keyframe after the program tables, holds nothing back (no SRT latency on this hop) and loses nothing between
containers. Plain UDP carries no connection: OBS cannot tell a dead relay from a quiet one, the switcher has no
moment to restart the input at, and between containers (compose: OBS in \`desktop\` reads from \`ingest\` over
the network) a lost datagram is lost for good. With OBS as the SRT listener, srt-live-transmit has to find OBS
again after every reconnect. What each path costs in delay once playing: the viewers section.
`,
);
log('feed-path benchmark written to docs/BENCHMARKS.md');
process.exit(0);
