// The services' footprint, as a streamer runs them: the native runner (`./irlkit up`) with every Node
// service, measured idle and live (a feed, OBS streaming, one dashboard open in a phone-sized browser),
// and the JavaScript a phone downloads the first time it opens the dashboard. Writes docs/BENCHMARKS.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { Bus, connectNats, silentLogger } from '@irlkit/shared';
import { launchChromium, nextEvent, portsEnv, runnerPorts, startRtmpSink, startSrtFeed, waitFor } from '@irlkit/test-kit';
import type { Page } from 'playwright-core';
import { percentile, writeBenchSection } from './report.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** How long each state is measured, and how often memory is read within it. */
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
const SAMPLE_EVERY_MS = 5000;
/** Time for start-up work (JIT, first requests, OBS settling) to pass before a state is measured. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 20_000);
const NODE_SERVICES = ['desktop', 'ingest', 'obs-bridge', 'restream', 'chat', 'dashboard'] as const;
const GOALS = { rssMb: 400, idleCpuPercent: 5, firstLoadJsKb: 250 };
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux
const log = (line: string) => process.stdout.write(`${line}\n`);

// ── /proc ─────────────────────────────────────────────────────────────────────────────────────────

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cwd: string;
  rssBytes: number;
  /** Proportional set size: pages shared with other processes (Node's own binary, libraries) split among them. */
  pssBytes: number;
  cpuTicks: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    const rssKib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    let pssKib = 0;
    try {
      pssKib = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone, or no smaps_rollup
    }
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // another user's process, or gone
    }
    return { pid, ppid: Number(fields[1]), comm, cwd, rssBytes: rssKib * 1024, pssBytes: pssKib * 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/**
 * The runner (`rootPid`) and every process below it. A Node process started in a service's folder (or
 * below one) belongs to that service; the runner's own Node processes are "irlkit runner"; any other
 * process (nats-server, OBS, Xvfb, srt-live-transmit, xpra) goes by its name.
 */
function processesBelow(rootPid: number): Array<Proc & { owner: string; isNode: boolean }> {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p): p is Proc => p !== undefined);
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const servicesDir = join(root, 'services');
  const found: Array<Proc & { owner: string; isNode: boolean }> = [];
  for (const p of all) {
    let service: string | undefined;
    let below = false;
    for (let cursor: Proc | undefined = p; cursor; cursor = byPid.get(cursor.ppid)) {
      if (!service && dirname(cursor.cwd) === servicesDir) service = basename(cursor.cwd);
      if (cursor.pid === rootPid) {
        below = true;
        break;
      }
    }
    if (!below) continue;
    const isNode = p.comm === 'node' && service !== undefined && (NODE_SERVICES as readonly string[]).includes(service);
    const owner = isNode
      ? (service as string)
      : p.comm === 'node' && service === undefined
        ? 'irlkit runner (Node)'
        : p.comm === 'esbuild'
          ? "esbuild (the runner's compiler)"
          : p.comm;
    found.push({ ...p, owner, isNode });
  }
  return found;
}

interface Usage {
  /** Per owner (a Node service, or another process by name): median and max resident memory, CPU over the window. */
  rows: Map<string, { rssMedianMb: number; rssMaxMb: number; cpuPercent: number; processes: number; isNode: boolean }>;
  nodeRssMaxTotalMb: number;
  /** The same sum in PSS: what the Node services hold together, each shared page counted once. */
  nodePssMaxTotalMb: number;
  nodeCpuTotalPercent: number;
}

