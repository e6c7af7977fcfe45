// The primary destination follows the configured seed (OBS_RTMP_URL / OBS_RTMP_KEY, compose's and the
// runner's single-platform setting) across restarts, on a real nats-server with the list in JetStream:
// an operator who edits .env and restarts changes where the stream goes, and the dashboard's own edits
// stay while .env does not change.
import type { RestreamState } from '@irlkit/shared';
import { startNats, startRestream, type TestNats, type TestRestream, testBus, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('restream: the configured primary destination', () => {
  let nats: TestNats;
  let control: Awaited<ReturnType<typeof testBus>>;
  let restream: TestRestream | undefined;
  let latest: RestreamState | undefined;

  beforeAll(async () => {
    nats = await startNats();
    control = await testBus(nats, 'main', 'control');
    control.subscribe('restream.state', (s) => (latest = s));
  });
  afterAll(async () => {
    await restream?.stop();
    await control?.closeConnection();
    await nats?.stop();
  });

  /** Restarts the service with this seed and waits for its first state once it has started (the list loaded). */
  const restart = async (url: string, key: string) => {
    await restream?.stop();
    restream = await startRestream(nats, { RESTREAM_SEED_URL: url, RESTREAM_SEED_KEY: key, RECORDING_ENABLED: 'false' });
    const since = Date.now();
    await waitFor(() => latest && latest.ts >= since, 'a restream.state after the restart', 15_000, 50);
    return latest?.destinations.map((d) => `${d.id} ${d.url} ${d.keyHint} ${d.enabled ? 'on' : 'off'}`) ?? [];
  };

  it('seeds an empty list, keeps dashboard edits while the seed is unchanged, and takes in a changed seed', async () => {
    expect(await restart('rtmp://platform-a.example/app', 'stream-key-aaaa')).toEqual(['primary rtmp://platform-a.example/app …aaaa on']);

    // The dashboard turns it off and adds a second one; the same .env after a restart changes nothing.
    expect((await control.request('destination.enable', { id: 'primary', enabled: false })).ok).toBe(true);
    expect((await control.request('destination.save', { name: 'Second', url: 'rtmp://platform-b.example/live', key: 'stream-key-bbbb' })).ok).toBe(true);
    expect(await restart('rtmp://platform-a.example/app', 'stream-key-aaaa')).toEqual([
      'primary rtmp://platform-a.example/app …aaaa off',
      'second rtmp://platform-b.example/live …bbbb on',
    ]);

    // A new key in .env: the primary destination takes it (still off, as the dashboard left it).
    expect(await restart('rtmp://platform-a.example/app', 'stream-key-cccc')).toEqual([
      'primary rtmp://platform-a.example/app …cccc off',
      'second rtmp://platform-b.example/live …bbbb on',
    ]);

    // Removed on the dashboard: it stays removed while .env is unchanged, and a changed .env puts it back first.
    expect((await control.request('destination.remove', { id: 'primary' })).ok).toBe(true);
    expect(await restart('rtmp://platform-a.example/app', 'stream-key-cccc')).toEqual(['second rtmp://platform-b.example/live …bbbb on']);
    expect(await restart('rtmps://platform-c.example/app', 'stream-key-dddd')).toEqual([
      'primary rtmps://platform-c.example/app …dddd on',
      'second rtmp://platform-b.example/live …bbbb on',
    ]);
  });
});
