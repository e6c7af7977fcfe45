// The compose stack checked from the outside, on a real Docker engine (run by test/compose/run.sh after
// `up -d` with no .env): the init service's first start, healthchecks, a feed through the published SRT
// port, streaming to an RTMP sink, the dashboard's login and the xpra desktop through Caddy over HTTPS
// (its internal authority trusted by fetch and Chromium), the OBS watchdog after `docker kill`, an
// upgrade (rebuild, every container re-created) while live, and which ports are (not) published.
// Prints one line per check and writes "passed failed skipped" to $IRL_COMPOSE_RESULT.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { grayRaster, launchChromium, pixelSpread, probeUntilAudioAndVideo, startReconnectingFeed, waitFor } from '@irlkit/test-kit';
import { BusProbe } from './probe.ts';

const root = resolve(import.meta.dirname, '../..');
const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`compose.check.ts: ${name} must be set (run test/compose/run.sh)`);
  return value;
};
const compose = JSON.parse(need('IRL_COMPOSE')) as string[];
const project = need('IRL_COMPOSE_PROJECT');
// The secrets the init service generated (`init show-env`), read from a file: in this process's
// environment they would reach compose's interpolation and turn the re-created containers' generated
// secrets into configured ones.
const generated = Object.fromEntries(
  readFileSync(need('IRL_COMPOSE_SECRETS'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
) as Record<string, string | undefined>;
const secret = (name: string): string => {
  const value = generated[name];
  if (!value) throw new Error(`compose.check.ts: the init service generated no ${name}`);
  return value;
};
const env = {
  srtPassphrase: secret('SRT_PASSPHRASE'),
  rtmpKey: need('OBS_RTMP_KEY'),
  dashboardPassword: secret('DASHBOARD_PASSWORD'),
  desktopPassword: secret('DESKTOP_PASSWORD'),
  // The operator's NATS user: watches events and sends commands, like `pnpm tap`.
  natsUser: 'operator',
  natsPassword: secret('NATS_OPERATOR_PASSWORD'),
  bridgeImage: need('IRL_BRIDGE_IMAGE'),
  /** Caddy's internal root certificate (also in NODE_EXTRA_CA_CERTS, so fetch trusts it). */
  caddyRoot: need('IRL_CADDY_ROOT'),
  initLog: need('IRL_COMPOSE_INIT_LOG'),
};
/** The one published web door: Caddy on 443 (no domain set, so its internal authority signs). */
const HTTPS = 'https://localhost';
const artifacts = join(root, 'test-artifacts/compose');
mkdirSync(artifacts, { recursive: true });

const DOCKER = '/usr/bin/docker';
function run(command: string, args: string[], timeoutMs = 60_000) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}
const dc = (args: string[], timeoutMs?: number) => run(compose[0] as string, [...compose.slice(1), ...args], timeoutMs);
/** docker-compose without blocking the event loop (the NATS probe keeps stamping events meanwhile). */
function dcAsync(args: string[], timeoutMs: number): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(compose[0] as string, [...compose.slice(1), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('close', (status) => resolveRun({ status, stderr }));
  });
}
/** The history's event stream (JetStream on nats-data), as nats-server's monitoring port inside its container reports it. */
function historyState(): { messages: number; first_seq: number; first_ts: string } | undefined {
  const report = dc(['exec', '-T', 'nats', 'curl', '-fsS', 'http://127.0.0.1:8222/jsz?accounts=true&streams=true']).stdout;
  let found: { messages: number; first_seq: number; first_ts: string } | undefined;
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.name === 'IRLKIT_EVENTS' && record.state) found = record.state as typeof found;
    for (const value of Object.values(record)) visit(value);
  };
  try {
    visit(JSON.parse(report));
  } catch {
    return undefined;
  }
  return found;
}
const containerId = (service: string) => dc(['ps', '-q', service]).stdout.trim();
/** The full ids of a service's running containers, without blocking the event loop (docker, not the slower docker-compose). */
function runningContainers(service: string): Promise<string[]> {
  return new Promise((resolveIds) => {
    const filters = [`label=com.docker.compose.project=${project}`, `label=com.docker.compose.service=${service}`, 'status=running'];
    const child = spawn(DOCKER, ['ps', '-q', '--no-trunc', ...filters.flatMap((f) => ['--filter', f])], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', () => resolveIds(out.split('\n').filter(Boolean)));
  });
}

// --- the checks' bookkeeping -------------------------------------------------------------------
const results: Array<{ name: string; ok: boolean; ms: number }> = [];
const timings: Record<string, number> = {};
async function check(name: string, body: () => Promise<void>): Promise<boolean> {
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true, ms: Date.now() - started });
    process.stdout.write(`  ✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    return true;
  } catch (error) {
    results.push({ name, ok: false, ms: Date.now() - started });
    process.stdout.write(
      `  ✗ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n    ${String((error as Error).message)
        .split('\n')
        .join('\n    ')}\n`,
    );
    return false;
  }
}
/** What a dashboard page opened now shows first: the snapshot that opens /api/events (from the server's memory and the history). */
async function dashboardSnapshot(): Promise<{ events: Array<{ name: string; payload: { ts?: number } }> }> {
  const controller = new AbortController();
  const response = await fetch(`${HTTPS}/api/events`, { headers: { cookie: sessionCookie }, signal: controller.signal });
  assert(response.ok && response.body, `GET /api/events: HTTP ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const snapshot = /event: snapshot\ndata: (.*)\n\n/.exec(text)?.[1];
      if (snapshot) return JSON.parse(snapshot) as { events: Array<{ name: string; payload: { ts?: number } }> };
    }
  } finally {
    controller.abort();
  }
  throw new Error('the event stream ended before its snapshot');
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * ffprobe inside the sink's container until it reads video and audio. Through `docker exec` (not the
 * slower Python docker-compose), each attempt with 15 s to finish: on 2 loaded cores a 5 s attempt
 * (docker-compose's start-up + ffprobe's wait for a keyframe) timed out again and again while OBS streamed.
 */
