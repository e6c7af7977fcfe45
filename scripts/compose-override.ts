// The compose override for several streams, as data (no I/O): per stream its desktop, xpra, obs-bridge and dashboard,
// the operator's dashboard, and the one-stream services made way for. scripts/compose-streams.ts writes and applies it.
import { type StreamDefinition, streamLogin, streamScope } from '@irlkit/shared';

/** The override compose reads beside docker-compose.yml, and the files its containers mount (root only). */
export const OVERRIDE_FILE = 'docker-compose.streams.yml';
export const STATE_DIR = '.irlkit-streams';
/** ingest's loopback ports as in its config (INGEST_OUTPUT_PORT, INGEST_RELAY_PORT): stream slot k gets + 2k. */
export const OUTPUT_PORT = 9001;
export const RELAY_PORT = 9002;

/** The services each stream gets (named `<service>-<id>`), besides the operator's one `dashboard-operator`. */
export const STREAM_SERVICES = ['desktop', 'xpra', 'obs-bridge', 'dashboard'] as const;
export const streamContainers = (id: string) => STREAM_SERVICES.map((service) => `${service}-${id}`);

export const envLines = (values: Record<string, string>) =>
  `${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

const hardening = { cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'], read_only: true };
const logging = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } };
/** Compose's own `${NAME:-fallback}`: .env's value (or the shell's), else the fallback, as in docker-compose.yml. */
const fromEnv = (name: string, fallback: string) => `\${${name}:-${fallback}}`;
const image = (name: string) => `irlkit/${name}:${fromEnv('IRL_IMAGE_TAG', 'latest')}`;
const PRIVATE_RANGES = '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7';
const afterNats = { nats: { condition: 'service_healthy' } };
/** `NAME: null` passes NAME from .env (or the shell) when set, as `NAME:` does in docker-compose.yml. */
const passThrough = (...names: string[]) => Object.fromEntries(names.map((name) => [name, null]));
const common = (id: string) => ({ NODE_ENV: 'production', IRL_STREAM_ID: id, NATS_URL: 'nats://nats:4222', ...passThrough('LOG_LEVEL') });
const scenes = passThrough('OBS_FEED_INPUT', 'OBS_SCENE_LIVE', 'OBS_SCENE_LOW', 'OBS_SCENE_OFFLINE');
const secretsMount = (container: string) => `./${STATE_DIR}/secrets/${container}:/run/irlkit:ro`;
const dashboardEnv = {
  DASHBOARD_PORT: '8080',
  DASHBOARD_SECURE_COOKIES: fromEnv('DASHBOARD_SECURE_COOKIES', 'true'),
  DASHBOARD_TRUSTED_PROXIES: fromEnv('DASHBOARD_TRUSTED_PROXIES', PRIVATE_RANGES),
  ...passThrough('DASHBOARD_SESSION_HOURS', 'DASHBOARD_LOGIN_GLOBAL_ATTEMPTS_PER_MINUTE', 'DASHBOARD_LOGIN_ATTEMPTS_PER_MINUTE'),
};
const dashboardService = (environment: object, container: string) => ({
  image: image('dashboard'),
  restart: 'unless-stopped',
  ...hardening,
  tmpfs: ['/tmp:size=64m', '/app/services/dashboard/.next/cache:size=64m,uid=10001,gid=10001'],
  mem_limit: '512m',
  depends_on: afterNats,
  environment,
  volumes: [secretsMount(container)],
  logging,
});

/** One stream's containers: its OBS (desktop-<id>), bridge, dashboard and browser desktop (xpra-<id>). */
function streamServices(stream: StreamDefinition, slot: number) {
  const id = stream.id;
  return {
    [`desktop-${id}`]: {
      image: image('desktop'),
      restart: 'unless-stopped',
      ...hardening,
      tmpfs: ['/tmp:size=64m', '/home/irlkit:size=64m,uid=10001,gid=10001'],
      mem_limit: '1536m',
      shm_size: '256m',
      depends_on: afterNats,
      environment: {
        ...common(id),
        ...scenes,
        OBS_WS_PORT: '4455',
        NATS_USER: streamLogin('desktop', id),
        ...passThrough(
          'OBS_RESOLUTION',
          'OBS_FPS',
          'OBS_VIDEO_BITRATE_KBPS',
          'OBS_AUDIO_BITRATE_KBPS',
          'OBS_X264_PRESET',
          'OBS_LOW_BANNER',
          'OBS_FEED_AUDIO_DELAY_MS',
        ),
        ...passThrough('OBS_SCENE_STARTING', 'OBS_SCENE_PRIVACY'),
        // Straight to the stream's platform (the restream service is single-stream so far); its key is a secret.
        OBS_RTMP_URL: stream.rtmp?.url ?? 'rtmp://127.0.0.1/live',
        OBS_FEED_URL: `tcp://ingest-feed:${OUTPUT_PORT + 2 * slot}`,
        DESKTOP_DISPLAY: ':99',
        OBS_CONFIG_DIR: '/config',
      },
      volumes: [`obs-config-${id}:/config`, `x11-socket-${id}:/tmp/.X11-unix`, secretsMount(`desktop-${id}`)],
      networks: ['default', 'feed'],
      logging,
    },
    [`xpra-${id}`]: {
      image: image('xpra'),
      restart: 'unless-stopped',
      ...hardening,
      tmpfs: ['/tmp:size=64m', '/home/desktop:size=16m,uid=10002,gid=10002'],
      mem_limit: '384m',
      depends_on: { [`desktop-${id}`]: { condition: 'service_started' } },
      environment: {
        DESKTOP_DISPLAY: ':99',
        DESKTOP_PORT: '14500',
        DESKTOP_TRUSTED_PROXIES: fromEnv('DESKTOP_TRUSTED_PROXIES', PRIVATE_RANGES),
      },
      volumes: [`x11-socket-${id}:/tmp/.X11-unix`, secretsMount(`xpra-${id}`)],
      logging,
    },
    [`obs-bridge-${id}`]: {
      image: image('obs-bridge'),
      restart: 'unless-stopped',
      ...hardening,
      tmpfs: ['/tmp:size=64m'],
      mem_limit: '256m',
      depends_on: afterNats,
      environment: {
        ...common(id),
        ...scenes,
        OBS_WS_URL: `ws://desktop-${id}:4455`,
        NATS_USER: streamLogin('obs-bridge', id),
        BRIDGE_HOST: '0.0.0.0',
        BRIDGE_PORT: '8090',
        BRIDGE_SETTINGS_BUCKET: streamScope(id).settingsBucket,
        OBS_WATCHDOG_MODE: fromEnv('OBS_WATCHDOG_MODE', 'docker'),
        OBS_CONTAINER: `desktop-${id}`,
        ...passThrough('OBS_MIC_INPUT', 'OBS_WATCHDOG_TIMEOUT_MS', 'OBS_RESUME_AFTER_RESTART', 'DOCKER_GID'),
      },
      // The watchdog restarts this stream's OBS container (docker-compose.yml's obs-bridge says what the socket grants).
      cap_add: ['SETUID', 'SETGID'],
      volumes: ['/var/run/docker.sock:/var/run/docker.sock', secretsMount(`obs-bridge-${id}`)],
      logging,
    },
    [`dashboard-${id}`]: dashboardService(
      {
        ...common(id),
        ...dashboardEnv,
        NATS_USER: streamLogin('dashboard', id),
        DASHBOARD_STREAM_SCOPE: 'own',
        DASHBOARD_DESKTOP_URL: '/desktop/',
        // Every stream's history must fit nats' JetStream store (4 GB, services/nats/nats.conf): the one-stream
        // defaults (256 + 2048 MB) would fit once, these about a dozen times. The same for every stream, so a
        // new stream changes no other's configuration.
        HISTORY_EVENTS_MAX_MB: fromEnv('HISTORY_EVENTS_MAX_MB', '64'),
        HISTORY_SAMPLES_MAX_MB: fromEnv('HISTORY_SAMPLES_MAX_MB', '256'),
        ...passThrough('HISTORY_MAX_AGE_DAYS'),
      },
      `dashboard-${id}`,
    ),
  };
}

