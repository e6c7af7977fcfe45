// Who may do what on the bus: one NATS user per service, with the subjects it publishes, follows,
// serves and sends, and the key-value buckets it keeps. The one table nats-server's users are made
// from (compose's services/nats/users.conf, the native runner's nats.conf); a new service is one entry.
import { HISTORY_STREAMS, type HistoryStreamKey, RECORDED_EVENTS } from './history.ts';
import { COMMAND_VERBS, type CommandVerb, EVENT_NAMES, type EventName, SUBJECT_ROOT } from './subjects.ts';

/** The switcher's settings and the wanted state (obs-bridge's; BRIDGE_SETTINGS_BUCKET). */
export const SETTINGS_BUCKET = 'irlkit_settings';
/** The restream destinations with their stream keys (the restream service's alone: keys are secrets). */
export const DESTINATIONS_BUCKET = 'irlkit_destinations';
/** The dashboard's session epoch ("log out everywhere"). */
export const SESSIONS_BUCKET = 'irlkit_sessions';

export interface BusGrant {
  /** Events it publishes on `irl.<s>.<name>`. */
  publishes: readonly EventName[];
  /** Events it follows. */
  follows: readonly EventName[];
  /** Commands it answers, in the queue group `cmd.<verb>` (the only group it may join). */
  serves: readonly CommandVerb[];
  /** Commands it sends. */
  sends: readonly CommandVerb[];
  /** JetStream key-value buckets it reads and writes (never deletes or purges). */
  buckets: readonly string[];
  /** Events it records into the history (`irl.<s>.history.<name>`). */
  records?: readonly EventName[];
  /** History streams it creates, keeps within their limits and reads (never deletes or purges). */
  histories?: readonly HistoryStreamKey[];
}

/** What a dashboard page shows: every event but the services' heartbeats and the dashboard's own count of pages. */
const ALL_EVENTS = EVENT_NAMES.filter((name) => name !== 'heartbeat' && name !== 'dashboard.viewers');
/** What every service publishes about itself: heartbeats, timeline entries, its children's lives. */
const SELF_REPORTING: readonly EventName[] = ['log', 'process', 'heartbeat'];

export const BUS_GRANTS = {
  ingest: { publishes: ['ingest.stats', 'ingest.link', 'ingest.srtla', ...SELF_REPORTING], follows: [], serves: [], sends: [], buckets: [] },
  'obs-bridge': {
    publishes: ['obs.state', 'obs.screenshot', 'switcher.state', ...SELF_REPORTING],
    // dashboard.viewers: screenshots only while a dashboard page is open.
    follows: ['ingest.stats', 'ingest.link', 'process', 'dashboard.viewers'],
    serves: ['stream.start', 'stream.stop', 'audio.mute', 'scene.set', 'feed.restart', 'switcher.mode', 'switcher.config'],
    // Its HTTP API forwards any command; natively its watchdog asks the desktop for obs.restart.
    sends: COMMAND_VERBS,
    buckets: [SETTINGS_BUCKET],
  },
  // The desktop container (Xvfb + OBS, scriptable through the browser desktop): reports its processes, restarts OBS natively.
  desktop: { publishes: SELF_REPORTING, follows: [], serves: ['obs.restart'], sends: [], buckets: [] },
  // The program's output side: the relay OBS streams to, one copy per destination, the recording.
  restream: {
    publishes: ['restream.state', 'recording.state', ...SELF_REPORTING],
    follows: [],
    serves: ['destination.save', 'destination.remove', 'destination.enable', 'recording.enable'],
    sends: [],
    buckets: [DESTINATIONS_BUCKET],
  },
  // Twitch chat commands: the same commands the dashboard sends, answers from the latest state.
  chat: {
    publishes: SELF_REPORTING,
    follows: ['ingest.stats', 'ingest.srtla', 'obs.state', 'switcher.state', 'restream.state'],
    serves: [],
    sends: COMMAND_VERBS,
    buckets: [],
  },
  // Internet-facing: reads every event, sends the commands the page offers, keeps the session epoch.
  // It also records the history and reads it back (the opening picture, the session reports), and tells
  // how many pages are open (the preview's screenshots are taken only then).
  dashboard: {
    publishes: ['dashboard.viewers'],
    follows: ALL_EVENTS,
    serves: [],
    sends: COMMAND_VERBS,
    buckets: [SESSIONS_BUCKET],
    records: RECORDED_EVENTS,
    histories: ['events', 'samples'],
  },
  // `pnpm tap` and operators' scripts: watch everything, send commands, change nothing else.
  operator: { publishes: [], follows: EVENT_NAMES, serves: [], sends: COMMAND_VERBS, buckets: [] },
} as const satisfies Record<string, BusGrant>;

