// The OBS watchdog's policy on a fake clock: when it restarts OBS (timeout, hang), how it backs off, and
// the wanted state it keeps and puts back (commands during outages, OBS's own changes, full restarts).
import { describe, expect, it } from 'vitest';
import { containerEvent } from '../src/watchdog/docker.ts';
import { DEFAULT_WATCHDOG_SETTINGS, sceneToRestore, type WatchdogAction, WatchdogPolicy } from '../src/watchdog/policy.ts';

const settings = { ...DEFAULT_WATCHDOG_SETTINGS, timeoutMs: 10_000, startupGraceMs: 20_000, maxGraceMs: 80_000 };

function setup(overrides: Partial<typeof settings> = {}) {
  let now = 1_000_000;
  const policy = new WatchdogPolicy({ ...settings, ...overrides }, now);
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
  const appliedActions = () => actions.filter((a): a is Extract<WatchdogAction, { type: 'applyWanted' }> & { at: number } => a.type === 'applyWanted');
  const applied = () => appliedActions().map((a) => a.wanted);
  const appliedReasons = () => appliedActions().map((a) => a.reason);
  const up = (streaming = false, scene: string | null = 'Live') => take(policy.observeReachable(true, now, { streaming, scene }));
  const down = () => take(policy.observeReachable(false, now));
  return { policy, actions, take, wait, restarts, applied, appliedReasons, up, down, now: () => now };
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
    expect(t.restarts()).toHaveLength(0);
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

  it('puts back streaming and the scene once OBS is back', () => {
    const t = setup();
    t.up(false, 'Live');
    t.policy.observeStreaming(true, t.now());
    t.policy.observeProgramScene('Low', t.now());
    t.wait(1000);
    t.down();
    t.wait(15_000);
    t.up(false, 'Offline');
    expect(t.applied().at(-1)).toMatchObject({ streaming: true, scene: 'Low' });
    expect(t.appliedReasons().at(-1)).toMatch(/^OBS back after 15(\.\d)? s$/);
  });

  it('keeps the wanted scene when OBS puts on one the contract cannot carry (null)', () => {
    const t = setup();
    t.up(false, 'Live');
    t.policy.observeProgramScene('Privacy', t.now());
    t.policy.observeProgramScene(null, t.now());
    expect(t.policy.wanted().scene).toBe('Privacy');
    t.down();
    t.up(false, null);
    expect(t.applied().at(-1)).toMatchObject({ scene: 'Privacy' });
  });

  it('keeps a stream stopped in OBS itself stopped', () => {
    const t = setup();
    t.up(true, 'Live');
    t.policy.observeStreaming(false, t.now());
    t.wait(10_000);
    expect(t.policy.wanted().streaming).toBe(false);
    t.down();
    t.wait(12_000);
    t.up(false, 'Live');
    expect(t.applied().at(-1)).toMatchObject({ streaming: false, scene: 'Live' });
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
    expect(t.applied().at(-1)).toMatchObject({ streaming: true });
  });

  it('on first contact wants what OBS is doing, and resets the backoff', () => {
    const t = setup();
    t.wait(25_000);
    expect(t.restarts()).toHaveLength(1);
    t.up(true, 'Live');
    expect(t.applied()).toEqual([expect.objectContaining({ streaming: true, scene: 'Live' })]);
    expect(t.appliedReasons()).toEqual(['bridge started']);
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

  it('gives an OBS stopped on purpose (compose re-creating its container) the startup grace from the stop', () => {
    const t = setup();
    t.up(true, 'Live');
    t.wait(5000);
    t.policy.observeStopped(t.now()); // docker stop: the engine's event may come before the socket closes
    t.down();
    const stoppedAt = t.now();
    t.wait(15_000); // stopping, removing and creating the container took longer than the timeout
    expect(t.restarts()).toHaveLength(0);
    t.policy.observeStarted(t.now());
    const startedAt = t.now();
    t.up(true, 'Live');
    expect(t.restarts()).toHaveLength(0);
    expect(t.appliedReasons()).toEqual(['bridge started', `OBS back after ${(startedAt - stoppedAt) / 1000} s`]);
    // Nobody starts it again: after the grace from the stop, the watchdog does.
    t.wait(5000);
    t.policy.observeStopped(t.now());
    t.down();
    const stoppedAgainAt = t.now();
    t.wait(21_000);
    expect(t.restarts().map((r) => r.at - stoppedAgainAt)).toEqual([20_000]);
  });

  it('wants the same state when OBS goes away again before the stream it was asked for runs', () => {
    const t = setup();
    t.up(true, 'Privacy');
    t.wait(5000);
    t.down();
    t.wait(3000);
    t.up(false, 'Live'); // a fresh OBS: not streaming yet, its saved scene
    expect(t.applied().at(-1)).toMatchObject({ streaming: true, scene: 'Privacy' });
    t.wait(100);
    t.down(); // killed before the stream started
    t.wait(5000);
    t.up(false, 'Live');
    expect(t.applied().at(-1)).toMatchObject({ streaming: true, scene: 'Privacy' });
  });

  it('commands while OBS is down change what is wanted: a Stop and Privacy sent during an outage win', () => {
    const t = setup();
    t.up(true, 'Live');
    t.wait(5000);
    t.down();
    t.wait(1000);
    t.policy.want({ streaming: false }, t.now());
    t.policy.want({ scene: 'Privacy' }, t.now());
    t.wait(5000);
    t.up(false, 'Live');
    expect(t.applied().at(-1)).toMatchObject({ streaming: false, scene: 'Privacy' });
  });

  it('a Stop command cancels a stop OBS reported and a Start undoes it: the last word wins', () => {
    const t = setup();
    t.up(true, 'Live');
    t.policy.want({ streaming: false }, t.now());
    t.policy.want({ streaming: true }, t.now());
    t.wait(5000);
    expect(t.policy.wanted().streaming).toBe(true);
  });

  it('restarts a hung OBS at once, then gives it the startup grace', () => {
    const t = setup();
    t.up(true, 'Live');
    t.wait(5000);
    t.take(t.policy.observeHung(t.now(), 6000));
    const hungAt = t.now();
    expect(t.restarts()).toEqual([expect.objectContaining({ attempt: 1, at: hungAt, reason: 'OBS hung (no answer for 6 s)' })]);
    t.down(); // the bridge closed the hung OBS's socket
    t.wait(19_900);
    expect(t.restarts()).toHaveLength(1); // the timeout (10 s) does not cut the new OBS's boot short
    t.wait(200);
    expect(t.restarts()).toHaveLength(2);
    t.up(false, 'Live');
    expect(t.applied().at(-1)).toMatchObject({ streaming: true, scene: 'Live' });
  });

  it('after the whole stack restarts, resumes the stored stream and scene', () => {
    const t = setup();
    t.policy.loadWanted({ streaming: true, scene: 'Privacy', muted: { Mic: true }, updatedAt: 1 });
    t.wait(3000);
    t.up(false, 'Live');
    expect(t.applied()).toEqual([{ streaming: true, scene: 'Privacy', muted: { Mic: true }, updatedAt: 1 }]);
    expect(t.appliedReasons()).toEqual(['bridge started']);
  });

  it('with resume after restart off, a full restart leaves the stream off but keeps the hand-picked scene', () => {
    const t = setup({ resumeAfterRestart: false });
    t.policy.loadWanted({ streaming: true, scene: 'Privacy', muted: {}, updatedAt: 1 });
    t.up(false, 'Live');
    expect(t.applied().at(-1)).toMatchObject({ streaming: false, scene: 'Privacy' });
    expect(t.policy.wanted().streaming).toBe(false);
  });

  it('a bridge restarted while OBS streams keeps the stream, whatever was stored', () => {
    const t = setup({ resumeAfterRestart: false });
    t.policy.loadWanted({ streaming: false, scene: 'Live', muted: {}, updatedAt: 1 });
    t.up(true, 'Live');
    expect(t.applied().at(-1)).toMatchObject({ streaming: true });
  });

  it('ignores a stored state that arrives after OBS was seen (what was seen since is newer)', () => {
    const t = setup();
    t.up(false, 'Live');
    t.policy.loadWanted({ streaming: true, scene: 'Privacy', muted: {}, updatedAt: 1 });
    expect(t.policy.wanted()).toMatchObject({ streaming: false, scene: 'Live' });
  });

  it('records mutes from commands at any time, and from OBS only while it answers', () => {
    const t = setup();
    t.policy.want({ muted: { input: 'Mic', muted: true } }, t.now());
    t.up(false, 'Live');
    expect(t.applied().at(-1)?.muted).toEqual({ Mic: true });
    t.policy.observeMute('Mic', false, t.now());
    t.policy.observeMute('Music', true, t.now());
    t.down();
    t.policy.observeMute('Mic', true, t.now()); // not from a reachable OBS: ignored
    expect(t.policy.wanted().muted).toEqual({ Mic: false, Music: true });
  });

  it('changes its version only when the wanted state changes (what triggers saving it)', () => {
    const t = setup();
    t.up(false, 'Live');
    const v = t.policy.version;
    t.policy.observeProgramScene('Live', t.now());
    t.policy.want({ streaming: false }, t.now());
    expect(t.policy.version).toBe(v);
    t.policy.want({ scene: 'Starting' }, t.now());
    expect(t.policy.version).toBe(v + 1);
    expect(t.policy.wanted().updatedAt).toBe(t.now());
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
