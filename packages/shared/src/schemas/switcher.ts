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
    /**
     * A lost feed keeps playing out of the latency buffers for ingest's playout time (SRT latency +
     * output hop) plus this: OFFLINE comes then, when the picture would freeze. Defaulted so settings
     * stored before it existed stay valid.
     */
    pictureLagMs: z.number().int().min(-5000).max(5000).default(DEFAULT_PICTURE_LAG_MS),
    /** Flap damping: each outage viewers saw within this window doubles the hold before going back. */
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
