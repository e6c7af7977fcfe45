// One stream's feed behind the shared doors: its srt-live-transmit (listener and output for its OBS), the
// feed monitor and statistics, the hang watch, and its truth on its own subjects (`irl.<stream>.ingest.*`).
import { type Bus, freeLoopbackUdpPort, type Logger, publishChildEvent, type StreamRoute, startHeartbeat, type Timeline, timeline } from '@irlkit/shared';
import type { IngestConfig } from './config.ts';
import { FeedMonitor, systemClock } from './srt/feed-monitor.ts';
import { FeedStatistics, playoutAfterLoss } from './srt/feed-stats.ts';
import { ObsOutput } from './srt/obs-output.ts';
import { RelayWatch } from './srt/relay-watch.ts';
import { createTransmit, type TransmitSettings } from './srt/transmit.ts';
import { TransmitNewsRouter } from './srt/transmit-news.ts';

export const SERVICE = 'ingest';

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
  /** When srt-live-transmit last sent OBS anything (the feed, keepalives): what OBS can still play. */
  let lastToObsTs: number | null = null;
  /** Set while the feed is being ended because srt-live-transmit died: its last datagram to OBS. */
  let relayDied: { lastToObsTs: number | null } | undefined;

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
        outputLatencyMs: config.output.latencyMs,
        relayLastToObsTs: link.event === 'disconnected' ? relayDied?.lastToObsTs : undefined,
      });
      bus.publish('ingest.link', { ...link, playoutMs, ...(link.event === 'stalled' || link.event === 'disconnected' ? { srtLatencyMs } : {}) });
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
    // On the timeline: when OBS picked the feed up (after its own restart too) and when it let go.
    onObsConnection: (connected) => events.info(connected ? 'OBS connected to the feed' : 'OBS disconnected from the feed'),
  });

  // The port OBS's media source calls is ingest's too, in front of srt-live-transmit's output listener
  // (a loopback port picked at start): when the child dies, OBS is told its session is over like the
  // senders are, instead of holding the dead one until its own 5 s idle timeout.
  const transmitSettings: TransmitSettings = {
    binary: config.srt.binary,
    listenPort: stream.relayPort,
    latencyMs: config.srt.latencyMs,
    lossMaxTtl: config.srt.lossMaxTtl,
    passphrase: config.srt.passphrase,
    pbKeyLen: config.srt.pbKeyLen,
    outputListenPort: 0,
    outputLatencyMs: config.output.latencyMs,
    statsEveryPackets: 50,
  };
  const outputTarget = { host: '127.0.0.1', port: 0 };
  const obsOutput = new ObsOutput({
    bindHost: config.output.host,
    port: stream.outputPort,
    target: outputTarget,
    maxCallers: 4,
    callerIdleMs: 10_000,
    socketBufferBytes: config.socketBufferBytes,
    log,
    onReply: () => {
      lastToObsTs = Date.now();
    },
  });
  /** Ends OBS's session once OBS has played out what it holds (the output hop's latency) of the dead child's feed. */
  let endObsSessionTimer: NodeJS.Timeout | undefined;
  /** The sessions the dead child held (those of an earlier death still waiting included). */
  let deadObsSessions = new Set<object>();
  const endObsSession = () => {
    endObsSessionTimer = undefined;
    const told = obsOutput.endSessions(deadObsSessions);
    deadObsSessions = new Set();
    log.info({ callers: told }, 'told OBS the SRT session is over');
  };

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
          relayDied = { lastToObsTs };
          monitor.onDisconnected('srt-live-transmit exited');
          relayDied = undefined;
          relayWatch.reset();
          // The new child knows no session: senders must reconnect now, not after their 5 s idle timeout.
          const told = endSessions();
          log.info({ senders: told }, 'told senders the SRT session is over');
          // OBS too, after the picture it still holds: it calls the new child when its reconnect delay is up.
          // Only the sessions the dead child held: OBS may reopen its input before the timer fires.
          if (endObsSessionTimer) clearTimeout(endObsSessionTimer);
          deadObsSessions = new Set([...deadObsSessions, ...obsOutput.sessions()]);
          endObsSessionTimer = setTimeout(endObsSession, config.output.latencyMs);
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
      await obsOutput.start();
      outputTarget.port = await freeLoopbackUdpPort();
      transmitSettings.outputListenPort = outputTarget.port;
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
      if (endObsSessionTimer) clearTimeout(endObsSessionTimer);
      await transmit.stop();
      await obsOutput.stop();
    },
  };
}
export type StreamFeed = ReturnType<typeof buildStreamFeed>;
