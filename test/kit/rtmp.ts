// A local RTMP sink standing in for Twitch: nginx with the RTMP module, on a free loopback port.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encoderArgs } from './ffmpeg.ts';
import { freeTcpPort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface RtmpSink {
  /** rtmp://127.0.0.1:PORT/live (the server URL OBS is given). */
  serverUrl: string;
  port: number;
  /** The URL to read a stream key back from. */
  playUrl(key: string): string;
  /** Publishes turned away (a key not in `acceptKeys`). */
  readonly refused: string[];
  /** Freezes the server (SIGSTOP: connections stay open, nothing is read), or lets it run again. */
  hang(hung: boolean): void;
  stop(): Promise<void>;
}

export interface RtmpSinkOptions {
  /**
   * Only these stream keys may publish; any other is turned away at publish, as Twitch, YouTube and Kick
   * do with a wrong key (nginx-rtmp's on_publish answered 403). Every key when omitted.
   */
  acceptKeys?: string[];
  /** A fixed port (a sink that comes back where it was); a free one when omitted. */
  port?: number;
}

/** nginx-rtmp's on_publish door for `acceptKeys`: a loopback HTTP server in the test process. */
async function publishGate(acceptKeys: string[], refused: string[]): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const name = new URLSearchParams(body).get('name') ?? '';
      const ok = acceptKeys.includes(name);
      if (!ok) refused.push(name);
      response.statusCode = ok ? 200 : 403;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/publish`, server };
}

export async function startRtmpSink(options: RtmpSinkOptions = {}): Promise<RtmpSink> {
  const port = options.port ?? (await freeTcpPort());
  const refused: string[] = [];
  const gate = options.acceptKeys ? await publishGate(options.acceptKeys, refused) : undefined;
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
rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off;${gate ? ` on_publish ${gate.url};` : ''} } } }
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
    refused,
    hang: (hung) => child.kill(hung ? 'SIGSTOP' : 'SIGCONT'),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (gate) await new Promise((resolve) => gate.server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RtmpsTerminator {
  /** rtmps://127.0.0.1:PORT/live: the sink behind TLS. */
  serverUrl: string;
  port: number;
  /** The self-signed certificate (PEM) the terminator presents: the CA file a client verifies it with. */
  certificateFile: string;
  stop(): Promise<void>;
}

/**
 * RTMPS in front of an RTMP sink, as Kick and YouTube's TLS door speak it: stunnel (Debian's stunnel4)
 * terminates TLS with a fresh self-signed certificate for 127.0.0.1 and forwards to the sink.
 */
export async function startRtmpsTerminator(sink: RtmpSink): Promise<RtmpsTerminator> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'irlkit-rtmps-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  if (made.status !== 0) throw new Error('openssl could not make the RTMPS test certificate');
  const conf = join(dir, 'stunnel.conf');
  writeFileSync(
    conf,
    `foreground = yes\npid =\ndebug = 3\n[rtmps]\naccept = 127.0.0.1:${port}\nconnect = 127.0.0.1:${sink.port}\ncert = ${cert}\nkey = ${key}\n`,
  );
  const child: ChildProcess = spawn('stunnel4', [conf], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 5000;
  for (;;) {
    const probe = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
    if (probe.status === 0) break;
    if (Date.now() > deadline) throw new Error(`stunnel (RTMPS) did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    serverUrl: `rtmps://127.0.0.1:${port}/live`,
    port,
    certificateFile: cert,
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

/** A test pattern (H.264 + AAC, 1 s keyframes) published over RTMP, standing in for OBS's output. */
export function startRtmpFeed(url: string, options: { bitrateKbps?: number } = {}): { child: ChildProcess; stop(): Promise<void> } {
  const kbps = options.bitrateKbps ?? 1500;
  const child = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=30',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
      ...encoderArgs({ kbps, keyframeEvery: 30 }),
      '-f',
      'flv',
      url,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
