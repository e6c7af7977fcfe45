// The pure pieces of a destination, on captured ffmpeg output: URLs, key hints, redaction, progress, reasons.
import { describe, expect, it } from 'vitest';
import { describeEnd, destinationHost, keyHint, OutputLog, outputTarget, ProgressParser, redact } from '../src/destinations/target.ts';
import { recordingFileName, recordingsToDelete } from '../src/recording/budget.ts';

describe('destination target', () => {
  it('joins the key the way each protocol carries it', () => {
    expect(outputTarget({ url: 'rtmp://live.twitch.tv/app/', key: 'live_123' })).toEqual({ url: 'rtmp://live.twitch.tv/app/live_123', format: 'flv' });
    expect(outputTarget({ url: 'rtmps://fa723fc1b171.global-contribute.live-video.net/app', key: 'sk_x' }).url).toBe(
      'rtmps://fa723fc1b171.global-contribute.live-video.net/app/sk_x',
    );
    expect(outputTarget({ url: 'srt://ingest.example:9000?latency=2000000', key: 'a b' })).toEqual({
      url: 'srt://ingest.example:9000?latency=2000000&streamid=a%20b',
      format: 'mpegts',
    });
    expect(destinationHost('rtmps://kick.example/app')).toBe('kick.example:443');
    expect(destinationHost('rtmp://127.0.0.1:1936/live')).toBe('127.0.0.1:1936');
  });

  it('never shows or logs a key', () => {
    expect(keyHint('live_123456789_abcdef')).toBe('…cdef');
    expect(keyHint('short')).toBe('…');
    expect(keyHint('')).toBe('');
    expect(redact('rtmp://h/app/live_1%2F2: Input/output error', ['live_1/2'])).toBe('rtmp://h/app/***: Input/output error');
  });

  it('reads -progress blocks', () => {
    const parser = new ProgressParser();
    for (const line of ['frame=30', 'drop_frames=2', 'total_size=123456', 'bitrate=N/A']) expect(parser.line(line)).toBeUndefined();
    expect(parser.line('progress=continue')).toEqual({ totalBytes: 123456, droppedFrames: 2, frames: 30, ended: false });
  });

  it('says why an attempt ended, from what ffmpeg printed', () => {
    const log = new OutputLog('127.0.0.1:19443', ['good']);
    for (const line of [
      '[tcp @ 0x55e0ee6dc6c0] [verbose] Successfully connected to 127.0.0.1 port 19443',
      '[tls @ 0x55e0ee6dc6c0] [error] Peer certificate failed verification',
      '[rtmps @ 0x55e0ee6df800] [error] Cannot open connection tls://127.0.0.1:19443',
      '[error] rtmps://127.0.0.1:19443/live/good: Input/output error',
    ])
      log.line(line);
    expect(log.connected).toBe(true);
    expect(log.errors.at(-1)).toBe('rtmps://127.0.0.1:19443/live/***: Input/output error');
    expect(describeEnd({ host: '127.0.0.1:19443', connected: true, sentBytes: 0, errors: log.errors, timedOut: null })).toMatch(/certificate did not verify/);
    expect(describeEnd({ host: 'h:1935', connected: true, sentBytes: 0, errors: ['rtmp://h/live/***: Input/output error'], timedOut: null })).toMatch(
      /stream key refused/,
    );
    // RTMP's own handshake cut short by the platform is not TLS.
    expect(
      describeEnd({
        host: 'h:1935',
        connected: true,
        sentBytes: 0,
        errors: ['Cannot read RTMP handshake response', 'rtmp://h/live/***: End of file'],
        timedOut: null,
      }),
    ).toMatch(/stream key refused/);
    expect(describeEnd({ host: 'h:1935', connected: false, sentBytes: 0, errors: ['rtmp://h/live/***: Connection refused'], timedOut: null })).toBe(
      'connection refused by h:1935',
    );
    expect(describeEnd({ host: 'h:1935', connected: false, sentBytes: 0, errors: [], timedOut: 'connect' })).toMatch(/no answer from h:1935/);
  });
});

describe('recording budget', () => {
  const hour = 3_600_000;
  const now = Date.parse('2026-12-01T12:00:00Z');
  const files = [
    { name: 'a', bytes: 400, modifiedAt: now - 5 * hour },
    { name: 'b', bytes: 400, modifiedAt: now - 3 * hour },
    { name: 'c', bytes: 400, modifiedAt: now - 1 * hour },
  ];
  it('deletes the oldest first until the size fits, never the one being written', () => {
    expect(recordingsToDelete(files, { maxBytes: 900, maxAgeMs: 100 * hour }, now, 'c')).toEqual(['a']);
    expect(recordingsToDelete(files, { maxBytes: 300, maxAgeMs: 100 * hour }, now, 'c')).toEqual(['a', 'b']);
    expect(recordingsToDelete(files, { maxBytes: 300, maxAgeMs: 100 * hour }, now, 'a')).toEqual(['b', 'c']);
  });
  it('deletes what is older than the age budget', () => {
    expect(recordingsToDelete(files, { maxBytes: 1e9, maxAgeMs: 2 * hour }, now, null)).toEqual(['a', 'b']);
  });
  it('names files by stream and UTC start', () => {
    expect(recordingFileName('main', new Date('2026-12-01T23:04:05.123Z'))).toBe('main-20261201T230405Z.mkv');
  });
});
