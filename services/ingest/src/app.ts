// The ingest service: the streamer's SRT and SRTLA doors, srt-live-transmit behind them, and the feed's
// truth on NATS. Only wiring: each part's logic lives in srt/, srtla/ and wire/.
import { type Bus, type Logger, publishChildEvent, startHeartbeat, timeline } from '@irlkit/shared';
import type { IngestConfig } from './config.ts';
import { FeedMonitor, systemClock } from './srt/feed-monitor.ts';
import { FeedStatistics } from './srt/feed-stats.ts';
import { SrtRelay } from './srt/relay.ts';
import { createTransmit } from './srt/transmit.ts';
import { TransmitNewsRouter } from './srt/transmit-news.ts';
import { publishSrtla } from './srtla/publish.ts';
import { SrtlaReceiver } from './srtla/receiver.ts';

export interface IngestDeps {
  config: IngestConfig;
  bus: Bus;
  log: Logger;
}

const SERVICE = 'ingest';

export function buildApp({ config, bus, log }: IngestDeps) {
  const events = timeline(bus, SERVICE);
  const statistics = new FeedStatistics();
  const relayTarget = { host: '127.0.0.1', port: config.srt.relayPort };

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
      const playoutMs = (statistics.latencyMs() ?? config.srt.latencyMs) + config.output.latencyMs;
      bus.publish('ingest.link', { ...link, playoutMs });
      if (link.event === 'disconnected') statistics.onDisconnected();
      const who = link.peer ? ` (${link.peer})` : '';
      if (link.event === 'stalled' || link.event === 'disconnected') events.warn(`Feed ${link.event}${who}: ${link.reason}`);
      else events.info(`Feed ${link.event}${who}`);
    },
  );

  const relay = new SrtRelay({
    bindHost: config.srt.bindHost,
    port: config.srt.port,
    target: relayTarget,
    maxPeers: config.srt.maxPeers,
    peerIdleMs: Math.max(config.feed.disconnectTimeoutMs * 2, 10_000),
    socketBufferBytes: config.socketBufferBytes,
    log,
    onDatagram: (peer, bytes, kind, source) => monitor.onDatagram(peer, bytes, kind, source),
    onShutdown: (peer, source) => monitor.onShutdown(`sender ${peer} closed the connection`, source),
    isAcceptedSource: (localPort) => monitor.isAcceptedSource(localPort),
    onListenerAnswer: (localPort) => monitor.onListenerAnswer(localPort),
  });

  const srtla = config.srtla
    ? new SrtlaReceiver({
        ...config.srtla,
        target: relayTarget,
        socketBufferBytes: config.socketBufferBytes,
        log,
        onDatagram: (peer, bytes, kind, source) => monitor.onDatagram(peer, bytes, kind, source),
        onListenerAnswer: (localPort) => monitor.onListenerAnswer(localPort),
      })
    : undefined;
  const news = new TransmitNewsRouter({
    monitor,
    log,
    // Requests from the relay's or an SRTLA group's loopback ports are a sender's; others are OBS's.
    senderOf: ({ from, port }) => relay.peerByLocalPort(port) ?? (srtla?.ownsLocalPort(port) ? from : undefined),
    onRejected: ({ peer, code, reason }) => {
      log.warn({ peer, code, reason }, 'SRT connection rejected');
      bus.publish('ingest.link', { ts: Date.now(), event: 'rejected', peer, reason: `${reason} (SRT reject ${code})`, lastPacketTs: null });
      events.warn(`Rejected SRT connection${peer ? ` from ${peer}` : ''}: ${reason}`);
    },
  });

  const transmit = createTransmit(
    {
      binary: config.srt.binary,
      listenPort: config.srt.relayPort,
      latencyMs: config.srt.latencyMs,
      lossMaxTtl: config.srt.lossMaxTtl,
      passphrase: config.srt.passphrase,
      pbKeyLen: config.srt.pbKeyLen,
      outputHost: config.output.host,
      outputPort: config.output.port,
      outputLatencyMs: config.output.latencyMs,
      statsEveryPackets: 50,
    },
    {
      onStats: (stats) => statistics.onTransmitStats(stats),
      onNews: (line) => news.handle(line),
      onChildEvent: (event) => {
        publishChildEvent(bus, SERVICE, event);
        if (event.event === 'exited') {
          monitor.onDisconnected('srt-live-transmit exited');
          events.error(`srt-live-transmit exited (${event.signal ?? `code ${event.exitCode}`}); restarting in ${event.restartInMs} ms`);
        }
      },
    },
    log,
  );

  const publishStats = () => bus.publish('ingest.stats', statistics.next(monitor.snapshot(), monitor.packetsReceived, Date.now()));

  let statsTimer: NodeJS.Timeout | undefined;
  let srtlaPublishing: { stop(): void } | undefined;
  let stopHeartbeat: (() => void) | undefined;

  return {
    relay,
    srtla,
    monitor,
    transmit,
    async start() {
      await relay.start();
      await srtla?.start();
      if (srtla) srtlaPublishing = publishSrtla(bus, srtla, log, { source: SERVICE });
      transmit.start();
      statsTimer = setInterval(publishStats, config.feed.statsIntervalMs);
      stopHeartbeat = startHeartbeat(bus, SERVICE, () => ({
        ok: transmit.running,
        detail: {
          srtPort: relay.boundPort,
          srtlaPort: srtla?.boundPort ?? 0,
          feed: monitor.feedState,
          relay: transmit.running ? 'running' : 'restarting',
          relayRestarts: transmit.restarts,
          socketBufferBytes: relay.grantedBufferBytes,
          droppedNotSrt: relay.drops.notSrt,
          droppedNotHandshake: relay.drops.notHandshake,
          droppedTooManyPeers: relay.drops.tooManyPeers,
          foreignDatagrams: monitor.foreignDatagrams,
          rejectedMessages: bus.rejections.total,
        },
      }));
      log.info(
        { srtPort: relay.boundPort, output: `${config.output.host}:${config.output.port}`, encrypted: Boolean(config.srt.passphrase) },
        'ingest listening',
      );
    },
    async stop() {
      if (statsTimer) clearInterval(statsTimer);
      srtlaPublishing?.stop();
      stopHeartbeat?.();
      monitor.stop();
      await transmit.stop();
      await relay.stop();
      await srtla?.stop();
    },
  };
}
export type IngestApp = ReturnType<typeof buildApp>;
