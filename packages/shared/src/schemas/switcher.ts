// The switcher's settings and its published state.
import { z } from 'zod';
import { timestampMs } from './common.ts';
import { sceneName } from './obs.ts';

export const switcherStateName = z.enum(['live', 'low', 'offline']);
export type SwitcherStateName = z.infer<typeof switcherStateName>;
export const switcherMode = z.enum(['auto', 'manual']);
export type SwitcherMode = z.infer<typeof switcherMode>;

const ms = z.number().int().nonnegative().max(3_600_000);

export const switcherConfig = z
  .strictObject({
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
    /** Flap damping: each fall from LIVE within this window doubles the hold before going back. */
    flapWindowMs: ms,
    /** The longest hold flap damping may ask for. */
    maxRecoverHoldMs: ms,
    scenes: z.strictObject({ live: sceneName, low: sceneName, offline: sceneName }),
    /** OBS media input that shows the feed; restarted when the feed returns. */
    mediaInput: z.string().min(1).max(256),
    onlyWhileStreaming: z.boolean(),
    /** Stop the stream after this many minutes OFFLINE; 0 = never. */
    stopAfterOfflineMin: z.number().nonnegative().max(1440),
  })
  .refine((c) => c.lowLeaveKbps >= c.lowEnterKbps, {
    message: 'lowLeaveKbps must be at least lowEnterKbps',
    path: ['lowLeaveKbps'],
  })
  .refine((c) => c.rttEnterMs === 0 || c.rttLeaveMs <= c.rttEnterMs, {
    message: 'rttLeaveMs must be at most rttEnterMs',
    path: ['rttLeaveMs'],
  });
export type SwitcherConfig = z.infer<typeof switcherConfig>;

/** The switcher's defaults (README "obs-bridge and the switcher" explains each number; a test holds the two together). */
export const DEFAULT_SWITCHER_CONFIG: SwitcherConfig = {
  lowEnterKbps: 800,
  lowLeaveKbps: 1500,
  rttEnterMs: 1500,
  rttLeaveMs: 800,
  lowWindowMs: 2000,
  recoverHoldMs: 5000,
  offlineRecoverHoldMs: 200,
  resumeHoldMs: 4000,
  flapWindowMs: 120_000,
  maxRecoverHoldMs: 30_000,
  scenes: { live: 'Live', low: 'Low', offline: 'Offline' },
  mediaInput: 'SRT feed',
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
  thresholds: switcherConfig,
});
export type SwitcherState = z.infer<typeof switcherState>;
