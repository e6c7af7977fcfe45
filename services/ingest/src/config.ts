// The ingest service's configuration: environment variables in, nested settings out (env names stay here).
import { ConfigError, commonEnv, commonSettings, defineConfig, env, resolveStreams, streamListEnv } from '@irlkit/shared';
import { z } from 'zod';

export const ingestEnv = {
  ...commonEnv,
  /** The streamer's SRT door (UDP). */
  SRT_PORT: env.port(9000),
  SRT_BIND: env.string('::'),
  SRT_LATENCY_MS: env.int(2000, 20, 10_000),
  SRT_LOSSMAXTTL: env.int(40, 0, 1000),
  SRT_PASSPHRASE: env
    .secret('')
    .refine((v) => v === '' || (v.length >= 10 && v.length <= 79), 'must be 10 to 79 characters (or empty for no encryption)')
    // srt-live-transmit reads its options from a URI whose values end at '&' and cannot escape it.
    .refine((v) => !v.includes('&'), "must not contain '&' (srt-live-transmit cannot take it; spaces, %, + and other characters are fine)")
    .refine((v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), 'must not contain control characters (line breaks, tabs)'),
  SRT_PBKEYLEN: z.enum(['0', '16', '24', '32'], { message: 'must be 0 (default), 16, 24 or 32' }).default('0').transform(Number),
  SRT_MAX_PEERS: env.int(4, 1, 64),
  /** When set, only a sender whose SRT stream id names this key may publish (secret; any stream id convention). */
  SRT_STREAM_KEY: env.optionalString().pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be 1-128 letters, digits, _, . or -')
      .optional(),
  ),
  /**
   * Several streams through the one SRT/SRTLA door, each sender routed by the key in its stream id: a JSON
   * list (inline, or a file's path) of `{"id","srtKey"}`. Unset: the one stream IRL_STREAM_ID with SRT_STREAM_KEY.
   * A file is read again on SIGHUP and when it changes (streams added and removed at runtime).
   */
  IRL_STREAMS: streamListEnv(),
  SRT_LIVE_TRANSMIT: env.string('srt-live-transmit'),
  /** Where OBS's media source reads the feed (TCP: an MPEG-TS stream that starts at a keyframe). */
  INGEST_OUTPUT_HOST: env.string('127.0.0.1'),
  INGEST_OUTPUT_PORT: env.port(9001),
  /** Loopback port of srt-live-transmit's own listener (behind the relay). */
  INGEST_RELAY_PORT: env.port(9002),
  INGEST_STALL_TIMEOUT_MS: env.int(500, 100, 10_000),
  INGEST_DISCONNECT_TIMEOUT_MS: env.int(5000, 1000, 60_000),
  /** The sender's data arriving this long with no answer or statistics from srt-live-transmit: hung, restart it. */
  INGEST_RELAY_HUNG_MS: env.int(1500, 300, 30_000),
  INGEST_STATS_INTERVAL_MS: env.int(250, 50, 5000),
  /** SRTLA (bonded links) door, UDP; 0 turns SRTLA off. */
  SRTLA_PORT: z.coerce.number().int('must be a whole number').min(0).max(65535).default(5000),
  /** "::" listens on IPv6 and IPv4 (dual-stack); an IPv4 address listens on IPv4 only. */
  SRTLA_BIND: env.string('::'),
  /** Senders (groups) served at once. */
  SRTLA_MAX_GROUPS: env.int(4, 1, 256),
  /** Groups one source address may register; more are refused (a squatter cannot hold every slot). */
  SRTLA_MAX_GROUPS_PER_ADDRESS: env.int(2, 1, 256),
  /** Links per group; BELABOX's receiver allows 8. */
  SRTLA_MAX_LINKS: env.int(16, 1, 64),
  /** A link silent this long leaves its group (senders re-register a link after 4–5 s of silence). */
  SRTLA_LINK_TIMEOUT_MS: env.int(5000, 1000, 60_000),
  /** A group without links is forgotten after this; its sender must register again. */
  SRTLA_GROUP_TIMEOUT_MS: env.int(10_000, 1000, 300_000),
  /** REG1/REG2 packets accepted per source address per second. */
  SRTLA_REGISTRATIONS_PER_SECOND: env.int(20, 1, 1000),
  INGEST_SOCKET_BUFFER_BYTES: env.int(32 * 1024 * 1024, 65_536, 512 * 1024 * 1024),
};

