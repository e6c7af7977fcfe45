// A local RTMP sink standing in for Twitch: nginx with the RTMP module, on a free loopback port.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface RtmpSink {
  /** rtmp://127.0.0.1:PORT/live (the server URL OBS is given). */
  serverUrl: string;
  port: number;
  /** The URL to read a stream key back from. */
  playUrl(key: string): string;
  stop(): Promise<void>;
}

export async function startRtmpSink(): Promise<RtmpSink> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'irlkit-rtmp-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 128; }
rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; } } }
`,
  );
  const child: ChildProcess = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 5000;
  for (;;) {
    const probe = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
    if (probe.status === 0) break;
    if (Date.now() > deadline) throw new Error(`nginx RTMP sink did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    serverUrl: `rtmp://127.0.0.1:${port}/live`,
    port,
    playUrl: (key) => `rtmp://127.0.0.1:${port}/live/${key}`,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
}

/**
 * ffprobe a stream URL; resolves with its streams, or [] if nothing could be read in time. `via` runs
 * ffprobe through another command (e.g. `docker-compose exec -T rtmp-sink`), for a URL only reachable there.
 */
export function probeStreams(url: string, timeoutMs = 10_000, via: string[] = []): Promise<ProbedStream[]> {
  return new Promise((resolve) => {
    const args = [...via, 'ffprobe', '-v', 'error', '-rw_timeout', String(timeoutMs * 1000), '-show_streams', '-of', 'json', url];
    const child = spawn(args[0] as string, args.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(out) as { streams?: ProbedStream[] }).streams ?? []);
      } catch {
        resolve([]);
      }
    });
  });
}

/** Probes until ffprobe reads both video and audio from the URL; fails with `what` after the timeout. */
export function probeUntilAudioAndVideo(url: string, what: string, timeoutMs: number, via: string[] = [], attemptMs = 5000): Promise<ProbedStream[]> {
  return waitFor(
    async () => {
      const streams = await probeStreams(url, attemptMs, via);
      return streams.some((s) => s.codec_type === 'video') && streams.some((s) => s.codec_type === 'audio') ? streams : undefined;
    },
    what,
    timeoutMs,
  );
}
