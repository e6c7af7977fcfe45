// The ingest service: the streamer's SRT and SRTLA doors, srt-live-transmit behind them, and the feed's
// truth on NATS. Only wiring: each part's logic lives in srt/, srtla/ and wire/.
import { type Bus, type Logger, publishChildEvent, startHeartbeat, timeline } from '@irlkit/shared';
import type { IngestConfig } from './config.ts';
import { FeedMonitor, systemClock } from './srt/feed-monitor.ts';
import { FeedStatistics, playoutAfterLoss } from './srt/feed-stats.ts';
import { SrtRelay } from './srt/relay.ts';
import { RelayWatch } from './srt/relay-watch.ts';
import { parseStreamId, refusal } from './srt/stream-id.ts';
import { createTransmit, type TransmitSettings } from './srt/transmit.ts';
import { TransmitNewsRouter } from './srt/transmit-news.ts';
import { publishSrtla } from './srtla/publish.ts';
import { SrtlaReceiver } from './srtla/receiver.ts';
import { freeLoopbackUdpPort } from './wire/udp.ts';

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
      const playoutMs = playoutAfterLoss({
        lastPacketTs: link.lastPacketTs,
        srtLatencyMs: statistics.latencyMs() ?? config.srt.latencyMs,
        outputLatencyMs: config.output.latencyMs,
        relayLastToObsTs: link.event === 'disconnected' ? relayDied?.lastToObsTs : undefined,
      });
      bus.publish('ingest.link', { ...link, playoutMs });
      if (link.event === 'disconnected') statistics.onDisconnected();
      const who = link.peer ? ` (${link.peer})` : '';
      if (link.event === 'stalled' || link.event === 'disconnected') events.warn(`Feed ${link.event}${who}: ${link.reason}`);
      else events.info(`Feed ${link.event}${who}`);
    },
  );

  const relayWatch = new RelayWatch({ hungAfterMs: config.relayHungMs, inputFreshMs: 500 });
  /** Every datagram from a sender: the feed's truth, and the input side of the hang watch. */
  const onSenderDatagram = (peer: string, bytes: number, kind: 'data' | 'control', source: number | undefined) => {
    monitor.onDatagram(peer, bytes, kind, source);
    if (kind === 'data' && monitor.countsAsAccepted(source)) relayWatch.onInput(Date.now());
  };
  const onRelayAnswer = () => relayWatch.onAnswer();

  /** A sender whose stream id may not publish: the reason in the log, on ingest.link and the timeline. */
  const refuseSender = (who: string, peer: string | null, streamId: string, reason: string) => {
    log.warn({ sender: who, convention: parseStreamId(streamId).convention, reason }, 'sender refused: stream id');
    bus.publish('ingest.link', { ts: Date.now(), event: 'rejected', peer, reason: `${who}: ${reason}`.slice(0, 500), lastPacketTs: null });
    events.warn(`Refused ${who}: ${reason}`);
  };

  const relay = new SrtRelay({
    bindHost: config.srt.bindHost,
    port: config.srt.port,
    target: relayTarget,
    maxPeers: config.srt.maxPeers,
    peerIdleMs: Math.max(config.feed.disconnectTimeoutMs * 2, 10_000),
    socketBufferBytes: config.socketBufferBytes,
    log,
    onDatagram: onSenderDatagram,
    onReply: onRelayAnswer,
    onShutdown: (peer, source) => monitor.onShutdown(`sender ${peer} closed the connection`, source),
    isAcceptedSource: (localPort) => monitor.isAcceptedSource(localPort),
    onListenerAnswer: (localPort) => monitor.onListenerAnswer(localPort),
    onConnectionRequest: (localPort) => monitor.onConnectionRequest(localPort),
    admit: (streamId) => refusal(streamId, config.srt.streamKey),
    onRefused: (peer, streamId, reason) => refuseSender(`SRT sender ${peer}`, peer, streamId, reason),
  });

  const srtla = config.srtla
    ? new SrtlaReceiver({
        ...config.srtla,
        target: relayTarget,
        socketBufferBytes: config.socketBufferBytes,
        log,
        onDatagram: onSenderDatagram,
        onReply: onRelayAnswer,
        onListenerAnswer: (localPort) => monitor.onListenerAnswer(localPort),
        onConnectionRequest: (localPort) => monitor.onConnectionRequest(localPort),
        admit: (streamId) => refusal(streamId, config.srt.streamKey),
        onRefused: (group, streamId, reason) => refuseSender(`bonded sender ${group}`, null, streamId, reason),
      })
    : undefined;
  const news = new TransmitNewsRouter({
    monitor,
    log,
    // Requests from the relay's or an SRTLA group's loopback ports are a sender's; others are OBS's.
    senderOf: ({ port }) => relay.peerByLocalPort(port) ?? srtla?.peerByLocalPort(port),
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
    listenPort: config.srt.relayPort,
    latencyMs: config.srt.latencyMs,
    lossMaxTtl: config.srt.lossMaxTtl,
    passphrase: config.srt.passphrase,
    pbKeyLen: config.srt.pbKeyLen,
    outputListenPort: 0,
    outputLatencyMs: config.output.latencyMs,
    statsEveryPackets: 50,
  };
  const outputTarget = { host: '127.0.0.1', port: 0 };
  /** The relay's loopback port srt-live-transmit last sent OBS's feed through: the OBS it serves. */
  let obsSource: number | undefined;
  const obsOutput = new SrtRelay({
    bindHost: config.output.host,
    port: config.output.port,
    target: outputTarget,
    // OBS, and a restarted OBS while the dead one's slot lingers; a few spare for other callers.
    maxPeers: 4,
    peerIdleMs: 10_000,
    socketBufferBytes: config.socketBufferBytes,
    log,
    isAcceptedSource: (localPort) => localPort === obsSource,
    onListenerAnswer: (localPort) => {
      obsSource = localPort;
    },
    onReply: () => {
      lastToObsTs = Date.now();
    },
  });
  /** Ends OBS's session once OBS has played out what it holds (the output hop's latency) of the dead child's feed. */
  let endObsSessionTimer: NodeJS.Timeout | undefined;
  const endObsSession = () => {
    endObsSessionTimer = undefined;
    const told = obsOutput.endSessions();
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
          const told = relay.endSessions() + (srtla?.endSessions() ?? 0);
          log.info({ senders: told }, 'told senders the SRT session is over');
          // OBS too, after the picture it still holds: it calls the new child when its reconnect delay is up.
          if (endObsSessionTimer) clearTimeout(endObsSessionTimer);
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
      streamId: feed.connected ? relay.streamIdOf(feed.peer) : null,
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
      await obsOutput.start();
      outputTarget.port = await freeLoopbackUdpPort();
      transmitSettings.outputListenPort = outputTarget.port;
      if (srtla) srtlaPublishing = publishSrtla(bus, srtla, log, { source: SERVICE });
      transmit.start();
      relayWatchTimer = setInterval(checkRelay, 250);
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
      if (relayWatchTimer) clearInterval(relayWatchTimer);
      srtlaPublishing?.stop();
      stopHeartbeat?.();
      monitor.stop();
      if (endObsSessionTimer) clearTimeout(endObsSessionTimer);
      await transmit.stop();
      await relay.stop();
      await obsOutput.stop();
      await srtla?.stop();
    },
  };
}
export type IngestApp = ReturnType<typeof buildApp>;
