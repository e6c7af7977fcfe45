// The program's output side: destinations OBS's one encode is copied to, their health, and the recording.
import { z } from 'zod';
import { count, kbps, timestampMs } from './common.ts';

/** A destination's id: short, URL- and subject-safe (the dashboard addresses it by this). */
export const destinationId = z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 characters of a-z, 0-9 or -');

/** Where a destination sends: RTMP, RTMPS (Kick, YouTube's TLS door) or SRT; no credentials in the URL itself. */
export const destinationUrl = z
  .string()
  .max(500)
  .regex(/^(rtmps?|srt):\/\/[^\s/?#@]+(:\d{1,5})?(\/[^\s?#]*)?(\?[^\s#]*)?$/, 'must be an rtmp://, rtmps:// or srt:// URL with a host (no user:password@)');

export const destinationName = z.string().trim().min(1).max(64);

/** A stream key: a secret, kept only by the restream service, never sent back in full. */
export const streamKey = z
  .string()
  .max(500)
  .regex(/^[^\s]*$/, 'must not contain spaces');

/** What the restream service stores in its key-value bucket (the key in full). */
export const storedDestination = z.strictObject({
  id: destinationId,
  name: destinationName,
  url: destinationUrl,
  key: streamKey,
  enabled: z.boolean(),
});
export type StoredDestination = z.infer<typeof storedDestination>;
export const storedDestinations = z.array(storedDestination).max(16);

export const destinationStatus = z.enum([
  /** Turned off. */
  'disabled',
  /** On, waiting for the program (OBS is not streaming to the relay). */
  'idle',
  /** Connecting (first attempt, or after a change). */
  'connecting',
  /** The platform receives. */
  'connected',
  /** It was connected and lost it: retrying with backoff. */
  'reconnecting',
  /** Attempts fail before the platform takes the stream (refused key, refused, unreachable): retrying with backoff. */
  'failed',
]);
export type DestinationStatus = z.infer<typeof destinationStatus>;

export const destinationHealth = z.strictObject({
  id: destinationId,
  name: destinationName,
  url: destinationUrl,
  /** The key's last characters only ("…f3a9"), or "" when no key is set. */
  keyHint: z.string().max(16),
  enabled: z.boolean(),
  status: destinationStatus,
  /** Why the last attempt ended, in words (the platform's error, the key never shown). */
  error: z.string().max(500).nullable(),
  bitrateKbps: kbps,
  droppedFrames: count,
  /** Since it last connected; 0 unless connected. */
  uptimeMs: count,
  /** Failed attempts in a row. */
  failures: count,
  /** When the next attempt starts, while reconnecting or failed. */
  retryInMs: count.nullable(),
});
export type DestinationHealth = z.infer<typeof destinationHealth>;

/** `irl.<s>.restream.state`: every destination's health, on change and once a second. */
export const restreamState = z.strictObject({
  ts: timestampMs,
  /** OBS is publishing the program to the relay. */
  programLive: z.boolean(),
  programSince: timestampMs.nullable(),
  destinations: z.array(destinationHealth).max(16),
});
export type RestreamState = z.infer<typeof restreamState>;

/** A recording's file name: `<stream>-<UTC start>.mkv` (what restream writes, the only names the dashboard serves). */
export const RECORDING_FILE_NAME = /^[A-Za-z0-9_-]{1,64}-\d{8}T\d{6}Z(-\d+)?\.mkv$/;

export const recordingFile = z.strictObject({
  name: z.string().regex(RECORDING_FILE_NAME),
  bytes: count,
  modifiedAt: timestampMs,
});
export type RecordingFile = z.infer<typeof recordingFile>;

/** `irl.<s>.recording.state`: the local recording of the program, on change and every few seconds. */
export const recordingState = z.strictObject({
  ts: timestampMs,
  enabled: z.boolean(),
  status: z.enum(['off', 'idle', 'recording', 'failed']),
  /** The file being written. */
  current: z.string().max(128).nullable(),
  error: z.string().max(500).nullable(),
  files: z.array(recordingFile).max(500),
  usedBytes: count,
  budget: z.strictObject({ maxBytes: count, maxAgeHours: z.number().positive() }),
});
export type RecordingState = z.infer<typeof recordingState>;

const destinationView = z.array(destinationHealth).max(16);

export const restreamCommandSchemas = {
  /**
   * Adds (no id) or changes (id) a destination. `key` omitted keeps the stored key: the dashboard never
   * has it to send back.
   */
  'destination.save': {
    request: z.strictObject({
      id: destinationId.optional(),
      name: destinationName,
      url: destinationUrl,
      key: streamKey.optional(),
      enabled: z.boolean().optional(),
    }),
    result: destinationView.optional(),
  },
  'destination.remove': { request: z.strictObject({ id: destinationId }), result: destinationView.optional() },
  /** Turns one destination on or off, live or not. */
  'destination.enable': { request: z.strictObject({ id: destinationId, enabled: z.boolean() }), result: destinationView.optional() },
  'recording.enable': { request: z.strictObject({ enabled: z.boolean() }), result: z.strictObject({ enabled: z.boolean() }).optional() },
} as const;
