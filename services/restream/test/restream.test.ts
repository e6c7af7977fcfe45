// The fan-out on real components: nats-server, the restream service (nginx relay + one ffmpeg copy per
// destination), an ffmpeg test pattern publishing to the relay as OBS does, nginx-rtmp sinks (one behind
// stunnel for RTMPS, one refusing the key), read back with ffprobe.
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RestreamState } from '@irlkit/shared';
import {
  probeStreams,
  probeUntilAudioAndVideo,
  type RtmpSink,
  type RtmpsTerminator,
  startNats,
  startRestream,
  startRtmpFeed,
  startRtmpSink,
  startRtmpsTerminator,
  type TestNats,
  type TestRestream,
  testBus,
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('restream: one program to every destination', () => {
  let nats: TestNats;
  let sinks: RtmpSink[] = [];
  let refusing: RtmpSink;
  let tls: RtmpsTerminator;
  let restream: TestRestream;
  let control: Awaited<ReturnType<typeof testBus>>;
  let recordings: string;
  let feed: ReturnType<typeof startRtmpFeed> | undefined;
  let latest: RestreamState | undefined;
  const health = (id: string) => latest?.destinations.find((d) => d.id === id);

  beforeAll(async () => {
    nats = await startNats();
    sinks = await Promise.all([startRtmpSink(), startRtmpSink(), startRtmpSink(), startRtmpSink({ acceptKeys: ['kick-key'] })]);
    refusing = await startRtmpSink({ acceptKeys: ['the-right-key'] });
    tls = await startRtmpsTerminator(sinks[3] as RtmpSink);
    recordings = mkdtempSync(join(tmpdir(), 'irlkit-recordings-'));
    // An old recording beyond the age budget: deleted when recording starts.
    const old = join(recordings, 'main-20200101T000000Z.mkv');
    writeFileSync(old, Buffer.alloc(1000));
    utimesSync(old, new Date('2020-01-01'), new Date('2020-01-01'));
    control = await testBus(nats, 'main', 'control');
    control.subscribe('restream.state', (s) => (latest = s));
    restream = await startRestream(nats, {
      RESTREAM_TLS_CA_FILE: tls.certificateFile,
      RESTREAM_RETRY_INITIAL_MS: '500',
      RESTREAM_RETRY_MAX_MS: '2000',
      RESTREAM_SEED_URL: sinks[0]?.serverUrl,
      RESTREAM_SEED_KEY: 'twitch-key-secret',
      RESTREAM_SEED_NAME: 'Twitch',
      RECORDING_DIR: recordings,
      RECORDING_MAX_AGE_HOURS: '24',
    });
  });

  afterAll(async () => {
    await feed?.stop();
    await restream?.stop();
    await control?.closeConnection();
    await tls?.stop();
    for (const sink of [...sinks, refusing]) await sink?.stop();
    await nats?.stop();
    rmSync(recordings, { recursive: true, force: true });
  });

  it('keeps the list in KV with the keys hidden, sends one program to three RTMP and one RTMPS sink, and a refused key fails alone with the reason', async () => {
    const add = async (name: string, url: string, key: string) => {
      const reply = await control.request('destination.save', { name, url, key });
      expect(reply.ok, JSON.stringify(reply)).toBe(true);
    };
    await add('YouTube', (sinks[1] as RtmpSink).serverUrl, 'youtube-key-secret');
    await add('Backup', (sinks[2] as RtmpSink).serverUrl, 'backup-key-secret');
    await add('Kick', tls.serverUrl, 'kick-key');
    await add('Wrong key', refusing.serverUrl, 'a-wrong-key');
    const listed = await waitFor(() => (latest?.destinations.length === 5 ? latest : undefined), 'five destinations in restream.state');
    expect(listed.destinations.map((d) => d.id)).toEqual(['primary', 'youtube', 'backup', 'kick', 'wrong-key']);
    // Keys never come back in full; the list is in the KV bucket for the next start.
    expect(JSON.stringify(listed)).not.toMatch(/key-secret|a-wrong-key/);
    expect(health('primary')?.keyHint).toBe('…cret');
    expect(listed.destinations.every((d) => d.status === 'idle')).toBe(true);

    feed = startRtmpFeed(restream.publishUrl());
    await waitFor(
      () => ['primary', 'youtube', 'backup', 'kick'].every((id) => health(id)?.status === 'connected'),
      `four destinations connected (now ${JSON.stringify(latest?.destinations.map((d) => [d.id, d.status, d.error]))})`,
      30_000,
    );
    const reads = [
      [sinks[0], 'twitch-key-secret'],
      [sinks[1], 'youtube-key-secret'],
      [sinks[2], 'backup-key-secret'],
      [sinks[3], 'kick-key'],
    ] as const;
    for (const [sink, key] of reads) {
      const streams = await probeUntilAudioAndVideo((sink as RtmpSink).playUrl(key), `H.264+AAC on ${key}`, 30_000);
      expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
      expect(streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');
    }
    const wrong = await waitFor(
      () => (health('wrong-key')?.status === 'failed' && health('wrong-key')?.error ? health('wrong-key') : undefined),
      'the wrong key reported failed',
      20_000,
    );
    expect(wrong?.error).toMatch(/stream key refused/);
    expect(wrong?.error).not.toContain('a-wrong-key');
    expect(refusing.refused).toContain('a-wrong-key');
    // It keeps retrying with backoff, and the others keep receiving.
    await waitFor(() => (health('wrong-key')?.failures ?? 0) >= 2, 'a second attempt of the refused destination', 20_000);
    expect(['primary', 'youtube', 'backup', 'kick'].map((id) => health(id)?.status)).toEqual(['connected', 'connected', 'connected', 'connected']);
    expect(health('kick')?.bitrateKbps).toBeGreaterThan(300);
    expect(health('primary')?.uptimeMs).toBeGreaterThan(1000);
  });

  it('turning one destination off while live stops only it, and on again brings it back', async () => {
    const off = await control.request('destination.enable', { id: 'backup', enabled: false });
    expect(off.ok).toBe(true);
    await waitFor(() => health('backup')?.status === 'disabled', 'backup disabled');
    expect(await probeStreams((sinks[2] as RtmpSink).playUrl('backup-key-secret'), 4000)).toEqual([]);
    await probeUntilAudioAndVideo((sinks[1] as RtmpSink).playUrl('youtube-key-secret'), 'youtube still receiving', 20_000);
    expect(health('primary')?.status).toBe('connected');
    const on = await control.request('destination.enable', { id: 'backup', enabled: true });
    expect(on.ok).toBe(true);
    await waitFor(() => health('backup')?.status === 'connected', 'backup connected again', 30_000);
  });

  it('refuses bad edits with the field named, and a publisher with the wrong relay key', async () => {
    const bad = await control.request('destination.save', { name: 'x', url: 'http://example.com/live' } as never);
    expect(bad).toMatchObject({ ok: false });
    expect(!bad.ok && bad.error).toMatch(/url/);
    const missing = await control.request('destination.enable', { id: 'nope', enabled: true });
    expect(!missing.ok && missing.error).toMatch(/no destination "nope"/);
    const intruder = startRtmpFeed(restream.publishUrl('not-the-key'));
    await new Promise((resolve) => intruder.child.once('exit', resolve));
    expect(intruder.child.exitCode).not.toBe(0);
    expect(health('primary')?.status).toBe('connected');
  });

  it('records the program to a Matroska file that plays back, within the budget', async () => {
    const state = restream.app.recorder.state();
    expect(state.status).toBe('recording');
    expect(state.current).toMatch(/^main-\d{8}T\d{6}Z\.mkv$/);
    expect(existsSync(join(recordings, 'main-20200101T000000Z.mkv'))).toBe(false);
    const file = join(recordings, state.current as string);
    await feed?.stop();
    feed = undefined;
    await waitFor(() => restream.app.recorder.state().status === 'idle', 'the recording closed when the program left', 15_000);
    await waitFor(() => latest && !latest.programLive && latest.destinations.every((d) => d.status === 'idle' || d.status === 'disabled'), 'destinations idle');
    const streams = await probeStreams(file, 10_000);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  });
});

describe('restream: a platform that never answers, or hangs', () => {
  let nats: TestNats;
  let sink: RtmpSink;
  let silent: Server;
  let silentPort: number;
  const accepted: Socket[] = [];
  let restream: TestRestream;
  let control: Awaited<ReturnType<typeof testBus>>;
  let feed: ReturnType<typeof startRtmpFeed> | undefined;
  let latest: RestreamState | undefined;
  const health = (id: string) => latest?.destinations.find((d) => d.id === id);

  beforeAll(async () => {
    nats = await startNats();
    sink = await startRtmpSink();
    // Accepts the connection and never says a word: a host behind a firewall that drops, or a hung server.
    silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as AddressInfo).port;
    control = await testBus(nats, 'main', 'control');
    control.subscribe('restream.state', (s) => (latest = s));
    restream = await startRestream(nats, {
      // Long enough for a copy to read the relay and reach the platform (the timeout counts from its start).
      RESTREAM_CONNECT_TIMEOUT_MS: '4000',
      RESTREAM_STALL_TIMEOUT_MS: '3000',
      RESTREAM_RETRY_INITIAL_MS: '500',
      RESTREAM_RETRY_MAX_MS: '1000',
      RESTREAM_SEED_URL: sink.serverUrl,
      RESTREAM_SEED_KEY: 'good-key',
      RECORDING_ENABLED: 'false',
    });
  });

  afterAll(async () => {
    await feed?.stop();
    await restream?.stop();
    await control?.closeConnection();
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await sink?.stop();
    await nats?.stop();
  });

  it('is given up on after the connect timeout with the reason, retried, and the others keep sending', async () => {
    const saved = await control.request('destination.save', { name: 'Silent', url: `rtmp://127.0.0.1:${silentPort}/live`, key: 'silent-key-secret' });
    expect(saved.ok, JSON.stringify(saved)).toBe(true);
    feed = startRtmpFeed(restream.publishUrl());
    const failed = await waitFor(
      () => (health('silent')?.status === 'failed' && (health('silent')?.failures ?? 0) >= 2 && accepted.length >= 2 ? health('silent') : undefined),
      `the silent destination tried twice and failed (now ${JSON.stringify(health('silent'))}, ${accepted.length} connections)`,
      40_000,
    );
    expect(failed?.error).toMatch(new RegExp(`no answer from 127\\.0\\.0\\.1:${silentPort}`));
    expect(JSON.stringify(latest)).not.toContain('silent-key-secret');
    await waitFor(() => health('primary')?.status === 'connected', 'the answering destination connected', 30_000);
    await probeUntilAudioAndVideo(sink.playUrl('good-key'), 'the answering destination receiving', 30_000);
    expect(health('primary')?.status).toBe('connected');
  });

  it('a platform that hangs while live is reconnected after the stall timeout, and receives again once it runs', async () => {
    expect(health('primary')?.status).toBe('connected');
    sink.hang(true);
    try {
      const stalled = await waitFor(
        () => (health('primary')?.status === 'reconnecting' ? health('primary') : undefined),
        `the hung destination reconnecting (now ${JSON.stringify(health('primary'))})`,
        60_000,
      );
      expect(stalled?.error).toBe(`127.0.0.1:${sink.port} stopped taking data`);
    } finally {
      sink.hang(false);
    }
    await waitFor(() => health('primary')?.status === 'connected', 'the destination connected again', 30_000);
    await probeUntilAudioAndVideo(sink.playUrl('good-key'), 'the destination receiving again', 30_000);
  });
});
