// The ingest service: the streamer's SRT door, srt-live-transmit behind it, and the feed's truth on NATS.
import { type Bus, type Logger, publishChildEvent, startHeartbeat, timeline } from '@irlkit/shared';
import type { IngestConfig } from './config.ts';
import { FeedMonitor, systemClock } from './srt/feed-monitor.ts';
import { SrtRelay } from './srt/relay.ts';
import { RelayWatch } from './srt/relay-watch.ts';
import { createTransmit } from './srt/transmit.ts';
import type { TransmitStats } from './srt/transmit-output.ts';
import { SrtlaReceiver } from './srtla/receiver.ts';

export interface IngestDeps {
  config: IngestConfig;
  bus: Bus;
  log: Logger;
}

const SERVICE = 'ingest';

export function buildApp({ config, bus, log }: IngestDeps) {
  const events = timeline(bus, SERVICE);
  const totals = { received: 0, lost: 0, dropped: 0, retransmitted: 0 };
  let published = { ...totals };
  let latest: TransmitStats | undefined;
  /** The sender whose connection request srt-live-transmit saw last: its loopback port and a name for logs. */
  let lastRequest: { source: number; peer: string } | undefined;

  const monitor = new FeedMonitor(
    {
      stallTimeoutMs: config.INGEST_STALL_TIMEOUT_MS,
      disconnectTimeoutMs: config.INGEST_DISCONNECT_TIMEOUT_MS,
      bitrateWindowMs: 1000,
    },
    systemClock,
    (link) => {
      log.info({ event: link.event, peer: link.peer, reason: link.reason }, `feed ${link.event}`);
      bus.publish('ingest.link', link);
      if (link.event === 'disconnected') latest = undefined;
      const who = link.peer ? ` (${link.peer})` : '';
      if (link.event === 'stalled' || link.event === 'disconnected') events.warn(`Feed ${link.event}${who}: ${link.reason}`);
      else events.info(`Feed ${link.event}${who}`);
    },
  );

  const relayWatch = new RelayWatch({ hungAfterMs: config.INGEST_RELAY_HUNG_MS, inputFreshMs: 500 });
  /** Every datagram from a sender: the feed's truth, and the input side of the hang watch. */
  const onSenderDatagram = (peer: string, bytes: number, kind: 'data' | 'control', source: number | undefined) => {
    monitor.onDatagram(peer, bytes, kind, source);
    if (kind === 'data' && monitor.countsAsAccepted(source)) relayWatch.onInput(Date.now());
  };
  const onRelayAnswer = () => relayWatch.onAnswer();

  const relay = new SrtRelay({
    bindHost: config.SRT_BIND,
    port: config.SRT_PORT,
    target: { host: '127.0.0.1', port: config.INGEST_RELAY_PORT },
    maxPeers: config.SRT_MAX_PEERS,
    peerIdleMs: Math.max(config.INGEST_DISCONNECT_TIMEOUT_MS * 2, 10_000),
    socketBufferBytes: config.INGEST_SOCKET_BUFFER_BYTES,
    log,
    onDatagram: onSenderDatagram,
    onReply: onRelayAnswer,
    onShutdown: (peer, source) => monitor.onShutdown(`sender ${peer} closed the connection`, source),
    isAcceptedSource: (localPort) => monitor.isAcceptedSource(localPort),
  });

  const srtla =
    config.SRTLA_PORT > 0
      ? new SrtlaReceiver({
          bindHost: config.SRTLA_BIND,
          port: config.SRTLA_PORT,
          target: { host: '127.0.0.1', port: config.INGEST_RELAY_PORT },
          maxGroups: config.SRTLA_MAX_GROUPS,
          maxLinksPerGroup: config.SRTLA_MAX_LINKS,
          linkTimeoutMs: config.SRTLA_LINK_TIMEOUT_MS,
          groupTimeoutMs: config.SRTLA_GROUP_TIMEOUT_MS,
          registrationsPerSecond: config.SRTLA_REGISTRATIONS_PER_SECOND,
          socketBufferBytes: config.INGEST_SOCKET_BUFFER_BYTES,
          log,
          onDatagram: onSenderDatagram,
          onReply: onRelayAnswer,
          onJoin: (link, group) => {
            log.info({ link, group }, 'SRTLA link joined');
            events.info(`Bonded link ${link} joined (group ${group})`);
          },
          onLeave: (link, group, reason) => {
            log.warn({ link, group, reason }, 'SRTLA link left');
            events.warn(`Bonded link ${link} left (group ${group}): ${reason}`);
          },
        })
      : undefined;
  let srtlaWasActive = false;
  function publishSrtla(): void {
    if (!srtla) return;
    const table = srtla.snapshot();
    if (table.groups === 0 && !srtlaWasActive) return;
    srtlaWasActive = table.groups > 0;
    bus.publish('ingest.srtla', table);
  }

  const transmit = createTransmit(
    {
      binary: config.SRT_LIVE_TRANSMIT,
      listenPort: config.INGEST_RELAY_PORT,
      latencyMs: config.SRT_LATENCY_MS,
      lossMaxTtl: config.SRT_LOSSMAXTTL,
      passphrase: config.SRT_PASSPHRASE || undefined,
      pbKeyLen: config.SRT_PBKEYLEN,
      outputHost: config.INGEST_OUTPUT_HOST,
      outputPort: config.INGEST_OUTPUT_PORT,
      outputLatencyMs: config.INGEST_OUTPUT_LATENCY_MS,
      statsEveryPackets: 50,
    },
    {
      onStats: (stats) => {
        relayWatch.onAnswer();
        latest = stats;
        totals.lost += stats.lost;
        totals.dropped += stats.dropped;
        totals.retransmitted += stats.retransmitted;
      },
      onNews: (news) => {
        switch (news.kind) {
          case 'source-connected':
            monitor.onSourceAccepted(lastRequest?.source);
            break;
          case 'source-disconnected':
            monitor.onDisconnected('SRT connection closed');
            break;
          case 'connection-request': {
            // srt-live-transmit logs requests on both of its listeners: a sender's (through the relay
            // or an SRTLA group socket) and OBS reconnecting to the output. Only a sender's counts.
            const sender = relay.peerByLocalPort(news.port) ?? srtla?.peerByLocalPort(news.port);
            if (sender === undefined) break;
            lastRequest = { source: news.port, peer: sender };
            break;
          }
          case 'rejected': {
            const peer = lastRequest?.peer ?? null;
            log.warn({ peer, code: news.code, reason: news.reason }, 'SRT connection rejected');
            bus.publish('ingest.link', {
              ts: Date.now(),
              event: 'rejected',
              peer,
              reason: `${news.reason} (SRT reject ${news.code})`,
              lastPacketTs: null,
            });
            events.warn(`Rejected SRT connection${peer ? ` from ${peer}` : ''}: ${news.reason}`);
            break;
          }
          case 'target-connected':
            log.info('OBS connected to the feed');
            break;
          case 'target-disconnected':
            log.info('OBS disconnected from the feed');
            break;
          case 'error':
            log.warn({ line: news.message }, 'srt-live-transmit error');
            break;
        }
      },
      onChildEvent: (event) => {
        publishChildEvent(bus, SERVICE, event);
        if (event.event === 'exited') {
          monitor.onDisconnected('srt-live-transmit exited');
          relayWatch.reset();
          // The new child knows no session: senders must reconnect now, not after their 5 s idle timeout.
          const told = relay.endSessions() + (srtla?.endSessions() ?? 0);
          log.info({ senders: told }, 'told senders the SRT session is over');
          events.error(`srt-live-transmit exited (${event.signal ?? `code ${event.exitCode}`}); restarting in ${event.restartInMs} ms`);
        }
      },
    },
    log,
  );

  function publishStats(): void {
    const feed = monitor.snapshot();
    totals.received = monitor.packetsReceived;
    const deltas = {
      received: totals.received - published.received,
      lost: totals.lost - published.lost,
      dropped: totals.dropped - published.dropped,
      retransmitted: totals.retransmitted - published.retransmitted,
    };
    published = { ...totals };
    bus.publish('ingest.stats', {
      ts: Date.now(),
      connected: feed.connected,
      peer: feed.peer,
      bitrateKbps: feed.bitrateKbps,
      rttMs: feed.connected && latest ? latest.rttMs : null,
      receiveBufferMs: feed.connected && latest ? latest.receiveBufferMs : null,
      lastPacketAgeMs: feed.lastPacketAgeMs,
      totals: { ...totals },
      deltas,
    });
  }

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
  let srtlaTimer: NodeJS.Timeout | undefined;
  let stopHeartbeat: (() => void) | undefined;

  return {
    relay,
    srtla,
    monitor,
    transmit,
    async start() {
      await relay.start();
      await srtla?.start();
      srtlaTimer = setInterval(publishSrtla, 1000);
      transmit.start();
      relayWatchTimer = setInterval(checkRelay, 250);
      statsTimer = setInterval(publishStats, config.INGEST_STATS_INTERVAL_MS);
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
        { srtPort: relay.boundPort, output: `${config.INGEST_OUTPUT_HOST}:${config.INGEST_OUTPUT_PORT}`, encrypted: Boolean(config.SRT_PASSPHRASE) },
        'ingest listening',
      );
    },
    async stop() {
      if (statsTimer) clearInterval(statsTimer);
      if (srtlaTimer) clearInterval(srtlaTimer);
      if (relayWatchTimer) clearInterval(relayWatchTimer);
      stopHeartbeat?.();
      monitor.stop();
      await transmit.stop();
      await relay.stop();
      await srtla?.stop();
    },
  };
}
export type IngestApp = ReturnType<typeof buildApp>;
