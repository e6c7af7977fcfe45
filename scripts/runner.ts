// The native runner: nats-server and every service as supervised children with prefixed logs,
// secrets generated on first run, an optional demo feed; everything stops on Ctrl-C / SIGTERM. With
// IRL_STREAMS in a file, streams added to or removed from it start and stop their own children only.
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BUS_USERS,
  type BusUser,
  ConfigError,
  createLogger,
  loadConfig,
  natsAuthorization,
  natsPasswordVariable,
  natsStreamsAuthorization,
  PER_STREAM_USERS,
  type PerStreamUser,
  parseStreamList,
  reconcileStreams,
  resolveStreams,
  SETTINGS_BUCKET,
  type StreamDefinition,
  type StreamRoute,
  Supervisor,
  sameRoute,
  streamLogin,
  streamScope,
  watchStreamListFile,
} from '@irlkit/shared';
import { parse as parseDotenv } from 'dotenv';
import { buildServices } from './build-services.ts';
import { runnerEnv, runnerSecretsEnv } from './runner-config.ts';
import { testPatternArgs } from './test-pattern.ts';

const root = resolve(import.meta.dirname, '..');
const { values: flags } = parseArgs({ options: { demo: { type: 'boolean', default: false } }, allowPositionals: false });

function refuseBadConfig(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`irlkit: ${error.message}\n`);
    process.exit(78);
  }
  throw error;
}

/** Services in start order; a service whose folder has no start script yet is skipped. */
const SERVICES = ['desktop', 'ingest', 'obs-bridge', 'restream', 'chat', 'dashboard'] as const;
/** One NATS user per service (packages/shared/src/permissions.ts), each with its own password. */
const NATS_PASSWORDS = BUS_USERS.map(natsPasswordVariable);
const SECRET_NAMES = [
  ...NATS_PASSWORDS,
  'OBS_WS_PASSWORD',
  'DASHBOARD_PASSWORD',
  'DASHBOARD_SESSION_SECRET',
  'OPERATOR_DASHBOARD_PASSWORD',
  'DESKTOP_PASSWORD',
  'BRIDGE_API_TOKEN',
  'RESTREAM_RELAY_KEY',
];
const COLORS = [36, 33, 35, 32, 34, 31];

const log = createLogger('irlkit');

/** A streamer's generated dashboard password, in the secrets file (several streams: IRL_STREAMS). */
const streamPasswordName = (streamId: string) => `STREAM_${streamId}_DASHBOARD_PASSWORD`;
/** A stream's generated desktop (xpra) password: each streamer reaches only their own OBS. */
const streamDesktopPasswordName = (streamId: string) => `STREAM_${streamId}_DESKTOP_PASSWORD`;

