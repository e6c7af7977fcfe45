// The dashboard's configuration, read once per server process (never at build time). Environment
// variables in, nested settings out (env names stay here).
import { assertStreamId, commonEnv, commonSettings, DEV_SECRETS, defineConfig, env, secretVariables, sharedScope, streamScope } from '@irlkit/shared';
import { z } from 'zod';
import { ALERT_KINDS, type AlertKind } from './alerts/rules';
import { webhookFormat } from './alerts/webhook';
import { trustedProxies } from './client-address';
import { sessionCookieName } from './session-token';

/** A comma-separated variable's entries, trimmed, empty ones left out. */
const commaList = (value: string) =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

export const dashboardEnv = {
  ...commonEnv,
  DASHBOARD_PASSWORD: env.secret(DEV_SECRETS.dashboard),
  DASHBOARD_SESSION_SECRET: env.secret(DEV_SECRETS.dashboardSession),
  DASHBOARD_SESSION_HOURS: env.int(12, 1, 24 * 30),
  /** Secure cookies: auto (when the request came over HTTPS), true or false. */
  DASHBOARD_SECURE_COOKIES: env.enumOf(['auto', 'true', 'false'] as const, 'auto'),
  /** Your proxies (addresses or CIDR ranges, comma-separated): only their X-Forwarded-For entries are believed. */
  DASHBOARD_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const entries = commaList(value);
      try {
        trustedProxies(entries);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
      return entries;
    }),
  DASHBOARD_LOGIN_ATTEMPTS_PER_MINUTE: env.int(5, 1, 100),
  /** Login attempts from all addresses together per minute (a guesser with many addresses). */
  DASHBOARD_LOGIN_GLOBAL_ATTEMPTS_PER_MINUTE: env.int(30, 1, 10_000),
  DASHBOARD_EVENT_STREAMS_PER_SESSION: env.int(8, 1, 100),
  DASHBOARD_EVENT_STREAMS_TOTAL: env.int(64, 1, 10_000),
  DASHBOARD_DESKTOP_URL: env.string('http://localhost:14500'),
  DASHBOARD_PORT: env.port(8080),
  DASHBOARD_HOST: env.string('0.0.0.0'),
  /** The restream service's recordings folder (compose: its volume, mounted read-only), for downloads. */
  RECORDING_DIR: env.string('./.state/recordings'),
  /** Key of the stats endpoint `/stats/<key>` (OpenIRL / SRT Live Server shapes, for NOALBS and stats monitors); empty turns it off. */
  DASHBOARD_STATS_KEY: env.optionalString().pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be 16-128 letters, digits, _ or - (it is part of a URL)')
      .optional(),
  ),
  /**
   * `shared`: one streamer per host, one session epoch and history for every stream. `own` (the native
   * runner with IRL_STREAMS): this stream's own epoch and history (`irlkit_sessions_<id>`, `IRLKIT_*_<id>`),
   * the only ones its NATS user may touch.
   */
  DASHBOARD_STREAM_SCOPE: env.enumOf(['shared', 'own'] as const, 'shared'),
  /**
   * `streamer`: the control room of one stream. `operator` (the native runner's operator dashboard): a page
   * over every stream, logged in to NATS as the `operator` user (every stream's events and commands, no
   * buckets: no history, and sessions end when the password changes).
   */
  DASHBOARD_ROLE: env.enumOf(['streamer', 'operator'] as const, 'streamer'),
  /** Operator role: the streams listed (and commanded) before they publish anything, comma-separated ids. */
  DASHBOARD_OPERATOR_STREAMS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const ids = commaList(value);
      for (const id of ids) {
        try {
          assertStreamId(id);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }
      return ids;
    }),
  /** How long the history (timeline, state changes, 1 Hz statistics) is kept. */
  HISTORY_MAX_AGE_DAYS: env.number(90, 0.0001, 3650),
  /** The most the timeline and state changes may take on disk; the oldest go first. */
  HISTORY_EVENTS_MAX_MB: env.number(256, 0.01, 1_000_000),
  /** The most the 1 Hz statistics and SRTLA link samples may take on disk; the oldest go first. */
  HISTORY_SAMPLES_MAX_MB: env.number(2048, 0.01, 1_000_000),
  /** Webhook URLs (comma-separated) alerts are posted to; empty turns alerts off. Secret: the URL is the key. */
  ALERT_WEBHOOK_URLS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const urls = commaList(value);
      for (const url of urls) {
        let parsed: URL | undefined;
        try {
          parsed = new URL(url);
        } catch {
          // reported below
        }
        if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
          ctx.addIssue({ code: 'custom', message: `"${url.slice(0, 12)}…" is not an http(s) URL` });
          return z.NEVER;
        }
      }
      return urls;
    })
    .register(secretVariables, { devDefault: '', optional: true }),
  /** The body's shape: auto (Discord's for discord.com webhooks, generic JSON otherwise), discord or generic. */
  ALERT_WEBHOOK_FORMAT: env.enumOf(['auto', 'discord', 'generic'] as const, 'auto'),
  /** Which alerts to send, comma-separated. */
  ALERT_EVENTS: z
    .string()
    .default(ALERT_KINDS.join(','))
    .transform((value, ctx) => {
      const kinds = commaList(value);
      const unknown = kinds.filter((k) => !(ALERT_KINDS as readonly string[]).includes(k));
      if (unknown.length) {
        ctx.addIssue({ code: 'custom', message: `unknown alert ${unknown.join(', ')} (known: ${ALERT_KINDS.join(', ')})` });
        return z.NEVER;
      }
      return kinds as AlertKind[];
    }),
  /** "feed-lost" fires once the feed has been lost (Offline) this long. */
  ALERT_FEED_LOST_S: env.int(10, 1, 3600),
  /** "disk-full" fires when the disk holding ALERT_DISK_PATH is this full. */
  ALERT_DISK_PERCENT: env.int(90, 1, 100),
  ALERT_DISK_PATH: env.string('/'),
};

