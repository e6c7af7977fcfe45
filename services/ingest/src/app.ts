// The ingest service: the streamer's SRT and SRTLA doors, shared by every stream, each sender routed by the
// key in its SRT stream id to its stream's feed (stream-feed.ts). Streams listed in a file come and go at
// runtime (stream-list.ts) without touching the others. Only wiring: the logic lives in srt/, srtla/, wire/.
import { Bus, type Logger, publishChildEvent, reconcileStreams, type StreamDefinition, type StreamRoute, timeline } from '@irlkit/shared';
import type { IngestConfig } from './config.ts';
import { SrtRelay } from './srt/relay.ts';
import { parseStreamId, routeStreamId, type StreamRouting } from './srt/stream-id.ts';
import { publishSrtla } from './srtla/publish.ts';
import { SrtlaReceiver } from './srtla/receiver.ts';
import { buildStreamFeed, SERVICE, type StreamFeed } from './stream-feed.ts';
import { followStreamList } from './stream-list.ts';

export interface IngestDeps {
  config: IngestConfig;
  /** The bus of the service's own stream (IRL_STREAM_ID); the other streams' buses share its connection. */
  bus: Bus;
  log: Logger;
}

export function buildApp({ config, bus, log }: IngestDeps) {
  /** The streams served now: the configured ones, then whatever the stream list's file says. */
  let streams: StreamRoute[] = [...config.streams];
  const listenerOf = (stream: StreamRoute) => ({ stream: stream.id, host: '127.0.0.1', port: stream.relayPort });
  const route = (streamId: string): StreamRouting => routeStreamId(streamId, streams);
  const feeds = new Map<string, StreamFeed>();
  /** A stream's feed; undefined for a packet in flight when its stream was removed. */
  const feedOf = (stream: string) => feeds.get(stream);
  const buses = new Map<string, Bus>();
  const busOf = (streamId: string) => {
    if (streamId === bus.streamId) return bus;
    const own = buses.get(streamId) ?? new Bus(bus.nc, streamId, log);
    buses.set(streamId, own);
    return own;
  };
  /** Where senders nobody may publish as are reported: the first stream (the operator's). */
  const first = () => (streams[0] as StreamRoute).id;
  /** Reloads that changed something, files refused (bad JSON, a bad list) and the last refusal's problems. */
  const streamList = { reloads: 0, refused: 0, lastProblems: [] as string[] };

  /** A sender whose stream id may not publish: the reason in the log, on ingest.link and the timeline. */
  const refuseSender = (who: string, peer: string | null, streamId: string, reason: string) => {
    log.warn({ sender: who, convention: parseStreamId(streamId).convention, reason }, 'sender refused: stream id');
    const feed = feedOf(first());
    if (!feed) return;
    feed.bus.publish('ingest.link', { ts: Date.now(), event: 'rejected', peer, reason: `${who}: ${reason}`.slice(0, 500), lastPacketTs: null });
    feed.events.warn(`Refused ${who}: ${reason}`);
  };
  const isAcceptedSource = (localPort: number) => [...feeds.values()].some((feed) => feed.monitor.isAcceptedSource(localPort));
  /** A list that may change: every sender is routed by its handshake, even while one stream is listed. */
  const routeAlways = config.streamList !== undefined;
  const listeners = streams.map(listenerOf);

  const relay = new SrtRelay({
    bindHost: config.srt.bindHost,
    port: config.srt.port,
    listeners,
    routeAlways,
    maxPeers: config.srt.maxPeers,
    peerIdleMs: Math.max(config.feed.disconnectTimeoutMs * 2, 10_000),
    socketBufferBytes: config.socketBufferBytes,
    log,
    onDatagram: (stream, peer, bytes, kind, source) => feedOf(stream)?.onSenderDatagram(peer, bytes, kind, source),
    onReply: (stream) => feedOf(stream)?.onRelayAnswer(),
    onShutdown: (stream, peer, source) => feedOf(stream)?.monitor.onShutdown(`sender ${peer} closed the connection`, source),
    isAcceptedSource,
    onListenerAnswer: (stream, localPort) => feedOf(stream)?.monitor.onListenerAnswer(localPort),
    onConnectionRequest: (stream, localPort) => feedOf(stream)?.monitor.onConnectionRequest(localPort),
    route,
    onRefused: (peer, streamId, reason) => refuseSender(`SRT sender ${peer}`, peer, streamId, reason),
  });

  // Bonded groups are routed like plain senders: by the key in the stream id of their SRT handshake.
  const srtla = config.srtla
    ? new SrtlaReceiver({
        ...config.srtla,
        listeners,
        routeAlways,
        socketBufferBytes: config.socketBufferBytes,
        log,
        onDatagram: (peer, bytes, kind, source, stream) => feedOf(stream)?.onSenderDatagram(peer, bytes, kind, source),
        onReply: (stream) => feedOf(stream)?.onRelayAnswer(),
        onListenerAnswer: (localPort, stream) => feedOf(stream)?.monitor.onListenerAnswer(localPort),
        onConnectionRequest: (localPort, stream) => feedOf(stream)?.monitor.onConnectionRequest(localPort),
        route,
        onRefused: (group, streamId, reason) => refuseSender(`bonded sender ${group}`, null, streamId, reason),
      })
    : undefined;

  const doorsDetail = () => ({
    srtPort: relay.boundPort,
    srtlaPort: srtla?.boundPort ?? 0,
    streams: streams.length,
    streamListReloads: streamList.reloads,
    streamListRefused: streamList.refused,
    socketBufferBytes: relay.grantedBufferBytes,
    droppedNotSrt: relay.drops.notSrt,
    droppedNotHandshake: relay.drops.notHandshake,
    droppedTooManyPeers: relay.drops.tooManyPeers,
  });
  const feedFor = (stream: StreamRoute) =>
    buildStreamFeed({
      stream,
      config,
      bus: busOf(stream.id),
      log,
      senderOf: (localPort) => relay.peerByLocalPort(localPort) ?? srtla?.peerByLocalPort(localPort),
      streamIdOf: (peer) => relay.streamIdOf(peer),
      endSessions: () => relay.endSessions(stream.id) + (srtla?.endSessions(stream.id) ?? 0),
      doorsDetail,
    });
  for (const stream of streams) feeds.set(stream.id, feedFor(stream));
  const firstFeed = feedOf(first()) as StreamFeed;
  let srtlaPublishing: { stop(): void } | undefined;

  /**
   * A new list from the file: removed streams' senders told their session is over and their srt-live-transmit
   * stopped, added streams' started; a stream that is the same (key, ports) is not touched at all. A stream
   * whose key changed is removed and added. Each change is a `process` event (child `stream`) and a timeline
   * entry on that stream's own subjects.
   */
  async function applyStreamList(list: StreamDefinition[]): Promise<void> {
    if (!config.streamList) return;
    const next = reconcileStreams(streams, list, config.streamList.ports);
    if (next.added.length === 0 && next.removed.length === 0) {
      streams = next.streams;
      log.info({ streams: streams.map((s) => s.id) }, 'stream list read again: nothing changed');
      return;
    }
    const announce = (stream: StreamRoute, event: 'started' | 'stopped', detail: string) => {
      const own = busOf(stream.id);
      publishChildEvent(own, SERVICE, { child: 'stream', event, pid: null, exitCode: null, signal: null, restartInMs: null, detail });
      timeline(own, SERVICE)[event === 'started' ? 'info' : 'warn'](`Stream ${stream.id} ${detail}`);
    };
    for (const gone of next.removed) {
      const told = relay.removeStream(gone.id) + (srtla?.removeStream(gone.id) ?? 0);
      const feed = feeds.get(gone.id);
      feeds.delete(gone.id);
      await feed?.stop();
      log.info({ stream: gone.id, senders: told }, 'stream removed: its senders told the session is over, its srt-live-transmit stopped');
      announce(gone, 'stopped', `removed from IRL_STREAMS (${told} sender${told === 1 ? '' : 's'} disconnected)`);
    }
    streams = next.streams;
    for (const added of next.added) {
      relay.addStream(listenerOf(added));
      srtla?.addStream(listenerOf(added));
      const feed = feedFor(added);
      feeds.set(added.id, feed);
      await feed.start();
      log.info({ stream: added.id, relayPort: added.relayPort, outputPort: added.outputPort }, 'stream added');
      announce(added, 'started', `added to IRL_STREAMS (OBS reads it on ${config.output.host}:${added.outputPort})`);
    }
    streamList.reloads += 1;
    log.info({ added: next.added.map((s) => s.id), removed: next.removed.map((s) => s.id), streams: streams.map((s) => s.id) }, 'stream list reloaded');
  }

  /** A bad file: the streams in force stay; the problems (each naming the stream and field) are logged and on the timeline. */
  const refuseStreamList = (problems: string[]) => {
    streamList.refused += 1;
    streamList.lastProblems = problems;
    const file = config.streamList?.file;
    log.error({ file, problems, refused: streamList.refused }, 'stream list refused; the streams in force stay');
    publishChildEvent(bus, SERVICE, {
      child: 'stream-list',
      event: 'warning',
      pid: null,
      exitCode: null,
      signal: null,
      restartInMs: null,
      detail: `IRL_STREAMS ${file} refused: ${problems.join('; ')}`.slice(0, 1000),
    });
    timeline(bus, SERVICE).error(`IRL_STREAMS refused (${problems.join('; ')}); the ${streams.length} streams in force stay`);
  };
  const follower = config.streamList ? followStreamList({ ...config.streamList, log, onList: applyStreamList, onRefused: refuseStreamList }) : undefined;

  return {
    relay,
    srtla,
    /** Every stream's feed, by stream id. */
    feeds,
    /** The streams served now. */
    get streams(): readonly StreamRoute[] {
      return streams;
    },
    /** The stream list's reloads and refusals. */
    streamList,
    /** Reads the stream list's file again (as SIGHUP does); resolves once applied or refused. */
    reloadStreams: () => follower?.reload() ?? Promise.resolve(),
    /** The first stream's feed monitor and srt-live-transmit (the only ones with a single stream). */
    monitor: firstFeed.monitor,
    transmit: firstFeed.transmit,
    async start() {
      await relay.start();
      await srtla?.start();
      if (srtla) srtlaPublishing = publishSrtla(firstFeed.bus, srtla, log, { source: SERVICE });
      for (const feed of feeds.values()) await feed.start();
      follower?.start();
      log.info(
        {
          srtPort: relay.boundPort,
          streams: streams.map((s) => `${s.id}→${config.output.host}:${s.outputPort}`),
          encrypted: Boolean(config.srt.passphrase),
          streamList: config.streamList?.file,
        },
        'ingest listening',
      );
    },
    async stop() {
      await follower?.stop();
      srtlaPublishing?.stop();
      for (const feed of feeds.values()) await feed.stop();
      await relay.stop();
      await srtla?.stop();
      for (const own of buses.values()) own.close();
    },
  };
}
export type IngestApp = ReturnType<typeof buildApp>;
