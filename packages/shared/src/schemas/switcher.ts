// The switcher's settings and its published state.
import { z } from 'zod';
import { timestampMs } from './common.ts';
import { sceneName } from './obs.ts';

export const switcherStateName = z.enum(['live', 'low', 'offline']);
export type SwitcherStateName = z.infer<typeof switcherStateName>;
export const switcherMode = z.enum(['auto', 'manual']);
export type SwitcherMode = z.infer<typeof switcherMode>;

const ms = z.number().int().nonnegative().max(3_600_000);

/** OBS's own lag from the feed input receiving a frame to showing it on program (measured, see README). */
export const DEFAULT_PICTURE_LAG_MS = 500;
const pictureLagMs = z.number().int().min(-5000).max(5000);

/** The streamer's settings: thresholds, windows and options, kept in JetStream and changed from the dashboard. */
const settingsShape = {
  /** Enter LOW when the bitrate stays below this for lowWindowMs. */
  lowEnterKbps: z.number().int().nonnegative().max(1_000_000),
  /** Leave LOW only once the bitrate is at or above this (hysteresis). */
  lowLeaveKbps: z.number().int().nonnegative().max(1_000_000),
  /** Enter LOW when RTT stays above this for lowWindowMs; 0 turns the RTT rule off. */
  rttEnterMs: ms,
  rttLeaveMs: ms,
  lowWindowMs: ms,
  /** Healthy for this long before LOW → LIVE. */
  recoverHoldMs: ms,
  /** After the sender reconnected: frames flowing for this long before OFFLINE → LIVE. */
  offlineRecoverHoldMs: ms,
  /** After a stall resumed on the same connection (a flaky link): healthy this long before OFFLINE → LIVE. */
  resumeHoldMs: ms,
  /**
   * A lost feed keeps playing out of the latency buffers for ingest's playout time (SRT latency +
   * output hop) plus this: OFFLINE comes then, when the picture would freeze. Defaulted so settings
   * stored before it existed stay valid.
   */
  pictureLagMs: pictureLagMs.default(DEFAULT_PICTURE_LAG_MS),
  /** Flap damping: each outage viewers saw within this window doubles the hold before going back. */
  flapWindowMs: ms,
  /** The longest hold flap damping may ask for. */
  maxRecoverHoldMs: ms,
  onlyWhileStreaming: z.boolean(),
  /** Stop the stream after this many minutes OFFLINE; 0 = never. */
  stopAfterOfflineMin: z.number().nonnegative().max(1440),
};

function withSettingsRules<S extends z.ZodObject<typeof settingsShape>>(schema: S): S {
  return schema
    .refine((c) => c.lowLeaveKbps >= c.lowEnterKbps, {
      message: 'lowLeaveKbps must be at least lowEnterKbps',
      path: ['lowLeaveKbps'],
    })
    .refine((c) => c.rttEnterMs === 0 || c.rttLeaveMs <= c.rttEnterMs, {
      message: 'rttLeaveMs must be at most rttEnterMs',
      path: ['rttLeaveMs'],
    });
}

export const switcherSettings = withSettingsRules(z.strictObject(settingsShape));
export type SwitcherSettings = z.infer<typeof switcherSettings>;
/** As kept in JetStream: settings stored when they still carried the scenes are read without them. */
export const storedSwitcherSettings = withSettingsRules(z.object(settingsShape));
/** `switcher.config` takes any subset of the streamer's settings (no defaults: an absent field stays as it is). */
export const switcherConfigPatch = z.strictObject({ ...settingsShape, pictureLagMs }).partial();
export type SwitcherConfigPatch = z.infer<typeof switcherConfigPatch>;

/** The deployment's scenes, one per state: configuration (OBS_SCENE_LIVE/_LOW/_OFFLINE), not the streamer's settings. */
export const switcherScenes = z.strictObject({ live: sceneName, low: sceneName, offline: sceneName });
export type SwitcherScenes = z.infer<typeof switcherScenes>;

/** The streamer's settings by default (README "obs-bridge and the switcher" explains each number; a test holds the two together). */
export const DEFAULT_SWITCHER_SETTINGS: SwitcherSettings = {
  lowEnterKbps: 800,
  lowLeaveKbps: 1500,
  rttEnterMs: 1500,
  rttLeaveMs: 800,
  lowWindowMs: 2000,
  recoverHoldMs: 5000,
  offlineRecoverHoldMs: 200,
  resumeHoldMs: 4000,
  pictureLagMs: DEFAULT_PICTURE_LAG_MS,
  flapWindowMs: 120_000,
  maxRecoverHoldMs: 30_000,
  onlyWhileStreaming: false,
  stopAfterOfflineMin: 0,
};

export const switcherState = z.strictObject({
  ts: timestampMs,
  mode: switcherMode,
  state: switcherStateName,
  since: timestampMs,
  reason: z.string().max(500),
  /** The scene the switcher wants on program; null in manual mode. */
  scene: sceneName.nullable(),
  /** The streamer's settings in force. */
  settings: switcherSettings,
  /** The deployment's scenes the switcher puts on program. */
  scenes: switcherScenes,
});
export type SwitcherState = z.infer<typeof switcherState>;

/**
 * The switcher's reasons for OFFLINE, in the words `switcher.state.reason` carries: written by the switcher
 * from these and read back by the session report (`offlineCause`), so the two never drift apart.
 */
export const switcherReasons = {
  waitingForFeed: 'waiting for the feed',
  noConnection: 'ingest reports no connection',
  /** The feed input's picture stopped while data kept arriving. */
  pictureFrozen: 'picture frozen',
  /** The feed input drew nothing at all (its player ended or lost its connection) while data kept arriving. */
  noPicture: 'no picture from the feed input',
  obsRestarted: 'OBS restarted: waiting for a moving picture',
  /** Ingest said the feed stalled or disconnected; `detail` is its reason. */
  feedLost: (event: 'stalled' | 'disconnected', detail: string) => `feed ${event}: ${detail}`,
  /** A lost feed's picture seen freezing once the buffers ran dry: the lost feed is still the cause. */
  pictureFroze: (lostReason: string) => `${lostReason}; picture froze`,
} as const;

export type OfflineCause = 'no-feed' | 'sender-stalled' | 'link-lost' | 'picture-frozen' | 'obs-restarted';

/** What an OFFLINE reason of the switcher says caused it; null for a reason it does not write. */
export function offlineCause(reason: string): OfflineCause | null {
  const r = switcherReasons;
  if (reason === r.waitingForFeed) return 'no-feed';
  if (reason === r.pictureFrozen || reason === r.noPicture) return 'picture-frozen';
  if (reason === r.obsRestarted) return 'obs-restarted';
  if (reason === r.noConnection || reason.startsWith(r.feedLost('disconnected', ''))) return 'link-lost';
  if (reason.startsWith(r.feedLost('stalled', ''))) return 'sender-stalled';
  return null;
}