async function measure(runnerPid: number, label: string): Promise<Usage> {
  log(`${label}: measuring for ${WINDOW_MS / 1000} s`);
  const startedAt = process.hrtime.bigint();
  const firstTicks = new Map(processesBelow(runnerPid).map((p) => [p.pid, p.cpuTicks]));
  const rssSamples = new Map<string, number[]>();
  const nodeTotals: number[] = [];
  const nodePssTotals: number[] = [];
  let last = processesBelow(runnerPid);
  for (let elapsed = 0; elapsed < WINDOW_MS; elapsed += SAMPLE_EVERY_MS) {
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    last = processesBelow(runnerPid);
    const perOwner = new Map<string, number>();
    for (const p of last) perOwner.set(p.owner, (perOwner.get(p.owner) ?? 0) + p.rssBytes);
    for (const [owner, bytes] of perOwner) rssSamples.set(owner, [...(rssSamples.get(owner) ?? []), bytes / 2 ** 20]);
    nodeTotals.push(last.filter((p) => p.isNode).reduce((sum, p) => sum + p.rssBytes, 0) / 2 ** 20);
    nodePssTotals.push(last.filter((p) => p.isNode).reduce((sum, p) => sum + p.pssBytes, 0) / 2 ** 20);
  }
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const rows: Usage['rows'] = new Map();
  for (const owner of rssSamples.keys()) {
    const procs = last.filter((p) => p.owner === owner);
    // A process born inside the window counts from zero; one that died in it is missed (none should).
    const ticks = procs.reduce((sum, p) => sum + p.cpuTicks - (firstTicks.get(p.pid) ?? 0), 0);
    const samples = rssSamples.get(owner) ?? [];
    rows.set(owner, {
      rssMedianMb: percentile(samples, 50),
      rssMaxMb: Math.max(...samples),
      cpuPercent: (100 * ticks) / CLOCK_TICKS_PER_S / seconds,
      processes: procs.length,
      isNode: procs.some((p) => p.isNode),
    });
  }
  const nodeCpuTotalPercent = [...rows.values()].filter((r) => r.isNode).reduce((sum, r) => sum + r.cpuPercent, 0);
  const usage = { rows, nodeRssMaxTotalMb: Math.max(...nodeTotals), nodePssMaxTotalMb: Math.max(...nodePssTotals), nodeCpuTotalPercent };
  log(
    `${label}: Node services ${usage.nodeRssMaxTotalMb.toFixed(0)} MB RSS (max of the sums; PSS ${usage.nodePssMaxTotalMb.toFixed(0)} MB), ${nodeCpuTotalPercent.toFixed(1)} % of a core`,
  );
  return usage;
}

// ── the dashboard's JavaScript on a phone's first visit ───────────────────────────────────────────

interface ScriptLoad {
  url: string;
  page: 'login' | 'dashboard';
  wireBytes: number;
  encoding: string;
  bodyBytes: number;
  gzipBytes: number;
  brotliBytes: number;
}

/** Every script a fresh phone-sized browser downloads from the login page to the dashboard showing. */
async function firstLoadScripts(page: Page, dashboardUrl: string, password: string): Promise<ScriptLoad[]> {
  const loads: ScriptLoad[] = [];
  let current: ScriptLoad['page'] = 'login';
  const pending: Array<Promise<void>> = [];
  page.on('requestfinished', (request) => {
    if (request.resourceType() !== 'script') return;
    const stage = current;
    pending.push(
      (async () => {
        const response = await request.response();
        if (!response) return;
        const body = await response.body();
        const sizes = await request.sizes();
        loads.push({
          url: request.url(),
          page: stage,
          wireBytes: sizes.responseBodySize,
          encoding: response.headers()['content-encoding'] ?? 'none',
          bodyBytes: body.length,
          gzipBytes: gzipSync(body, { level: 9 }).length,
          brotliBytes: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
        });
      })(),
    );
  });
  await page.goto(`${dashboardUrl}/login`, { waitUntil: 'load' });
  await page.getByTestId('password').fill(password);
  current = 'dashboard';
  await page.getByTestId('login').click();
  await page.waitForURL(`${dashboardUrl}/`);
  await page.getByTestId('preview').waitFor({ timeout: 30_000 });
  await page.waitForLoadState('load');
  await new Promise((r) => setTimeout(r, 3000)); // lazily loaded chunks
  await Promise.all(pending);
  // The dashboard page asks again for scripts the login page loaded; the browser's cache answers those.
  const firstOfEach = new Map<string, ScriptLoad>();
  for (const load of loads) if (!firstOfEach.has(load.url)) firstOfEach.set(load.url, load);
  return [...firstOfEach.values()];
}

