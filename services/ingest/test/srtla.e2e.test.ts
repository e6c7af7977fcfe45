// Bonded ingest end to end: ffmpeg → SRTLA sender (2 and 3 links on 127.0.0.x) → irlkit's receiver →
// srt-live-transmit → an ffmpeg decoder, with one link cut for 15 s mid-stream and restored.
import { createLogger } from '@irlkit/shared';
import { collectEvents, freeUdpPort, startNats, startSrtFeed, startSrtlaSender, startSrtReader, type TestNats, testBus } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';

const DURATION_MS = Number(process.env.SRTLA_E2E_MS ?? 60_000);
const CUT_AT_MS = Math.round(DURATION_MS * 0.25);
const CUT_FOR_MS = Math.min(15_000, Math.round(DURATION_MS * 0.25));
let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

async function bondedRun(linkCount: number, streamId: string) {
  const bus = await testBus(nats, streamId, 'ingest');
  const observer = await testBus(nats, streamId);
  const srtlaPort = await freeUdpPort();
  const outputPort = await freeUdpPort();
  const app = buildApp({
    config: ingestConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        IRL_STREAM_ID: streamId,
        SRT_PORT: String(await freeUdpPort()),
        SRT_BIND: '127.0.0.1',
        SRTLA_PORT: String(srtlaPort),
        SRTLA_BIND: '127.0.0.1',
        INGEST_OUTPUT_PORT: String(outputPort),
        INGEST_RELAY_PORT: String(await freeUdpPort()),
        SRT_LATENCY_MS: '1500',
      },
    }),
    bus,
    log: createLogger('ingest', 'warn'),
  });
  await app.start();
  const reader = startSrtReader(outputPort);
  const tables = collectEvents(observer, 'ingest.srtla');
  const log = collectEvents(observer, 'log');
  const sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, linkCount);
  const feed = startSrtFeed({ port: sender.port, bitrateKbps: 2000, latencyMs: 1500, durationS: DURATION_MS / 1000 });
  try {
    expect(sender.links.every((l) => l.registered)).toBe(true);
    await new Promise((r) => setTimeout(r, CUT_AT_MS));
    const cutAt = Date.now();
    sender.cut(0);
    await new Promise((r) => setTimeout(r, CUT_FOR_MS));
    sender.restore(0);
    const restoredAt = Date.now();
    expect(await feed.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    const cutLink = sender.links[0]?.address as string;
    const rowsOf = (from: number, to: number) =>
      tables.items.filter((t) => t.receivedAt >= from && t.receivedAt < to).map((t) => t.links.find((l) => l.address.startsWith(`${cutLink}:`)));
    return {
      decodeErrors: reader.errors(),
      framesDecoded: reader.frames(),
      feedErrors: feed.stderr(),
      before: rowsOf(cutAt - 3000, cutAt),
      during: rowsOf(cutAt + 6000, restoredAt),
      after: rowsOf(restoredAt + 3000, restoredAt + 10_000),
      tables: tables.items,
      log: log.items.map((e) => e.message),
      cutLink,
      sentPerLink: sender.links.map((l) => l.sent),
    };
  } finally {
    tables.stop();
    log.stop();
    await feed.stop();
    await sender.stop();
    await reader.stop();
    await app.stop();
    await bus.closeConnection();
    await observer.closeConnection();
  }
}

describe('SRTLA end to end', () => {
  it(`carries ${DURATION_MS / 1000} s of test pattern over 2 and 3 bonded links with no decode errors while one link is cut for ${CUT_FOR_MS / 1000} s`, async () => {
    const [two, three] = await Promise.all([bondedRun(2, 'bond2'), bondedRun(3, 'bond3')]);
    for (const run of [two, three]) {
      expect(run.feedErrors).toBe('');
      expect(run.decodeErrors).toBe('');
      // Every second of the 30 fps pattern arrived and decoded (the reader starts a moment late).
      expect(run.framesDecoded).toBeGreaterThanOrEqual(Math.floor((DURATION_MS / 1000) * 30 * 0.9));
      // The cut link carries traffic before, drops out of the table during the cut, and is back after.
      expect(run.before.some((row) => row && row.bitrateKbps > 100)).toBe(true);
      expect(run.during.every((row) => row === undefined || row.bitrateKbps === 0)).toBe(true);
      expect(run.after.some((row) => row && row.bitrateKbps > 100)).toBe(true);
      expect(run.log.some((m) => m.includes(`Bonded link ${run.cutLink}`) && m.includes('left'))).toBe(true);
      expect(run.tables.at(-1)?.links.every((l) => l.share >= 0 && l.share <= 1)).toBe(true);
    }
    expect(three.sentPerLink.every((n) => n > 100)).toBe(true);
  });
});