function sinkStreams(what: string, timeoutMs: number, key = env.rtmpKey) {
  const sink = containerId('rtmp-sink');
  assert(sink, 'no rtmp-sink container');
  return probeUntilAudioAndVideo(`rtmp://127.0.0.1/live/${key}`, what, timeoutMs, [DOCKER, 'exec', sink], 15_000);
}
function tcpConnects(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect(port, host);
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolveConnect(false);
    });
  });
}

/** What one websocket upgrade to the desktop, through Caddy at /desktop/, is answered with (its HTTP status). */
function desktopUpgradeStatus(): Promise<number> {
  return new Promise((resolveStatus) => {
    const socket = tlsConnect({ port: 443, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(env.caddyRoot, 'utf8'), ALPNProtocols: ['http/1.1'] });
    let head = '';
    socket.setTimeout(5000);
    socket.once('secureConnect', () =>
      socket.write(
        'GET /desktop/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n',
      ),
    );
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (status) {
        socket.destroy();
        resolveStatus(Number(status[1]));
      }
    });
    const none = () => {
      socket.destroy();
      resolveStatus(0);
    };
    socket.once('timeout', none);
    socket.once('error', none);
    socket.once('close', none);
  });
}

/** Peak memory of each compose service, sampled with `docker stats` every few seconds during the checks. */
const memoryPeaksMiB: Record<string, number> = {};
let sampling = true;
const sampler = (async () => {
  const toMiB = (text: string) => {
    const m = /([\d.]+)\s*([KMG]i?B|B)/.exec(text);
    if (!m) return 0;
    const factor: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 };
    return Number(m[1]) * (factor[m[2] as string] ?? 1);
  };
  while (sampling) {
    const out = await new Promise<string>((resolveOut) => {
      const child = spawn(DOCKER, ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.once('exit', () => resolveOut(text));
    });
    for (const line of out.split('\n')) {
      const [name, usage] = line.split('\t');
      const service = name?.startsWith(`${project}_`) ? name.slice(project.length + 1).replace(/_\d+$/, '') : undefined;
      if (service && usage) memoryPeaksMiB[service] = Math.max(memoryPeaksMiB[service] ?? 0, toMiB(usage.split('/')[0] as string));
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
})();

// --- the checks ---------------------------------------------------------------------------------
// The containers with a healthcheck; chat has none (it only dials out).
const services = ['nats', 'ingest', 'desktop', 'xpra', 'obs-bridge', 'restream', 'dashboard', 'caddy', 'rtmp-sink'];
const irlkitServices = [...services.filter((s) => s !== 'rtmp-sink'), 'chat'];
const upAt = Date.now();
await check('with no .env, the init service generated the secrets and printed the dashboard URL and password once', async () => {
  const id = containerId('init');
  assert(id, 'no init container');
  const state = run(DOCKER, ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim();
  assert(state === 'exited 0', `init container: ${state}`);
  const log = readFileSync(env.initLog, 'utf8');
  assert(log.includes(`Dashboard:  https://`) && log.includes(env.dashboardPassword), `init's log lacks the dashboard URL and password:\n${log}`);
  assert(/no IRL_DOMAIN is set/.test(log), 'init did not say why the certificate is not a public one');
  // A second run keeps what exists and prints no password.
  const again = dc(['run', '--rm', '--no-deps', '-T', 'init'], 60_000);
  assert(again.status === 0 && /secrets in place/.test(again.stdout), `a second init run: ${again.stdout}${again.stderr}`);
  assert(!again.stdout.includes(env.dashboardPassword), 'a second init run printed the password again');
  const show = dc(['run', '--rm', '--no-deps', '-T', 'init', 'show'], 60_000);
  assert(show.stdout.includes(env.dashboardPassword) && show.stdout.includes(`passphrase=${env.srtPassphrase}`), `init show: ${show.stdout}`);
  // Each service reads its own share from its volume at start; none is in a container's configuration.
  for (const service of ['nats', 'ingest', 'desktop', 'xpra', 'obs-bridge', 'restream', 'dashboard', 'chat']) {
    const configured = run(DOCKER, ['inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', containerId(service)]).stdout;
    const leaked = Object.values(generated).filter((value) => value && configured.includes(value));
    assert(leaked.length === 0, `${service}'s container configuration holds ${leaked.length} generated secret(s)`);
  }
});
await check('every container reports healthy', async () => {
  let states: string[] = [];
  await waitFor(
    () => {
      states = services.map((s) => {
        const id = containerId(s);
        const health = id ? run(DOCKER, ['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', id]).stdout.trim() : 'missing';
        return `${s}=${health}`;
      });
      return states.every((s) => s.endsWith('=healthy'));
    },
    'every container to be healthy',
    300_000,
    2000,
  ).catch((error) => {
    throw new Error(`${(error as Error).message}; last states: ${states.join(' ')}`);
  });
  timings.healthyS = (Date.now() - upAt) / 1000;
});

await check("obs-bridge found the Docker socket's group itself and runs as uid 10001 with no capabilities; Caddy runs as its own user", async () => {
  const status = dc(['exec', '-T', 'obs-bridge', 'cat', '/proc/1/status']).stdout;
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const socketGid = run(DOCKER, ['run', '--rm', '--entrypoint', 'stat', '-v', '/var/run/docker.sock:/s', env.bridgeImage, '-c', '%g', '/s']).stdout.trim();
  assert(field('Uid').split(/\s+/)[0] === '10001', `obs-bridge's process runs as uid ${field('Uid')}`);
  assert(/^0+$/.test(field('CapEff')) && /^0+$/.test(field('CapPrm')), `obs-bridge keeps capabilities: CapEff ${field('CapEff')}, CapPrm ${field('CapPrm')}`);
  assert(socketGid && field('Groups').split(/\s+/).includes(socketGid), `obs-bridge's groups "${field('Groups')}" lack the socket's group ${socketGid}`);
  const caddyUid = dc(['exec', '-T', 'caddy', 'id', '-u']).stdout.trim();
  assert(caddyUid !== '' && caddyUid !== '0', `caddy runs as uid "${caddyUid}"`);
});

let sessionCookie = '';
const probe = await BusProbe.start({ project, root, natsUser: env.natsUser, natsPassword: env.natsPassword, bridgeImage: env.bridgeImage });
// A sender reconnects when its connection drops, as phones and BELABOX do (the upgrade re-creates ingest).
const feed = startReconnectingFeed({
  port: 9000,
  host: '127.0.0.1',
  passphrase: env.srtPassphrase,
  latencyMs: 1000,
  width: 854,
  height: 480,
  bitrateKbps: 1500,
});
/** Asked when a wait for Live times out: what the stack looked like then (the state, the timeline, the sender, the logs). */
const notLive = () => {
  const state = probe.obsState;
  const logs = dc(['logs', '--no-color', '--tail', '40', 'ingest', 'desktop', 'obs-bridge']);
  return (
    `(last obs.state: ${state ? `reachable ${state.reachable}, program ${state.programScene}, streaming ${state.streaming}, ${Math.round((Date.now() - state.receivedAt) / 1000)} s ago` : 'none heard'}; ` +
    `timeline: ${probe.log.slice(-15).join(' | ') || 'empty'}; sender (start ${feed.starts}): ${feed.current().stderr().slice(-300)})\n${logs.stdout}${logs.stderr}`
  );
};
try {
  // chat has no healthcheck (it only dials out); with no channel set it idles, but it must still run in
  // production mode and reach NATS as its own user.
  await check('the chat container runs and its heartbeat is on NATS (its own NATS user, production mode)', async () => {
    await waitFor(() => probe.heartbeats.has('chat'), `a heartbeat from chat (heard: ${[...probe.heartbeats.keys()].join(', ') || 'none'})`, 30_000, 200);
    const id = containerId('chat');
    assert(id, 'no chat container');
    const state = run(DOCKER, ['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', id]).stdout.trim();
    assert(state === 'running 0', `chat container: ${state} (status, restarts)`);
  });

  await check('an SRT feed into the published port goes live on OBS (obs.state: program scene Live)', async () => {
    const started = Date.now();
    await waitFor(
      () => probe.obsState?.reachable && probe.obsState.programScene === 'Live',
      () => `obs.state with program scene Live ${notLive()}`,
      90_000,
      200,
    );
    timings.feedLiveS = (Date.now() - started) / 1000;
  });
  await check("ingest's passphrase-less output answers only on the feed network, which only OBS shares", async () => {
    // From the dashboard (on the compose network, not on `feed`): a TCP connection to ingest:9001 and a lookup of ingest-feed.
    const script = `const net=require('net'),dns=require('dns');
dns.lookup('ingest-feed',(feedError)=>dns.lookup('ingest',(e,address)=>{
const hidden=feedError?'hidden':'resolved';const c=net.connect(9001,address);
c.on('connect',()=>{console.log('answered '+hidden);process.exit(0)});c.on('error',(err)=>{console.log((err.code==='ECONNREFUSED'?'refused ':'failed ')+hidden);process.exit(0)});
setTimeout(()=>{console.log('silent '+hidden);process.exit(0)},2500);}));`;
    const outcome = dc(['exec', '-T', 'dashboard', 'node', '-e', script]).stdout.trim();
    assert(/^(refused|silent) hidden$/.test(outcome), `from the dashboard, ingest:9001 and ingest-feed: "${outcome}" (expected no connection and no name)`);
    // State 0A: listening.
    const tcp = dc(['exec', '-T', 'ingest', 'cat', '/proc/net/tcp']).stdout;
    const bound = tcp.split('\n').filter((l) => /^\s*\d+: [0-9A-F]{8}:2329 0{8}:0000 0A /.test(l));
    assert(
      bound.length > 0 && bound.every((l) => !/: 00000000:2329 /.test(l)),
      `ingest's port 9001 listens on every interface (or not at all):\n${bound.join('\n')}`,
    );
  });

  await check('stream.start over NATS → the RTMP sink receives video (ffprobe inside the network)', async () => {
    const reply = await probe.request('stream.start');
    assert(reply.ok, `stream.start refused: ${reply.error}`);
    await waitFor(() => probe.obsState?.streaming, 'obs.state streaming', 30_000, 200);
    const streams = await sinkStreams('ffprobe to read video and audio from the RTMP sink', 60_000);
    const video = streams.find((s) => s.codec_type === 'video');
    // OBS rounds 854 down to a multiple of 4 (852x480).
    assert(
      video?.codec_name === 'h264' && video.height === 480 && Math.abs((video.width ?? 0) - 854) <= 4,
      `unexpected video: ${JSON.stringify(video).slice(0, 300)}`,
    );
  });

  await check('the dashboard answers through Caddy over HTTPS (internal authority), requires login, sets Secure cookies', async () => {
    const plain = await fetch('http://localhost/login', { redirect: 'manual' });
    assert(
      plain.status >= 300 && plain.status < 400 && (plain.headers.get('location') ?? '').startsWith('https://localhost/'),
      `http://localhost/login: HTTP ${plain.status} ${plain.headers.get('location') ?? ''} (expected a redirect to HTTPS)`,
    );
    const page = await fetch(`${HTTPS}/`, { redirect: 'manual' });
    assert(
      page.status === 401 || (page.status >= 300 && page.status < 400 && /\/login/.test(page.headers.get('location') ?? '')),
      `GET / without a session: HTTP ${page.status} ${page.headers.get('location') ?? ''}`,
    );
    const events = await fetch(`${HTTPS}/api/events`);
    assert(events.status === 401, `GET /api/events without a session: HTTP ${events.status}`);
    const wrong = await fetch(`${HTTPS}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: HTTPS },
      body: JSON.stringify({ password: 'not-the-password' }),
    });
    assert(wrong.status === 401, `a wrong password: HTTP ${wrong.status}`);
    const right = await fetch(`${HTTPS}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: HTTPS },
      body: JSON.stringify({ password: env.dashboardPassword }),
    });
    assert(right.ok, `the right password: HTTP ${right.status}`);
    const setCookie = right.headers.get('set-cookie') ?? '';
    assert(/;\s*secure/i.test(setCookie), `the session cookie is not Secure: ${setCookie.replace(/=[^;]+/, '=…')}`);
    const cookie = setCookie.split(';')[0] as string;
    sessionCookie = cookie;
    const controller = new AbortController();
    const stream = await fetch(`${HTTPS}/api/events`, { headers: { cookie }, signal: controller.signal });
    assert(stream.ok && /event-stream/.test(stream.headers.get('content-type') ?? ''), `events with a session: HTTP ${stream.status}`);
    controller.abort();
  });

  // A second platform beside the Primary one (OBS_RTMP_URL): the same sink under another key, over RTMPS
  // (stunnel in front of it, with a certificate for rtmp-sink that only the restream container trusts).
  const secondKey = `${env.rtmpKey}-second`;
  let secondId = '';
  await check(
    'restream: a second destination over RTMPS (certificate verified), added over NATS, receives the program beside the Primary one (no second encode), its key never shown',
    async () => {
      const reply = await probe.request('destination.save', { name: 'Second', url: 'rtmps://rtmp-sink:1936/live', key: secondKey });
      assert(reply.ok, `destination.save refused: ${reply.error}`);
      const saved = (reply.result as Array<{ id: string; name: string }> | undefined)?.find((d) => d.name === 'Second');
      assert(saved, `destination.save answered ${JSON.stringify(reply.result)}`);
      secondId = saved.id;
      await sinkStreams('ffprobe to read the second destination', 60_000, secondKey);
      const connected = () => probe.restreamState?.destinations.filter((d) => d.status === 'connected').map((d) => d.name) ?? [];
      await waitFor(
        () => connected().length === 2,
        `both destinations connected (restream.state: ${JSON.stringify(probe.restreamState?.destinations.map((d) => [d.name, d.status, d.error]))})`,
        30_000,
        200,
      );
      const published = JSON.stringify(probe.restreamState);
      assert(!published.includes(env.rtmpKey) && !published.includes(secondKey), 'restream.state carries a stream key');
      // One encode: the program OBS sends and what each destination gets are the same stream.
      const script = `const fs=require('fs');let copies=0,encoders=0;for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p))continue;let a;try{a=fs.readFileSync('/proc/'+p+'/cmdline','utf8').split('\\0')}catch{continue}if(!/ffmpeg$/.test(a[0]))continue;const c=a.indexOf('-c');if(c>=0&&a[c+1]==='copy')copies++;else encoders++}console.log(copies+' '+encoders)`;
      const [copies, encoders] = dc(['exec', '-T', 'restream', 'node', '-e', script]).stdout.trim().split(' ').map(Number);
      assert(
        copies === 3 && encoders === 0,
        `restream runs ${copies} ffmpeg copies and ${encoders} other ffmpeg (expected 3 copies: two destinations and the recording)`,
      );
    },
  );

  await check('restream: turning the second destination off while live stops only it; the Primary one keeps receiving', async () => {
    assert(secondId, 'no second destination (the check before failed)');
    const reply = await probe.request('destination.enable', { id: secondId, enabled: false });
    assert(reply.ok, `destination.enable refused: ${reply.error}`);
    await waitFor(
      () => probe.restreamState?.destinations.find((d) => d.id === secondId)?.status === 'disabled',
      'the second destination to be disabled',
      15_000,
      200,
    );
    const primary = probe.restreamState?.destinations.find((d) => d.id !== secondId);
    assert(primary?.status === 'connected', `the Primary destination: ${primary?.status} ${primary?.error ?? ''}`);
    await sinkStreams('ffprobe to read the Primary destination after the second was turned off', 60_000);
  });

  await check('restream: an RTMPS destination whose certificate does not name its host fails alone, saying so; the others keep receiving', async () => {
    const reply = await probe.request('destination.save', { name: 'Mismatch', url: 'rtmps://platform-b:1936/live', key: `${env.rtmpKey}-mismatch` });
    assert(reply.ok, `destination.save refused: ${reply.error}`);
    const id = (reply.result as Array<{ id: string; name: string }> | undefined)?.find((d) => d.name === 'Mismatch')?.id;
    assert(id, `destination.save answered ${JSON.stringify(reply.result)}`);
    const mismatch = () => probe.restreamState?.destinations.find((d) => d.id === id);
    await waitFor(() => mismatch()?.status === 'failed' && mismatch()?.error, 'the mismatched destination to fail', 30_000, 200).catch((error) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(mismatch())}`);
    });
    assert(/certificate/i.test(mismatch()?.error ?? ''), `the failure does not name the certificate: ${mismatch()?.error}`);
    const others = probe.restreamState?.destinations.filter((d) => d.id !== id && d.enabled).map((d) => `${d.name} ${d.status}`) ?? [];
    assert(others.length > 0 && others.every((o) => o.endsWith(' connected')), `the other destinations: ${others.join(', ')}`);
    await sinkStreams('ffprobe to read the Primary destination while another fails', 60_000);
    const removed = await probe.request('destination.remove', { id });
    assert(removed.ok, `destination.remove refused: ${removed.error}`);
  });

  await check('the program is recorded on the recordings volume; the dashboard serves the file only after login, with range requests', async () => {
    await waitFor(
      () =>
        probe.recordingState?.status === 'recording' && probe.recordingState.files.some((f) => f.name === probe.recordingState?.current && f.bytes > 100_000),
      `a recording being written (recording.state: ${JSON.stringify(probe.recordingState && { ...probe.recordingState, files: probe.recordingState.files.length })})`,
      60_000,
      500,
    );
    const name = probe.recordingState?.current as string;
    const anonymous = await fetch(`${HTTPS}/api/recordings/${name}`);
    assert(anonymous.status === 401, `GET /api/recordings/${name} without a session: HTTP ${anonymous.status}`);
    assert(sessionCookie, 'no session (the login check failed)');
    const part = await fetch(`${HTTPS}/api/recordings/${name}`, { headers: { cookie: sessionCookie, range: 'bytes=0-1023' } });
    const body = Buffer.from(await part.arrayBuffer());
    assert(part.status === 206 && body.length === 1024, `a range request: HTTP ${part.status}, ${body.length} bytes`);
    assert(body.subarray(0, 4).toString('hex') === '1a45dfa3', `not a Matroska file: starts with ${body.subarray(0, 4).toString('hex')}`);
  });

  await check("Caddy's internal authority signs only the configured names: a stranger's server name gets no certificate", async () => {
    // What the peer's certificate names, or the handshake's error (servername undefined: no SNI, as a
    // browser visiting by address).
    const handshake = (servername: string | undefined) =>
      new Promise<string>((resolveHandshake) => {
        const socket = tlsConnect({ port: 443, host: '127.0.0.1', ...(servername ? { servername } : {}), rejectUnauthorized: false });
        socket.once('secureConnect', () => {
          resolveHandshake(socket.getPeerCertificate().subjectaltname ?? '(no names)');
          socket.destroy();
        });
        socket.once('error', (error) => resolveHandshake(`error: ${error.message}`));
        socket.setTimeout(10_000, () => {
          resolveHandshake('error: timed out');
          socket.destroy();
        });
      });
    const local = await handshake('localhost');
    assert(local === 'DNS:localhost', `SNI localhost: ${local}`);
    const stranger = await handshake('not-this-server.example');
    assert(stranger.startsWith('error:'), `SNI not-this-server.example got a certificate: ${stranger}`);
    const noName = await handshake(undefined);
    assert(noName === 'DNS:localhost', `no SNI (visiting by address): ${noName} (expected the default, localhost)`);
    const stored = dc(['exec', '-T', 'caddy', 'ls', '/data/caddy/certificates/local']).stdout.split(/\s+/).filter(Boolean);
    assert(!stored.some((name) => name.includes('not-this-server')), `Caddy stored certificates for: ${stored.join(', ')}`);
  });

  await check('the xpra desktop loads through Caddy over HTTPS (/desktop/) in Chromium with the password and shows OBS', async () => {
    const browser = await launchChromium({ trustedCaFile: env.caddyRoot });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const url = `${HTTPS}/desktop/index.html?password=${encodeURIComponent(env.desktopPassword)}&sound=false&floating_menu=false&clipboard=false`;
      await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
      // xpra draws each window of the shadowed display on a canvas; a session without one shows none.
      await page.waitForSelector('#screen canvas', { timeout: 30_000 });
      // Then wait for pixels: below xpra's menu bar, an empty or black display is one flat colour
      // (spread near 0); OBS's window measured 20-51 on the whole page.
      let spread = 0;
      await waitFor(
        async () => {
          const png = await page.screenshot({ type: 'png' });
          writeFileSync(join(artifacts, 'desktop.png'), png);
          const belowMenu = await page.screenshot({ type: 'png', clip: { x: 0, y: 40, width: 1280, height: 760 } });
          spread = pixelSpread(grayRaster(belowMenu.toString('base64')));
          return spread > 10;
        },
        `a non-blank desktop (pixel spread ${spread.toFixed(1)}; see test-artifacts/compose/desktop.png)`,
        30_000,
        1000,
      );
      const title = await page.title();
      process.stdout.write(`    desktop screenshot: test-artifacts/compose/desktop.png (pixel spread ${spread.toFixed(1)}, title "${title}")\n`);
    } finally {
      await browser.close();
    }
  });

  // A logged-in dashboard, open through the kill, must end up showing the OBS container's state.
  const dashboardBrowser = await launchChromium({ trustedCaFile: env.caddyRoot });
  const dashboard = await dashboardBrowser.newPage({ viewport: { width: 1280, height: 900 } });
  const dashboardReady = (async () => {
    await dashboard.goto(`${HTTPS}/login`, { timeout: 30_000 });
    await dashboard.fill('[data-testid=password]', env.dashboardPassword);
    await dashboard.click('[data-testid=login]');
    await dashboard.waitForSelector('[data-testid=onair]', { timeout: 30_000 });
  })();
  await dashboardReady.catch(() => {});

  await check('docker kill the desktop container (OBS) → the watchdog restarts it and streaming resumes within 30 s', async () => {
    const obsId = containerId('desktop');
    assert(obsId, 'no desktop container');
    assert(probe.obsState?.streaming, 'OBS was not streaming before the kill');
    const eventsBefore = probe.processEvents.length;
    const killedAt = Date.now();
    const kill = run(DOCKER, ['kill', obsId]);
    assert(kill.status === 0, `docker kill failed: ${kill.stderr}`);
    await waitFor(
      () => probe.obsState && !probe.obsState.reachable && probe.obsState.receivedAt > killedAt,
      'obs.state to say OBS is unreachable',
      15_000,
      100,
    );
    await waitFor(
      () => probe.obsState?.reachable && probe.obsState.streaming && probe.obsState.receivedAt > killedAt,
      'OBS back and streaming',
      30_000 - (Date.now() - killedAt),
      100,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; timeline: ${probe.log.slice(-8).join(' | ')}`);
    });
    timings.killToStreamingS = (Date.now() - killedAt) / 1000;
    const restarting = probe.processEvents.slice(eventsBefore).find((e) => e.kind === 'container' && e.child === 'obs' && e.event === 'restarting');
    assert(
      restarting,
      `no 'restarting' container event on NATS (got: ${probe.processEvents
        .slice(eventsBefore)
        .map((e) => `${e.child} ${e.event}`)
        .join(', ')})`,
    );
    timings.killToRestartS = (restarting.receivedAt - killedAt) / 1000;
    const streams = await sinkStreams('ffprobe to read video and audio from the sink again', 60_000);
    assert(streams.length > 0, 'no streams');
    process.stdout.write(`    kill → restart issued ${timings.killToRestartS.toFixed(1)} s, kill → streaming again ${timings.killToStreamingS.toFixed(1)} s\n`);
  });
  await check('the dashboard shows the OBS container back (process events of kind container)', async () => {
    await dashboardReady;
    // The page also shows what happened before it connected, so first proof that the kill reached it
    // (the watchdog's restart, which exists only since the kill), then the container back.
    await dashboard
      .waitForFunction(() => /obs restarting/.test(document.querySelector('[data-testid=timeline]')?.textContent ?? ''), null, { timeout: 30_000 })
      .then(() =>
        dashboard.waitForFunction(
          () => /obs container: (started|healthy)/.test(document.querySelector('[data-testid=container-obs]')?.textContent ?? ''),
          null,
          {
            timeout: 60_000,
          },
        ),
      )
      .catch(async (error: Error) => {
        await dashboard.screenshot({ path: join(artifacts, 'dashboard.png') });
        throw new Error(`${error.message} (see test-artifacts/compose/dashboard.png)`);
      });
    await dashboard.screenshot({ path: join(artifacts, 'dashboard.png') });
  });
  await check('compose re-creates the desktop container (a new container id) → the watchdog follows the new container and streaming comes back', async () => {
    const oldId = containerId('desktop');
    const eventsBefore = probe.processEvents.length;
    const recreatedAt = Date.now();
    const up = dc(['up', '-d', '--no-deps', '--force-recreate', 'desktop'], 120_000);
    assert(up.status === 0, `docker-compose up --force-recreate desktop failed: ${up.stderr}`);
    const newId = containerId('desktop');
    assert(newId && newId !== oldId, `desktop kept its container id ${oldId}`);
    await waitFor(
      () => probe.processEvents.slice(eventsBefore).some((e) => e.kind === 'container' && e.child === 'obs' && e.event === 'started'),
      "a 'started' container event for the re-created desktop container",
      60_000,
      200,
    );
    // The old OBS's last states may be read after `up` returns: streaming counts only once the
    // bridge has said OBS was gone.
    await waitFor(
      () =>
        probe.lastUnreachableAt > recreatedAt && probe.obsState?.reachable && probe.obsState.streaming && probe.obsState.receivedAt > probe.lastUnreachableAt,
      'OBS back and streaming',
      90_000,
      200,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; timeline: ${probe.log.slice(-10).join(' | ')}`);
    });
    const since = probe.processEvents.slice(eventsBefore).filter((e) => e.kind === 'container' && e.child === 'obs');
    // By arrival order, not by clock: events read after the blocking `up` returned share one receivedAt.
    const started = since.findIndex((e) => e.event === 'started');
    const restarts = started < 0 ? [] : since.slice(started).filter((e) => e.event === 'restarting');
    assert(
      restarts.length === 0,
      `the watchdog restarted the re-created OBS while it was starting (${restarts.length} times); OBS container events: ${since.map((e) => e.event).join(' ')}; timeline: ${probe.log.slice(-12).join(' | ')}`,
    );
    timings.recreateToStreamingS = (Date.now() - recreatedAt) / 1000;
  });
  await check(
    "upgrade while live: rebuild, then up -d re-creates every container; settings, history, secrets, session, volumes and Caddy's authority kept; the feed and the stream come back",
    async () => {
      // Right after the re-create check the new OBS streams, but Live comes back only with a moving picture.
      await waitFor(
        () => probe.obsState?.streaming && probe.obsState.programScene === 'Live',
        () => `Live and streaming before the upgrade ${notLive()}`,
        60_000,
        200,
      );
      // A setting the streamer changed, kept in JetStream on the nats-data volume.
      const set = await probe.request('switcher.config', { lowEnterKbps: 650 });
      assert(set.ok, `switcher.config refused: ${set.error}`);
      // Docker dates a local volume by its folder's modification time: `recordings`, whose folder gains a file
      // with every stretch on air, is checked by its files instead (the recording from before is listed after).
      const volumes = ['nats-data', 'obs-config', 'caddy-data', 'secrets'];
      const recordingBefore = probe.recordingState?.current ?? probe.recordingState?.files[0]?.name;
      const created = (volume: string) => run(DOCKER, ['volume', 'inspect', '-f', '{{.CreatedAt}}', `${project}_${volume}`]).stdout.trim();
      const createdBefore = volumes.map(created);
      const rootBefore = readFileSync(env.caddyRoot, 'utf8');
      const historyBefore = historyState();
      assert(historyBefore && historyBefore.messages > 0, `no history recorded before the upgrade: ${JSON.stringify(historyBefore)}`);
      // chat has no healthcheck (it only dials out), so it is not in `services`; it is re-created too.
      const recreated = [...services, 'chat'];
      const idsBefore = recreated.map(containerId);

      // `git pull` brings new code; here the code is the same, so the build reuses its layers, and
      // --force-recreate stands for new images (every container replaced: the worst case).
      const buildStarted = Date.now();
      const build = dc(['build'], 900_000);
      assert(build.status === 0, `docker-compose build failed: ${build.stderr.slice(-600)}`);
      timings.upgradeBuildS = (Date.now() - buildStarted) / 1000;
      // `up` runs without blocking, and each milestone is waited for on its own from when `up` started,
      // so each time is when that thing happened (events are stamped as they arrive).
      const upStarted = Date.now();
      const since = () => (Date.now() - upStarted) / 1000;
      const up = dcAsync(['up', '-d', '--force-recreate'], 300_000).then((result) => {
        timings.upgradeUpS = since();
        return result;
      });
      // The old dashboard answers until compose stops it, and compose starts the new one only after
      // that: an answer counts once a running dashboard container is a new one (looked up before the
      // request, so the old one cannot have answered it).
      const oldDashboard = idsBefore[recreated.indexOf('dashboard')];
      const dashboardBack = waitFor(
        async () => {
          const running = await runningContainers('dashboard');
          if (!oldDashboard || running.length === 0 || running.some((id) => id.startsWith(oldDashboard) || oldDashboard.startsWith(id))) return false;
          const controller = new AbortController();
          const response = await fetch(`${HTTPS}/api/events`, { headers: { cookie: sessionCookie }, signal: controller.signal }).catch(() => undefined);
          controller.abort();
          return response?.ok === true;
        },
        'the dashboard to accept the session from before the upgrade',
        300_000,
        500,
      ).then(() => {
        timings.upgradeToDashboardS = since();
      });
      // The old OBS's last states may still arrive: Live and streaming count once the bridge said OBS was gone.
      const backOnNewObs = () => probe.lastUnreachableAt > upStarted && probe.obsState?.reachable && probe.obsState.receivedAt > probe.lastUnreachableAt;
      const live = waitFor(() => backOnNewObs() && probe.obsState?.programScene === 'Live', 'the feed Live on the new OBS', 300_000, 200).then(() => {
        timings.upgradeToLiveS = since();
      });
      const streaming = waitFor(() => backOnNewObs() && probe.obsState?.streaming, 'the new OBS streaming again', 300_000, 200)
        .catch((error) => {
          throw new Error(`${(error as Error).message}; timeline: ${probe.log.slice(-10).join(' | ')}`);
        })
        .then(() => {
          timings.upgradeToStreamingS = since();
        });
      // Handled here too, so a failed `up` (which ends the check first) leaves no unhandled rejection.
      for (const milestone of [dashboardBack, live, streaming]) milestone.catch(() => undefined);
      const upResult = await up;
      assert(upResult.status === 0, `docker-compose up -d --force-recreate failed: ${upResult.stderr.slice(-600)}`);
      await Promise.all([dashboardBack, live, streaming]);
      // What the viewer saw: from the first obs.state in which the old OBS had stopped streaming (or was
      // gone) to the new one streaming.
      const streamEnded = probe.obsStates.find((state) => state.receivedAt > upStarted && (!state.reachable || !state.streaming));
      if (streamEnded) timings.upgradeStreamGapS = (timings.upgradeToStreamingS ?? 0) - (streamEnded.receivedAt - upStarted) / 1000;
      const idsAfter = recreated.map(containerId);
      assert(
        idsAfter.every((id, i) => id && id !== idsBefore[i]),
        `not every container was re-created: ${recreated.filter((_, i) => idsAfter[i] === idsBefore[i]).join(', ')}`,
      );
      const streams = await sinkStreams('ffprobe to read video and audio from the sink after the upgrade', 60_000);
      assert(
        streams.some((s) => s.codec_type === 'video'),
        'no video on the sink after the upgrade',
      );
      timings.upgradeToSinkS = since();

      const current = await probe.request('switcher.config', {});
      assert(
        (current.result as { lowEnterKbps?: number } | undefined)?.lowEnterKbps === 650,
        `switcher settings after the upgrade: ${JSON.stringify(current.result)}`,
      );
      // What a page opened after the upgrade shows: the chart and the timeline reach back before it (read
      // from the history by the new dashboard container), and the stream session that began before it is listed.
      // The new dashboard reads the history in the background once JetStream answers (the page opens at once).
      let snapshot = await dashboardSnapshot();
      const olderThanUp = (names: string[]) => snapshot.events.filter((e) => names.includes(e.name) && (e.payload.ts ?? Number.POSITIVE_INFINITY) < upStarted);
      const restoredBy = await waitFor(
        async () => {
          snapshot = await dashboardSnapshot();
          return olderThanUp(['ingest.stats']).length >= 30 ? Date.now() : undefined;
        },
        'the chart from before the upgrade on the dashboard',
        60_000,
        1000,
      ).catch(() => undefined);
      const chartBefore = olderThanUp(['ingest.stats']).length;
      const timelineBefore = olderThanUp(['log', 'process']).length;
      const timelineSince = snapshot.events.filter((e) => ['log', 'process'].includes(e.name) && (e.payload.ts ?? 0) >= upStarted).length;
      timings.chartSamplesFromBeforeUpgrade = chartBefore;
      timings.timelineEntriesFromBeforeUpgrade = timelineBefore;
      if (restoredBy) timings.upgradeToDashboardHistoryS = since();
      const dashboardLog = () =>
        dc(['logs', '--no-color', '--tail', '400', 'dashboard'])
          .stdout.split('\n')
          .filter((line) => /history|opening picture|JetStream/i.test(line))
          .slice(-6)
          .join(' | ');
      assert(
        chartBefore >= 30,
        `the dashboard's chart after the upgrade holds ${chartBefore} samples from before it (expected its last minutes); dashboard: ${dashboardLog()}`,
      );
      // The page keeps the last 50 entries: if the upgrade made 50 of its own, older ones are rightly out of view.
      assert(
        timelineBefore > 0 || timelineSince >= 50,
        `the dashboard's timeline after the upgrade holds nothing from before it (${timelineSince} entries since)`,
      );
      const listed = await fetch(`${HTTPS}/api/sessions`, { headers: { cookie: sessionCookie } });
      const { sessions } = (await listed.json()) as { sessions?: Array<{ startTs: number }> };
      assert(
        sessions?.some((session) => session.startTs < buildStarted),
        `no stream session from before the upgrade in /api/sessions: ${JSON.stringify(sessions?.slice(0, 3))}`,
      );
      // The history from before the upgrade is still there: the same first event, and more since.
      const historyAfter = historyState();
      assert(
        historyAfter &&
          historyAfter.first_seq === historyBefore.first_seq &&
          historyAfter.first_ts === historyBefore.first_ts &&
          historyAfter.messages > historyBefore.messages,
        `the history's IRLKIT_EVENTS before ${JSON.stringify(historyBefore)}, after ${JSON.stringify(historyAfter)}`,
      );
      // The destinations (the second one still off) and the recordings are kept too.
      await waitFor(
        () =>
          probe.restreamState && probe.restreamState.receivedAt > upStarted && probe.restreamState.destinations.some((d) => d.id === secondId && !d.enabled),
        `the destinations from before the upgrade (restream.state: ${JSON.stringify(probe.restreamState?.destinations.map((d) => [d.name, d.enabled]))})`,
        30_000,
        200,
      );
      await waitFor(
        () => probe.recordingState && probe.recordingState.receivedAt > upStarted && probe.recordingState.files.some((f) => f.name === recordingBefore),
        `the recording from before the upgrade (${recordingBefore}) listed`,
        30_000,
        200,
      );
      const createdAfter = volumes.map(created);
      assert(
        createdAfter.every((c, i) => c && c === createdBefore[i]),
        `volumes re-created: ${volumes.filter((_, i) => createdAfter[i] !== createdBefore[i]).join(', ')}`,
      );
      const rootAfter = dc(['exec', '-T', 'caddy', 'cat', '/data/caddy/pki/authorities/local/root.crt']).stdout;
      assert(rootAfter === rootBefore, "Caddy's root certificate changed: browsers that trusted it would warn again");
      const secretsAfter = dc(['run', '--rm', '--no-deps', '-T', 'init', 'show-env'], 60_000).stdout;
      assert(
        Object.entries(generated).every(([k, v]) => secretsAfter.includes(`${k}=${v}\n`)),
        'the generated secrets changed',
      );
      process.stdout.write(
        `    upgrade: build ${timings.upgradeBuildS.toFixed(1)} s; from up -d: up returned ${timings.upgradeUpS?.toFixed(1)} s, dashboard ${timings.upgradeToDashboardS?.toFixed(1)} s, feed Live ${timings.upgradeToLiveS?.toFixed(1)} s, streaming ${timings.upgradeToStreamingS?.toFixed(1)} s (no stream for ${timings.upgradeStreamGapS?.toFixed(1)} s), sink serving ${timings.upgradeToSinkS.toFixed(1)} s\n`,
      );
    },
  );
  await dashboardBrowser.close();
} finally {
  await feed.stop();
  await probe.stop();
}

