// One stream's feed behind the shared doors: its srt-live-transmit and the feed output its OBS reads, the
// feed monitor and statistics, the hang watch, and its truth on its own subjects (`irl.<stream>.ingest.*`).
import { type Bus, type Logger, publishChildEvent, type StreamRoute, startHeartbeat, type Timeline, timeline } from '@irlkit/shared';
import type { IngestConfig } from './config.ts';
import { FeedMonitor, systemClock } from './srt/feed-monitor.ts';
import { FeedOutput } from './srt/feed-output.ts';
import { FeedStatistics, playoutAfterLoss } from './srt/feed-stats.ts';
import { RelayWatch } from './srt/relay-watch.ts';
import { createTransmit, type TransmitSettings } from './srt/transmit.ts';
import { TransmitNewsRouter } from './srt/transmit-news.ts';

export const SERVICE = 'ingest';

/**
 * After srt-live-transmit died, how long OBS's connection to the dead feed stays open (silent) for the switcher to
 * replace it with a fresh player: the sender is back 0.3-0.7 s after a kill -9 and the switcher opens the player
 * 0.3 s after that (docs/RELIABILITY.md, feed-relay).
 */
export const OBS_READER_GRACE_MS = 2000;

export interface StreamFeedDeps {
  stream: StreamRoute;
  config: IngestConfig;
  bus: Bus;
  log: Logger;
  /** The sender behind one of the doors' loopback ports (to name it in srt-live-transmit's news). */
  senderOf(localPort: number): string | undefined;
  /** The SRT stream id the sender at this address sent (reported on ingest.stats). */
  streamIdOf(peer: string | null): string | null;
  /** srt-live-transmit restarted: its senders must reconnect now. Returns how many were told. */
  endSessions(): number;
  /** What the heartbeat tells about the shared doors. */
  doorsDetail(): Record<string, string | number | boolean | null>;
}

