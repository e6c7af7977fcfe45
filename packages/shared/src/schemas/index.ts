// Every payload schema of the contract, and the map from event name to schema.
import type { z } from 'zod';
import type { EventName } from '../subjects.ts';
import { ingestLink, ingestSrtla, ingestStats } from './ingest.ts';
import { obsScreenshot, obsState } from './obs.ts';
import { recordingState, restreamState } from './restream.ts';
import { switcherState } from './switcher.ts';
import { dashboardViewers, heartbeat, logEntry, processEvent } from './system.ts';

export * from './commands.ts';
export * from './common.ts';
export * from './ingest.ts';
export * from './obs.ts';
export * from './restream.ts';
export * from './switcher.ts';
export * from './system.ts';

export const eventSchemas = {
  'ingest.stats': ingestStats,
  'ingest.link': ingestLink,
  'ingest.srtla': ingestSrtla,
  'obs.state': obsState,
  'obs.screenshot': obsScreenshot,
  'switcher.state': switcherState,
  'restream.state': restreamState,
  'recording.state': recordingState,
  'dashboard.viewers': dashboardViewers,
  log: logEntry,
  process: processEvent,
  heartbeat,
} as const satisfies Record<EventName, z.ZodType>;

export type EventPayload<N extends EventName> = z.infer<(typeof eventSchemas)[N]>;