await check('every container runs without capabilities, cannot gain privileges, has a read-only root and a memory limit', async () => {
  const problems: string[] = [];
  for (const service of irlkitServices) {
    const id = containerId(service);
    const host = JSON.parse(run(DOCKER, ['inspect', '-f', '{{json .HostConfig}}', id]).stdout || '{}') as {
      CapDrop?: string[] | null;
      CapAdd?: string[] | null;
      SecurityOpt?: string[] | null;
      ReadonlyRootfs?: boolean;
      Memory?: number;
    };
    const bounding = /CapBnd:\s*([0-9a-f]+)/.exec(dc(['exec', '-T', service, 'cat', '/proc/1/status']).stdout)?.[1];
    // obs-bridge keeps SETUID and SETGID in its bounding set only to drop to uid 10001 with the Docker
    // socket's group (its process then has no capabilities: checked above).
    const [added, expectedBounding] = service === 'obs-bridge' ? ['SETGID,SETUID', '00000000000000c0'] : ['', '0000000000000000'];
    if (
      !host.CapDrop?.includes('ALL') ||
      [...(host.CapAdd ?? [])]
        .map((c) => c.replace(/^CAP_/, ''))
        .sort()
        .join(',') !== added ||
      bounding !== expectedBounding
    )
      problems.push(`${service}: capabilities drop=${JSON.stringify(host.CapDrop)} add=${JSON.stringify(host.CapAdd)} bounding set ${bounding}`);
    if (!host.SecurityOpt?.some((o) => /^no-new-privileges(:true)?$/.test(o)))
      problems.push(`${service}: no no-new-privileges (${JSON.stringify(host.SecurityOpt)})`);
    if (!host.ReadonlyRootfs) problems.push(`${service}: writable root filesystem`);
    if (!host.Memory) problems.push(`${service}: no memory limit`);
    else timings[`memLimitMiB_${service}`] = host.Memory / 1048576;
    const write = dc(['exec', '-T', service, 'sh', '-c', 'touch /probe-write 2>/dev/null && echo wrote || echo refused']).stdout.trim();
    if (write !== 'refused') problems.push(`${service}: could write to / (${write})`);
  }
  assert(problems.length === 0, problems.join('\n'));
});

