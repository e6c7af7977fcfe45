// Bonded ingest end to end: ffmpeg → SRTLA sender (2 and 3 links on 127.0.0.x) → irlkit's receiver →
// srt-live-transmit → an ffmpeg decoder, with one link cut for 15 s mid-stream and restored; and what NAKs
// cost the phone when a link dies without the sender being told.
import { collectEvents, nextEvent, startFeedReader, startNats, startSrtFeed, startSrtlaSender, type TestNats } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIngest } from './test-ingest.ts';

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
  const ingest = await startTestIngest(nats, { streamId, latencyMs: 1500 });
  const { observer, srtlaPort, outputPort } = ingest;
  const reader = startFeedReader(outputPort);
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
    await ingest.stop();
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One link dies without the sender being told (a SIM losing signal), then the other; until the sender stops
// using it (1.5 s), half its packets and retransmissions are lost. srt-live-transmit's loss report and its
// periodic NAK report often name the same loss within a millisecond, and each copy that reaches the sender
// is one more retransmission over the phone's upload: every lost packet must come through, and no packet
// may be carried more than the once it needs.
describe('SRTLA NAKs on a real bonded feed', () => {
  it('gets every lost packet back through two dying links with no retransmission carried twice', async () => {
    const ingest = await startTestIngest(nats, { streamId: 'naks', latencyMs: 2000 });
    const reader = startFeedReader(ingest.outputPort);
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: ingest.srtlaPort }, 2);
    const feed = startSrtFeed({ port: sender.port, bitrateKbps: 2500, latencyMs: 2000, durationS: 16 });
    try {
      await nextEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the bonded feed to connect', 20_000);
      for (const link of [0, 1]) {
        await sleep(2000);
        sender.setLoss(link, 1);
        await sleep(3000);
        sender.setLoss(link, 0);
      }
      // What the reader decoded through the faults, read while the feed still runs (it ends 6 s later): a
      // sender ending its session can take srt-live-transmit down with it ("recvmsg: Connection was
      // broken", exit 255, restarted by ingest), which ends the reader's session too, once, in CI.
      await sleep(3000);
      const decodeErrors = reader.errors().trim();
      const framesDecoded = reader.frames();
      expect(await feed.exited).toBe(0);
      await sleep(3000);
      const stats = await nextEvent(ingest.observer, 'ingest.stats', () => true, 'a last statistics sample');
      const lostOnLinks = [...sender.retransmissions.values()].reduce((sum, r) => sum + r.sent - r.carried, 0);
      const extra = sender.extraCopies();
      const summary = JSON.stringify({
        lost: stats.totals.lost,
        retransmitted: stats.totals.retransmitted,
        dropped: stats.totals.dropped,
        originalsLost: sender.originalsLost.size,
        lostOnLinks,
        extra,
      });
      // The faults really happened: originals and retransmissions died on the links.
      expect(sender.originalsLost.size, summary).toBeGreaterThan(50);
      expect(lostOnLinks, summary).toBeGreaterThan(20);
      // Every loss came back in time, and no packet was carried beyond the one copy it needs.
      expect(stats.totals.dropped, summary).toBe(0);
      expect(extra, summary).toEqual([]);
      expect(stats.totals.retransmitted, summary).toBeLessThanOrEqual(stats.totals.lost);
      expect(decodeErrors, 'decoder errors').toBe('');
      expect(framesDecoded, 'frames decoded by the reader').toBeGreaterThan(0);
    } finally {
      await feed.stop();
      await sender.stop();
      await reader.stop();
      await ingest.stop();
    }
  }, 60_000);
});
