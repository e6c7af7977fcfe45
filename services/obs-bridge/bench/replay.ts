// Replays recorded ingest traces through irlkit's switcher policy and through a reference of
// NOALBS's documented rule, so both are judged on exactly the same input.
import type { SwitcherScenes, SwitcherSettings, SwitcherStateName } from '@irlkit/shared';
import { SwitcherPolicy } from '../src/switcher/policy.ts';

export type TraceEvent =
  | { t: number; type: 'link'; event: 'connected' | 'resumed' | 'stalled' | 'disconnected'; lastPacketTs?: number | null; playoutMs?: number | null }
  | { t: number; type: 'stats'; connected: boolean; bitrateKbps: number; rttMs: number | null }
  /** The moment irlkit's runtime saw the picture move again in the live run. */
  | { t: number; type: 'frames' }
  /** What the benchmark did: kill or restart the sender, cut the link… */
  | { t: number; type: 'mark'; label: string };

export interface Switch {
  t: number;
  state: SwitcherStateName;
}

/** Scene names for the replay: the policy only needs them to be told apart. */
const SCENES: SwitcherScenes = { live: 'Live', low: 'Low', offline: 'Offline' };

/**
 * irlkit's policy over a trace, ticking every 50 ms like the runtime's timer. `rule: 'stall'` replays
 * the earlier rule (OFFLINE with ingest's stall event, 500 ms after the last packet) by withholding
 * what the link events say about the buffers.
 */
export function replayIrlkit(
  trace: TraceEvent[],
  config: SwitcherSettings,
  startState: SwitcherStateName = 'live',
  rule: 'freeze' | 'stall' = 'freeze',
): Switch[] {
  const sorted = [...trace].sort((a, b) => a.t - b.t);
  const t0 = sorted[0]?.t ?? 0;
  const policy = new SwitcherPolicy(config, SCENES, t0);
  const switches: Switch[] = [];
  let program = SCENES[startState];
  policy.observeProgramScene(program);
  if (startState !== 'offline') {
    policy.linkConnected(t0, 'connected');
    policy.framesConfirmed(t0 + config.offlineRecoverHoldMs);
    policy.tick(t0 + config.offlineRecoverHoldMs);
  }
  const sceneToState = Object.fromEntries(Object.entries(SCENES).map(([k, v]) => [v, k])) as Record<string, SwitcherStateName>;
  const take = (t: number, actions: ReturnType<SwitcherPolicy['tick']>) => {
    for (const a of actions) {
      if (a.type !== 'switchScene' || a.scene === program) continue;
      program = a.scene;
      policy.observeProgramScene(program);
      switches.push({ t, state: sceneToState[a.scene] as SwitcherStateName });
    }
  };
  let clock = t0;
  for (const e of sorted) {
    for (; clock + 50 <= e.t; clock += 50) {
      // The runtime's freeze watch: it looks at the input while a lost feed plays out; a trace holds no pictures,
      // so it sees one unchanged, and the deadline stands.
      if (policy.watchingForFreeze(clock + 50)) policy.pictureUnchanged(clock + 50);
      take(clock + 50, policy.tick(clock + 50));
    }
    if (e.type === 'link') {
      const loss = rule === 'freeze' ? { lastPacketTs: e.lastPacketTs ?? null, playoutMs: e.playoutMs ?? null } : undefined;
      take(e.t, e.event === 'connected' || e.event === 'resumed' ? policy.linkConnected(e.t, e.event) : policy.linkLost(e.t, e.event, loss));
    } else if (e.type === 'stats') take(e.t, policy.sample(e.t, e.bitrateKbps, e.rttMs, e.connected));
    else if (e.type === 'frames') take(e.t, policy.framesConfirmed(e.t));
  }
  return switches;
}

/**
 * NOALBS's rule as its users know it: poll the SRT server's statistics once a second, classify the
 * sample (offline: no publisher or no data; low: bitrate under the low threshold or RTT over the
 * limit; else live), switch after 6 identical samples that disagree with the current scene, and
 * switch back to live on the first healthy sample. It never restarts OBS's media source.
 */
