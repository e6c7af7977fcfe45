// The switcher policy on a fake clock: every transition, hysteresis, hold times, manual scenes and mode.
import { DEFAULT_SWITCHER_SETTINGS, type SwitcherSettings } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import { MAX_DEADLINE_EXTENSION_MS, RESTART_AFTER_SESSION_END_MS, type SwitcherAction, SwitcherPolicy } from '../src/switcher/policy.ts';

const SCENES = { live: 'Live', low: 'Low', offline: 'Offline' };

/**
 * A policy on a fake clock. `freezeWatch` (on unless told): the runtime's freeze watch, looking at the input's picture
 * every 50 ms while a lost feed plays out and seeing it unchanged (tests report a moving or frozen picture themselves).
 */
function setup(overrides: Partial<SwitcherSettings> = {}, { freezeWatch = true } = {}) {
  let now = 0;
  const policy = new SwitcherPolicy({ ...DEFAULT_SWITCHER_SETTINGS, ...overrides }, SCENES, now);
  const actions: SwitcherAction[] = [];
  let program: string | null = 'Offline';
  policy.observeProgramScene(program);
  const take = (list: SwitcherAction[]) => {
    for (const a of list) {
      actions.push(a);
      if (a.type === 'switchScene') {
        program = a.scene;
        policy.observeProgramScene(program);
      }
    }
  };
  /** Stats at 4 Hz for `ms` at the given rate, ticking in between. */
  const step = () => {
    now += 50;
    if (freezeWatch && policy.watchingForFreeze(now)) policy.pictureUnchanged(now);
    take(policy.tick(now));
  };
  const feed = (ms: number, kbps: number, rtt: number | null = 30) => {
    for (let t = 0; t < ms; t += 250) {
      take(policy.sample(now, kbps, rtt, true));
      for (let i = 0; i < 5; i++) step();
    }
  };
  const wait = (ms: number) => {
    for (let t = 0; t < ms; t += 50) step();
  };
  const bringUp = (why: 'connected' | 'resumed' = 'connected') => {
    take(policy.linkConnected(now, why));
    feed(100, 2500);
    take(policy.framesConfirmed(now));
    feed(400, 2500);
  };
  return {
    policy,
    actions,
    take,
    feed,
    wait,
    bringUp,
    now: () => now,
    program: () => program,
    setProgram: (scene: string) => {
      program = scene;
      policy.observeProgramScene(scene);
    },
    scenes: () => actions.filter((a) => a.type === 'switchScene').map((a) => (a as { scene: string }).scene),
  };
}

