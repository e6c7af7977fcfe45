// Stall detection latency: ffmpeg sender kill -9 → `stalled` on NATS, over 20 trials, on real
// ffmpeg + srt-live-transmit + nats-server. Writes its section of docs/BENCHMARKS.md.
import { createLogger } from '@irlkit/shared';
import { armEvent, freeTcpPort, freeUdpPort, startFeedReader, startNats, startSrtFeed, testBus } from '@irlkit/test-kit';
import { summarize, writeBenchSection } from '../../../test/bench/report.ts';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 20);
const nats = await startNats();
const bus = await testBus(nats, 'main', 'ingest');
const observer = await testBus(nats);
const srtPort = await freeUdpPort();
const outputPort = await freeTcpPort();
const config = ingestConfig.load({
  envFile: false,
  source: {
    NATS_URL: nats.url,
    SRT_PORT: String(srtPort),
    SRT_BIND: '127.0.0.1',
    INGEST_OUTPUT_PORT: String(outputPort),
    INGEST_RELAY_PORT: String(await freeUdpPort()),
    SRTLA_PORT: '0',
  },
});
const app = buildApp({ config, bus, log: createLogger('bench', 'warn') });
await app.start();
const reader = startFeedReader(outputPort);

const sinceLastPacket: number[] = [];
const sinceKill: number[] = [];
for (let trial = 0; trial < TRIALS; trial++) {
  const connected = await armEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'connected', 20_000);
  const feed = startSrtFeed({ port: srtPort, bitrateKbps: 2500, latencyMs: 500 });
  await connected.next;
  await new Promise((r) => setTimeout(r, 1000));
  const stalled = await armEvent(observer, 'ingest.link', (e) => e.event === 'stalled', 'stalled', 10_000);
  const disconnected = await armEvent(observer, 'ingest.link', (e) => e.event === 'disconnected', 'disconnected', 20_000);
  const killedAt = Date.now();
  await feed.kill9();
  const stall = await stalled.next;
  sinceLastPacket.push(stall.ts - (stall.lastPacketTs as number));
  sinceKill.push(stall.receivedAt - killedAt);
  await disconnected.next;
  process.stdout.write(
    `trial ${trial + 1}: stall ${stall.ts - (stall.lastPacketTs as number)} ms after last packet, ${stall.receivedAt - killedAt} ms after kill\n`,
  );
}
await reader.stop();
await app.stop();
await bus.closeConnection();
await observer.closeConnection();
await nats.stop();

const a = summarize(sinceLastPacket);
const b = summarize(sinceKill);
const row = (name: string, s: ReturnType<typeof summarize>) => `| ${name} | ${s.n} | ${s.median} | ${s.p95} | ${s.max} |`;
writeBenchSection(
  'ingest-stall',
  'Ingest: stall detection',
  'pnpm bench stall',
  `Sender (ffmpeg, 2500 kbit/s over SRT) killed with SIGKILL; time until \`irl.main.ingest.link\` says \`stalled\`.
Stall timeout 500 ms (\`INGEST_STALL_TIMEOUT_MS\`). Goal: within 500 + 100 ms of the last packet.

| measured from | trials | median ms | p95 ms | max ms |
|---|---|---|---|---|
${row('last packet seen by the relay → event published', a)}
${row('kill -9 → event received by a NATS subscriber', b)}

The relay stamps every datagram as it arrives, so the stall timer fires at last packet + 500 ms
regardless of srt-live-transmit, which prints nothing for a dead feed.`,
);
process.stdout.write(`stall after last packet: median ${a.median} p95 ${a.p95} max ${a.max}; after kill: median ${b.median} p95 ${b.p95} max ${b.max}\n`);