export const dashboardConfig = defineConfig(dashboardEnv, (v) => ({
  common: commonSettings(v),
  http: { host: v.DASHBOARD_HOST, port: v.DASHBOARD_PORT, trustedProxies: v.DASHBOARD_TRUSTED_PROXIES },
  login: {
    password: v.DASHBOARD_PASSWORD,
    attemptsPerMinute: v.DASHBOARD_LOGIN_ATTEMPTS_PER_MINUTE,
    globalAttemptsPerMinute: v.DASHBOARD_LOGIN_GLOBAL_ATTEMPTS_PER_MINUTE,
  },
  eventStreams: { perSession: v.DASHBOARD_EVENT_STREAMS_PER_SESSION, total: v.DASHBOARD_EVENT_STREAMS_TOTAL },
  session: {
    secret: v.DASHBOARD_SESSION_SECRET,
    hours: v.DASHBOARD_SESSION_HOURS,
    secureCookies: v.DASHBOARD_SECURE_COOKIES,
    cookie: sessionCookieName(v.DASHBOARD_STREAM_SCOPE === 'own' ? v.IRL_STREAM_ID : undefined),
  },
  desktopUrl: v.DASHBOARD_DESKTOP_URL,
  /** The stats endpoint for NOALBS and stats monitors; off without a key. */
  stats: { key: v.DASHBOARD_STATS_KEY },
  alerts: {
    targets: v.ALERT_WEBHOOK_URLS.map((url) => ({ url, format: webhookFormat(url, v.ALERT_WEBHOOK_FORMAT) })),
    kinds: v.ALERT_EVENTS,
    feedLostMs: v.ALERT_FEED_LOST_S * 1000,
    diskPercent: v.ALERT_DISK_PERCENT,
    diskPath: v.ALERT_DISK_PATH,
  },
  history: {
    maxAgeMs: Math.round(v.HISTORY_MAX_AGE_DAYS * 86_400_000),
    maxBytes: { events: Math.round(v.HISTORY_EVENTS_MAX_MB * 1024 * 1024), samples: Math.round(v.HISTORY_SAMPLES_MAX_MB * 1024 * 1024) },
  },
  recordings: { dir: v.RECORDING_DIR },
  scope: v.DASHBOARD_STREAM_SCOPE === 'own' ? streamScope(v.IRL_STREAM_ID) : sharedScope(),
  /** `streamer`: one stream's control room; `operator`: every stream's overview (lib/operator/). */
  role: v.DASHBOARD_ROLE,
  operator: { streams: v.DASHBOARD_OPERATOR_STREAMS },
}));
export type DashboardConfig = ReturnType<typeof dashboardConfig.load>;

const cache = globalThis as unknown as { irlkitDashboardConfig?: DashboardConfig };
export function config(): DashboardConfig {
  cache.irlkitDashboardConfig ??= dashboardConfig.load();
  return cache.irlkitDashboardConfig;
}
