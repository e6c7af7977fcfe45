// The OBS watchdog's policy on a fake clock: when it restarts OBS, how it backs off, what it restores.
import { describe, expect, it } from 'vitest';
import { containerEvent } from '../src/watchdog/docker.ts';
import { DEFAULT_WATCHDOG_SETTINGS, sceneToRestore, type WatchdogAction, WatchdogPolicy } from '../src/watchdog/policy.ts';

const settings = { ...DEFAULT_WATCHDOG_SETTINGS, timeoutMs: 10_000, startupGraceMs: 20_000, maxGraceMs: 80_000 };

function setup() {
  let now = 1_000_000;
  const policy = new WatchdogPolicy(settings, now);
  const actions: Array<WatchdogAction & { at: number }> = [];
  const take = (list: WatchdogAction[]) => {
    for (const a of list) actions.push({ ...a, at: now });
  };
  /** Advances the clock in 100 ms ticks. */
  const wait = (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      now += 100;
      take(policy.tick(now));
    }
  };
  const restarts = () => actions.filter((a) => a.type === 'restartObs');
  const up = (streaming = false, scene: string | null = 'Live') => take(policy.observeReachable(true, now, { streaming, scene }));
  const down = () => take(policy.observeReachable(false, now));
  return { policy, actions, take, wait, restarts, up, down, now: () => now };
}