describe('SwitcherPolicy', () => {
  it('starts OFFLINE and goes LIVE only after the link is up, frames move and the hold passed', () => {
    const s = setup();
    expect(s.policy.snapshot().state).toBe('offline');
    s.take(s.policy.linkConnected(s.now(), 'connected'));
    expect(s.actions).toEqual([{ type: 'restartMedia', reason: 'feed reconnected' }]);
    s.feed(1000, 2500);
    expect(s.policy.snapshot().state).toBe('offline'); // no frames confirmed yet
    s.take(s.policy.framesConfirmed(s.now()));
    expect(s.policy.snapshot().state).toBe('live');
    expect(s.program()).toBe('Live');
  });

  it("after a restarted relay, restarts the media input only once OBS's old session has ended and settled, and not in the instant it switches to OFFLINE", () => {
    const s = setup();
    s.bringUp();
    s.wait(1000);
    // The relay died: its last packet 20 ms ago, 120 ms of it still playing out in OBS (then ingest
    // ends OBS's session), and OBS's own lag behind that.
    const lastPacketTs = s.now() - 20;
    s.take(s.policy.linkLost(s.now(), 'feed disconnected: srt-live-transmit exited', { lastPacketTs, playoutMs: 120 }));
    s.wait(150); // the relay restarted and the sender called again at once, while the picture still plays out
    s.actions.length = 0;
    const back = s.now();
    s.take(s.policy.linkConnected(back, 'connected', { obsSessionEnded: true }));
    // The switch to OFFLINE comes with it (the buffers are about to run dry), and the restart waits. Ingest ended
    // OBS's session with the relay: a fresh player, not a restart of the ended one.
    expect(s.actions).toEqual([
      expect.objectContaining({ type: 'switchScene', scene: 'Offline' }),
      { type: 'restartMedia', reason: 'feed reconnected after its relay restarted', notBefore: back + RESTART_AFTER_SESSION_END_MS, fresh: true },
    ]);
    // The sender back while the old session still plays out: RESTART_AFTER_SESSION_END_MS after its end.
    s.take(s.policy.framesConfirmed(s.now()));
    s.feed(5000, 2500);
    const lost = s.now();
    s.take(s.policy.linkLost(lost, 'feed disconnected: srt-live-transmit exited', { lastPacketTs: lost, playoutMs: 700 }));
    s.wait(300);
    s.actions.length = 0;
    s.take(s.policy.linkConnected(s.now(), 'connected'));
    expect(s.actions.find((a) => a.type === 'restartMedia')).toEqual({
      type: 'restartMedia',
      reason: 'feed reconnected',
      notBefore: lost + 700 + RESTART_AFTER_SESSION_END_MS,
    });
    // A sender that comes back long after: at once.
    s.take(s.policy.framesConfirmed(s.now()));
    s.feed(5000, 2500);
    s.take(s.policy.linkLost(s.now(), 'feed disconnected: sender closed the connection', { lastPacketTs: s.now(), playoutMs: 700 }));
    s.wait(3000);
    s.actions.length = 0;
    s.take(s.policy.linkConnected(s.now(), 'connected'));
    expect(s.actions.find((a) => a.type === 'restartMedia')).toEqual({ type: 'restartMedia', reason: 'feed reconnected' });
  });

  it('restarts the media input when a feed resumes after an outage viewers saw, not after a gap they never saw', () => {
    const s = setup();
    s.bringUp();
    s.take(s.policy.linkLost(s.now(), 'stalled'));
    s.actions.length = 0;
    s.take(s.policy.linkConnected(s.now(), 'resumed'));
    expect(s.actions).toEqual([{ type: 'restartMedia', reason: 'feed resumed after an outage viewers saw', fresh: true }]);
    s.take(s.policy.framesConfirmed(s.now()));
    s.feed(5000, 2500);
    expect(s.program()).toBe('Live');
    s.actions.length = 0;
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'stalled', { lastPacketTs: last, playoutMs: 2200 }));
    s.wait(500);
    s.take(s.policy.linkConnected(s.now(), 'resumed'));
    s.feed(3000, 2500);
    expect(s.actions).toEqual([]);
  });

  it('respects the OFFLINE → LIVE hold time', () => {
    const s = setup({ offlineRecoverHoldMs: 1000 });
    s.take(s.policy.linkConnected(s.now(), 'connected'));
    s.take(s.policy.framesConfirmed(s.now()));
    s.feed(750, 2500);
    expect(s.policy.snapshot().state).toBe('offline');
    s.feed(500, 2500);
    expect(s.policy.snapshot().state).toBe('live');
  });

  it('goes OFFLINE at once on a stall or disconnect, from LIVE and from LOW', () => {
    const s = setup();
    s.bringUp();
    s.take(s.policy.linkLost(s.now(), 'feed stalled: no data for 500 ms'));
    expect(s.policy.snapshot()).toMatchObject({ state: 'offline', reason: 'feed stalled: no data for 500 ms' });
    expect(s.program()).toBe('Offline');
    s.bringUp();
    s.feed(2500, 300);
    expect(s.policy.snapshot().state).toBe('low');
    s.take(s.policy.sample(s.now(), 0, null, false));
    expect(s.policy.snapshot().state).toBe('offline');
  });

  it('enters LOW only after the bitrate stays under the threshold for the window', () => {
    const s = setup({ lowWindowMs: 2000 });
    s.bringUp();
    s.feed(1500, 500);
    s.feed(250, 2500); // one good sample breaks the run
    s.feed(1750, 500);
    expect(s.policy.snapshot().state).toBe('live');
    s.feed(500, 500);
    expect(s.policy.snapshot()).toMatchObject({ state: 'low', reason: 'bitrate 500 kbit/s under 800' });
    expect(s.program()).toBe('Low');
  });

  it('enters LOW on a high RTT, and the RTT rule can be turned off', () => {
    const s = setup();
    s.bringUp();
    s.feed(2500, 2500, 2000);
    expect(s.policy.snapshot()).toMatchObject({ state: 'low', reason: 'RTT 2000 ms over 1500' });
    const off = setup({ rttEnterMs: 0 });
    off.bringUp();
    off.feed(5000, 2500, 5000);
    expect(off.policy.snapshot().state).toBe('live');
  });

  it('leaves LOW only above the leave threshold, held for the hold time (hysteresis)', () => {
    const s = setup({ lowEnterKbps: 800, lowLeaveKbps: 1500, recoverHoldMs: 3000 });
    s.bringUp();
    s.feed(2500, 500);
    expect(s.policy.snapshot().state).toBe('low');
    s.feed(10_000, 1000); // above enter, under leave: stays LOW
    expect(s.policy.snapshot().state).toBe('low');
    s.feed(2750, 2000);
    expect(s.policy.snapshot().state).toBe('low');
    s.feed(500, 2000);
    expect(s.policy.snapshot().state).toBe('live');
    expect(s.scenes()).toEqual(['Live', 'Low', 'Live']);
  });

  it('does not flap when the bitrate oscillates around the low threshold', () => {
    const s = setup();
    s.bringUp();
    // Quick wobbles (1 s each side) are absorbed by the low window: no switch at all.
    for (let i = 0; i < 20; i++) s.feed(1000, i % 2 ? 700 : 900);
    expect(s.scenes()).toEqual(['Live']);
    // Slow swings (3 s each side) cross the enter threshold for longer than the window: Low once,
    // and the swings up to 950 stay under the 1500 leave threshold, so Low holds (hysteresis).
    for (let i = 0; i < 20; i++) s.feed(3000, i % 2 ? 950 : 650);
    expect(s.scenes()).toEqual(['Live', 'Low']);
    // Only a healthy bitrate held for the recover time brings Live back, once.
    s.feed(6000, 2500);
    expect(s.scenes()).toEqual(['Live', 'Low', 'Live']);
  });

  it('does not take statistics after a stall for a returned link', () => {
    const s = setup();
    s.bringUp();
    s.take(s.policy.linkLost(s.now(), 'stalled'));
    s.feed(1000, 1200); // the 1 s bitrate window still decays after the stall
    expect(s.policy.snapshot().state).toBe('offline');
    expect(s.policy.awaitingFrames()).toBe(false);
  });

  it('comes back to LOW, not LIVE, when the returning feed is weak', () => {
    const s = setup();
    s.take(s.policy.linkConnected(s.now(), 'connected'));
    s.feed(600, 400);
    s.take(s.policy.framesConfirmed(s.now()));
    expect(s.policy.snapshot().state).toBe('low');
  });

  it('leaves a scene picked by hand alone, and takes over again when the streamer returns to its scenes', () => {
    const s = setup();
    s.bringUp();
    s.setProgram('Privacy');
    s.take(s.policy.linkLost(s.now(), 'stalled'));
    expect(s.program()).toBe('Privacy');
    expect(s.policy.snapshot().state).toBe('offline');
    s.bringUp();
    expect(s.program()).toBe('Privacy');
    s.setProgram('Live');
    s.take(s.policy.linkLost(s.now(), 'stalled'));
    expect(s.program()).toBe('Offline');
  });

  it('takes over again at once when the streamer picks one of its scenes', () => {
    const s = setup();
    s.bringUp();
    s.setProgram('Privacy');
    const before = s.actions.length;
    s.take(s.policy.observeProgramScene('Privacy', s.now()));
    expect(s.actions.length).toBe(before);
    s.take(s.policy.observeProgramScene('Offline', s.now()));
    expect(s.program()).toBe('Live');
  });

  it('leaves alone a program scene it cannot name (null: made on the desktop with a name the contract cannot carry)', () => {
    const s = setup();
    s.bringUp();
    s.take(s.policy.observeProgramScene(null, s.now()));
    s.take(s.policy.linkLost(s.now(), 'stalled'));
    s.wait(5000);
    expect(s.policy.snapshot().state).toBe('offline');
    expect(s.scenes()).toEqual(['Live']);
    s.take(s.policy.setMode('auto'));
    expect(s.scenes()).toEqual(['Live']);
    s.setProgram('Live');
    s.take(s.policy.observeProgramScene('Live', s.now()));
    expect(s.program()).toBe('Offline');
  });

  it('in manual mode tracks the state but never switches; back to auto puts the right scene on', () => {
    const s = setup();
    s.bringUp();
    s.take(s.policy.setMode('manual'));
    s.take(s.policy.linkLost(s.now(), 'stalled'));
    expect(s.policy.snapshot().state).toBe('offline');
    expect(s.program()).toBe('Live');
    s.take(s.policy.setMode('auto'));
    expect(s.program()).toBe('Offline');
  });

  it('with onlyWhileStreaming switches only while the stream is on', () => {
    const s = setup({ onlyWhileStreaming: true });
    s.bringUp();
    expect(s.program()).toBe('Offline');
    s.take(s.policy.observeStreaming(true, s.now()));
    expect(s.program()).toBe('Live');
  });

  it('stops the stream after N minutes OFFLINE, once', () => {
    const s = setup({ stopAfterOfflineMin: 1 });
    s.take(s.policy.observeStreaming(true, s.now()));
    s.bringUp();
    s.take(s.policy.linkLost(s.now(), 'disconnected'));
    s.wait(59_000);
    expect(s.actions.some((a) => a.type === 'stopStream')).toBe(false);
    s.wait(2000);
    s.wait(60_000);
    expect(s.actions.filter((a) => a.type === 'stopStream')).toEqual([{ type: 'stopStream', reason: 'offline for 1 min' }]);
  });

  it('applies new settings at once', () => {
    const s = setup();
    s.bringUp();
    expect(s.program()).toBe('Live');
    // 2500 kbit/s was healthy; under the new thresholds it is low.
    s.take(s.policy.setSettings({ ...DEFAULT_SWITCHER_SETTINGS, lowEnterKbps: 3000, lowLeaveKbps: 4000 }));
    s.feed(2500, 2500);
    expect(s.program()).toBe('Low');
    expect(s.policy.snapshot().reason).toBe('bitrate 2500 kbit/s under 3000');
  });
});