export function replayNoalbs(
  trace: TraceEvent[],
  config: Pick<SwitcherSettings, 'lowEnterKbps' | 'rttEnterMs'>,
  startState: SwitcherStateName = 'live',
  samplesToSwitch = 6,
): Switch[] {
  const sorted = [...trace].sort((a, b) => a.t - b.t);
  if (!sorted.length) return [];
  const stats = sorted.filter((e): e is Extract<TraceEvent, { type: 'stats' }> => e.type === 'stats');
  const switches: Switch[] = [];
  let current: SwitcherStateName = startState;
  let candidate: SwitcherStateName | null = null;
  let run = 0;
  let i = 0;
  let latest: (typeof stats)[number] | undefined;
  const end = sorted[sorted.length - 1]?.t as number;
  for (let t = (sorted[0]?.t as number) + 1000; t <= end; t += 1000) {
    while (i < stats.length && (stats[i] as (typeof stats)[number]).t <= t) latest = stats[i++];
    const sample: SwitcherStateName =
      !latest?.connected || latest.bitrateKbps === 0
        ? 'offline'
        : latest.bitrateKbps < config.lowEnterKbps || (config.rttEnterMs > 0 && (latest.rttMs ?? 0) > config.rttEnterMs)
          ? 'low'
          : 'live';
    if (sample === current) {
      candidate = null;
      run = 0;
      continue;
    }
    if (sample === 'live') {
      current = 'live';
      switches.push({ t, state: 'live' });
      candidate = null;
      run = 0;
      continue;
    }
    run = sample === candidate ? run + 1 : 1;
    candidate = sample;
    if (run >= samplesToSwitch) {
      current = sample;
      switches.push({ t, state: sample });
      candidate = null;
      run = 0;
    }
  }
  return switches;
}

/** Time from each mark with the label to the first later switch into `state`. */
export function delaysAfter(trace: TraceEvent[], switches: Switch[], label: string, state: SwitcherStateName): number[] {
  return trace
    .filter((e) => e.type === 'mark' && e.label === label)
    .map((mark) => switches.find((s) => s.t >= mark.t && s.state === state))
    .map((s, index) => (s ? s.t - (trace.filter((e) => e.type === 'mark' && e.label === label)[index] as TraceEvent).t : Number.NaN))
    .filter((d) => !Number.isNaN(d));
}

/**
 * Milliseconds during which a live scene (Live/Low) was on program with the feed's picture frozen: from the moment
 * the buffers behind a lost feed's last packet ran dry (`lastPacketTs + playoutMs` of its link event; at the event
 * when the trace lacks them) until it came back. An upper bound: OBS's own lag shows the picture a little longer.
 * Before, every stalled moment counted, which a gap the latency buffer hides is not.
 */
export function frozenOnAirMs(trace: TraceEvent[], switches: Switch[], startState: SwitcherStateName, from: number, to: number): number {
  const changes = [...switches].sort((a, b) => a.t - b.t);
  const stateAt = (t: number) => {
    let state = startState;
    for (const s of changes) if (s.t <= t) state = s.state;
    return state;
  };
  let frozen = 0;
  /** While the link is down: from when its picture is frozen (the buffers behind its last packet dry; at once if unknown). */
  let frozenFrom: number | null = null;
  const links = trace.filter((e): e is Extract<TraceEvent, { type: 'link' }> => e.type === 'link').sort((a, b) => a.t - b.t);
  for (let t = from; t < to; t += 10) {
    for (const e of links) {
      if (e.t > t || e.t <= t - 10) continue;
      const down = e.event === 'stalled' || e.event === 'disconnected';
      const dryAt = e.lastPacketTs != null && e.playoutMs != null ? e.lastPacketTs + e.playoutMs : e.t;
      // A stall that turns into a disconnect keeps the first event's time: the buffers ran dry only once.
      frozenFrom = down ? Math.min(frozenFrom ?? dryAt, dryAt) : null;
    }
    if (frozenFrom !== null && t >= frozenFrom && stateAt(t) !== 'offline') frozen += 10;
  }
  return frozen;
}
