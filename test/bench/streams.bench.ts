// Streams per host: N streams on one native host (one ingest door, per stream its own OBS, obs-bridge and
// switcher, as the runner runs IRL_STREAMS), each fed by its own ffmpeg sender and streaming to a local RTMP
// sink, measured for a window: the frames each OBS skipped (rendering lag, encoding lag) and the memory of
// the OBS processes and of the Node process that holds every stream's services. Writes docs/BENCHMARKS.md.
import { readdirSync, readFileSync } from 'node:fs';
import { type Feed, startRtmpSink, startSrtFeed, startStreamsStack, waitFor } from '@irlkit/test-kit';
import { writeBenchSection } from './report.ts';

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 45_000);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 10_000);
/** "Drops frames": more than this share of the window's frames skipped by rendering or encoding. */
const DROP_SHARE = 0.01;
const CONFIGS: Array<{ label: string; resolution: string; width: number; height: number; n: number }> = [
  { label: '240p', resolution: '426x240', width: 426, height: 240, n: 1 },
  { label: '240p', resolution: '426x240', width: 426, height: 240, n: 2 },
  { label: '240p', resolution: '426x240', width: 426, height: 240, n: 3 },
  { label: '480p', resolution: '854x480', width: 854, height: 480, n: 1 },
  { label: '480p', resolution: '854x480', width: 854, height: 480, n: 2 },
];
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident memory (MiB) of every process whose command is OBS's. */
function obsRssMiB(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'obs') continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (rss) out.push(Number(rss[1]) / 1024);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface Counters {
  renderSkipped: number;
  renderTotal: number;
  outputSkipped: number;
  outputTotal: number;
}

interface Row {
  label: string;
  n: number;
  renderSkippedShare: number;
  outputSkippedShare: number;
  cpuPercent: number;
  obsRssMiB: number;
  nodeRssMiB: number;
  dropped: boolean;
}

function cpuSeconds(): number {
  // The whole machine's busy time, from /proc/stat (user + nice + system + irq + softirq + steal).
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
  const busy = (fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[5] ?? 0) + (fields[6] ?? 0) + (fields[7] ?? 0);
  return busy / 100;
}

async function measure(config: (typeof CONFIGS)[number]): Promise<Row> {
  const sink = await startRtmpSink();
  const ids = Array.from({ length: config.n }, (_, i) => `s${i + 1}`);
  const stack = await startStreamsStack({
    ids,
    obsEnv: { OBS_RESOLUTION: config.resolution, OBS_RTMP_URL: sink.serverUrl, OBS_X264_PRESET: 'veryfast' },
    obsEnvFor: (id) => ({ OBS_RTMP_KEY: id }),
  });
  const feeds: Feed[] = [];
  try {
    for (const stream of stack.streams) {
      feeds.push(
        startSrtFeed({
          port: stack.srtPort,
          streamId: `live_${stream.srtKey}`,
          latencyMs: 500,
          bitrateKbps: config.height >= 480 ? 2500 : 800,
          width: config.width,
          height: config.height,
        }),
      );
      await stream.observer.request('stream.start', {});
    }
    await Promise.all(
      stack.streams.map((s) => waitFor(() => s.bridge.obs.programScene() === 'Live' && s.bridge.obs.isStreaming(), `${s.id} Live and streaming`, 90_000, 200)),
    );
    await sleep(SETTLE_MS);
    const read = async (): Promise<Counters[]> =>
      Promise.all(
        stack.streams.map(async (s) => {
          const [stats, stream] = await Promise.all([s.bridge.obs.stats(), s.bridge.obs.streamStatus()]);
          return {
            renderSkipped: Number(stats.renderSkippedFrames),
            renderTotal: Number(stats.renderTotalFrames),
            outputSkipped: Number(stream.outputSkippedFrames),
            outputTotal: Number(stream.outputTotalFrames),
          };
        }),
      );
    const before = await read();
    const cpuBefore = cpuSeconds();
    const startedAt = Date.now();
    let obsPeak = 0;
    let nodePeak = 0;
    while (Date.now() - startedAt < WINDOW_MS) {
      await sleep(5000);
      obsPeak = Math.max(
        obsPeak,
        obsRssMiB().reduce((a, b) => a + b, 0),
      );
      nodePeak = Math.max(nodePeak, process.memoryUsage().rss / 1024 / 1024);
    }
    const cpuPercent = ((cpuSeconds() - cpuBefore) / ((Date.now() - startedAt) / 1000)) * 100;
    const after = await read();
    let renderSkipped = 0;
    let renderTotal = 0;
    let outputSkipped = 0;
    let outputTotal = 0;
    for (let i = 0; i < after.length; i++) {
      const a = after[i] as Counters;
      const b = before[i] as Counters;
      renderSkipped += a.renderSkipped - b.renderSkipped;
      renderTotal += a.renderTotal - b.renderTotal;
      outputSkipped += a.outputSkipped - b.outputSkipped;
      outputTotal += a.outputTotal - b.outputTotal;
    }
    const renderSkippedShare = renderTotal > 0 ? renderSkipped / renderTotal : 1;
    const outputSkippedShare = outputTotal > 0 ? outputSkipped / outputTotal : 1;
    const row: Row = {
      label: config.label,
      n: config.n,
      renderSkippedShare,
      outputSkippedShare,
      cpuPercent,
      obsRssMiB: obsPeak,
      nodeRssMiB: nodePeak,
      dropped: renderSkippedShare > DROP_SHARE || outputSkippedShare > DROP_SHARE,
    };
    log(
      `${config.n} × ${config.label}: render skipped ${(renderSkippedShare * 100).toFixed(2)} %, encoding skipped ${(outputSkippedShare * 100).toFixed(2)} %, machine CPU ${cpuPercent.toFixed(0)} % of 200, OBS RSS ${obsPeak.toFixed(0)} MiB, Node ${nodePeak.toFixed(0)} MiB`,
    );
    return row;
  } finally {
    await Promise.all(feeds.map((f) => f.stop()));
    await stack.stop();
    await sink.stop();
  }
}

