// Several streams under docker compose (`./irlkit compose-streams`, README "Several streams on one host"): from
// the streams list, writes docker-compose.streams.yml (per stream its own OBS, bridge, dashboard and desktop, and
// the operator's dashboard) and .irlkit-streams/ (nats users, ingest's list, each container's secrets), then
// applies them: nats reloads its users, ingest its list, and `up -d` creates only what is new or changed.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  natsStreamsAuthorization,
  PER_STREAM_USERS,
  type PerStreamUser,
  parseStreamList,
  type StreamDefinition,
  streamLogin,
  streamScope,
} from '@irlkit/shared';
import { parse as parseDotenv } from 'dotenv';

const root = resolve(import.meta.dirname, '..');
/** The override compose reads beside docker-compose.yml, and the files its containers mount (root only). */
const OVERRIDE_FILE = 'docker-compose.streams.yml';
const STATE_DIR = '.irlkit-streams';
/** ingest's loopback ports as in its config (INGEST_OUTPUT_PORT, INGEST_RELAY_PORT): stream slot k gets + 2k. */
const OUTPUT_PORT = 9001;
const RELAY_PORT = 9002;

const { values: flags, positionals } = parseArgs({
  options: {
    streams: { type: 'string', default: 'streams.json' },
    'https-port': { type: 'string', default: '8444' },
    'no-apply': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

class StreamsError extends Error {}

/** What this command keeps between runs: each stream's slot (its ports) and the secrets it generated. */
interface State {
  slots: Record<string, number>;
  operator: { natsPassword: string; dashboardPassword: string; sessionSecret: string };
  streams: Record<string, StreamSecrets>;
}
interface StreamSecrets {
  nats: Record<PerStreamUser, string>;
  dashboardPassword: string;
  sessionSecret: string;
  desktopPassword: string;
  obsWebsocketPassword: string;
  bridgeToken: string;
}

const secret = (bytes = 24) => randomBytes(bytes).toString('base64url');
const newStreamSecrets = (): StreamSecrets => ({
  nats: Object.fromEntries(PER_STREAM_USERS.map((user) => [user, secret()])) as Record<PerStreamUser, string>,
  dashboardPassword: secret(9),
  sessionSecret: secret(36),
  desktopPassword: secret(18),
  obsWebsocketPassword: secret(),
  bridgeToken: secret(),
});

/** Slots stay with their stream across runs (its ports with them); a new stream takes the lowest free one. */
function assignSlots(ids: string[], previous: Record<string, number>): Record<string, number> {
  const slots: Record<string, number> = {};
  for (const id of ids) if (previous[id] !== undefined) slots[id] = previous[id];
  const taken = new Set(Object.values(slots));
  for (const id of ids) {
    if (slots[id] !== undefined) continue;
    let slot = 0;
    while (taken.has(slot)) slot += 1;
    slots[id] = slot;
    taken.add(slot);
  }
  return slots;
}

/** A file only root reads on the host; `mode` is what the container's user needs inside (0444: read-only, any user). */
function writeAtomically(path: string, text: string, mode = 0o600) {
  writeFileSync(`${path}.new`, text, { mode });
  chmodSync(`${path}.new`, mode);
  renameSync(`${path}.new`, path);
}

const envLines = (values: Record<string, string>) =>
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
        ...passThrough('OBS_RESOLUTION', 'OBS_FPS', 'OBS_VIDEO_BITRATE_KBPS', 'OBS_AUDIO_BITRATE_KBPS', 'OBS_X264_PRESET', 'OBS_LOW_BANNER'),
        ...passThrough('OBS_SCENE_STARTING', 'OBS_SCENE_PRIVACY'),
        // Straight to the stream's platform (the restream service is single-stream so far); its key is a secret.
        OBS_RTMP_URL: stream.rtmp?.url ?? 'rtmp://127.0.0.1/live',
        OBS_FEED_URL: `srt://ingest-feed:${OUTPUT_PORT + 2 * slot}?mode=caller&connect_timeout=500`,
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
function composeOverride(streams: StreamDefinition[], slots: Record<string, number>, httpsPort: number) {
  const off = { scale: 0 };
  const httpsPortOf = (id: string) => httpsPort + (slots[id] as number);
  return {
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
}

function loadState(dir: string): State {
  const file = join(dir, 'state.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as State;
  return { slots: {}, operator: { natsPassword: secret(), dashboardPassword: secret(9), sessionSecret: secret(36) }, streams: {} };
}

/** Writes the override and every file its containers mount; returns what the streams got (ports, passwords). */
function writeStreams(projectDir: string, streams: StreamDefinition[], httpsPort: number, userEnv: Record<string, string | undefined>) {
  const dir = join(projectDir, STATE_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const state = loadState(dir);
  state.slots = assignSlots(
    streams.map((s) => s.id),
    state.slots,
  );
  for (const s of streams) state.streams[s.id] ??= newStreamSecrets();
  // A removed stream's secrets go with it (a stream added again under that id gets new ones).
  for (const id of Object.keys(state.streams)) if (!streams.some((s) => s.id === id)) delete state.streams[id];
  writeAtomically(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  const operatorDashboardPassword = userEnv.OPERATOR_DASHBOARD_PASSWORD || state.operator.dashboardPassword;

  // nats: the compose nats.conf with users for ingest (its password stays init's), the operator and each stream.
  const natsDir = join(dir, 'nats');
  mkdirSync(natsDir, { recursive: true, mode: 0o755 });
  writeAtomically(join(natsDir, 'nats.conf'), readFileSync(join(root, 'services/nats/nats.conf'), 'utf8'), 0o444);
  const users = natsStreamsAuthorization(
    { ingest: '$NATS_INGEST_PASSWORD', operator: state.operator.natsPassword },
    streams.map((s) => ({ id: s.id, passwords: (state.streams[s.id] as StreamSecrets).nats })),
  );
  writeAtomically(join(natsDir, 'users.conf'), `# Generated by ./irlkit compose-streams from ${flags.streams}; do not edit.\n${users}`, 0o444);

  // ingest: each stream's key and its pinned loopback ports (ingest reloads the file when it changes).
  const ingestDir = join(dir, 'ingest');
  mkdirSync(ingestDir, { recursive: true, mode: 0o755 });
  const routes = streams.map((s) => {
    const slot = state.slots[s.id] as number;
    return { id: s.id, srtKey: s.srtKey, relayPort: RELAY_PORT + 2 * slot, outputPort: OUTPUT_PORT + 2 * slot };
  });
  writeAtomically(join(ingestDir, 'streams.json'), `${JSON.stringify(routes, null, 2)}\n`, 0o444);

  // Each container's own secrets, read by the images' entrypoint (services/init/with-secrets.sh).
  // Rewritten in place: a running container's mount is its folder, read again by its healthcheck and restarts.
  const secretsDir = join(dir, 'secrets');
  mkdirSync(secretsDir, { recursive: true, mode: 0o755 });
  const containers = new Set(['dashboard-operator', ...streams.flatMap((s) => ['desktop', 'xpra', 'obs-bridge', 'dashboard'].map((c) => `${c}-${s.id}`))]);
  for (const entry of readdirSync(secretsDir)) if (!containers.has(entry)) rmSync(join(secretsDir, entry), { recursive: true, force: true });
  const digests = new Map<string, string>();
  const containerSecrets = (container: string, values: Record<string, string>) => {
    mkdirSync(join(secretsDir, container), { recursive: true, mode: 0o755 });
    writeAtomically(join(secretsDir, container, 'secrets.env'), envLines(values), 0o444);
    digests.set(container, createHash('sha256').update(envLines(values)).digest('hex').slice(0, 16));
  };
  containerSecrets('dashboard-operator', {
    NATS_PASSWORD: state.operator.natsPassword,
    DASHBOARD_PASSWORD: operatorDashboardPassword,
    DASHBOARD_SESSION_SECRET: state.operator.sessionSecret,
  });
  for (const s of streams) {
    const own = state.streams[s.id] as StreamSecrets;
    containerSecrets(`desktop-${s.id}`, { NATS_PASSWORD: own.nats.desktop, OBS_WS_PASSWORD: own.obsWebsocketPassword, OBS_RTMP_KEY: s.rtmp?.key ?? '' });
    containerSecrets(`xpra-${s.id}`, { DESKTOP_PASSWORD: own.desktopPassword });
    containerSecrets(`obs-bridge-${s.id}`, {
      NATS_PASSWORD: own.nats['obs-bridge'],
      OBS_WS_PASSWORD: own.obsWebsocketPassword,
      BRIDGE_API_TOKEN: own.bridgeToken,
    });
    containerSecrets(`dashboard-${s.id}`, {
      NATS_PASSWORD: own.nats.dashboard,
      DASHBOARD_PASSWORD: s.dashboardPassword ?? own.dashboardPassword,
      DASHBOARD_SESSION_SECRET: own.sessionSecret,
    });
  }

  const override = composeOverride(streams, state.slots, httpsPort);
  // A container reads its secrets when it starts: one whose secrets changed (a new RTMP key, a new password) gets a
  // new digest in its configuration, so compose re-creates it, and only it.
  for (const [container, digest] of digests) {
    const service = override.services[container as keyof typeof override.services] as { environment: Record<string, unknown> };
    service.environment.IRL_SECRETS_DIGEST = digest;
  }
  writeAtomically(
    join(projectDir, OVERRIDE_FILE),
    `# Generated by ./irlkit compose-streams from ${flags.streams}; do not edit (edit the list and run it again).\n${JSON.stringify(override, null, 2)}\n`,
    0o644,
  );
  return {
    operatorDashboardPassword,
    streams: streams.map((s) => ({
      id: s.id,
      srtKey: s.srtKey,
      httpsPort: httpsPort + (state.slots[s.id] as number),
      dashboardPassword: s.dashboardPassword ?? (state.streams[s.id] as StreamSecrets).dashboardPassword,
      desktopPassword: (state.streams[s.id] as StreamSecrets).desktopPassword,
    })),
  };
}

/** docker-compose (or the plugin) with COMPOSE_FILE from .env when set (it must name the override), else the two files. */
function defaultCompose(composeFile: string | undefined): string[] {
  if (composeFile && !composeFile.split(':').includes(OVERRIDE_FILE))
    throw new StreamsError(`COMPOSE_FILE (${composeFile}) must name ${OVERRIDE_FILE} too, or every later compose command brings the one stream back`);
  const files = composeFile ? [] : ['-f', 'docker-compose.yml', '-f', OVERRIDE_FILE];
  return spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0 ? ['docker-compose', ...files] : ['docker', 'compose', ...files];
}

/**
 * nats first (its users reloaded by SIGHUP, so a new stream's services can log in; on the first run it is
 * re-created with the generated files), then `up -d --remove-orphans`: compose creates the new streams'
 * containers, removes the removed ones', and leaves every container whose configuration did not change.
 */
function apply(compose: string[]) {
  const run = (args: string[], quiet = false) => {
    const result = spawnSync(compose[0] as string, [...compose.slice(1), ...args], { cwd: root, stdio: quiet ? 'ignore' : 'inherit' });
    return result.status === 0;
  };
  run(['kill', '-s', 'HUP', 'nats'], true);
  if (!run(['up', '-d', '--remove-orphans'])) throw new StreamsError(`${compose.join(' ')} up -d failed`);
  // ingest follows its list's file; SIGHUP reads it at once as well (a second read of the same list changes nothing).
  run(['kill', '-s', 'HUP', 'ingest'], true);
}

function main() {
  const userEnv = { ...(existsSync(join(root, '.env')) ? parseDotenv(readFileSync(join(root, '.env'))) : {}), ...process.env };
  const parsed = parseStreamList(resolve(root, flags.streams as string));
  if (!parsed.ok) throw new StreamsError(`${flags.streams}: ${parsed.problems.join('; ')}`);
  const httpsPort = Number(flags['https-port']);
  if (!Number.isInteger(httpsPort) || httpsPort < 1 || httpsPort + parsed.streams.length > 65_535)
    throw new StreamsError(`--https-port: must be a port number (got ${flags['https-port']})`);
  const written = writeStreams(root, parsed.streams, httpsPort, userEnv);
  process.stdout.write(`compose-streams: wrote ${OVERRIDE_FILE} and ${STATE_DIR}/ for ${parsed.streams.length} streams\n`);
  if (!flags['no-apply']) apply(positionals.length ? positionals : defaultCompose(userEnv.COMPOSE_FILE));
  const host = userEnv.IRL_DOMAIN || userEnv.IRL_PUBLIC_HOST || '<this server>';
  process.stdout.write(
    [
      `  Operator   https://${host}${userEnv.HTTPS_PUBLISH_PORT && userEnv.HTTPS_PUBLISH_PORT !== '443' ? `:${userEnv.HTTPS_PUBLISH_PORT}` : ''}/   every stream, password: ${written.operatorDashboardPassword}`,
      ...written.streams.flatMap((s) => [
        `  Stream ${s.id}: dashboard https://${host}:${s.httpsPort}/ (password ${s.dashboardPassword}), desktop https://${host}:${s.httpsPort}/desktop/ (password ${s.desktopPassword})`,
        `    sender srt://${host}:${userEnv.SRT_PUBLISH_PORT || 9000}?streamid=live_${s.srtKey}&passphrase=<SRT passphrase: ./irlkit compose-password>`,
      ]),
      '',
    ].join('\n'),
  );
}

try {
  main();
} catch (error) {
  if (!(error instanceof StreamsError)) throw error;
  process.stderr.write(`irlkit compose-streams: ${error.message}\n`);
  process.exit(1);
}