// ── the run ───────────────────────────────────────────────────────────────────────────────────────

const stateDir = mkdtempSync(join(tmpdir(), 'irlkit-footprint-'));
const sink = await startRtmpSink();
const ports = await runnerPorts();
// As `./irlkit up` starts it.
const runner: ChildProcess = spawn('node', ['--import', 'tsx', join(root, 'scripts/runner.ts')], {
  cwd: root,
  env: {
    ...process.env,
    ...portsEnv(ports),
    IRL_STATE_DIR: stateDir,
    IRL_PUBLIC_HOST: '127.0.0.1',
    IRL_ENV_FILE: '/nonexistent',
    OBS_RTMP_URL: sink.serverUrl,
    OBS_RTMP_KEY: 'footprint',
    LOG_LEVEL: 'warn',
    NEXT_TELEMETRY_DISABLED: '1',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
runner.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
runner.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
const runnerExited = new Promise((resolve) => runner.once('exit', resolve));
const browser = await launchChromium();
let live: ReturnType<typeof startSrtFeed> | undefined;

try {
  await waitFor(() => out.includes('irlkit is running'), 'the runner to print that it is running', 60_000);
  const secrets = readFileSync(join(stateDir, 'secrets.env'), 'utf8');
  const password = /^DASHBOARD_PASSWORD=(\S+)/m.exec(secrets)?.[1] as string;
  const operatorPassword = /^NATS_OPERATOR_PASSWORD=(\S+)/m.exec(secrets)?.[1];
  const nc = await connectNats({ url: `nats://127.0.0.1:${ports.NATS_PORT}`, user: 'operator', password: operatorPassword, name: 'footprint' }, silentLogger());
  const bus = new Bus(nc, 'main', silentLogger());
  const dashboardUrl = `http://127.0.0.1:${ports.DASHBOARD_PORT}`;
  await nextEvent(bus, 'obs.state', (s) => s.reachable, 'OBS to become reachable', 120_000);
  await waitFor(async () => (await fetch(`${dashboardUrl}/login`).catch(() => undefined))?.ok, 'the dashboard to answer', 60_000, 500);
  const running = processesBelow(runner.pid as number);
  const missing = NODE_SERVICES.filter((s) => !running.some((p) => p.owner === s && p.isNode));
  if (missing.length > 0) throw new Error(`Node services not running under the runner: ${missing.join(', ')}`);

  log(`idle: letting start-up settle for ${SETTLE_MS / 1000} s`);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const idle = await measure(runner.pid as number, 'idle');

  live = startSrtFeed({ port: ports.SRT_PORT, bitrateKbps: 2500, latencyMs: 500, width: 854, height: 480 });
  await nextEvent(bus, 'switcher.state', (s) => s.state === 'live', 'the feed to go live on OBS', 90_000);
  const started = await bus.request('stream.start', {}, 15_000);
  if (!started.ok) throw new Error(`stream.start refused: ${started.error}`);
  await nextEvent(bus, 'obs.state', (s) => s.streaming, 'OBS to stream to the RTMP sink', 30_000);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const scripts = await firstLoadScripts(await phone.newPage(), dashboardUrl, password);
  log(`live: feed, OBS streaming, one dashboard open; letting it settle for ${SETTLE_MS / 1000} s`);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const busy = await measure(runner.pid as number, 'live');
  await phone.close();
  await bus.request('stream.stop', {}, 15_000);
  await nc.close();

  // ── report ──
  const mb = (n: number) => n.toFixed(0);
  const pct = (n: number) => n.toFixed(1);
  const owners = [...NODE_SERVICES, ...[...busy.rows.keys(), ...idle.rows.keys()].filter((o) => !(NODE_SERVICES as readonly string[]).includes(o))];
  const uniqueOwners = [...new Set(owners)];
  const row = (owner: string) => {
    const i = idle.rows.get(owner);
    const l = busy.rows.get(owner);
    const cell = (u: typeof i) => (u ? `${mb(u.rssMedianMb)} / ${mb(u.rssMaxMb)} | ${pct(u.cpuPercent)}` : '— | —');
    return `| ${owner} | ${l?.processes ?? i?.processes ?? 0} | ${cell(i)} | ${cell(l)} |`;
  };
  const nodeRows = uniqueOwners.filter((o) => (NODE_SERVICES as readonly string[]).includes(o)).map(row);
  const otherRows = uniqueOwners.filter((o) => !(NODE_SERVICES as readonly string[]).includes(o)).map(row);
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const sum = (list: ScriptLoad[], key: 'wireBytes' | 'bodyBytes' | 'gzipBytes' | 'brotliBytes') => list.reduce((s, l) => s + l[key], 0);
  const encodings = [...new Set(scripts.map((s) => s.encoding))].join(', ');
  const scriptRow = (label: string, list: ScriptLoad[]) =>
    `| ${label} | ${list.length} | ${kb(sum(list, 'bodyBytes'))} | ${kb(sum(list, 'wireBytes'))} | ${kb(sum(list, 'gzipBytes'))} | ${kb(sum(list, 'brotliBytes'))} |`;
  const scriptRows = [
    scriptRow(
      'login',
      scripts.filter((s) => s.page === 'login'),
    ),
    scriptRow(
      'dashboard (after login, not already loaded)',
      scripts.filter((s) => s.page === 'dashboard'),
    ),
    scriptRow('**first visit, total**', scripts),
  ].join('\n');
  const wireKb = sum(scripts, 'wireBytes') / 1024;
  const gzipKb = sum(scripts, 'gzipBytes') / 1024;
  const compressedKb = encodings === 'none' ? gzipKb : wireKb;
  const verdict = (met: boolean) => (met ? 'met' : '**missed**');
  const rssMet = Math.max(idle.nodeRssMaxTotalMb, busy.nodeRssMaxTotalMb) <= GOALS.rssMb;
  const cpuMet = idle.nodeCpuTotalPercent <= GOALS.idleCpuPercent;
  const jsMet = compressedKb <= GOALS.firstLoadJsKb;
  const biggest = [...scripts]
    .sort((a, b) => b.gzipBytes - a.gzipBytes)
    .slice(0, 3)
    .map((s) => `\`${new URL(s.url).pathname.split('/').pop()}\` ${kb(s.gzipBytes)} KB`)
    .join(', ');

  writeBenchSection(
    'footprint',
    'Footprint: memory and CPU of the Node services, JavaScript sent to a phone',
    'pnpm bench footprint',
    `
The native runner (\`./irlkit up\`, scripts/runner.ts) with every service, inside a private network
namespace on the 2-core reference machine. **Idle**: everything up, OBS running, no feed, no stream, no
browser. **Live**: an ffmpeg test pattern (854×480, 2500 kbit/s over SRT) into ingest, the switcher on Live,
OBS streaming to the restream relay, which copies it to one destination (a local nginx RTMP sink) and records
it, and one dashboard open in Chromium at 390×844 (preview once a
second, the chart, the timeline). Each state settles for ${SETTLE_MS / 1000} s, then is measured for ${WINDOW_MS / 1000} s: resident
memory (VmRSS) every ${SAMPLE_EVERY_MS / 1000} s, CPU as user+system time over the window in % of one core. A service counts
its Node processes (one each: the runner starts \`node dist/…\`, the service compiled ahead of time, as the images
do); what a service starts that is not Node (OBS, Xvfb, srt-live-transmit, restream's nginx relay and ffmpeg copy
and recorder) and the runner itself are listed in the second table. obs-bridge takes preview screenshots only while
a dashboard page is open (\`dashboard.viewers\`), so idle has none and live has one a second.

| Node service | processes | idle RSS MB median / max | idle CPU % | live RSS MB median / max | live CPU % |
|---|---|---|---|---|---|
${nodeRows.join('\n')}
| **all Node services** | | **${mb(idle.nodeRssMaxTotalMb)}** (max of the sums) | **${pct(idle.nodeCpuTotalPercent)}** | **${mb(busy.nodeRssMaxTotalMb)}** (max of the sums) | **${pct(busy.nodeCpuTotalPercent)}** |
| all Node services, shared pages counted once (PSS) | | ${mb(idle.nodePssMaxTotalMb)} (max of the sums) | | ${mb(busy.nodePssMaxTotalMb)} (max of the sums) | |

Each process's RSS counts every page it touches, also the ones it shares with the others: Node's own binary
(about 30 MB of code each process maps from the same file) is counted once per service in the sum of RSS. The
PSS row splits each shared page among the processes sharing it, so its sum is the memory the six services take
from the machine together. The goal is judged on the sum of RSS, the stricter number.

How they are started (package.json \`start\` and the images' CMD, checked equal by test/start-commands.test.ts):
every service with \`--v8-pool-size=1\` (one V8 helper thread instead of four: about 3 MB less per process, the
malloc arenas of the threads not started); chat, restream and desktop, which supervise processes and relay
messages, also in V8's lite mode (\`--lite-mode --no-expose-wasm\`: no optimising compiler, no WebAssembly; about
10 MB less each); ingest, obs-bridge and the dashboard, which need WebAssembly (dockerode's ssh2, Next.js) or
compiled code for every datagram (ingest), without the optimising compiler (\`--no-opt\`: about 5 MB less each;
Sparkplug's baseline code still runs ingest's datagram path, at the live CPU the table shows). The dashboard loads its pages' server code on first request
(\`experimental.preloadEntriesOnStart: false\`), and obs-bridge loads dockerode only when it watches OBS's container.

Not Node, for scale (not in the goals):

| process | processes | idle RSS MB median / max | idle CPU % | live RSS MB median / max | live CPU % |
|---|---|---|---|---|---|
${otherRows.join('\n')}

The dashboard's JavaScript on a phone's first visit (a fresh browser context, 390×844, mobile): every script
from opening the login page to the dashboard showing its preview. "Sent" is the body bytes on the wire as
the dashboard server sent them (content encoding: ${encodings}); gzip -9 and brotli -11 are what a
compressing reverse proxy in front of it would send.

| page | scripts | uncompressed KB | sent KB | gzip KB | brotli KB |
|---|---|---|---|---|---|
${scriptRows}

Largest scripts (gzip): ${biggest}.

| goal | measured | |
|---|---|---|
| all Node services ≤ ${GOALS.rssMb} MB RSS | idle ${mb(idle.nodeRssMaxTotalMb)} MB, live ${mb(busy.nodeRssMaxTotalMb)} MB (sum of RSS; PSS ${mb(idle.nodePssMaxTotalMb)} / ${mb(busy.nodePssMaxTotalMb)} MB) | ${verdict(rssMet)} |
| all Node services ≤ ${GOALS.idleCpuPercent} % of a core idle | ${pct(idle.nodeCpuTotalPercent)} % | ${verdict(cpuMet)} |
| dashboard first load ≤ ${GOALS.firstLoadJsKb} KB compressed JavaScript | ${kb(compressedKb * 1024)} KB (${encodings === 'none' ? 'gzip -9; the server sent it uncompressed' : `as sent, ${encodings}`}) | ${verdict(jsMet)} |
`,
  );
  log(`footprint written to docs/BENCHMARKS.md: RSS ${verdict(rssMet)}, idle CPU ${verdict(cpuMet)}, first-load JS ${verdict(jsMet)}`);
} finally {
  await live?.stop();
  await browser.close();
  runner.kill('SIGTERM');
  await Promise.race([runnerExited, new Promise((r) => setTimeout(r, 30_000))]);
  await sink.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(0);
