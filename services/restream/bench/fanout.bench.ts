// What each extra destination costs while live, and how fast a destination that comes back receives
// again. The restream service as it runs (relay + one `ffmpeg -c copy` per destination) fed by an
// ffmpeg publishing a program at OBS's default bitrate (H.264 2500 kbit/s, 30 fps, 1 s keyframes + AAC
// 128 kbit/s; the copies never decode, so the bitrate is what counts) to the relay, nginx-rtmp sinks as
// platforms. CPU and memory are read per process from /proc (PSS counts the
// shared libraries once across the copies). Writes docs/BENCHMARKS.md.
import { readdirSync, readFileSync } from 'node:fs';
import type { RestreamState } from '@irlkit/shared';
import { probeUntilAudioAndVideo, type RtmpSink, startNats, startRestream, startRtmpFeed, startRtmpSink, testBus, waitFor } from '@irlkit/test-kit';
import { writeBenchSection } from '../../../test/bench/report.ts';

const DESTINATIONS = 4;
const SETTLE_MS = 5000;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 20_000);
const OUTAGES_S = [5, 30];
const CLOCK_TICKS_PER_S = 100;
const GOALS = { cpuPercent: 3, pssMb: 30 };
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Sample {
  cpuTicks: number;
  rssKib: number;
  pssKib: number;
  /** Private_Clean + Private_Dirty: pages only this process holds (USS), what it frees when it ends. */
  ussKib: number;
}

function sample(pid: number): Sample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return {
      cpuTicks: Number(fields[11]) + Number(fields[12]),
      rssKib: Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0),
      pssKib: Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0),
      ussKib: Number(/^Private_Clean:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) + Number(/^Private_Dirty:\s+(\d+)/m.exec(rollup)?.[1] ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** This process's children: the relay (nginx), the sinks (nginx) and the copies (ffmpeg, by the sink port in their command line). */
function children(): { pid: number; comm: string; cmdline: string }[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) return [];
        return [
          {
            pid: Number(p),
            comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
            cmdline: readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '),
          },
        ];
      } catch {
        return [];
      }
    });
}

interface Usage {
  cpuPercent: number;
  rssMb: number;
  pssMb: number;
  ussMb: number;
}

/** CPU % of one core and memory over the window, for each pid. */
async function measure(pids: number[]): Promise<Map<number, Usage>> {
  const first = new Map(pids.map((pid) => [pid, sample(pid)]));
  const started = Date.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const seconds = (Date.now() - started) / 1000;
  const result = new Map<number, Usage>();
  for (const pid of pids) {
    const a = first.get(pid);
    const b = sample(pid);
    if (!a || !b) continue;
    result.set(pid, {
      cpuPercent: ((b.cpuTicks - a.cpuTicks) / CLOCK_TICKS_PER_S / seconds) * 100,
      rssMb: b.rssKib / 1024,
      pssMb: b.pssKib / 1024,
      ussMb: b.ussKib / 1024,
    });
  }
  return result;
}

