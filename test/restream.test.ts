// Multi-destination restream end to end with a real OBS (private network namespace): a test feed over
// SRT into ingest, OBS (provisioned, under Xvfb) streaming the program once to the restream relay on
// stream.start, three nginx-rtmp sinks and one RTMPS sink (stunnel in front of nginx-rtmp) each reading
// H.264+AAC back with ffprobe, one sink refusing the key; toggling one off while live; the recording and
// its budget.
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RestreamState } from '@irlkit/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freeTcpPort,
  probeStreams,
  probeUntilAudioAndVideo,
  type RtmpSink,
  type RtmpsTerminator,
  startRestream,
  startRtmpSink,
  startRtmpsTerminator,
  startSrtFeed,
  startStack,
  TEST_RELAY_KEY,
  type TestRestream,
  type TestStack,
  waitFor,
} from './kit/index.ts';

const MB = 1_000_000;

describe('restream with a real OBS', () => {
  let stack: TestStack;
  let restream: TestRestream;
  let sinks: RtmpSink[] = [];
  let refusing: RtmpSink;
  let tls: RtmpsTerminator;
  let feed: ReturnType<typeof startSrtFeed> | undefined;
  let recordings: string;
  let latest: RestreamState | undefined;
  const health = (id: string) => latest?.destinations.find((d) => d.id === id);
  const LIVE = ['primary', 'youtube', 'backup', 'kick'];

  beforeAll(async () => {
    const relayPort = await freeTcpPort();
    stack = await startStack({ obsRtmp: { url: `rtmp://127.0.0.1:${relayPort}/program`, key: TEST_RELAY_KEY } });
    sinks = await Promise.all([startRtmpSink(), startRtmpSink(), startRtmpSink(), startRtmpSink({ acceptKeys: ['kick-key'] })]);
    refusing = await startRtmpSink({ acceptKeys: ['the-right-key'] });
    tls = await startRtmpsTerminator(sinks[3] as RtmpSink);
    recordings = mkdtempSync(join(tmpdir(), 'irlkit-obs-recordings-'));
    // Two earlier recordings from today (well within the age budget): the older (55 MB) must go once the
    // live one takes the folder past its 60 MB budget; the newer stays (the folder is within budget again without it).
    const older = join(recordings, 'main-20250101T000000Z.mkv');
    const newer = join(recordings, 'main-20250102T000000Z.mkv');
    writeFileSync(older, Buffer.alloc(55 * MB));
    writeFileSync(newer, Buffer.alloc(1 * MB));
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    utimesSync(older, hoursAgo(2), hoursAgo(2));
    utimesSync(newer, hoursAgo(1), hoursAgo(1));
    restream = await startRestream(stack.nats, {
      RESTREAM_RELAY_PORT: String(relayPort),
      RESTREAM_TLS_CA_FILE: tls.certificateFile,
      RESTREAM_RETRY_INITIAL_MS: '500',
      RESTREAM_RETRY_MAX_MS: '2000',
      RESTREAM_SEED_URL: sinks[0]?.serverUrl,
      RESTREAM_SEED_KEY: 'twitch-key',
      RECORDING_DIR: recordings,
      RECORDING_MAX_GB: '0.06',
    });
    stack.observer.subscribe('restream.state', (s) => (latest = s));
    for (const [name, url, key] of [
      ['YouTube', sinks[1]?.serverUrl, 'youtube-key'],
      ['Backup', sinks[2]?.serverUrl, 'backup-key'],
      ['Kick', tls.serverUrl, 'kick-key'],
      ['Wrong key', refusing.serverUrl, 'a-wrong-key'],
    ] as const) {
      const reply = await stack.observer.request('destination.save', { name, url: url as string, key });
      expect(reply.ok, JSON.stringify(reply)).toBe(true);
    }
    feed = startSrtFeed({ port: stack.srtPort, bitrateKbps: 2000 });
  });

  afterAll(async () => {
    await feed?.stop();
    await restream?.stop();
    await tls?.stop();
    for (const sink of [...sinks, refusing]) await sink?.stop();
    await stack?.stop();
    rmSync(recordings, { recursive: true, force: true });
  });

  it('one Start: three RTMP sinks and one RTMPS sink receive H.264+AAC; the refused key fails alone, with the reason', async () => {
    const started = await stack.observer.request('stream.start', {}, 15_000);
    expect(started.ok, JSON.stringify(started)).toBe(true);
    await waitFor(
      () => LIVE.every((id) => health(id)?.status === 'connected'),
      `every destination but the wrong key connected (now ${JSON.stringify(latest?.destinations.map((d) => [d.id, d.status, d.error]))})`,
      60_000,
      200,
    );
    for (const [sink, key] of [
      [sinks[0], 'twitch-key'],
      [sinks[1], 'youtube-key'],
      [sinks[2], 'backup-key'],
      [sinks[3], 'kick-key'],
    ] as const) {
      const streams = await probeUntilAudioAndVideo((sink as RtmpSink).playUrl(key), `OBS's program on ${key}`, 30_000);
      expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
      expect(streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');
    }
    const wrong = await waitFor(() => (health('wrong-key')?.status === 'failed' ? health('wrong-key') : undefined), 'the wrong key failing', 20_000);
    expect(wrong?.error).toMatch(/stream key refused/);
    expect(JSON.stringify(latest)).not.toContain('a-wrong-key');
    await waitFor(() => (health('wrong-key')?.failures ?? 0) >= 2, 'the refused destination retrying', 20_000);
    expect(LIVE.map((id) => health(id)?.status)).toEqual(['connected', 'connected', 'connected', 'connected']);
  });

  it('toggling one off while live stops only it', async () => {
    expect((await stack.observer.request('destination.enable', { id: 'backup', enabled: false })).ok).toBe(true);
    await waitFor(() => health('backup')?.status === 'disabled', 'backup off');
    expect(await probeStreams((sinks[2] as RtmpSink).playUrl('backup-key'), 4000)).toEqual([]);
    await probeUntilAudioAndVideo((sinks[1] as RtmpSink).playUrl('youtube-key'), 'youtube still receiving', 20_000);
    expect(['primary', 'youtube', 'kick'].map((id) => health(id)?.status)).toEqual(['connected', 'connected', 'connected']);
  });

  it('the recording plays back, and the budget deleted the oldest but never the one recording', async () => {
    const current = restream.app.recorder.state().current as string;
    expect(current).toMatch(/^main-\d{8}T\d{6}Z\.mkv$/);
    // OBS at 2.5 Mbit/s has passed 4 MB by now: the budget check (every 30 s while recording) deletes the oldest.
    await waitFor(() => !existsSync(join(recordings, 'main-20250101T000000Z.mkv')), 'the oldest recording deleted over the budget', 60_000, 500);
    expect((await stack.observer.request('stream.stop', {}, 15_000)).ok).toBe(true);
    await waitFor(() => restream.app.recorder.state().status === 'idle', 'the recording closed when OBS stopped', 20_000);
    expect(existsSync(join(recordings, 'main-20250101T000000Z.mkv'))).toBe(false);
    expect(existsSync(join(recordings, 'main-20250102T000000Z.mkv'))).toBe(true);
    expect(existsSync(join(recordings, current))).toBe(true);
    const streams = await probeStreams(join(recordings, current), 10_000);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    await waitFor(
      () => latest?.programLive === false && latest.destinations.every((d) => d.status === 'idle' || d.status === 'disabled'),
      'destinations idle after Stop',
    );
  });
});