function loadSecrets(stateDir: string, fromUser: Record<string, string | undefined>, extra: string[] = []): Record<string, string> {
  const file = join(stateDir, 'secrets.env');
  const stored = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  let changed = false;
  for (const name of [...SECRET_NAMES, ...extra]) {
    if (fromUser[name] || stored[name]) continue;
    stored[name] = randomBytes(name.endsWith('DASHBOARD_PASSWORD') ? 9 : 24).toString('base64url');
    changed = true;
  }
  if (changed)
    writeFileSync(
      file,
      `${Object.entries(stored)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    );
  return stored;
}

function publicHost(configured: string | undefined): string {
  if (configured) return configured;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function prefixer(name: string, color: number) {
  const tag = process.stdout.isTTY ? `\x1b[${color}m${name.padEnd(11)}\x1b[0m│ ` : `${name.padEnd(11)}| `;
  return (line: string) => process.stdout.write(`${tag}${line}\n`);
}

async function main() {
  const userEnv = { ...(existsSync(join(root, '.env')) ? parseDotenv(readFileSync(join(root, '.env'))) : {}), ...process.env };
  let config: ReturnType<typeof loadConfig<typeof runnerEnv>>;
  try {
    config = loadConfig(runnerEnv, { source: userEnv, envFile: false });
  } catch (error) {
    refuseBadConfig(error);
  }
  const stateDir = config.IRL_STATE_DIR;
  mkdirSync(join(stateDir, 'nats'), { recursive: true });
  /** Each listed stream's generated passwords (dashboard unless the list names one, desktop). */
  const streamSecretNames = (list: readonly StreamDefinition[]) => [
    ...list.filter((s) => !s.dashboardPassword).map((s) => streamPasswordName(s.id)),
    ...list.map((s) => streamDesktopPasswordName(s.id)),
  ];
  let secrets = loadSecrets(stateDir, userEnv, streamSecretNames(config.IRL_STREAMS?.streams ?? []));
  try {
    loadConfig(runnerSecretsEnv, { source: { ...secrets, ...userEnv }, envFile: false });
  } catch (error) {
    refuseBadConfig(error);
  }
  const childEnv: NodeJS.ProcessEnv = {
    ...secrets,
    ...userEnv,
    NATS_URL: `nats://127.0.0.1:${config.NATS_PORT}`,
    IRL_STATE_DIR: stateDir,
    OBS_CONFIG_DIR: userEnv.OBS_CONFIG_DIR ?? join(stateDir, 'obs-config'),
    OBS_WS_URL: userEnv.OBS_WS_URL ?? `ws://127.0.0.1:${config.OBS_WS_PORT}`,
    OBS_FEED_URL: userEnv.OBS_FEED_URL ?? `tcp://127.0.0.1:${config.INGEST_OUTPUT_PORT}`,
    // OBS streams the program once, to the restream relay; the platform URL and key configured for OBS
    // become the first destination (the dashboard adds more).
    RESTREAM_RELAY_PORT: String(config.RESTREAM_RELAY_PORT),
    RESTREAM_SEED_URL: userEnv.RESTREAM_SEED_URL ?? userEnv.OBS_RTMP_URL,
    RESTREAM_SEED_KEY: userEnv.RESTREAM_SEED_KEY ?? userEnv.OBS_RTMP_KEY,
    RECORDING_DIR: userEnv.RECORDING_DIR ?? join(stateDir, 'recordings'),
    IRL_ENV_FILE: join(root, '.env'),
    FORCE_COLOR: process.stdout.isTTY ? '1' : '0',
  };
  const natsPasswords = Object.fromEntries(BUS_USERS.map((user) => [user, String(childEnv[natsPasswordVariable(user)])])) as Record<BusUser, string>;
  /** Each service connects as its own NATS user, with only its own password. */
  const natsIdentity = (service: string): NodeJS.ProcessEnv => {
    const user = (BUS_USERS as string[]).includes(service) ? (service as BusUser) : 'operator';
    return { NATS_USER: user, NATS_PASSWORD: natsPasswords[user], ...Object.fromEntries(NATS_PASSWORDS.map((name) => [name, undefined])) };
  };
  /** The list as read at start; with IRL_STREAMS in a file, what that file says now (see reloadStreams). */
  const streamList = config.IRL_STREAMS?.streams;
  /** The file IRL_STREAMS names, followed while the runner runs (undefined: inline or no list). */
  const streamListPath = config.IRL_STREAMS?.file ? resolve(config.IRL_STREAMS.file) : undefined;
  let streamDefinitions = new Map((streamList ?? []).map((stream) => [stream.id, stream]));
  const ingestPorts = { relayPort: config.INGEST_RELAY_PORT, outputPort: config.INGEST_OUTPUT_PORT };
  let streams = streamList ? resolveStreams(streamList, { id: config.IRL_STREAM_ID, srtKey: undefined }, ingestPorts) : [];
  // Several streams: each stream's desktop, obs-bridge and dashboard log in as `<service>@<stream>`, allowed
  // only that stream's subjects, settings, session epoch and history (passwords new on every start: the
  // runner starts nats-server and every service that uses them).
  const newStreamUser = () =>
    Object.fromEntries(PER_STREAM_USERS.map((user) => [user, randomBytes(24).toString('base64url')])) as Record<PerStreamUser, string>;
  const streamUsers = new Map(streams.map((stream) => [stream.id, newStreamUser()]));
  const natsConf = join(stateDir, 'nats.conf');
  /** nats-server's configuration: written at start, and again (then reloaded by SIGHUP) when streams come and go. */
  const writeNatsConf = () =>
    writeFileSync(
      natsConf,
      `listen: 127.0.0.1:${config.NATS_PORT}\njetstream { store_dir: "${join(stateDir, 'nats')}" }\n${
        streamList
          ? natsStreamsAuthorization(
              { ingest: natsPasswords.ingest, operator: natsPasswords.operator },
              [...streamUsers].map(([id, passwords]) => ({ id, passwords })),
            )
          : natsAuthorization(natsPasswords, config.IRL_STREAM_ID, childEnv.BRIDGE_SETTINGS_BUCKET || SETTINGS_BUCKET)
      }`,
      { mode: 0o600 },
    );
  writeNatsConf();
  /** A stream's own NATS login for one of its services. */
  const streamIdentity = (user: PerStreamUser, streamId: string): NodeJS.ProcessEnv => ({
    NATS_USER: streamLogin(user, streamId),
    NATS_PASSWORD: streamUsers.get(streamId)?.[user],
  });
  /** A streamer's dashboard password: from the list, else generated and kept in the secrets file. */
  const streamPassword = (streamId: string) =>
    streamDefinitions.get(streamId)?.dashboardPassword ?? userEnv[streamPasswordName(streamId)] ?? secrets[streamPasswordName(streamId)];

  const supervisors: Supervisor[] = [];
  const add = (name: string, command: string, args: string[], cwd = root, env: NodeJS.ProcessEnv = childEnv): Supervisor => {
    const out = prefixer(name, COLORS[supervisors.length % COLORS.length] as number);
    const s = new Supervisor({
      name,
      command,
      args: () => args,
      cwd,
      env,
      log,
      onStdoutLine: out,
      onStderrLine: out,
      backoff: { initialMs: 500, maxMs: 15_000 },
    });
    supervisors.push(s);
    s.start();
    return s;
  };

  // The services run compiled (`node dist/…`, their start scripts): compile the current source first.
  await buildServices();
  const nats = add('nats', 'nats-server', ['-c', natsConf]);
  await new Promise((r) => setTimeout(r, 500));
  const started: string[] = [];
  const startService = (service: string, name: string, env: NodeJS.ProcessEnv): Supervisor | undefined => {
    const dir = join(root, 'services', service);
    const pkgFile = join(dir, 'package.json');
    if (!existsSync(pkgFile)) return undefined;
    const script = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { scripts?: { start?: string } }).scripts?.start;
    if (!script) return undefined;
    const supervisor = add(name, 'sh', ['-c', `PATH="${dir}/node_modules/.bin:${root}/node_modules/.bin:$PATH" exec ${script}`], dir, {
      ...childEnv,
      ...natsIdentity(service),
      ...env,
    });
    started.push(name);
    return supervisor;
  };
  const operatorPort = config.OPERATOR_DASHBOARD_PORT ?? config.DASHBOARD_PORT + streams.length;
  /** A stream's own ports (OBS websocket, bridge, dashboard, desktop), from its slot; a dashboard never lands on the operator's. */
  const portsOf = (stream: StreamRoute) => perStreamPorts(config, stream.slot, operatorPort);
  const xpraInstalled = spawnSync('sh', ['-c', 'command -v xpra']).status === 0;
  /** The browser desktop: xpra's HTML5 client sharing OBS's display, behind a password file. */
  const startXpra = (name: string, display: string, port: number, password = String(childEnv.DESKTOP_PASSWORD)) => {
    const passwordFile = join(stateDir, `${name === 'xpra' ? 'desktop' : name}-password`);
    writeFileSync(passwordFile, password, { mode: 0o600 });
    return add(name, 'sh', [join(root, 'services/desktop/xpra-shadow.sh'), display, `0.0.0.0:${port}`, passwordFile]);
  };
  const streamDesktopPassword = (streamId: string) => String(userEnv[streamDesktopPasswordName(streamId)] ?? secrets[streamDesktopPasswordName(streamId)]);
  /**
   * Ingest's list when IRL_STREAMS is a file: the streams with the loopback ports the runner gave their OBS pinned,
   * rewritten (renamed into place) whenever the list changes; ingest follows it. A restarted ingest thus keeps
   * every stream on the ports its OBS reads, even after a stream before it was removed.
   */
  const ingestStreamsFile = join(stateDir, 'ingest-streams.json');
  function writeIngestStreams(): void {
    const pinned = streams.map(({ id, srtKey, relayPort, outputPort }) => ({ id, srtKey, relayPort, outputPort }));
    writeFileSync(`${ingestStreamsFile}.new`, `${JSON.stringify(pinned, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${ingestStreamsFile}.new`, ingestStreamsFile);
  }
  /** Each stream's own children (desktop, obs-bridge, dashboard, xpra), stopped when it leaves the list. */
  const streamChildren = new Map<string, Supervisor[]>();
  /** Starts one stream's children: its OBS (desktop), obs-bridge, dashboard and xpra, on its slot's ports. */
  function startStream(stream: StreamRoute): void {
    const ports = portsOf(stream);
    const display = `:${Number((childEnv.DESKTOP_DISPLAY ?? ':99').slice(1)) + stream.slot}`;
    // Its own OBS websocket password and bridge token (derived from the configured ones): a streamer who
    // reads theirs on their desktop cannot use it on another stream's OBS or bridge.
    const derived = (secret: string | undefined) => createHmac('sha256', String(secret)).update(`stream ${stream.id}`).digest('base64url');
    const own: NodeJS.ProcessEnv = {
      IRL_STREAM_ID: stream.id,
      BRIDGE_PORT: String(ports.bridge),
      OBS_WS_PASSWORD: derived(childEnv.OBS_WS_PASSWORD),
      BRIDGE_API_TOKEN: derived(childEnv.BRIDGE_API_TOKEN),
    };
    const children = [
      startService('desktop', `desktop-${stream.id}`, {
        ...own,
        ...streamIdentity('desktop', stream.id),
        OBS_WS_PORT: String(ports.obsWebsocket),
        OBS_CONFIG_DIR: join(stateDir, `obs-config-${stream.id}`),
        DESKTOP_DISPLAY: display,
        OBS_FEED_URL: `tcp://127.0.0.1:${stream.outputPort}`,
        // OBS pushes straight to the stream's platform (the restream relay is single-stream so far).
        OBS_RTMP_URL: stream.rtmp?.url ?? 'rtmp://127.0.0.1/live',
        OBS_RTMP_KEY: stream.rtmp?.key ?? '',
      }),
      startService('obs-bridge', `obs-bridge-${stream.id}`, {
        ...own,
        ...streamIdentity('obs-bridge', stream.id),
        OBS_WS_URL: `ws://127.0.0.1:${ports.obsWebsocket}`,
        BRIDGE_SETTINGS_BUCKET: streamScope(stream.id).settingsBucket,
      }),
      // The streamer's own dashboard: their password, a session key of this stream's own (a cookie from
      // another stream's dashboard is refused), and only this stream's history and session epoch.
      startService('dashboard', `dashboard-${stream.id}`, {
        ...own,
        ...streamIdentity('dashboard', stream.id),
        DASHBOARD_PORT: String(ports.dashboard),
        DASHBOARD_STREAM_SCOPE: 'own',
        DASHBOARD_PASSWORD: streamPassword(stream.id),
        DASHBOARD_SESSION_SECRET: derived(childEnv.DASHBOARD_SESSION_SECRET),
      }),
      xpraInstalled ? startXpra(`xpra-${stream.id}`, display, ports.desktop, streamDesktopPassword(stream.id)) : undefined,
    ];
    streamChildren.set(
      stream.id,
      children.filter((child) => child !== undefined),
    );
  }
  let desktopReady = false;
  /**
   * The operator's dashboard over every stream: the operator's NATS user, a password and session key of its own,
   * and the streams listed now (started again when the list changes, so a removed stream leaves its page).
   */
  const startOperatorDashboard = () =>
    startService('dashboard', 'dashboard-operator', {
      ...natsIdentity('operator'),
      DASHBOARD_ROLE: 'operator',
      DASHBOARD_OPERATOR_STREAMS: streams.map((s) => s.id).join(','),
      DASHBOARD_PORT: String(operatorPort),
      DASHBOARD_PASSWORD: childEnv.OPERATOR_DASHBOARD_PASSWORD,
      DASHBOARD_SESSION_SECRET: createHmac('sha256', String(childEnv.DASHBOARD_SESSION_SECRET)).update('operator').digest('base64url'),
    });
  let operatorDashboard: Supervisor | undefined;
  /** Ingest with several streams (a SIGHUP to the runner is passed on to it). */
  let ingest: Supervisor | undefined;
  if (!streamList) {
    for (const service of SERVICES) {
      startService(service, service, {
        ...(service === 'desktop' ? { OBS_RTMP_URL: `rtmp://127.0.0.1:${config.RESTREAM_RELAY_PORT}/program`, OBS_RTMP_KEY: childEnv.RESTREAM_RELAY_KEY } : {}),
      });
    }
    desktopReady = started.includes('desktop') && xpraInstalled;
    if (desktopReady) startXpra('xpra', childEnv.DESKTOP_DISPLAY ?? ':99', config.DESKTOP_PORT);
  } else {
    // The list as read here (a file path in .env is relative to the repository, not to ingest's folder). With a
    // file, ingest follows the runner's copy of it, each stream's ports pinned to its slot.
    if (streamListPath) writeIngestStreams();
    ingest = startService('ingest', 'ingest', {
      IRL_STREAM_ID: (streams[0] as StreamRoute).id,
      IRL_STREAMS: streamListPath ? ingestStreamsFile : JSON.stringify(streamList),
    });
    for (const stream of streams) startStream(stream);
    operatorDashboard = startOperatorDashboard();
    desktopReady = xpraInstalled;
  }
  if (flags.demo) {
    const passphrase = childEnv.SRT_PASSPHRASE || undefined;
    add('demo-feed', 'ffmpeg', testPatternArgs({ port: config.SRT_PORT, bitrateKbps: 2500, passphrase, latencyMs: 1000, width: 854, height: 480 }));
  }

  const host = publicHost(config.IRL_PUBLIC_HOST);
  const srtQuery = childEnv.SRT_PASSPHRASE ? `?passphrase=${childEnv.SRT_PASSPHRASE}` : '';
  const streamLinesOf = (stream: StreamRoute) => {
    const ports = portsOf(stream);
    return [
      `  Stream ${stream.id}: dashboard http://${host}:${ports.dashboard} (password ${streamPassword(stream.id)}), desktop http://${host}:${ports.desktop} (password ${streamDesktopPassword(stream.id)}),`,
      `    sender srt://${host}:${config.SRT_PORT}?streamid=live_<its srtKey>${srtQuery.replace('?', '&')}`,
    ];
  };
  process.stdout.write(
    [
      '',
      `irlkit is running (${started.join(', ') || 'no services yet'}${flags.demo ? ', demo feed' : ''}); Ctrl-C stops it.`,
      ...(streamList
        ? []
        : [
            `  Dashboard  http://${host}:${config.DASHBOARD_PORT}   password: ${childEnv.DASHBOARD_PASSWORD}`,
            desktopReady
              ? `  Desktop    http://${host}:${config.DESKTOP_PORT}   password: ${childEnv.DESKTOP_PASSWORD}`
              : '  Desktop    (needs the desktop service and xpra)',
          ]),
      `  SRT in     srt://${host}:${config.SRT_PORT}${srtQuery}`,
      `  SRTLA in   ${host}:${config.SRTLA_PORT} (udp; BELABOX, Moblin, IRL Pro)`,
      `  Secrets    ${join(stateDir, 'secrets.env')} (set your own in .env)`,
      ...(streams.length
        ? [
            `  ${streams.length} streams (IRL_STREAMS), each with its own OBS, switcher and dashboard; restream and chat are off:`,
            ...streams.flatMap(streamLinesOf),
            `  Operator   http://${host}:${operatorPort}   every stream, password: ${childEnv.OPERATOR_DASHBOARD_PASSWORD}`,
          ]
        : []),
      '',
    ].join('\n'),
  );

  /**
   * The list's file changed (or SIGHUP): a removed stream's children stop, an added stream's start with NATS
   * users of its own (nats-server reloads its configuration on SIGHUP, keeping every connection), and its
   * addresses and passwords are printed. A stream whose key, RTMP target or password changed is removed and
   * added; every other stream's processes are not touched (the operator's dashboard is started again, to list
   * the new streams). Ingest follows the runner's copy (ingest-streams.json).
   */
  let stopping = false;
  let reloading: Promise<void> = Promise.resolve();
  const reloadStreams = (why: string) => {
    reloading = reloading.then(async () => {
      if (!streamListPath || stopping) return;
      const parsed = parseStreamList(streamListPath);
      if (!parsed.ok) {
        process.stdout.write(
          `irlkit: ${streamListPath} refused (${why}); the ${streams.length} streams running stay as they are:\n${parsed.problems.map((p) => `  ${p}\n`).join('')}`,
        );
        return;
      }
      const next = new Map(parsed.streams.map((stream) => [stream.id, stream]));
      const unchanged = (before: StreamRoute, after: StreamRoute) =>
        sameRoute(before, after) &&
        JSON.stringify(before.rtmp) === JSON.stringify(after.rtmp) &&
        streamDefinitions.get(before.id)?.dashboardPassword === next.get(after.id)?.dashboardPassword;
      const change = reconcileStreams(streams, parsed.streams, ingestPorts, unchanged);
      if (change.added.length === 0 && change.removed.length === 0) return;
      // Ingest first: a removed stream's sender is cut off while its OBS stops.
      streams = change.streams;
      writeIngestStreams();
      for (const gone of change.removed) {
        const children = streamChildren.get(gone.id) ?? [];
        streamChildren.delete(gone.id);
        await Promise.all(children.map((child) => child.stop()));
        for (const child of children) supervisors.splice(supervisors.indexOf(child), 1);
        streamUsers.delete(gone.id);
      }
      streamDefinitions = next;
      for (const added of change.added) streamUsers.set(added.id, newStreamUser());
      secrets = loadSecrets(stateDir, userEnv, streamSecretNames(change.added.map((stream) => next.get(stream.id) as StreamDefinition)));
      writeNatsConf();
      if (nats.pid) process.kill(nats.pid, 'SIGHUP');
      // The new users exist once nats-server has read its file again (it reloads in milliseconds).
      await new Promise((r) => setTimeout(r, 300));
      for (const added of change.added) startStream(added);
      // The operator's page lists the streams of the new list (its sessions outlive the restart: same key).
      if (operatorDashboard) {
        await operatorDashboard.stop();
        supervisors.splice(supervisors.indexOf(operatorDashboard), 1);
        operatorDashboard = startOperatorDashboard();
      }
      const ids = (list: StreamRoute[]) => list.map((stream) => stream.id).join(', ') || 'none';
      process.stdout.write(
        [
          '',
          `irlkit: ${streamListPath} changed (${why}): added ${ids(change.added)}; removed ${ids(change.removed)}; ${streams.length} stream${streams.length === 1 ? '' : 's'}, the others untouched`,
          ...change.added.flatMap(streamLinesOf),
          '',
        ].join('\n'),
      );
    });
    return reloading;
  };
  const streamListWatch = streamListPath ? watchStreamListFile(streamListPath, () => void reloadStreams('file changed')) : undefined;
  // Only with a file to read again: otherwise SIGHUP keeps its default (a closed terminal ends the runner).
  if (streamListPath)
    process.on('SIGHUP', () => {
      void reloadStreams('SIGHUP');
      if (ingest?.pid) process.kill(ingest.pid, 'SIGHUP');
    });

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    streamListWatch?.close();
    await reloading;
    process.stdout.write('irlkit: stopping\n');
    for (const s of [...supervisors].reverse()) await s.stop();
    process.stdout.write('irlkit: stopped\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/**
 * A stream's own ports with several streams: the one in slot n (from 0) gets the configured port + n. A stream
 * added at runtime may take a slot past those the runner started with: its dashboard then skips the operator's.
 */
function perStreamPorts(
  config: { OBS_WS_PORT: number; BRIDGE_PORT: number; DASHBOARD_PORT: number; DESKTOP_PORT: number },
  slot: number,
  operatorPort: number,
) {
  const dashboard = config.DASHBOARD_PORT + slot;
  return {
    obsWebsocket: config.OBS_WS_PORT + slot,
    bridge: config.BRIDGE_PORT + slot,
    dashboard: operatorPort >= config.DASHBOARD_PORT && dashboard >= operatorPort ? dashboard + 1 : dashboard,
    desktop: config.DESKTOP_PORT + slot,
  };
}

await main();
