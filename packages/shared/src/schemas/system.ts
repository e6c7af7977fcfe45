// Timeline entries, supervised-process events and service heartbeats.
import { z } from 'zod';
import { timestampMs } from './common.ts';

export const logEntry = z.strictObject({
  ts: timestampMs,
  level: z.enum(['info', 'warn', 'error']),
  source: z.string().min(1).max(64),
  message: z.string().min(1).max(1000),
});
export type LogEntry = z.infer<typeof logEntry>;

/** A supervised child (srt-live-transmit, Xvfb, OBS, a container) changed state, or warned of something viewers notice. */
export const processEvent = z.strictObject({
  ts: timestampMs,
  service: z.string().min(1).max(64),
  child: z.string().min(1).max(64),
  kind: z.enum(['process', 'container']),
  event: z.enum(['started', 'exited', 'restarting', 'stopped', 'healthy', 'unhealthy', 'warning']),
  pid: z.number().int().positive().nullable(),
  exitCode: z.number().int().nullable(),
  signal: z.string().max(16).nullable(),
  restartInMs: z.number().int().nonnegative().nullable(),
  detail: z.string().max(1000).nullable(),
});
export type ProcessEvent = z.infer<typeof processEvent>;

/**
 * The `detail` of OBS's process warning that an input's audio lags: OBS restarts that input's audio timing
 * then (a new A/V offset). Written by the desktop service, read by obs-bridge's audio anchor.
 */
export const obsAudioLag = {
  detail: (input: string, ms: number): string => `OBS: audio of ${input} lags by ${Math.round(ms)} ms`,
  input: (detail: string): string | null => /^OBS: audio of (.+) lags by -?\d+ ms$/.exec(detail)?.[1] ?? null,
};

export const heartbeat = z.strictObject({
  ts: timestampMs,
  service: z.string().min(1).max(64),
  pid: z.number().int().positive(),
  uptimeMs: z.number().int().nonnegative(),
  ok: z.boolean(),
  detail: z.record(z.string().max(64), z.union([z.string().max(500), z.number(), z.boolean(), z.null()])),
});
export type Heartbeat = z.infer<typeof heartbeat>;

/**
 * How many dashboard pages are open (event streams the dashboard serves): published when the number
 * changes and every few seconds while it is not zero. obs-bridge takes preview screenshots only while
 * someone watches, and stops when the count is 0 or has not been repeated for a while.
 */
export const dashboardViewers = z.strictObject({
  ts: timestampMs,
  viewers: z.number().int().nonnegative().max(100_000),
});
export type DashboardViewers = z.infer<typeof dashboardViewers>;