const nats = await startNats();
const sinks: RtmpSink[] = [];
for (let i = 0; i < DESTINATIONS; i++) sinks.push(await startRtmpSink());
const control = await testBus(nats, 'main', 'bench');
let latest: RestreamState | undefined;
control.subscribe('restream.state', (s) => (latest = s));
const restream = await startRestream(nats, { RECORDING_ENABLED: 'false' });
const feed = startRtmpFeed(restream.publishUrl(), { bitrateKbps: 2500 });
const rows: string[] = [];
let returnRows: string[] = [];
try {
  await waitFor(() => latest?.programLive, 'the program on the relay', 20_000);
  // The sinks are nginx children of this process too: the relay is the one in restream's own folder.
  const relayPid = children().find((c) => c.comm === 'nginx' && c.cmdline.includes('/irlkit-relay-'))?.pid;
  if (!relayPid) throw new Error('no relay process');
  for (let n = 0; n <= DESTINATIONS; n++) {
    if (n > 0) {
      const sink = sinks[n - 1] as RtmpSink;
      const reply = await control.request('destination.save', { name: `Platform ${n}`, url: sink.serverUrl, key: `key${n}` });
      if (!reply.ok) throw new Error(reply.error);
      await waitFor(() => latest?.destinations.filter((d) => d.status === 'connected').length === n, `${n} destinations connected`, 30_000);
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const copies = children().filter((c) => c.comm === 'ffmpeg' && sinks.some((s) => c.cmdline.includes(`:${s.port}/`)));
    const measured = await measure([relayPid, ...copies.map((c) => c.pid)]);
    const relay = measured.get(relayPid);
    const perCopy = copies.map((c) => measured.get(c.pid)).filter((m) => m !== undefined);
    const avg = (f: (m: Usage) => number) => (perCopy.length ? perCopy.reduce((s, m) => s + f(m), 0) / perCopy.length : 0);
    const kbps = latest?.destinations.map((d) => d.bitrateKbps) ?? [];
    const row = `| ${n} | ${relay?.cpuPercent.toFixed(2)} % | ${perCopy.length ? `${avg((m) => m.cpuPercent).toFixed(2)} % (max ${Math.max(...perCopy.map((m) => m.cpuPercent)).toFixed(2)} %)` : '—'} | ${perCopy.length ? `${avg((m) => m.rssMb).toFixed(1)} / ${avg((m) => m.pssMb).toFixed(1)} / ${avg((m) => m.ussMb).toFixed(1)} MB` : '—'} | ${kbps.length ? kbps.join(', ') : '—'} |`;
    log(row);
    rows.push(row);
  }
  for (const sink of sinks) await probeUntilAudioAndVideo(sink.playUrl(`key${sinks.indexOf(sink) + 1}`), `sink ${sinks.indexOf(sink) + 1} receiving`, 20_000);

  // A platform goes away and comes back on the same port: how long until it receives again.
  returnRows = [];
  for (const outageS of OUTAGES_S) {
    const index = 1;
    const port = (sinks[index] as RtmpSink).port;
    await (sinks[index] as RtmpSink).stop();
    const id = 'platform-2';
    await waitFor(() => latest?.destinations.find((d) => d.id === id)?.status !== 'connected', 'the destination to notice its sink is gone', 30_000);
    await new Promise((r) => setTimeout(r, outageS * 1000));
    sinks[index] = await startRtmpSink({ port });
    const backAt = Date.now();
    await waitFor(() => latest?.destinations.find((d) => d.id === id)?.status === 'connected', 'the destination connected again', 60_000, 50);
    const connectedS = (Date.now() - backAt) / 1000;
    await probeUntilAudioAndVideo((sinks[index] as RtmpSink).playUrl('key2'), 'the sink receiving again', 60_000, [], 3000);
    const receivingS = (Date.now() - backAt) / 1000;
    const others = latest?.destinations.filter((d) => d.id !== id).every((d) => d.status === 'connected');
    const row = `| ${outageS} s | ${connectedS.toFixed(1)} s | ${receivingS.toFixed(1)} s | ${others ? 'yes' : 'NO'} |`;
    log(row);
    returnRows.push(row);
  }
} finally {
  await feed.stop();
  await restream.stop();
  await control.closeConnection();
  for (const sink of sinks) await sink.stop();
  await nats.stop();
}

writeBenchSection(
  'restream',
  'Restream: cost of each extra destination, and a platform coming back',
  'pnpm bench fanout',
  `The program at OBS's default bitrate (H.264 2500 kbit/s, 30 fps, a keyframe a second + AAC 128 kbit/s; a
640x360 test pattern published by ffmpeg to the relay: the copies never decode, so only the bitrate counts) copied to N nginx-rtmp sinks, ${WINDOW_MS / 1000} s per row after ${SETTLE_MS / 1000} s settling. CPU in % of one core
from /proc/<pid>/stat; memory from /proc/<pid>/smaps_rollup as RSS / PSS / private: RSS counts the shared
ffmpeg libraries whole in every copy, PSS splits them between every ffmpeg running (the copies, and here the
feed), private (USS) is what only that copy holds and gives back when it ends: what one more destination adds
once the libraries are loaded. Goal per destination: ≤ ${GOALS.cpuPercent} % of a core and ≤ ${GOALS.pssMb} MB, no re-encode (the copies run \`-c copy\`).

| destinations | relay (nginx) CPU | CPU per copy (ffmpeg) | memory per copy RSS / PSS / private | kbit/s out per destination |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

A platform that goes away (its server killed) while live, and comes back on the same address after the
outage; the destination retries with the default backoff (1 s doubling to 15 s), so the wait after the
return is at most one retry delay plus the connection. "Connected" is restream.state saying so; "receiving"
is ffprobe reading H.264+AAC back from the sink (ffprobe's own connection and probing included; it needs a
keyframe, up to 1 s here). One outage each: where in the backoff the return falls decides the wait.

| outage | connected again after the return | receiving (ffprobe) after the return | others stayed connected |
| --- | --- | --- | --- |
${returnRows.join('\n')}`,
);
log('wrote docs/BENCHMARKS.md');
process.exit(0);
