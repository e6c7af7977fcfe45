// NAK efficiency on a bonded feed: a real SRT sender (ffmpeg's libsrt) bonded over two SRTLA links
// by the test kit's sender, into ingest and srt-live-transmit; one link dead for 20 s, then 5 % loss
// on one link. Retransmitted / lost packets as srt-live-transmit counts them (each NAK copy that
// reaches the sender costs a retransmission). Writes its section of docs/BENCHMARKS.md.
import { nextEvent, startFeedReader, startNats, startSrtFeed, startSrtlaSender } from '@irlkit/test-kit';
import { writeBenchSection } from '../../../test/bench/report.ts';
import { startTestIngest } from '../test/test-ingest.ts';

const nats = await startNats();

interface Result {
  name: string;
  lost: number;
  retransmitted: number;
  dropped: number;
  naksToSender: number;
  decodeErrors: number;
  /** The phone's side (the test sender sees every packet ffmpeg sends): retransmissions sent, lost on a link, and carried beyond the one copy a packet needs. */
  retransmissionsSent: number;
  retransmissionsLostOnLinks: number;
  extraCarried: number;
}

async function run(name: string, fault: (sender: Awaited<ReturnType<typeof startSrtlaSender>>) => Promise<void>): Promise<Result> {
  const ingest = await startTestIngest(nats, { streamId: 'main', latencyMs: 2000, logName: 'bench' });
  const { observer, srtlaPort, outputPort } = ingest;
  const reader = startFeedReader(outputPort);
  const sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
  const durationS = 34;
  const fps = 30;
  const feed = startSrtFeed({ port: sender.port, bitrateKbps: 2500, latencyMs: 2000, durationS, fps });
  await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the bonded feed to connect', 20_000);
  const faultDone = fault(sender);
  await feed.exited;
  await faultDone;
  await new Promise((r) => setTimeout(r, 3000));
  const stats = await nextEvent(observer, 'ingest.stats', () => true, 'a last statistics sample');
  const result: Result = {
    name,
    lost: stats.totals.lost,
    retransmitted: stats.totals.retransmitted,
    dropped: stats.totals.dropped,
    naksToSender: sender.srtRepliesByType.get(0x8003) ?? 0,
    decodeErrors: reader
      .errors()
      .split('\n')
      .filter((line) => line.trim() !== '').length,
    retransmissionsSent: [...sender.retransmissions.values()].reduce((sum, r) => sum + r.sent, 0),
    retransmissionsLostOnLinks: [...sender.retransmissions.values()].reduce((sum, r) => sum + r.sent - r.carried, 0),
    extraCarried: sender.extraCopies().reduce((sum, r) => sum + r.extra, 0),
  };
  await sender.stop();
  await reader.stop();
  await ingest.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const results = [
  await run('one link dead for 20 s (the sender notices after 1.5 s)', async (sender) => {
    await sleep(5000);
    sender.setLoss(0, 1);
    await sleep(20_000);
    sender.setLoss(0, 0);
  }),
  await run('5 % loss both ways on one link for 25 s', async (sender) => {
    await sleep(5000);
    sender.setLoss(0, 0.05);
    await sleep(25_000);
    sender.setLoss(0, 0);
  }),
];
await nats.stop();

const met = (r: Result) => r.dropped === 0 && (r.lost === 0 || r.retransmitted / r.lost <= 1.02);
const ratio = (r: Result) => (r.lost > 0 ? (r.retransmitted / r.lost).toFixed(3) : 'n/a');
writeBenchSection(
  'srtla-nak',
  'SRTLA: NAK efficiency (retransmitted / lost) on a bonded feed',
  'pnpm bench nak',
  `ffmpeg (libsrt sender, 2500 kbit/s, latency 2000 ms, 34 s) bonded over two links by the
test kit's SRTLA sender → ingest → srt-live-transmit → a decoder. "lost" and "retransmitted" are srt-live-transmit's
receive counters (packets detected lost; retransmitted packets that arrived), "dropped" are packets too late to play
(a frame lost for viewers). The receiver sends a NAK on the link that spoke last, and on every link only when that
link has been quiet for 100 ms; it leaves out of a NAK every packet it asked for less than one retransmission
turnaround ago (measured per sender from NAK to retransmission, bounded to 20–500 ms;
\`services/ingest/src/srtla/nak-filter.ts\`), because srt-live-transmit's loss report and its periodic NAK report
often name the same loss a millisecond apart. Goal: retransmitted / lost ≤ 1.02, nothing dropped.

| fault | lost | retransmitted | retransmitted / lost | goal ≤ 1.02, none dropped | dropped | NAKs reaching the sender | decoder errors | retransmissions the sender sent | of them lost on a link | copies carried beyond the one a packet needs |
|---|---|---|---|---|---|---|---|---|---|---|
${results.map((r) => `| ${r.name} | ${r.lost} | ${r.retransmitted} | ${ratio(r)} | ${met(r) ? '✓' : '✗ missed'} | ${r.dropped} | ${r.naksToSender} | ${r.decodeErrors} | ${r.retransmissionsSent} | ${r.retransmissionsLostOnLinks} | ${r.extraCarried} |`).join('\n')}

The last three columns are the sender's side (the test sender sees every packet ffmpeg sends): a retransmission
lost on a link (the dead SIM before the sender gives up on it) must be asked for again, and a copy beyond the one a
packet needs (its first send if a link carried it, else one retransmission) is upload srt-live-transmit did not need.

Earlier runs of the same bench: without the turnaround hold (2026-12-02 07:09), 1.055 (link dead) and 1.076
(5 % loss), every extra copy a packet named by two NAKs that left srt-live-transmit 0–2 ms apart; with every NAK
copied to every link, 1.084 and 1.395.
`,
);