/** The override: the one-stream services off, nats/ingest/caddy reading the generated files, every stream's own. */
/**
 * `digests`: each container's secrets' digest, in its configuration so that compose re-creates a container whose
 * secrets changed (it reads them only when it starts), and only it.
 */
export function composeOverride(streams: StreamDefinition[], slots: Record<string, number>, httpsPort: number, digests: ReadonlyMap<string, string>) {
  const off = { scale: 0 };
  const httpsPortOf = (id: string) => httpsPort + (slots[id] as number);
  const override = {
    version: '2.4',
    services: {
      // The single stream's own services make way for each stream's (their NATS users no longer exist).
      desktop: off,
      xpra: off,
      'obs-bridge': off,
      dashboard: off,
      restream: off,
      chat: off,
      nats: {
        command: ['nats-server', '-c', '/etc/nats/streams/nats.conf'],
        volumes: [`./${STATE_DIR}/nats:/etc/nats/streams:ro`],
      },
      ingest: {
        environment: { IRL_STREAMS: '/etc/irlkit/streams/streams.json', SRT_STREAM_KEY: '' },
        volumes: [`./${STATE_DIR}/ingest:/etc/irlkit/streams:ro`],
      },
      caddy: {
        environment: {
          IRL_CADDY_DASHBOARD: 'dashboard-operator:8080',
          IRL_CADDY_STREAMS: streams.map((s) => `${s.id}=${httpsPortOf(s.id)}`).join(' '),
        },
        ports: streams.map((s) => `${fromEnv('IRL_PUBLISH_ADDRESS', '0.0.0.0')}:${httpsPortOf(s.id)}:${httpsPortOf(s.id)}`),
      },
      'dashboard-operator': dashboardService(
        {
          ...common(streams[0]?.id as string),
          ...dashboardEnv,
          NATS_USER: 'operator',
          DASHBOARD_ROLE: 'operator',
          DASHBOARD_OPERATOR_STREAMS: streams.map((s) => s.id).join(','),
        },
        'dashboard-operator',
      ),
      ...Object.assign({}, ...streams.map((s) => streamServices(s, slots[s.id] as number))),
    },
    volumes: Object.fromEntries(streams.flatMap((s) => [`obs-config-${s.id}`, `x11-socket-${s.id}`].map((name) => [name, {}]))),
  };
  for (const [container, digest] of digests) {
    const service = (override.services as Record<string, { environment: Record<string, unknown> }>)[container];
    if (service) service.environment.IRL_SECRETS_DIGEST = digest;
  }
  return override;
}