await check(
  'NATS, obs-websocket, the bridge API, the restream relay and plain 8080/14500 are not published; SRT, SRTLA and Caddy (443, 80) are, on 127.0.0.1 only',
  async () => {
    for (const [service, port] of [
      ['nats', 4222],
      ['desktop', 4455],
      ['obs-bridge', 8090],
      ['dashboard', 8080],
      ['xpra', 14500],
      ['restream', 1935],
    ] as const) {
      const published = dc(['port', service, String(port)]);
      assert(published.status !== 0 || !/\d+\.\d+\.\d+\.\d+:\d+|:::\d+/.test(published.stdout), `${service}:${port} is published: ${published.stdout.trim()}`);
      const ports = run(DOCKER, ['port', containerId(service)]).stdout.trim();
      assert(ports === '', `${service} publishes ${ports}`);
      assert(!(await tcpConnects(port)), `127.0.0.1:${port} accepts connections`);
    }
    for (const [service, port, protocol] of [
      ['ingest', 9000, 'udp'],
      ['ingest', 5000, 'udp'],
      ['caddy', 443, 'tcp'],
      ['caddy', 80, 'tcp'],
    ] as const) {
      const published = dc(['port', `--protocol=${protocol}`, service, String(port)]).stdout.trim();
      assert(published === `127.0.0.1:${port}`, `${service} ${port}/${protocol} published as "${published}", expected 127.0.0.1:${port}`);
    }
    const all = run(DOCKER, ['ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}} {{.Ports}}']).stdout;
    assert(!/0\.0\.0\.0:|:::/.test(all), `something is published on every interface:\n${all}`);
  },
);