describe('SwitcherPolicy: OFFLINE when the picture would freeze', () => {
  const playoutMs = 2200; // SRT latency 2000 + output hop 200
  it('keeps LIVE while a stalled feed plays out of the buffers, OFFLINE the moment they run dry', () => {
    const s = setup({ pictureLagMs: 100 });
    s.bringUp();
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'feed stalled: no data for 500 ms', { lastPacketTs: last, playoutMs }));
    expect(s.program()).toBe('Live');
    s.wait(last + playoutMs + 100 - s.now() - 50);
    expect(s.program()).toBe('Live');
    s.wait(50);
    expect(s.policy.snapshot()).toMatchObject({ state: 'offline', reason: 'feed stalled: no data for 500 ms', since: last + 2300 });
    expect(s.program()).toBe('Offline');
  });

  it('watches for the frozen picture once the buffers should be dry, and goes OFFLINE the moment it is seen', () => {
    const s = setup({ pictureLagMs: 500 });
    s.bringUp();
    expect(s.policy.watchingPicture()).toBe(true); // on air: the frozen-picture watch runs
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'feed stalled: no data for 500 ms', { lastPacketTs: last, playoutMs }));
    expect(s.policy.watchingPicture()).toBe(false); // playing out: no restart may cut it short
    s.wait(last + playoutMs - s.now() - 50);
    expect(s.policy.watchingForFreeze(s.now())).toBe(false);
    s.wait(50);
    expect(s.policy.watchingForFreeze(s.now())).toBe(true);
    s.wait(150);
    expect(s.program()).toBe('Live');
    s.take(s.policy.pictureFroze(s.now()));
    expect(s.program()).toBe('Offline');
    expect(s.policy.snapshot()).toMatchObject({ state: 'offline', reason: 'feed stalled: no data for 500 ms; picture froze', since: last + playoutMs + 150 });
    expect(s.policy.watchingForFreeze(s.now())).toBe(false);
    expect(s.policy.pictureFroze(s.now())).toEqual([]); // a late report changes nothing
  });

  it("keeps LIVE past the deadline while the input's picture is seen moving (OBS's lag differs per open), up to a cap", () => {
    const s = setup({ pictureLagMs: 100 });
    s.bringUp();
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'feed stalled: no data for 500 ms', { lastPacketTs: last, playoutMs }));
    const deadline = last + playoutMs + 100;
    // Still moving at the deadline: OFFLINE waits for the freeze.
    s.wait(deadline - s.now() - 50);
    s.policy.pictureMoved(s.now());
    s.wait(100);
    expect(s.program()).toBe('Live');
    s.policy.pictureMoved(s.now());
    s.wait(150);
    expect(s.program()).toBe('Live');
    s.take(s.policy.pictureFroze(s.now()));
    expect(s.program()).toBe('Offline');
    expect(s.policy.snapshot()).toMatchObject({ reason: 'feed stalled: no data for 500 ms; picture froze', since: deadline + 200 });

    // A picture that never stops moving (a stuck screenshot source, a feed OBS replays): OFFLINE at the cap.
    const t = setup({ pictureLagMs: 100 });
    t.bringUp();
    const lastT = t.now();
    t.wait(500);
    t.take(t.policy.linkLost(t.now(), 'stalled', { lastPacketTs: lastT, playoutMs }));
    const deadlineT = lastT + playoutMs + 100;
    while (t.program() === 'Live' && t.now() < deadlineT + 5000) {
      if (t.now() >= lastT + playoutMs) t.policy.pictureMoved(t.now());
      t.wait(40);
    }
    expect(t.program()).toBe('Offline');
    expect(t.now() - deadlineT).toBeGreaterThanOrEqual(MAX_DEADLINE_EXTENSION_MS);
    expect(t.now() - deadlineT).toBeLessThanOrEqual(MAX_DEADLINE_EXTENSION_MS + 150);
  });

  it("waits at its deadline for the freeze watch's first look at the picture (a deadline before any cut moving picture), up to the cap", () => {
    /** A Live feed stalled 500 ms ago, no freeze watch running: the policy and when its deadline falls. */
    const stalled = (pictureLagMs: number) => {
      const p = setup({ pictureLagMs }, { freezeWatch: false });
      p.bringUp();
      const last = p.now();
      p.wait(500);
      p.take(p.policy.linkLost(p.now(), 'stalled', { lastPacketTs: last, playoutMs }));
      return { p, deadline: last + playoutMs + pictureLagMs };
    };

    // No look at all (OBS not answering): OFFLINE at the cap.
    const { p: s, deadline } = stalled(0);
    while (s.program() === 'Live' && s.now() < deadline + 5000) s.wait(50);
    expect(s.policy.snapshot()).toMatchObject({ state: 'offline', since: deadline + MAX_DEADLINE_EXTENSION_MS });

    // The watch's first look comes 300 ms after the deadline and finds the picture unchanged: OFFLINE on the next tick.
    // A look older than the grace before the deadline is not one.
    const { p: t, deadline: deadlineT } = stalled(0);
    t.wait(deadlineT - t.now() + 300);
    expect(t.program()).toBe('Live');
    t.policy.pictureUnchanged(deadlineT - 250);
    t.wait(50);
    expect(t.program()).toBe('Live');
    t.policy.pictureUnchanged(t.now());
    t.wait(50);
    expect(t.policy.snapshot()).toMatchObject({ state: 'offline', since: deadlineT + 400 });

    // The first look sees it move: the deadline moves on with it, as for any moving picture.
    const { p: u, deadline: deadlineU } = stalled(0);
    u.wait(deadlineU - u.now() + 300);
    u.policy.pictureMoved(u.now());
    u.wait(150);
    expect(u.program()).toBe('Live');
    u.policy.pictureUnchanged(u.now());
    u.wait(50);
    expect(u.policy.snapshot()).toMatchObject({ state: 'offline', since: deadlineU + 500 });

    // A deadline set before the buffers run dry (pictureLagMs below 0: leave early on purpose) waits for nothing.
    const { p: v, deadline: deadlineV } = stalled(-300);
    v.wait(deadlineV - v.now());
    expect(v.policy.snapshot()).toMatchObject({ state: 'offline', since: deadlineV });
  });

  it('a moving picture before the buffers should be dry, or after a feed that came back too late, does not move the deadline', () => {
    const s = setup({ pictureLagMs: 100 });
    s.bringUp();
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'stalled', { lastPacketTs: last, playoutMs }));
    s.policy.pictureMoved(s.now()); // before watchFrom: ignored
    s.wait(last + playoutMs + 100 - s.now());
    expect(s.program()).toBe('Offline');

    const t = setup({ pictureLagMs: 100 });
    t.bringUp();
    const lastT = t.now();
    t.wait(500);
    t.take(t.policy.linkLost(t.now(), 'stalled', { lastPacketTs: lastT, playoutMs, srtLatencyMs: 2000 }));
    t.wait(lastT + 2100 - t.now());
    t.take(t.policy.linkConnected(t.now(), 'resumed')); // after the SRT latency: the gap is lost for good
    t.wait(lastT + playoutMs + 100 - 50 - t.now());
    t.policy.pictureMoved(t.now());
    t.wait(50);
    expect(t.program()).toBe('Offline');
  });

  it('does not watch for a frozen picture when the feed resumed in time', () => {
    const s = setup();
    s.bringUp();
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'stalled', { lastPacketTs: last, playoutMs }));
    s.wait(1000);
    s.take(s.policy.linkConnected(s.now(), 'resumed'));
    s.wait(3000);
    expect(s.policy.watchingForFreeze(s.now())).toBe(false);
    expect(s.policy.pictureFroze(s.now())).toEqual([]);
    expect(s.program()).toBe('Live');
  });

  it('a feed resuming after the SRT latency but before the buffers ran dry still goes OFFLINE when they do (the gap is lost for good), restarts the input there, and returns by the moving-picture rule', () => {
    const s = setup();
    s.bringUp();
    s.actions.length = 0;
    const last = s.now();
    const loss = { lastPacketTs: last, playoutMs: 2200, srtLatencyMs: 2000 };
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'feed stalled: no data for 500 ms', loss));
    // Within the latency the late packets still fill the gap: a resume then changes nothing.
    const inTime = setup();
    inTime.bringUp();
    inTime.actions.length = 0;
    const inTimeLast = inTime.now();
    inTime.wait(500);
    inTime.take(inTime.policy.linkLost(inTime.now(), 'stalled', { lastPacketTs: inTimeLast, playoutMs: 2200, srtLatencyMs: 2000 }));
    inTime.wait(1400);
    inTime.take(inTime.policy.linkConnected(inTime.now(), 'resumed'));
    inTime.feed(6000, 2500);
    expect(inTime.actions).toEqual([]);
    // 2.1 s after the last packet: what the sender had sent in the first 0.1 s came after its play time.
    s.wait(last + 2100 - s.now());
    s.take(s.policy.linkConnected(s.now(), 'resumed'));
    expect(s.program()).toBe('Live');
    expect(s.policy.watchingPicture(), 'no frozen-picture restart while the switch is due').toBe(false);
    s.feed(100 + loss.playoutMs + DEFAULT_SWITCHER_SETTINGS.pictureLagMs - 2100, 2500);
    expect(s.program()).toBe('Offline');
    expect(s.actions.filter((a) => a.type === 'restartMedia')).toHaveLength(1);
    expect(s.policy.awaitingFrames()).toBe(true);
    s.take(s.policy.framesConfirmed(s.now()));
    s.feed(DEFAULT_SWITCHER_SETTINGS.resumeHoldMs + 500, 2500);
    expect(s.program()).toBe('Live');
  });

  it('a feed resuming too late goes OFFLINE the moment its picture is seen frozen, before the deadline', () => {
    const s = setup();
    s.bringUp();
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'stalled', { lastPacketTs: last, playoutMs: 2200, srtLatencyMs: 2000 }));
    s.wait(last + 2100 - s.now());
    s.take(s.policy.linkConnected(s.now(), 'resumed'));
    s.wait(100);
    expect(s.policy.watchingForFreeze(s.now())).toBe(true);
    const actions = s.policy.pictureFroze(s.now());
    s.take(actions);
    expect(s.program()).toBe('Offline');
    expect(actions.map((a) => a.type)).toEqual(['switchScene', 'restartMedia']);
    expect(s.policy.snapshot().reason).toMatch(/picture froze/);
  });

  it('makes no switch at all for a gap shorter than the buffers, and ignores the receive rate meanwhile', () => {
    const s = setup({ lowWindowMs: 500 });
    s.bringUp();
    s.actions.length = 0;
    const last = s.now();
    s.feed(500, 1200); // the rate falls while the stall is not yet reported
    s.take(s.policy.linkLost(s.now(), 'stalled', { lastPacketTs: last, playoutMs }));
    s.feed(1000, 0);
    s.take(s.policy.linkConnected(s.now(), 'resumed'));
    s.feed(5000, 2500);
    expect(s.actions).toEqual([]);
    expect(s.policy.snapshot().state).toBe('live');
  });

  it('counts only outages viewers saw for flap damping', () => {
    const s = setup({ resumeHoldMs: 2000 });
    s.bringUp();
    for (let i = 0; i < 5; i++) {
      const last = s.now();
      s.wait(500);
      s.take(s.policy.linkLost(s.now(), 'stalled', { lastPacketTs: last, playoutMs }));
      s.wait(1000);
      s.take(s.policy.linkConnected(s.now(), 'resumed'));
      s.feed(2000, 2500);
    }
    expect(s.policy.holdMs(2000, s.now())).toBe(2000);
    const last = s.now();
    s.wait(500);
    s.take(s.policy.linkLost(s.now(), 'stalled', { lastPacketTs: last, playoutMs }));
    s.wait(3000);
    expect(s.program()).toBe('Offline');
    expect(s.policy.holdMs(2000, s.now())).toBe(2000); // one seen outage: the base hold
  });

  it('goes OFFLINE and restarts the input when a new connection replaces a feed still playing out', () => {
    const s = setup();
    s.bringUp();
    s.actions.length = 0;
    s.take(s.policy.linkLost(s.now(), 'feed disconnected: sender closed', { lastPacketTs: s.now(), playoutMs }));
    s.wait(300);
    s.take(s.policy.linkConnected(s.now(), 'connected'));
    expect(s.actions.map((a) => a.type)).toEqual(['switchScene', 'restartMedia']);
    expect(s.program()).toBe('Offline');
  });

  it('goes OFFLINE at once when the buffers already ran dry before the loss was reported', () => {
    const s = setup();
    s.bringUp();
    const last = s.now();
    s.wait(5000);
    s.take(s.policy.linkLost(s.now(), 'feed disconnected: no packet for 5 s', { lastPacketTs: last, playoutMs }));
    expect(s.program()).toBe('Offline');
  });
});

