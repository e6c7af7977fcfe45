// OBS provisioning into a temp $XDG_CONFIG_HOME: what configuration owns is written on every start,
// what the streamer changed in OBS through the desktop survives, and running it twice changes nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desktopConfig } from '../src/config.ts';
import { parseIni } from '../src/provision/obs-files.ts';
import { provisionObs } from '../src/provision/write.ts';

interface Source {
  name: string;
  id: string;
  settings: Record<string, unknown> & { items?: Array<{ name: string }> };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'irlkit-provision-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function provision(env: Record<string, string> = {}) {
  const config = desktopConfig.load({ envFile: false, source: { OBS_CONFIG_DIR: dir, OBS_WS_PASSWORD: 'ws-password-1234', ...env } });
  return provisionObs(dir, config.provision);
}
/** An INI file as plain objects: section → key → value. */
const readIni = (path: string): Record<string, Record<string, string> | undefined> =>
  Object.fromEntries([...parseIni(readFileSync(path, 'utf8'))].map(([section, entries]) => [section, Object.fromEntries(entries)]));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as { sources: Source[]; scene_order?: Array<{ name: string }> };

describe('OBS provisioning', () => {
  it('writes the websocket, the wizard off, Advanced output with 2 s keyframes, rtmps, and the five scenes', () => {
    const paths = provision({ OBS_RTMP_URL: 'rtmps://live.example.com/app', OBS_RTMP_KEY: 'key-123', OBS_VIDEO_BITRATE_KBPS: '3000' });
    const global = readIni(paths.global);
    expect(global.General?.FirstRun).toBe('true');
    expect(global.OBSWebSocket).toMatchObject({ ServerEnabled: 'true', ServerPort: '4455', ServerPassword: 'ws-password-1234', AuthRequired: 'true' });
    const profile = readIni(paths.profile);
    expect(profile.Output?.Mode).toBe('Advanced');
    expect(profile.Video).toMatchObject({ BaseCX: '854', BaseCY: '480', OutputCX: '854', OutputCY: '480' });
    expect(profile.Audio?.SampleRate).toBe('48000');
    expect(JSON.parse(readFileSync(paths.encoder, 'utf8'))).toMatchObject({ rate_control: 'CBR', bitrate: 3000, keyint_sec: 2 });
    expect(JSON.parse(readFileSync(paths.service, 'utf8'))).toMatchObject({
      type: 'rtmp_custom',
      settings: { server: 'rtmps://live.example.com/app', key: 'key-123' },
    });
    const scenes = readJson(paths.scenes)
      .sources.filter((s) => s.id === 'scene')
      .map((s) => s.name);
    expect(scenes.sort()).toEqual(['Live', 'Low', 'Offline', 'Privacy', 'Starting']);
  });

  it("sets the feed input's audio sync offset (OBS keeps it in ns) from OBS_FEED_AUDIO_DELAY_MS, 0 by default (the bridge's audio anchor keeps it on its picture)", () => {
    const syncOf = (paths: ReturnType<typeof provision>) =>
      (readJson(paths.scenes).sources.find((s) => s.name === 'SRT feed') as Source & { sync?: number }).sync;
    expect(syncOf(provision())).toBe(0);
    expect(syncOf(provision({ OBS_FEED_AUDIO_DELAY_MS: '30' }))).toBe(30_000_000);
    expect(syncOf(provision({ OBS_FEED_AUDIO_DELAY_MS: '-20' }))).toBe(-20_000_000);
    expect(() => provision({ OBS_FEED_AUDIO_DELAY_MS: '30ms' })).toThrow(/OBS_FEED_AUDIO_DELAY_MS/);
  });

  it('is idempotent: a second run writes the very same files', () => {
    const paths = provision();
    const first = Object.values(paths)
      .filter((p) => p.endsWith('.ini') || p.endsWith('.json'))
      .map((p) => readFileSync(p, 'utf8'));
    provision();
    const second = Object.values(paths)
      .filter((p) => p.endsWith('.ini') || p.endsWith('.json'))
      .map((p) => readFileSync(p, 'utf8'));
    expect(second).toEqual(first);
  });

  it("starts OBS with its own preview off (the software renderer's cost) and keeps the operator's choice once made", () => {
    const paths = provision();
    expect(readIni(paths.global).BasicWindow?.PreviewEnabled).toBe('false');
    // The operator turns it on in the desktop (right-click → Enable Preview); OBS saves it; the next start keeps it.
    writeFileSync(paths.global, readFileSync(paths.global, 'utf8').replace('PreviewEnabled=false', 'PreviewEnabled=true'));
    provision();
    expect(readIni(paths.global).BasicWindow?.PreviewEnabled).toBe('true');
  });

  it("keeps the streamer's own sources, scenes and extra items; configuration wins for what it owns", () => {
    const paths = provision();
    const collection = readJson(paths.scenes);
    // The streamer, through the desktop: adds a webcam overlay to Live, a scene of their own,
    // and points the feed input somewhere else (a key configuration owns).
    collection.sources.push({ name: 'Chat overlay', id: 'browser_source', settings: { url: 'https://chat.example/overlay' } });
    collection.sources.push({ name: 'Just chatting', id: 'scene', settings: { items: [{ name: 'Chat overlay' }] } });
    const live = collection.sources.find((s) => s.name === 'Live') as Source;
    live.settings.items = [...(live.settings.items ?? []), { name: 'Chat overlay' }];
    const feed = collection.sources.find((s) => s.name === 'SRT feed') as Source;
    feed.settings.input = 'udp://somewhere-else';
    writeFileSync(paths.scenes, JSON.stringify(collection));
    const global = readFileSync(paths.global, 'utf8');
    writeFileSync(paths.global, `${global}\n[Custom]\nTheme=Light\n`);

    provision({ OBS_FEED_URL: 'tcp://127.0.0.1:9101' });
    const after = readJson(paths.scenes);
    expect(after.sources.map((s) => s.name)).toEqual(expect.arrayContaining(['Chat overlay', 'Just chatting']));
    expect((after.sources.find((s) => s.name === 'Live') as Source).settings.items?.map((i) => i.name)).toEqual(['SRT feed', 'Chat overlay']);
    expect((after.sources.find((s) => s.name === 'SRT feed') as Source).settings.input).toBe('tcp://127.0.0.1:9101');
    expect(readIni(paths.global).Custom?.Theme).toBe('Light');
  });

  it('replaces a corrupt scene collection instead of failing to start', () => {
    const paths = provision();
    writeFileSync(paths.scenes, '{ not json');
    provision();
    expect(readJson(paths.scenes).sources.some((s) => s.name === 'Live')).toBe(true);
  });
});
