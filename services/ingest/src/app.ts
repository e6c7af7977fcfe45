// The ingest service: the streamer's SRT and SRTLA doors, shared by every stream, each sender routed by the
// key in its SRT stream id to its stream's feed (stream-feed.ts). Only wiring: the logic lives in srt/, srtla/, wire/.
import { Bus, type Logger } from '@irlkit/shared';
import type { IngestConfig } from './config.ts';
import { SrtRelay } from './srt/relay.ts';
import { parseStreamId, routeStreamId, type StreamRouting } from './srt/stream-id.ts';
import { publishSrtla } from './srtla/publish.ts';
import { SrtlaReceiver } from './srtla/receiver.ts';
import { buildStreamFeed, SERVICE, type StreamFeed } from './stream-feed.ts';

export interface IngestDeps {
  config: IngestConfig;
  /** The bus of the service's own stream (IRL_STREAM_ID); the other streams' buses share its connection. */
  bus: Bus;
  log: Logger;
}

export function buildApp({ config, bus, log }: IngestDeps) {
  const listeners = config.streams.map((stream) => ({ stream: stream.id, host: '127.0.0.1', port: stream.relayPort }));
  const route = (streamId: string): StreamRouting => routeStreamId(streamId, config.streams);
  const feeds = new Map<string, StreamFeed>();
  const feedOf = (stream: string) => feeds.get(stream) as StreamFeed;
  const extraBuses: Bus[] = [];
  const busOf = (streamId: string) => {
    if (streamId === bus.streamId) return bus;
    const own = new Bus(bus.nc, streamId, log);
    extraBuses.push(own);
    return own;
  };
  /** Where senders nobody may publish as are reported: the first stream (the operator's). */
  const first = config.streams[0]?.id as string;

  /** A sender whose stream id may not publish: the reason in the log, on ingest.link and the timeline. */
  const refuseSender = (who: string, peer: string | null, streamId: string, reason: string) => {
    log.warn({ sender: who, convention: parseStreamId(streamId).convention, reason }, 'sender refused: stream id');
    const feed = feedOf(first);
    feed.bus.publish('ingest.link', { ts: Date.now(), event: 'rejected', peer, reason: `${who}: ${reason}`.slice(0, 500), lastPacketTs: null });
    feed.events.warn(`Refused ${who}: ${reason}`);
  };
  const isAcceptedSource = (localPort: number) => [...feeds.values()].some((feed) => feed.monitor.isAcceptedSource(localPort));

  const relay = new SrtRelay({
    bindHost: config.srt.bindHost,
    port: config.srt.port,
    listeners,
    maxPeers: config.srt.maxPeers,
    peerIdleMs: Math.max(config.feed.disconnectTimeoutMs * 2, 10_000),
    socketBufferBytes: config.socketBufferBytes,
    log,
    onDatagram: (stream, peer, bytes, kind, source) => feedOf(stream).onSenderDatagram(peer, bytes, kind, source),
    onReply: (stream) => feedOf(stream).onRelayAnswer(),
    onShutdown: (stream, peer, source) => feedOf(stream).monitor.onShutdown(`sender ${peer} closed the connection`, source),
    isAcceptedSource,
    onListenerAnswer: (stream, localPort) => feedOf(stream).monitor.onListenerAnswer(localPort),
    onConnectionRequest: (stream, localPort) => feedOf(stream).monitor.onConnectionRequest(localPort),
    route,
    onRefused: (peer, streamId, reason) => refuseSender(`SRT sender ${peer}`, peer, streamId, reason),
  });

  // Bonded groups are routed like plain senders: by the key in the stream id of their SRT handshake.
  const srtla = config.srtla
    ? new SrtlaReceiver({
        ...config.srtla,
        listeners,
        socketBufferBytes: config.socketBufferBytes,
        log,
        onDatagram: (peer, bytes, kind, source, stream) => feedOf(stream).onSenderDatagram(peer, bytes, kind, source),
        onReply: (stream) => feedOf(stream).onRelayAnswer(),
        onListenerAnswer: (localPort, stream) => feedOf(stream).monitor.onListenerAnswer(localPort),
        onConnectionRequest: (localPort, stream) => feedOf(stream).monitor.onConnectionRequest(localPort),
        route,
        onRefused: (group, streamId, reason) => refuseSender(`bonded sender ${group}`, null, streamId, reason),
      })
    : undefined;

  const doorsDetail = () => ({
    srtPort: relay.boundPort,
    srtlaPort: srtla?.boundPort ?? 0,
    streams: config.streams.length,
    socketBufferBytes: relay.grantedBufferBytes,
    droppedNotSrt: relay.drops.notSrt,
    droppedNotHandshake: relay.drops.notHandshake,
    droppedTooManyPeers: relay.drops.tooManyPeers,
  });
  for (const stream of config.streams) {
    feeds.set(
      stream.id,
      buildStreamFeed({
        stream,
        config,
        bus: busOf(stream.id),
        log,
        senderOf: (localPort) => relay.peerByLocalPort(localPort) ?? srtla?.peerByLocalPort(localPort),
        streamIdOf: (peer) => relay.streamIdOf(peer),
        endSessions: () => relay.endSessions(stream.id) + (srtla?.endSessions(stream.id) ?? 0),
        doorsDetail,
      }),
    );
  }
  const firstFeed = feedOf(first);
  let srtlaPublishing: { stop(): void } | undefined;

  return {
    relay,
    srtla,
    /** Every stream's feed, by stream id. */
    feeds,
    /** The first stream's feed monitor and srt-live-transmit (the only ones with a single stream). */
    monitor: firstFeed.monitor,
    transmit: firstFeed.transmit,
    async start() {
      await relay.start();
      await srtla?.start();
      if (srtla) srtlaPublishing = publishSrtla(firstFeed.bus, srtla, log, { source: SERVICE });
      for (const feed of feeds.values()) await feed.start();
      log.info(
        {
          srtPort: relay.boundPort,
          streams: config.streams.map((s) => `${s.id}→${config.output.host}:${s.outputPort}`),
          encrypted: Boolean(config.srt.passphrase),
        },
        'ingest listening',
      );
    },
    async stop() {
      srtlaPublishing?.stop();
      for (const feed of feeds.values()) await feed.stop();
      await relay.stop();
      await srtla?.stop();
      for (const own of extraBuses) own.close();
    },
  };
}
export type IngestApp = ReturnType<typeof buildApp>;
