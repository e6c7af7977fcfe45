// Subject names: the only file where the "irl." prefix is spelled out.
export const SUBJECT_ROOT = 'irl';
export const DEFAULT_STREAM_ID = 'main';

/** Event names; the subject is `irl.<stream>.<name>`. */
export const EVENT_NAMES = [
  'ingest.stats',
  'ingest.link',
  'ingest.srtla',
  'obs.state',
  'obs.screenshot',
  'switcher.state',
  'restream.state',
  'recording.state',
  'dashboard.viewers',
  'log',
  'process',
  'heartbeat',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export const COMMAND_VERBS = [
  'stream.start',
  'stream.stop',
  'audio.mute',
  'scene.set',
  'switcher.mode',
  'switcher.config',
  'obs.restart',
  'feed.restart',
  'destination.save',
  'destination.remove',
  'destination.enable',
  'recording.enable',
] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];

const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;
export function assertStreamId(streamId: string): string {
  if (!STREAM_ID.test(streamId)) {
    throw new Error(`stream id "${streamId}" must be 1-64 characters of A-Z, a-z, 0-9, _ or -`);
  }
  return streamId;
}

export const subjects = {
  event: (streamId: string, name: EventName) => `${SUBJECT_ROOT}.${streamId}.${name}`,
  command: (streamId: string, verb: CommandVerb) => `${SUBJECT_ROOT}.${streamId}.cmd.${verb}`,
  ingestStats: (streamId: string) => subjects.event(streamId, 'ingest.stats'),
  ingestLink: (streamId: string) => subjects.event(streamId, 'ingest.link'),
  ingestSrtla: (streamId: string) => subjects.event(streamId, 'ingest.srtla'),
  obsState: (streamId: string) => subjects.event(streamId, 'obs.state'),
  obsScreenshot: (streamId: string) => subjects.event(streamId, 'obs.screenshot'),
  switcherState: (streamId: string) => subjects.event(streamId, 'switcher.state'),
  dashboardViewers: (streamId: string) => subjects.event(streamId, 'dashboard.viewers'),
  log: (streamId: string) => subjects.event(streamId, 'log'),
  /** An event as the history recorder keeps it (sampled or on change), beside the live one. */
  history: (streamId: string, name: EventName) => `${SUBJECT_ROOT}.${streamId}.history.${name}`,
  /** Every stream's subjects of one event (JetStream stream filters). */
  everyStream: (name: EventName, history = false) => `${SUBJECT_ROOT}.*.${history ? 'history.' : ''}${name}`,
  /** Everything of one stream, or of every stream with the default. */
  all: (streamId = '*') => `${SUBJECT_ROOT}.${streamId}.>`,
  allStreams: () => `${SUBJECT_ROOT}.>`,
};

export type ParsedSubject =
  | { kind: 'event'; streamId: string; name: EventName }
  | { kind: 'history'; streamId: string; name: EventName }
  | { kind: 'command'; streamId: string; verb: CommandVerb }
  | { kind: 'unknown'; subject: string };

/** Tells which contract entry a concrete subject belongs to (used by the tap). */
export function parseSubject(subject: string): ParsedSubject {
  const parts = subject.split('.');
  if (parts[0] !== SUBJECT_ROOT || parts.length < 3) return { kind: 'unknown', subject };
  const streamId = parts[1] as string;
  const rest = parts.slice(2).join('.');
  if (parts[2] === 'cmd') {
    const verb = parts.slice(3).join('.');
    if ((COMMAND_VERBS as readonly string[]).includes(verb)) {
      return { kind: 'command', streamId, verb: verb as CommandVerb };
    }
    return { kind: 'unknown', subject };
  }
  if ((EVENT_NAMES as readonly string[]).includes(rest)) {
    return { kind: 'event', streamId, name: rest as EventName };
  }
  if (parts[2] === 'history') {
    const name = parts.slice(3).join('.');
    if ((EVENT_NAMES as readonly string[]).includes(name)) return { kind: 'history', streamId, name: name as EventName };
  }
  return { kind: 'unknown', subject };
}