describe('watchdog policy', () => {
  it('gives a booting OBS the startup grace before the first restart', () => {
    const t = setup();
    t.wait(19_900);
    expect(t.restarts()).toHaveLength(0);
    t.wait(200);
    expect(t.restarts()).toHaveLength(1);
  });

  it('never restarts an OBS that is reachable', () => {
    const t = setup();
    t.up();
    t.wait(120_000);
    expect(t.actions).toHaveLength(0);
  });

  it('restarts OBS once it has been unreachable for the timeout', () => {
    const t = setup();
    t.wait(30_000);
    t.up();
    const before = t.restarts().length;
    t.down();
    const lostAt = t.now();
    t.wait(9_900);
    expect(t.restarts()).toHaveLength(before);
    t.wait(200);
    const restart = t.restarts().at(-1);
    expect(restart?.at).toBeGreaterThanOrEqual(lostAt + 10_000);
    expect(restart?.at).toBeLessThanOrEqual(lostAt + 10_100);
    expect(restart).toMatchObject({ type: 'restartObs', attempt: 1 });
  });

  it('once OBS has been up, an outage waits for the timeout only, not the startup grace', () => {
    const t = setup();
    t.wait(1000);
    t.up();
    t.wait(1000);
    t.down();
    const lostAt = t.now();
    t.wait(10_500);
    expect(t.restarts().map((r) => r.at - lostAt)).toEqual([10_000]);
  });

  it('backs off: each restart that does not bring OBS back doubles the wait, up to the cap', () => {
    const t = setup();
    t.up();
    t.wait(60_000);
    t.down();
    t.wait(400_000);
    const at = t.restarts().map((r) => r.at);
    const gaps = at.slice(1).map((v, i) => Math.round((v - (at[i] as number)) / 1000));
    expect(gaps.slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(
      t
        .restarts()
        .map((r) => (r as { attempt: number }).attempt)
        .slice(0, 3),
    ).toEqual([1, 2, 3]);
  });

  it('restores streaming and the scene after OBS comes back', () => {
    const t = setup();
    t.up(false, 'Live');
    t.policy.observeStreaming(true, t.now());
    t.policy.observeProgramScene('Low');
    t.wait(1000);
    t.down();
    t.wait(15_000);
    t.up(false, 'Offline');
    const restore = t.actions.find((a) => a.type === 'restore');
    expect(restore).toMatchObject({ type: 'restore', streaming: true, scene: 'Low' });
  });

  it('does not restore a stream the streamer had stopped', () => {
    const t = setup();
    t.up(true, 'Live');
    t.policy.observeStreaming(false, t.now());
    t.wait(10_000);
    t.down();
    t.wait(12_000);
    t.up(false, 'Live');
    expect(t.actions.find((a) => a.type === 'restore')).toMatchObject({ streaming: false, scene: 'Live' });
  });

  it('counts a stream stopped by OBS shutting down (just before it went away) as still on', () => {
    const t = setup();
    t.up(true, 'Live');
    t.wait(5000);
    t.policy.observeStreaming(false, t.now());
    t.wait(300);
    t.down();
    t.wait(1000);
    t.up(false, 'Live');
    expect(t.actions.find((a) => a.type === 'restore')).toMatchObject({ streaming: true });
  });

  it('restores nothing on the first connection and resets the backoff once OBS is back', () => {
    const t = setup();
    t.wait(25_000);
    expect(t.restarts()).toHaveLength(1);
    t.up(true, 'Live');
    expect(t.actions.filter((a) => a.type === 'restore')).toHaveLength(0);
    expect(t.policy.snapshot().attempts).toBe(0);
    expect(t.policy.snapshot().nextRestartAt).toBeNull();
  });

  it('gives an OBS started by someone else (compose re-creating it, its supervisor) the startup grace', () => {
    const t = setup();
    t.up(true, 'Live');
    t.wait(5000);
    t.down();
    const lostAt = t.now();
    t.wait(4000);
    t.policy.observeStarted(t.now()); // the new container is booting
    const startedAt = t.now();
    t.wait(10_000);
    expect(t.restarts()).toHaveLength(0); // the timeout alone would have restarted it at lostAt + 10 s
    t.wait(12_000);
    expect(t.restarts().map((r) => r.at - startedAt)).toEqual([20_000]);
    expect(t.restarts()[0]?.at).toBeGreaterThan(lostAt + 10_000);
    t.up(false, 'Live');
    t.policy.observeStarted(t.now()); // late news of a start, once OBS answers, changes nothing:
    t.wait(5000);
    t.down(); // the next outage waits for the timeout only, not a startup grace
    const lostAgainAt = t.now();
    t.wait(10_500);
    expect(t.restarts()).toHaveLength(2);
    expect(t.restarts().at(-1)?.at).toBe(lostAgainAt + 10_000);
  });

  it('restores the same state when OBS goes away again before the last restore was seen through', () => {
    const t = setup();
    t.up(true, 'Privacy');
    t.wait(5000);
    t.down();
    t.wait(3000);
    t.up(false, 'Live'); // a fresh OBS: not streaming yet, its saved scene
    expect(t.actions.filter((a) => a.type === 'restore').at(-1)).toMatchObject({ streaming: true, scene: 'Privacy' });
    t.wait(100);
    t.down(); // killed before the restored stream started
    t.wait(5000);
    t.up(false, 'Live');
    expect(t.actions.filter((a) => a.type === 'restore')).toHaveLength(2);
    expect(t.actions.filter((a) => a.type === 'restore').at(-1)).toMatchObject({ streaming: true, scene: 'Privacy' });
  });

  it('forgets a restore once it is seen through: a stream stopped by hand afterwards stays stopped', () => {
    const t = setup();
    t.up(true, 'Live');
    t.wait(1000);
    t.down();
    t.wait(2000);
    t.up(false, 'Offline');
    t.policy.observeProgramScene('Live');
    t.policy.observeStreaming(true, t.now()); // the restore worked
    t.wait(10_000);
    t.policy.observeStreaming(false, t.now()); // the streamer stops
    t.policy.observeProgramScene('Privacy');
    t.wait(10_000);
    t.down();
    t.wait(2000);
    t.up(false, 'Live');
    expect(t.actions.filter((a) => a.type === 'restore').at(-1)).toMatchObject({ streaming: false, scene: 'Privacy' });
  });

  it('lets an unfinished restore lapse after its window', () => {
    const t = setup();
    t.up(true, 'Live');
    t.down();
    t.wait(1000);
    t.up(false, 'Live');
    t.wait(settings.restoreWindowMs + 1000); // the stream never started (e.g. the RTMP server refused it)
    t.down();
    t.wait(1000);
    t.up(false, 'Live');
    expect(t.actions.filter((a) => a.type === 'restore').at(-1)).toMatchObject({ streaming: false });
  });

  it('keeps a scene picked by hand, otherwise puts back the one the switcher wants', () => {
    const own = ['Live', 'Low', 'Offline'];
    expect(sceneToRestore('Privacy', 'Live', own)).toBe('Privacy');
    expect(sceneToRestore('Low', 'Live', own)).toBe('Live');
    expect(sceneToRestore('Low', null, own)).toBe('Low');
    expect(sceneToRestore(null, 'Offline', own)).toBe('Offline');
    expect(sceneToRestore(null, null, own)).toBeNull();
  });
});

describe('container events', () => {
  it('turns engine events into process events', () => {
    expect(containerEvent('obs', { Action: 'die', Actor: { Attributes: { exitCode: '137' } } })).toMatchObject({ event: 'exited', exitCode: 137 });
    expect(containerEvent('obs', { Action: 'start' })).toMatchObject({ event: 'started', child: 'obs' });
    expect(containerEvent('obs', { Action: 'health_status: healthy' })).toMatchObject({ event: 'healthy' });
    expect(containerEvent('obs', { Action: 'health_status: unhealthy' })).toMatchObject({ event: 'unhealthy' });
    expect(containerEvent('obs', { Action: 'exec_start: node -e' })).toBeUndefined();
  });
});