export const ingestConfig = defineConfig(ingestEnv, (v) => {
  if (v.IRL_STREAMS && v.SRT_STREAM_KEY) {
    throw new ConfigError(['SRT_STREAM_KEY: set each stream\'s "srtKey" in IRL_STREAMS instead (both are set)']);
  }
  return {
    common: commonSettings(v),
    /**
     * The file IRL_STREAMS names (undefined: inline or no list): read again on SIGHUP and whenever it changes,
     * streams added and removed without touching the others; `ports` are where derived loopback ports start.
     */
    streamList: v.IRL_STREAMS?.file
      ? { file: v.IRL_STREAMS.file, ports: { relayPort: v.INGEST_RELAY_PORT, outputPort: v.INGEST_OUTPUT_PORT }, debounceMs: 250 }
      : undefined,
    /**
     * The streams this door serves, in order (the first is where refused senders are reported), each with its
     * key and its own srt-live-transmit: listener on `relayPort`, output for OBS on `outputPort`.
     */
    streams: resolveStreams(
      v.IRL_STREAMS?.streams,
      { id: v.IRL_STREAM_ID, srtKey: v.SRT_STREAM_KEY },
      { relayPort: v.INGEST_RELAY_PORT, outputPort: v.INGEST_OUTPUT_PORT },
    ),
    /** The streamer's plain SRT door and the srt-live-transmit listener behind it. */
    srt: {
      bindHost: v.SRT_BIND,
      port: v.SRT_PORT,
      latencyMs: v.SRT_LATENCY_MS,
      lossMaxTtl: v.SRT_LOSSMAXTTL,
      passphrase: v.SRT_PASSPHRASE || undefined,
      pbKeyLen: v.SRT_PBKEYLEN,
      maxPeers: v.SRT_MAX_PEERS,
      binary: v.SRT_LIVE_TRANSMIT,
    },
    /** The bonded door; null when SRTLA is off. */
    srtla:
      v.SRTLA_PORT > 0
        ? {
            bindHost: v.SRTLA_BIND,
            port: v.SRTLA_PORT,
            maxGroups: v.SRTLA_MAX_GROUPS,
            maxGroupsPerAddress: v.SRTLA_MAX_GROUPS_PER_ADDRESS,
            maxLinksPerGroup: v.SRTLA_MAX_LINKS,
            linkTimeoutMs: v.SRTLA_LINK_TIMEOUT_MS,
            groupTimeoutMs: v.SRTLA_GROUP_TIMEOUT_MS,
            registrationsPerSecond: v.SRTLA_REGISTRATIONS_PER_SECOND,
          }
        : null,
    /** Where OBS's media source reads the feed over TCP (each stream on its own port). */
    output: { host: v.INGEST_OUTPUT_HOST },
    /** How the feed's state is decided and reported. */
    feed: { stallTimeoutMs: v.INGEST_STALL_TIMEOUT_MS, disconnectTimeoutMs: v.INGEST_DISCONNECT_TIMEOUT_MS, statsIntervalMs: v.INGEST_STATS_INTERVAL_MS },
    /** srt-live-transmit answering nothing this long while the sender's data arrives: hung. */
    relayHungMs: v.INGEST_RELAY_HUNG_MS,
    socketBufferBytes: v.INGEST_SOCKET_BUFFER_BYTES,
  };
});

export type IngestConfig = ReturnType<typeof ingestConfig.load>;
