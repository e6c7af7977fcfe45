// The restream service's configuration: the relay OBS streams to, how destinations are retried, the
// recording folder and its budget, and the destination seeded from OBS_RTMP_URL-style variables.
import {
  type CommonSettings,
  ConfigError,
  commonEnv,
  commonSettings,
  DESTINATIONS_BUCKET,
  DEV_SECRETS,
  defineConfig,
  destinationUrl,
  env,
} from '@irlkit/shared';
import type { z } from 'zod';

export const restreamEnv = {
  ...commonEnv,
  /** Port of the RTMP relay OBS streams the program to. */
  RESTREAM_RELAY_PORT: env.port(1935),
  /** Address the relay listens on (compose: every interface of the internal network). */
  RESTREAM_RELAY_BIND: env.string('127.0.0.1'),
  /** The stream key OBS publishes to the relay with; any other publisher is turned away (secret). */
  RESTREAM_RELAY_KEY: env.secret(DEV_SECRETS.relayKey),
  RESTREAM_FFMPEG: env.string('ffmpeg'),
  RESTREAM_NGINX: env.string('nginx'),
  RESTREAM_NGINX_RTMP_MODULE: env.string('/usr/lib/nginx/modules/ngx_rtmp_module.so'),
  /** A destination that has sent nothing this long after a start is given up on and retried. */
  RESTREAM_CONNECT_TIMEOUT_MS: env.int(15_000, 2000, 120_000),
  /** A connected destination that takes no data this long is reconnected. */
  RESTREAM_STALL_TIMEOUT_MS: env.int(10_000, 2000, 120_000),
  /** First retry delay of a failing destination; it doubles up to RESTREAM_RETRY_MAX_MS. */
  RESTREAM_RETRY_INITIAL_MS: env.int(1000, 100, 60_000),
  RESTREAM_RETRY_MAX_MS: env.int(15_000, 500, 300_000),
  /** Verify rtmps:// destinations' certificates, against RESTREAM_TLS_CA_FILE. */
  RESTREAM_TLS_VERIFY: env.bool(true),
  RESTREAM_TLS_CA_FILE: env.string('/etc/ssl/certs/ca-certificates.crt'),
  /** The JetStream key-value bucket holding the destinations and their keys. */
  RESTREAM_BUCKET: env.string(DESTINATIONS_BUCKET),
  /** First destination, put in the list when the list is empty (OBS_RTMP_URL/OBS_RTMP_KEY of a single-platform setup). */
  RESTREAM_SEED_URL: env.optionalString().pipe(destinationUrl.optional()),
  RESTREAM_SEED_KEY: env.optionalSecret(),
  RESTREAM_SEED_NAME: env.string('Primary'),
  /** Record the program locally while it is live (the dashboard turns it on and off; this is the first value). */
  RECORDING_ENABLED: env.bool(true),
  RECORDING_DIR: env.string('./.state/recordings'),
  /** The recordings folder's budget: the oldest are deleted beyond it, never the one being written. */
  RECORDING_MAX_GB: env.number(20, 0.01, 100_000),
  RECORDING_MAX_AGE_HOURS: env.number(168, 0.01, 100_000),
};
type RestreamVariables = z.infer<z.ZodObject<typeof restreamEnv>>;

export interface RestreamSettings {
  relay: { bind: string; port: number; key: string; nginx: string; rtmpModule: string };
  output: { ffmpeg: string; connectTimeoutMs: number; stallTimeoutMs: number; retry: { initialMs: number; maxMs: number }; tlsCaFile: string };
  bucket: string;
  seed: { name: string; url: string; key: string } | null;
  recording: { enabled: boolean; dir: string; maxBytes: number; maxAgeMs: number };
}

export function restreamSettings(v: RestreamVariables): RestreamSettings {
  // Checked here, not in the schema: the schema must stay the registered secret for production's checks.
  if (!/^[A-Za-z0-9_-]{10,128}$/.test(v.RESTREAM_RELAY_KEY)) {
    throw new ConfigError(['RESTREAM_RELAY_KEY: must be 10-128 characters of A-Z, a-z, 0-9, _ or - (got hidden)']);
  }
  if (v.RESTREAM_RETRY_MAX_MS < v.RESTREAM_RETRY_INITIAL_MS) {
    throw new ConfigError(['RESTREAM_RETRY_MAX_MS: must not be smaller than RESTREAM_RETRY_INITIAL_MS']);
  }
  return {
    relay: {
      bind: v.RESTREAM_RELAY_BIND,
      port: v.RESTREAM_RELAY_PORT,
      key: v.RESTREAM_RELAY_KEY,
      nginx: v.RESTREAM_NGINX,
      rtmpModule: v.RESTREAM_NGINX_RTMP_MODULE,
    },
    output: {
      ffmpeg: v.RESTREAM_FFMPEG,
      connectTimeoutMs: v.RESTREAM_CONNECT_TIMEOUT_MS,
      stallTimeoutMs: v.RESTREAM_STALL_TIMEOUT_MS,
      retry: { initialMs: v.RESTREAM_RETRY_INITIAL_MS, maxMs: v.RESTREAM_RETRY_MAX_MS },
      tlsCaFile: v.RESTREAM_TLS_VERIFY ? v.RESTREAM_TLS_CA_FILE : '',
    },
    bucket: v.RESTREAM_BUCKET,
    seed: v.RESTREAM_SEED_URL ? { name: v.RESTREAM_SEED_NAME, url: v.RESTREAM_SEED_URL, key: v.RESTREAM_SEED_KEY } : null,
    recording: {
      enabled: v.RECORDING_ENABLED,
      dir: v.RECORDING_DIR,
      maxBytes: Math.round(v.RECORDING_MAX_GB * 1e9),
      maxAgeMs: Math.round(v.RECORDING_MAX_AGE_HOURS * 3_600_000),
    },
  };
}

export const restreamConfig = defineConfig(restreamEnv, (v): RestreamSettings & { common: CommonSettings } => ({
  common: commonSettings(v),
  ...restreamSettings(v),
}));
export type RestreamConfig = ReturnType<typeof restreamConfig.load>;