const rows: Row[] = [];
for (const config of CONFIGS) rows.push(await measure(config));
const table = [
  '| streams | canvas | frames skipped rendering | frames skipped encoding | machine CPU (of 200 %) | OBS processes RSS MiB | Node process RSS MiB | drops frames |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.n} | ${r.label} | ${(r.renderSkippedShare * 100).toFixed(2)} % | ${(r.outputSkippedShare * 100).toFixed(2)} % | ${r.cpuPercent.toFixed(0)} % | ${r.obsRssMiB.toFixed(0)} | ${r.nodeRssMiB.toFixed(0)} | ${r.dropped ? 'yes' : 'no'} |`,
  ),
];
const perStream = (label: string) => {
  const of = rows.filter((r) => r.label === label).sort((a, b) => a.n - b.n);
  const first = of[0];
  const last = of.at(-1);
  if (!first || !last || last.n === first.n) return 'n/a';
  return `${((last.nodeRssMiB - first.nodeRssMiB) / (last.n - first.n)).toFixed(0)} MiB (Node), ${((last.obsRssMiB - first.obsRssMiB) / (last.n - first.n)).toFixed(0)} MiB (OBS)`;
};
const fits = (label: string) => Math.max(0, ...rows.filter((r) => r.label === label && !r.dropped).map((r) => r.n));
writeBenchSection(
  'streams',
  'Streams per host: how many OBS fit before frames drop, memory per extra stream',
  'pnpm bench streams',
  `N streams on one native host (one ingest door routing by SRT stream id, per stream its own OBS under Xvfb,
obs-bridge and switcher; the bench process holds ingest and every stream's desktop and obs-bridge services,
as one Node process, where the runner runs one process per service), each stream fed by its own ffmpeg test
pattern at its canvas size and streaming (x264 veryfast) to a local RTMP sink. After ${SETTLE_MS / 1000} s
of settling, ${WINDOW_MS / 1000} s measured: frames OBS skipped while rendering (GetStats) and while encoding
(GetStreamStatus), the whole machine's CPU, peak resident memory. "Drops frames": over ${DROP_SHARE * 100} %
of either.

${table.join('\n')}

Fit on this 2-core machine without dropping frames: ${fits('240p')} stream(s) at 240p, ${fits('480p')} at 480p.
Memory per extra stream: ${perStream('240p')} at 240p; ${perStream('480p')} at 480p.`,
);
log('streams bench written to docs/BENCHMARKS.md');