export type BusUser = keyof typeof BUS_GRANTS;
export const BUS_USERS = Object.keys(BUS_GRANTS) as BusUser[];

/** The inbox prefix of a user's replies: only that user may subscribe under it. */
export function inboxPrefix(user: string): string {
  return `_INBOX_${user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  allow_responses?: { max: number; expires: string };
}

/** A user's nats-server permissions, for one stream (`*`: any stream id). */
export function natsPermissions(user: BusUser, streamId: string, settingsBucket = SETTINGS_BUCKET): NatsPermissions {
  const grant: BusGrant = BUS_GRANTS[user];
  const event = (name: EventName) => `${SUBJECT_ROOT}.${streamId}.${name}`;
  const command = (verb: CommandVerb) => `${SUBJECT_ROOT}.${streamId}.cmd.${verb}`;
  const buckets = grant.buckets.map((b) => (b === SETTINGS_BUCKET ? settingsBucket : b));
  const publish = [
    ...grant.publishes.map(event),
    ...grant.sends.map(command),
    ...buckets.flatMap(kvPublish),
    ...(grant.records ?? []).map((name) => `${SUBJECT_ROOT}.${streamId}.history.${name}`),
    ...(grant.histories ?? []).flatMap((key) => historyPublish(HISTORY_STREAMS[key].name)),
  ];
  const subscribe = [
    ...grant.follows.map(event),
    // "subject queue": may join that queue group only, so nobody else can swallow the command.
    ...grant.serves.map((verb) => `${command(verb)} cmd.${verb}`),
    `${inboxPrefix(user)}.>`,
  ];
  if (buckets.length || grant.histories?.length) publish.push('$JS.API.INFO');
  const permissions: NatsPermissions = { publish: { allow: publish }, subscribe: { allow: subscribe } };
  if (grant.serves.length) permissions.allow_responses = { max: 1, expires: '30s' };
  return permissions;
}

/** The JetStream API one key-value bucket needs: create/read it, put, get, watch; never delete or purge. */
function kvPublish(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.FC.${stream}.>`,
    `$KV.${bucket}.>`,
  ];
}

/** The JetStream API a history stream needs: create it, update its limits, read it with ordered consumers. */
function historyPublish(stream: string): string[] {
  return [
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.UPDATE.${stream}`,
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
  ];
}

/**
 * nats-server's `authorization { users = [...] }` for every user of the table. Passwords are given as
 * literals, or as `$VARIABLE` references that nats-server reads from its environment (compose).
 */
export function natsAuthorization(passwords: Record<BusUser, string>, streamId: string, settingsBucket = SETTINGS_BUCKET): string {
  const users = BUS_USERS.map((user) => {
    const password = passwords[user];
    const value = password.startsWith('$') ? password : JSON.stringify(password);
    return `  { user: ${JSON.stringify(user)}, password: ${value}, permissions: ${JSON.stringify(natsPermissions(user, streamId, settingsBucket))} }`;
  });
  return `authorization {\n users = [\n${users.join('\n')}\n ]\n}\n`;
}

/** The environment variable that holds a user's NATS password in compose's .env. */
export function natsPasswordVariable(user: BusUser): string {
  return `NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
}

/** Compose's users.conf: any stream id, each password from nats' environment (`NATS_<USER>_PASSWORD`). */
export function composeNatsUsers(): string {
  const variables = Object.fromEntries(BUS_USERS.map((user) => [user, `$${natsPasswordVariable(user)}`])) as Record<BusUser, string>;
  return `# Generated from packages/shared/src/permissions.ts by \`pnpm nats-users\`; do not edit.\n${natsAuthorization(variables, '*')}`;
}
