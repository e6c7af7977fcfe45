// Payloads obs-bridge publishes: OBS state and program screenshots.
import { z } from 'zod';
import { count, kbps, timestampMs } from './common.ts';

export const sceneName = z.string().min(1).max(256);

export const obsState = z.strictObject({
  ts: timestampMs,
  reachable: z.boolean(),
  streaming: z.boolean(),
  recording: z.boolean(),
  /** "HH:MM:SS.mmm" as OBS reports it; null when not streaming. */
  streamTimecode: z.string().max(32).nullable(),
  recordTimecode: z.string().max(32).nullable(),
  programScene: sceneName.nullable(),
  scenes: z.array(sceneName).max(500),
  /** Mute state of the configured microphone input; null if it does not exist. */
  micMuted: z.boolean().nullable(),
  outputKbps: kbps.nullable(),
  droppedFrames: count,
  skippedFrames: count,
  totalFrames: count,
  cpuPercent: z.number().nonnegative().finite().nullable(),
  /** Why OBS is unreachable, when it is. */
  error: z.string().max(500).nullable(),
});
export type ObsState = z.infer<typeof obsState>;

export const obsScreenshot = z.strictObject({
  ts: timestampMs,
  format: z.enum(['jpeg', 'png']),
  width: z.number().int().positive().max(7680),
  height: z.number().int().positive().max(4320),
  /** Base64 image bytes, no data: prefix. */
  data: z
    .string()
    .min(1)
    .max(8_000_000)
    .regex(/^[A-Za-z0-9+/]+=*$/, 'must be base64'),
});
export type ObsScreenshot = z.infer<typeof obsScreenshot>;

/**
 * What the streamer wants OBS to be doing, recorded on every command (and adopted from changes made in
 * OBS itself), kept in JetStream KV and applied whenever OBS answers and differs.
 */
export const wantedObsState = z.strictObject({
  streaming: z.boolean(),
  /** The scene last put on program (by hand, by the switcher or in OBS); null before any is known. */
  scene: sceneName.nullable(),
  /** Mute of each input a command or OBS named. */
  muted: z.record(z.string().min(1).max(256), z.boolean()),
  updatedAt: timestampMs,
});
export type WantedObsState = z.infer<typeof wantedObsState>;