export function buildStreamFeed({ stream, config, bus, log: serviceLog, senderOf, streamIdOf, endSessions, doorsDetail }: StreamFeedDeps) {
  const log = serviceLog.child({ stream: stream.id });
  const events: Timeline = timeline(bus, SERVICE);
  const statistics = new FeedStatistics();
  /** When srt-live-transmit last wrote feed data for OBS: what OBS can still play. */
  let lastToObsTs: number | null = null;
  /** Set while the feed is being ended because srt-live-transmit died: when it last wrote feed data. */
  let relayDied: { lastToObsTs: number | null } | undefined;
  /** Ingest ended OBS's reading of the feed (srt-live-transmit died) and no sender has connected since. */
  let obsSessionEnded = false;

  const monitor = new FeedMonitor(
    {
      stallTimeoutMs: config.feed.stallTimeoutMs,
      disconnectTimeoutMs: config.feed.disconnectTimeoutMs,
      bitrateWindowMs: 1000,
    },
    systemClock,
    (link) => {
      log.info({ event: link.event, peer: link.peer, reason: link.reason }, `feed ${link.event}`);
      // The switcher goes OFFLINE when the buffers behind the last packet run dry, not before.
      const srtLatencyMs = statistics.latencyMs() ?? config.srt.latencyMs;
      const playoutMs = playoutAfterLoss({
        lastPacketTs: link.lastPacketTs,
        srtLatencyMs,
        relayLastToObsTs: link.event === 'disconnected' ? relayDied?.lastToObsTs : undefined,
      });
      const ended = link.event === 'connected' && obsSessionEnded;
      if (link.event === 'connected') obsSessionEnded = false;
      bus.publish('ingest.link', {
        ...link,
        playoutMs,
        ...(link.event === 'stalled' || link.event === 'disconnected' ? { srtLatencyMs } : {}),
        ...(ended ? { obsSessionEnded: true as const } : {}),
      });
      if (link.event === 'disconnected') statistics.onDisconnected();
      const who = link.peer ? ` (${link.peer})` : '';
      if (link.event === 'stalled' || link.event === 'disconnected') events.warn(`Feed ${link.event}${who}: ${link.reason}`);
      else events.info(`Feed ${link.event}${who}`);
    },
  );

  const relayWatch = new RelayWatch({ hungAfterMs: config.relayHungMs, inputFreshMs: 500 });

  const news = new TransmitNewsRouter({
    monitor,
    log,
    // Requests from the doors' loopback ports are a sender's; others are OBS's.
    senderOf: ({ port }) => senderOf(port),
    onRejected: ({ peer, code, reason }) => {
      log.warn({ peer, code, reason }, 'SRT connection rejected');
      bus.publish('ingest.link', { ts: Date.now(), event: 'rejected', peer, reason: `${reason} (SRT reject ${code})`, lastPacketTs: null });
      events.warn(`Rejected SRT connection${peer ? ` from ${peer}` : ''}: ${reason}`);
    },
  });

  // OBS's media source reads the feed over TCP from ingest (each reader starting at a keyframe); srt-live-transmit
  // writes it to the output's loopback UDP port, picked at start.
  const transmitSettings: TransmitSettings = {
    binary: config.srt.binary,
    listenPort: stream.relayPort,
    latencyMs: config.srt.latencyMs,
    lossMaxTtl: config.srt.lossMaxTtl,
    passphrase: config.srt.passphrase,
    pbKeyLen: config.srt.pbKeyLen,
    outputPort: 0,
    statsEveryPackets: 50,
  };
  const feedOutput = new FeedOutput({
    bindHost: config.output.host,
    port: stream.outputPort,
    maxReaders: 4,
    // Half a second of a 16 Mbit/s feed: a reader this far behind is stuck, and starting it over is better.
    maxQueuedBytes: 1024 * 1024,
    // Senders send a keyframe every 1-2 s; one that sends none this long still gets a picture.
    keyframeWaitMs: 3000,
    socketBufferBytes: config.socketBufferBytes,
    log,
    onFeed: () => {
      lastToObsTs = Date.now();
    },
    // On the timeline: when OBS picked the feed up (after its own restart too) and when it let go.
    onReader: (connected) => events.info(connected ? 'OBS connected to the feed' : 'OBS disconnected from the feed'),
  });

  const transmit = createTransmit(
    transmitSettings,
    {
      onStats: (stats) => {
        relayWatch.onAnswer();
        statistics.onTransmitStats(stats);
      },
      onNews: (line) => news.handle(line),
      onChildEvent: (event) => {
        publishChildEvent(bus, SERVICE, event);
        if (event.event === 'exited') {
          // Its end ends OBS's reading too (below): the next sender's connection says so.
          obsSessionEnded = true;
          relayDied = { lastToObsTs };
          monitor.onDisconnected('srt-live-transmit exited');
          relayDied = undefined;
          relayWatch.reset();
          // The new child knows no session: senders must reconnect now, not after their 5 s idle timeout.
          const told = endSessions();
          log.info({ senders: told }, 'told senders the SRT session is over');
          // OBS too: it has all the child wrote, and gets nothing of the next. The switcher opens OBS's player afresh
          // once the sender is back (the connected event says OBS's session ended), starting at the new child's first
          // keyframe; without that, OBS's reader is closed after the grace and OBS calls again itself.
          log.info({ readers: feedOutput.endReaders(OBS_READER_GRACE_MS) }, "ended OBS's reading of the dead feed");
          events.error(`srt-live-transmit exited (${event.signal ?? `code ${event.exitCode}`}); restarting in ${event.restartInMs} ms`);
        }
      },
    },
    log,
  );

  const publishStats = () => {
    const feed = monitor.snapshot();
    bus.publish('ingest.stats', {
      ...statistics.next(feed, monitor.packetsReceived, Date.now()),
      streamId: feed.connected ? streamIdOf(feed.peer) : null,
    });
  };

  function checkRelay(): void {
    if (!transmit.running) return;
    const cause = relayWatch.check(Date.now());
    if (!cause) return;
    relayWatch.reset();
    log.error({ cause, pid: transmit.pid }, 'srt-live-transmit hung; restarting it');
    publishChildEvent(bus, SERVICE, {
      child: 'srt-live-transmit',
      event: 'unhealthy',
      pid: transmit.pid ?? null,
      exitCode: null,
      signal: null,
      restartInMs: 0,
      detail: cause,
    });
    events.error(`srt-live-transmit ${cause}; restarting it`);
    transmit.restartNow();
  }

  let statsTimer: NodeJS.Timeout | undefined;
  let relayWatchTimer: NodeJS.Timeout | undefined;
  let stopHeartbeat: (() => void) | undefined;

  return {
    stream,
    bus,
    monitor,
    transmit,
    events,
    /** Every datagram from this stream's sender: the feed's truth, and the input side of the hang watch. */
    onSenderDatagram(peer: string, bytes: number, kind: 'data' | 'control', source: number | undefined): void {
      monitor.onDatagram(peer, bytes, kind, source);
      if (kind === 'data' && monitor.countsAsAccepted(source)) relayWatch.onInput(Date.now());
    },
    /** Any datagram this stream's srt-live-transmit sent a sender: it is alive. */
    onRelayAnswer(): void {
      relayWatch.onAnswer();
    },
    async start(): Promise<void> {
      transmitSettings.outputPort = await feedOutput.start();
      transmit.start();
      relayWatchTimer = setInterval(checkRelay, 250);
      statsTimer = setInterval(publishStats, config.feed.statsIntervalMs);
      stopHeartbeat = startHeartbeat(bus, SERVICE, () => ({
        ok: transmit.running,
        detail: {
          ...doorsDetail(),
          feed: monitor.feedState,
          relay: transmit.running ? 'running' : 'restarting',
          relayRestarts: transmit.restarts,
          foreignDatagrams: monitor.foreignDatagrams,
          rejectedMessages: bus.rejections.total,
        },
      }));
    },
    async stop(): Promise<void> {
      if (statsTimer) clearInterval(statsTimer);
      if (relayWatchTimer) clearInterval(relayWatchTimer);
      stopHeartbeat?.();
      monitor.stop();
      await transmit.stop();
      await feedOutput.stop();
    },
  };
}
export type StreamFeed = ReturnType<typeof buildStreamFeed>;
