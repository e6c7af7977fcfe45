// A stream added or removed at runtime touches no other stream: IRL_STREAMS is a file, rewritten while alice's
// real ffmpeg sender streams through the shared SRT door to her real srt-live-transmit. Bob and carol are added
// to alice's one-stream list (carol's sender, bonded over SRTLA, gets through), a bad file is refused (counted,
// nothing changes), carol is removed (her sender is cut off), bob's key changes; alice's session, her
// srt-live-transmit and her reader never notice. Also the pure port bookkeeping (reconcileStreams) that ingest
// and the runner share.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type ProcessEvent, reconcileStreams, resolveStreams } from '@irlkit/shared';
import {
  freeTcpPort,
  freeUdpPort,
  nextEvent,
  startFeedReader,
  startNats,
  startSrtFeed,
  startSrtlaSender,
  type TestNats,
  testBus,
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';

describe('reconcileStreams: what a new list adds and removes, and the ports each keeps', () => {
  const ports = { relayPort: 7002, outputPort: 7001 };
  const list = (...ids: string[]) => ids.map((id) => ({ id, srtKey: `${id}-key` }));
  const at = (streams: { id: string; relayPort: number; outputPort: number }[]) => streams.map((s) => [s.id, s.relayPort, s.outputPort]);

  it('keeps a stream that is the same on its ports; a new one takes the lowest free slot, a removed one frees its own', () => {
    const start = resolveStreams(list('a', 'b', 'c'), { id: 'main', srtKey: undefined }, ports);
    expect(at(start)).toEqual([
      ['a', 7002, 7001],
      ['b', 7004, 7003],
      ['c', 7006, 7005],
    ]);
    // b leaves: a and c stay where they are (by position, c would have moved to b's ports).
    const withoutB = reconcileStreams(start, list('a', 'c'), ports);
    expect(withoutB.removed.map((s) => s.id)).toEqual(['b']);
    expect(withoutB.added).toEqual([]);
    expect(at(withoutB.streams)).toEqual([
      ['a', 7002, 7001],
      ['c', 7006, 7005],
    ]);
    // d comes (first in the file): b's slot, the lowest free; a and c untouched.
    const withD = reconcileStreams(withoutB.streams, list('d', 'a', 'c'), ports);
    expect(withD.added.map((s) => [s.id, s.slot])).toEqual([['d', 1]]);
    expect(withD.removed).toEqual([]);
    expect(at(withD.streams)).toEqual([
      ['d', 7004, 7003],
      ['a', 7002, 7001],
      ['c', 7006, 7005],
    ]);
  });

  it('removes and adds a stream whose key changed, in its own slot; the same list again changes nothing', () => {
    const start = resolveStreams(list('a', 'b'), { id: 'main', srtKey: undefined }, ports);
    const rekeyed = reconcileStreams(
      start,
      [
        { id: 'a', srtKey: 'a-key' },
        { id: 'b', srtKey: 'b-new-key' },
      ],
      ports,
    );
    expect(rekeyed.removed.map((s) => [s.id, s.srtKey])).toEqual([['b', 'b-key']]);
    expect(rekeyed.added.map((s) => [s.id, s.srtKey, s.slot])).toEqual([['b', 'b-new-key', 1]]);
    const again = reconcileStreams(
      rekeyed.streams,
      [
        { id: 'a', srtKey: 'a-key' },
        { id: 'b', srtKey: 'b-new-key' },
      ],
      ports,
    );
    expect([again.added, again.removed]).toEqual([[], []]);
  });
});

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

describe('IRL_STREAMS as a file, changed while a sender streams', () => {
  it("adds bob and a bonded carol and removes her again, refuses a bad file, re-keys bob: alice's session and srt-live-transmit never notice", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irlkit-stream-reload-'));
    const file = join(dir, 'streams.json');
    const stream = async (id: string) => ({
      id,
      srtKey: `${id}-key-${Math.random().toString(36).slice(2, 8)}`,
      relayPort: await freeUdpPort(),
      outputPort: await freeTcpPort(),
    });
    const [alice, bob, carol] = [await stream('alice'), await stream('bob'), await stream('carol')];
    /** Written as editors and `mv` do: a new file renamed over the old one. */
    const replaceFile = (streams: unknown) => {
      writeFileSync(`${file}.tmp`, typeof streams === 'string' ? streams : JSON.stringify(streams, null, 2));
      renameSync(`${file}.tmp`, file);
    };
    replaceFile([alice]);
    const srtPort = await freeUdpPort();
    const srtlaPort = await freeUdpPort();
    const config = ingestConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        SRT_PORT: String(srtPort),
        SRT_BIND: '127.0.0.1',
        SRT_LATENCY_MS: '500',
        SRTLA_PORT: String(srtlaPort),
        SRTLA_BIND: '127.0.0.1',
        IRL_STREAMS: file,
      },
    });
    expect(config.streamList?.file).toBe(file);
    const bus = await testBus(nats, 'alice', 'ingest');
    const app = buildApp({ config, bus, log: createLogger('ingest-test', process.env.TEST_LOG ?? 'warn') });
    await app.start();
    const watchAlice = await testBus(nats, 'alice');
    const watchCarol = await testBus(nats, 'carol');
    const aliceLinks: string[] = [];
    watchAlice.subscribe('ingest.link', (link) => aliceLinks.push(`${link.event}: ${link.reason}`));
    const carolProcess: ProcessEvent[] = [];
    watchCarol.subscribe('process', (event) => carolProcess.push(event));
    const aliceFeed = startSrtFeed({ port: srtPort, bitrateKbps: 600, latencyMs: 500, width: 320, height: 240, streamId: `live_${alice.srtKey}` });
    const aliceReader = startFeedReader(alice.outputPort);
    let carolFeed: ReturnType<typeof startSrtFeed> | undefined;
    let bonding: Awaited<ReturnType<typeof startSrtlaSender>> | undefined;
    let carolReader: ReturnType<typeof startFeedReader> | undefined;
    // Alice's packets as ingest counts them, sampled every 50 ms: the longest time they stood still.
    let aliceLongestGapMs = 0;
    let sampler: NodeJS.Timeout | undefined;
    try {
      await nextEvent(watchAlice, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 50, "alice's feed", 15_000);
      await waitFor(() => aliceReader.frames() > 20, "alice's output decoding", 15_000);
      const aliceMonitor = app.feeds.get('alice')?.monitor;
      const alicePid = app.feeds.get('alice')?.transmit.pid;
      expect(alicePid).toBeGreaterThan(0);
      let lastPackets = aliceMonitor?.packetsReceived ?? 0;
      let lastMoved = Date.now();
      sampler = setInterval(() => {
        const now = Date.now();
        const packets = aliceMonitor?.packetsReceived ?? 0;
        if (packets > lastPackets) {
          aliceLongestGapMs = Math.max(aliceLongestGapMs, now - lastMoved);
          lastPackets = packets;
          lastMoved = now;
        }
      }, 50);
      const aliceUntouched = (when: string) => {
        expect(app.feeds.get('alice')?.transmit.pid, `alice's srt-live-transmit PID ${when}`).toBe(alicePid);
        expect(app.feeds.get('alice')?.transmit.restarts, `alice's srt-live-transmit restarts ${when}`).toBe(0);
        expect(app.feeds.get('alice')?.monitor, `alice's feed ${when}`).toBe(aliceMonitor);
        // Refused senders are reported on the first stream (alice's): those are not about her feed.
        expect(
          aliceLinks.filter((link) => !link.startsWith('rejected:')),
          `alice's link events ${when}`,
        ).toEqual([aliceLinks[0]]);
        expect(aliceLinks[0], `alice's first link event ${when}`).toMatch(/^connected:/);
        expect(aliceFeed.process.exitCode, `alice's sender ${when}`).toBeNull();
        expect(aliceReader.exits(), `alice's reader sessions ended ${when}`).toEqual([]);
      };

      // Bob and carol are added: their relays start and carol's bonded sender gets through, while alice streams on.
      replaceFile([alice, bob, carol]);
      await waitFor(() => app.feeds.get('carol')?.transmit.running, "carol's srt-live-transmit started after the file changed", 5000);
      const bobPid = app.feeds.get('bob')?.transmit.pid;
      bonding = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2, { registerTimeoutMs: 10_000 });
      const bonded = bonding;
      expect(
        bonded.links.map((l) => l.registered),
        "carol's bonded links registered with ingest's SRTLA door",
      ).toEqual([true, true]);
      carolFeed = startSrtFeed({ port: bonding.port, bitrateKbps: 600, latencyMs: 500, width: 320, height: 240, streamId: `publish/live/${carol.srtKey}` });
      carolReader = startFeedReader(carol.outputPort);
      const carolSender = carolFeed;
      await nextEvent(watchCarol, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 50, "carol's feed on carol's subjects", 15_000).catch(
        (error: Error) => {
          // What the sender and its links saw: a one-shot ffmpeg whose handshake went unanswered has exited.
          const links = bonded.links.map((l) => `${l.address} registered ${l.registered}, sent ${l.sent}, heard ${Date.now() - l.lastHeard} ms ago`);
          throw new Error(
            `${error.message}; carol's sender exit ${carolSender.process.exitCode}, links: ${links.join('; ')}; SRT replies by type ${JSON.stringify([...bonded.srtRepliesByType])}; ffmpeg: ${carolSender.stderr().slice(-600)}`,
          );
        },
      );
      await waitFor(() => (carolReader?.frames() ?? 0) > 20, "carol's output decoding", 15_000);
      expect(carolProcess.find((e) => e.child === 'stream')?.event).toBe('started');
      expect((await nextEvent(watchCarol, 'ingest.stats', (s) => s.connected, 'carol stats')).peer).toMatch(/^SRTLA group/);
      expect(app.feeds.get('bob')?.transmit.pid, "bob's srt-live-transmit PID").toBe(bobPid);
      aliceUntouched('after carol was added');
      const carolPid = app.feeds.get('carol')?.transmit.pid;

      // A bad file: refused and counted, naming the field; the streams in force stay, carol keeps streaming.
      replaceFile([alice, { ...carol, id: 'alice' }]);
      await waitFor(() => app.streamList.refused === 1, 'the duplicate id refused', 5000);
      expect(app.streamList.lastProblems).toEqual(['stream 2 id: stream id "alice" is used twice']);
      writeFileSync(file, '[{"id": "alice", ');
      await waitFor(() => app.streamList.refused === 2, 'the broken JSON refused', 5000);
      expect(app.streamList.lastProblems[0]).toMatch(/is not valid JSON/);
      expect(app.streams.map((s) => s.id)).toEqual(['alice', 'bob', 'carol']);
      const carolFrames = carolReader.frames();
      await waitFor(() => (carolReader?.frames() ?? 0) > carolFrames + 10, 'carol still decoding after the bad files', 5000);
      expect(app.feeds.get('carol')?.transmit.pid, "carol's srt-live-transmit PID after the bad files").toBe(carolPid);
      expect(carolFeed.process.exitCode, "carol's sender after the bad files").toBeNull();
      aliceUntouched('after the bad files');

      // SIGHUP reads the file again (still broken: refused once more).
      process.kill(process.pid, 'SIGHUP');
      await waitFor(() => app.streamList.refused === 3, 'SIGHUP to read the file again', 5000);

      // Carol is removed (the file written in place this time): her bonded sender is told on its links and gives up, her relay stops.
      const removedAt = Date.now();
      writeFileSync(file, JSON.stringify([alice, bob]));
      await waitFor(() => !app.feeds.has('carol'), 'carol removed', 5000);
      const carolCode = await Promise.race([carolFeed.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
      expect(carolCode, "carol's sender disconnected").not.toBe('still running');
      process.stdout.write(`stream reload: carol's bonded sender gave up ${Date.now() - removedAt} ms after the file changed\n`);
      await waitFor(() => carolProcess.some((e) => e.child === 'stream' && e.event === 'stopped'), "carol's removal on her subjects", 3000);
      expect(carolProcess.find((e) => e.child === 'stream' && e.event === 'stopped')?.detail).toMatch(/removed from IRL_STREAMS \(1 sender disconnected\)/);
      // Her sender coming back is refused: her key opens nothing any more.
      const carolAgain = startSrtFeed({ port: srtPort, bitrateKbps: 300, latencyMs: 500, width: 160, height: 120, streamId: `live_${carol.srtKey}` });
      const refused = await nextEvent(watchAlice, 'ingest.link', (e) => e.event === 'rejected', 'carol refused (on the first stream)', 10_000);
      expect(refused.reason).toMatch(/no stream has the key/);
      await carolAgain.stop();
      aliceUntouched('after carol was removed');

      // Bob's key changes: bob alone is removed and added (a new srt-live-transmit), alice untouched.
      replaceFile([alice, { ...bob, srtKey: `${bob.srtKey}-new` }]);
      await waitFor(() => app.feeds.get('bob')?.stream.srtKey === `${bob.srtKey}-new` && app.feeds.get('bob')?.transmit.running, 'bob re-keyed', 5000);
      expect(app.feeds.get('bob')?.transmit.pid).not.toBe(bobPid);
      expect(app.streamList.reloads).toBe(3);
      expect(app.streams.map((s) => [s.id, s.slot])).toEqual([
        ['alice', 0],
        ['bob', 1],
      ]);
      const aliceFrames = aliceReader.frames();
      await waitFor(() => aliceReader.frames() > aliceFrames + 10, 'alice still decoding at the end', 5000);
      aliceUntouched('at the end');
      clearInterval(sampler);
      process.stdout.write(`stream reload: alice's packets never stood still longer than ${aliceLongestGapMs} ms\n`);
      // Her link events above show no stall (ingest's 500 ms); this bound only catches a gap the sampling sees.
      expect(aliceLongestGapMs).toBeLessThan(1000);
    } finally {
      clearInterval(sampler);
      await Promise.all([aliceFeed.stop(), carolFeed?.stop(), aliceReader.stop(), carolReader?.stop()]);
      await bonding?.stop();
      await watchAlice.closeConnection();
      await watchCarol.closeConnection();
      await app.stop();
      await bus.closeConnection();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