describe('SwitcherPolicy on a flaky link', () => {
  it('holds a resumed stall longer than a fresh reconnect', () => {
    const s = setup({ resumeHoldMs: 4000 });
    s.bringUp();
    s.take(s.policy.linkLost(s.now(), 'stalled'));
    s.take(s.policy.linkConnected(s.now(), 'resumed'));
    s.take(s.policy.framesConfirmed(s.now()));
    s.feed(3750, 2500);
    expect(s.policy.snapshot().state).toBe('offline');
    s.feed(500, 2500);
    expect(s.policy.snapshot()).toMatchObject({ state: 'live', reason: 'link steady again, picture moving' });
  });

  it('switches at most twice while the link drops for 0.3–1.5 s every 1–3 s for 60 s', () => {
    const s = setup();
    s.bringUp();
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const end = s.now() + 60_000;
    while (s.now() < end) {
      s.feed(1000 + random() * 2000, 2500);
      const drop = 300 + random() * 1200;
      if (drop >= 500) {
        s.wait(500);
        s.take(s.policy.linkLost(s.now(), 'stalled'));
        s.wait(drop - 500);
      } else s.wait(drop);
      if (drop >= 500) {
        s.take(s.policy.linkConnected(s.now(), 'resumed'));
        s.take(s.policy.framesConfirmed(s.now() + 100));
      }
    }
    // After the storm the hold has grown to its cap (30 s) before LIVE comes back.
    s.feed(35_000, 2500);
    expect(s.scenes()).toEqual(['Live', 'Offline', 'Live']); // the first Live is bringUp()
  });

  it('doubles the hold for every fall within the flap window, up to the maximum', () => {
    const s = setup({ recoverHoldMs: 2000, maxRecoverHoldMs: 10_000, flapWindowMs: 120_000 });
    s.bringUp();
    expect(s.policy.holdMs(2000, s.now())).toBe(2000);
    for (let i = 0; i < 3; i++) {
      s.feed(2250, 300);
      expect(s.policy.snapshot().state).toBe('low');
      s.feed(20_000, 2500);
      expect(s.policy.snapshot().state).toBe('live');
    }
    expect(s.policy.holdMs(2000, s.now())).toBe(8000);
    s.feed(2250, 300);
    expect(s.policy.holdMs(2000, s.now())).toBe(10_000);
  });

  it('a picture frozen while Live goes OFFLINE ("picture frozen") and back to LIVE only once frames move again', () => {
    const s = setup();
    s.bringUp();
    expect(s.policy.snapshot().state).toBe('live');
    s.take(s.policy.pictureFrozen(s.now()));
    expect(s.policy.snapshot()).toMatchObject({ state: 'offline', reason: 'picture frozen' });
    expect(s.program()).toBe('Offline');
    expect(s.policy.awaitingFrames()).toBe(true);
    expect(s.policy.watchingPicture()).toBe(false); // the frame watch's turn
    s.feed(3000, 2500);
    expect(s.policy.snapshot().state).toBe('offline');
    s.take(s.policy.framesConfirmed(s.now()));
    s.feed(250, 2500);
    expect(s.policy.snapshot().state).toBe('live');
    // One outage viewers saw: one fall for flap damping, so the next hold is still the base one.
    expect(s.policy.holdMs(2000, s.now())).toBe(2000);
    // Nothing to do when the feed is down or already OFFLINE.
    s.take(s.policy.linkLost(s.now(), 'feed stalled'));
    expect(s.policy.pictureFrozen(s.now())).toEqual([]);
  });

  it('a reopened feed input (OBS restarted) shows OFFLINE until its picture moves', () => {
    const s = setup();
    s.bringUp();
    s.take(s.policy.inputReopened(s.now(), 'OBS restarted: waiting for a moving picture'));
    expect(s.policy.snapshot()).toMatchObject({ state: 'offline', reason: 'OBS restarted: waiting for a moving picture' });
    expect(s.program()).toBe('Offline');
    s.feed(2000, 2500);
    expect(s.policy.snapshot().state).toBe('offline');
    s.take(s.policy.framesConfirmed(s.now()));
    expect(s.policy.snapshot().state).toBe('live');
    // The restart is one outage viewers saw (Live → Offline), the only one in the window: the base hold.
    expect(s.policy.holdMs(200, s.now())).toBe(200);
  });
});
