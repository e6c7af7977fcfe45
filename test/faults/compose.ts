// The starting point of the compose faults: the whole docker-compose.yml (with test/compose's RTMP sink
// overlay) built and started on a real engine as its own project, with fresh random secrets, published
// on 127.0.0.1 only; a NATS probe inside its network; a reconnecting SRT sender on the published port;
// OBS streaming on Live. `stop()` takes everything down with its volumes.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeUntilAudioAndVideo, startReconnectingFeed, waitFor } from '@irlkit/test-kit';
import { BusProbe } from '../compose/probe.ts';

const root = new URL('../..', import.meta.url).pathname;
const DOCKER = '/usr/bin/docker';
const COMPOSE = '/usr/bin/docker-compose';
const IMAGE_TAG = 'faults';
/** The services with a healthcheck that the faults need healthy before they start. */
const HEALTHY = ['nats', 'ingest', 'desktop', 'obs-bridge', 'rtmp-sink'];

const secret = () => randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');

export interface ComposeLive {
  project: string;
  probe: BusProbe;
  env: Record<string, string>;
  /** Runs docker-compose on the project and waits for it without blocking the event loop (the probe keeps stamping events). */
  compose(args: string[], timeoutMs?: number): Promise<{ status: number | null; output: string }>;
  /** The service's container id (asynchronous, so the probe keeps stamping events meanwhile). */
  containerId(service: string): Promise<string>;
  /** When the service's current container started (the engine's StartedAt, on this machine's clock). */
  startedAt(service: string): Promise<number>;
  /** Rewrites the env file the project reads (takes effect on the next `up`). */
  setEnv(changes: Record<string, string>): void;
  /** Waits until the RTMP sink serves audio and video again (ffprobe inside its container). */
  sinkStreams(what: string, timeoutMs: number): Promise<unknown>;
  stop(): Promise<void>;
}

function run(command: string, args: string[], timeoutMs = 60_000) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export async function startComposeLive(project: string, log: (line: string) => void): Promise<ComposeLive> {
  const base = spawnSync('bash', [join(root, '../shared/docker/base-images.sh')], { stdio: 'inherit' });
  if (base.status !== 0) throw new Error('../shared/docker/base-images.sh failed');
  const work = mkdtempSync(join(tmpdir(), 'irlkit-faults-'));
  const envFile = join(work, 'env');
  const env: Record<string, string> = {
    NATS_INGEST_PASSWORD: secret(),
    NATS_OBS_BRIDGE_PASSWORD: secret(),
    NATS_DESKTOP_PASSWORD: secret(),
    NATS_CHAT_PASSWORD: secret(),
    NATS_DASHBOARD_PASSWORD: secret(),
    NATS_OPERATOR_PASSWORD: secret(),
    OBS_WS_PASSWORD: secret(),
    DASHBOARD_PASSWORD: secret(),
    DASHBOARD_SESSION_SECRET: secret() + secret(),
    DESKTOP_PASSWORD: secret(),
    BRIDGE_API_TOKEN: secret(),
    SRT_PASSPHRASE: secret(),
    OBS_RTMP_KEY: secret(),
    OBS_RTMP_URL: 'rtmp://rtmp-sink/live',
    IRL_PUBLISH_ADDRESS: '127.0.0.1',
    DOCKER_GID: String(statSync('/var/run/docker.sock').gid),
    IRL_IMAGE_TAG: IMAGE_TAG,
  };
  const writeEnv = () =>
    writeFileSync(
      envFile,
      `${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    );
  writeEnv();
  const composeArgs = ['-p', project, '--env-file', envFile, '-f', join(root, 'docker-compose.yml'), '-f', join(root, 'test/compose/docker-compose.test.yml')];
  const docker = (args: string[]) =>
    new Promise<string>((resolve) => {
      const child = spawn(DOCKER, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.once('exit', () => resolve(output));
    });
  const compose = (args: string[], timeoutMs = 300_000) =>
    new Promise<{ status: number | null; output: string }>((resolve) => {
      const child = spawn(COMPOSE, [...composeArgs, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
      child.once('exit', (status) => {
        clearTimeout(timer);
        resolve({ status, output });
      });
    });
  const containerId = async (service: string) => {
    const ps = await compose(['ps', '-q', service], 60_000);
    return ps.output.split('\n').find((line) => /^[0-9a-f]{12,}$/.test(line.trim())) ?? '';
  };
  const startedAt = async (service: string) => {
    const id = await containerId(service);
    const inspect = await docker(['inspect', '-f', '{{.State.StartedAt}}', id]);
    return Date.parse(inspect.trim());
  };
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await compose(['down', '-v', '--remove-orphans'], 120_000);
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await compose(['down', '-v', '--remove-orphans'], 120_000); // what an interrupted run left
    log('building the images');
    const built = await compose(['build'], 1_800_000);
    if (built.status !== 0) throw new Error(`docker-compose build failed:\n${built.output.slice(-2000)}`);
    const up = await compose(['up', '-d']);
    if (up.status !== 0) throw new Error(`docker-compose up -d failed:\n${up.output.slice(-2000)}`);
    let states: string[] = [];
    await waitFor(
      () => {
        states = HEALTHY.map((s) => {
          const id = run(COMPOSE, [...composeArgs, 'ps', '-q', s]).stdout.trim();
          const health = id ? run(DOCKER, ['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', id]).stdout.trim() : 'missing';
          return `${s}=${health}`;
        });
        return states.every((s) => s.endsWith('=healthy'));
      },
      'the containers to be healthy',
      300_000,
      2000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last states: ${states.join(' ')}`);
    });
    const probe = await BusProbe.start({
      project,
      root,
      natsUser: 'operator',
      natsPassword: env.NATS_OPERATOR_PASSWORD as string,
      bridgeImage: `irlkit/obs-bridge:${IMAGE_TAG}`,
    });
    closers.push(() => probe.stop());
    const feed = startReconnectingFeed({
      port: 9000,
      host: '127.0.0.1',
      passphrase: env.SRT_PASSPHRASE,
      latencyMs: 1000,
      width: 854,
      height: 480,
      bitrateKbps: 1500,
    });
    closers.push(() => feed.stop());
    const sinkStreams = (what: string, timeoutMs: number) =>
      probeUntilAudioAndVideo(`rtmp://127.0.0.1/live/${env.OBS_RTMP_KEY}`, what, timeoutMs, [COMPOSE, ...composeArgs, 'exec', '-T', 'rtmp-sink']);
    await waitFor(() => probe.obsState?.reachable && probe.obsState.programScene === 'Live', 'OBS on Live with the feed', 90_000, 200);
    const started = await probe.request('stream.start');
    if (!started.ok) throw new Error(`stream.start refused: ${started.error}`);
    await waitFor(() => probe.obsState?.streaming, 'OBS streaming', 30_000, 200);
    await sinkStreams('the RTMP sink to carry the stream', 60_000);
    log('streaming on Live');
    return {
      project,
      probe,
      env,
      compose,
      containerId,
      startedAt,
      setEnv(changes) {
        Object.assign(env, changes);
        writeEnv();
      },
      sinkStreams,
      stop,
    };
  } catch (error) {
    const logs = await compose(['logs', '--no-color', '--tail=30', 'desktop', 'obs-bridge'], 60_000);
    log(logs.output);
    await stop();
    throw error;
  }
}