await check('the desktop throttles password guessing: rapid websocket logins beyond a handful get 429', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push(await desktopUpgradeStatus());
  const refused = statuses.filter((s) => s === 429).length;
  assert(refused >= 4 && statuses.every((s) => s === 429 || s === 101), `10 websocket upgrades answered ${statuses.join(' ')} (expected 101s, then 429s)`);
});

sampling = false;
await sampler;
await check('no container ran out of memory; each peak is within its limit', async () => {
  const problems: string[] = [];
  const table: string[] = [];
  for (const service of irlkitServices) {
    const id = containerId(service);
    const oom = run(DOCKER, ['inspect', '-f', '{{.State.OOMKilled}}', id]).stdout.trim();
    const limitMiB = timings[`memLimitMiB_${service}`] ?? 0;
    const peakMiB = Math.round(memoryPeaksMiB[service] ?? 0);
    timings[`memPeakMiB_${service}`] = peakMiB;
    table.push(`${service} ${peakMiB}/${limitMiB} MiB`);
    if (oom === 'true') problems.push(`${service} was OOM-killed`);
    if (limitMiB && peakMiB > limitMiB * 0.9) problems.push(`${service} peaked at ${peakMiB} MiB of its ${limitMiB} MiB limit`);
  }
  process.stdout.write(`    memory peaks: ${table.join(', ')}\n`);
  assert(problems.length === 0, problems.join('\n'));
});

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
process.stdout.write(`\ncompose checks: ${passed} passed, ${failed} failed; timings ${JSON.stringify(timings)}\n`);
if (process.env.IRL_COMPOSE_RESULT) writeFileSync(process.env.IRL_COMPOSE_RESULT, `${passed} ${failed} 0\n${JSON.stringify(timings)}\n`);
process.exit(failed ? 1 : 0);
