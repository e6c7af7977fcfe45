// Who may do what on the bus: one NATS user per service, with the subjects it publishes, follows,
// serves and sends, and the key-value buckets it keeps. The one table nats-server's users are made
// from (compose's services/nats/users.conf, the native runner's nats.conf); a new service is one entry.
import { type HistoryStreamKey, historyStreams, RECORDED_EVENTS } from './history.ts';
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

/**
 * What one stream owns alone when several streamers share a host (`streamScope`): its switcher settings,
 * its dashboard's session epoch and its history, each under a name of its own. Without it, every stream
 * shares the one bucket and history pair (one streamer per host).
 */
export interface StreamScope {
  settingsBucket: string;
  sessionsBucket: string;
  /** Its own history streams (`historyStreams(id)`), or undefined for every stream's. */
  historyOf: string | undefined;
}

/** The shared names: one streamer per host. `settingsBucket` is obs-bridge's BRIDGE_SETTINGS_BUCKET. */
export function sharedScope(settingsBucket = SETTINGS_BUCKET): StreamScope {
  return { settingsBucket, sessionsBucket: SESSIONS_BUCKET, historyOf: undefined };
}

/** One stream's own names: `irlkit_settings_<id>`, `irlkit_sessions_<id>`, `IRLKIT_EVENTS_<id>`, `IRLKIT_SAMPLES_<id>`. */
export function streamScope(streamId: string): StreamScope {
  return { settingsBucket: `${SETTINGS_BUCKET}_${streamId}`, sessionsBucket: `${SESSIONS_BUCKET}_${streamId}`, historyOf: streamId };
}

/** The services that run once per stream; with several streamers each logs in as `<service>@<stream>`. */
export const PER_STREAM_USERS = ['desktop', 'obs-bridge', 'dashboard'] as const satisfies readonly BusUser[];
export type PerStreamUser = (typeof PER_STREAM_USERS)[number];

/** A per-stream service's NATS login on a host of several streamers. */
export function streamLogin(user: PerStreamUser, streamId: string): string {
  return `${user}@${streamId}`;
}

/**
 * A user's nats-server permissions, for one stream (`*`: any stream id). `login` is the name it logs in
 * with when that is not the service's own (its replies' inbox prefix follows it).
 */
export function natsPermissions(user: BusUser, streamId: string, scope: StreamScope = sharedScope(), login: string = user): NatsPermissions {
  const grant: BusGrant = BUS_GRANTS[user];
  const event = (name: EventName) => `${SUBJECT_ROOT}.${streamId}.${name}`;
  const command = (verb: CommandVerb) => `${SUBJECT_ROOT}.${streamId}.cmd.${verb}`;
  const buckets = grant.buckets.map((b) => (b === SETTINGS_BUCKET ? scope.settingsBucket : b === SESSIONS_BUCKET ? scope.sessionsBucket : b));
  const histories = historyStreams(scope.historyOf);
  const publish = [
    ...grant.publishes.map(event),
    ...grant.sends.map(command),
    ...buckets.flatMap(kvPublish),
    ...(grant.records ?? []).map((name) => `${SUBJECT_ROOT}.${streamId}.history.${name}`),
    ...(grant.histories ?? []).flatMap((key) => historyPublish(histories[key].name)),
  ];
  const subscribe = [
    ...grant.follows.map(event),
    // "subject queue": may join that queue group only, so nobody else can swallow the command.
    ...grant.serves.map((verb) => `${command(verb)} cmd.${verb}`),
    `${inboxPrefix(login)}.>`,
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
  return authorizationBlock(BUS_USERS.map((user) => natsUserEntry(user, passwords[user], natsPermissions(user, streamId, sharedScope(settingsBucket)))));
}

/**
 * nats-server's users for a host of several streamers: the services that run once (ingest, and the
 * operator's tap) for every stream; each stream's desktop, obs-bridge and dashboard as `<service>@<stream>`
 * with that stream's subjects, settings, session epoch and history only, so one streamer's dashboard or
 * bridge can neither see nor command another's. Passwords are literals.
 */
export function natsStreamsAuthorization(
  shared: Record<'ingest' | 'operator', string>,
  streams: ReadonlyArray<{ id: string; passwords: Record<PerStreamUser, string> }>,
): string {
  const entries = [
    natsUserEntry('ingest', shared.ingest, natsPermissions('ingest', '*')),
    natsUserEntry('operator', shared.operator, natsPermissions('operator', '*')),
    ...streams.flatMap((stream) =>
      PER_STREAM_USERS.map((user) => {
        const login = streamLogin(user, stream.id);
        return natsUserEntry(login, stream.passwords[user], natsPermissions(user, stream.id, streamScope(stream.id), login));
      }),
    ),
  ];
  return authorizationBlock(entries);
}

function natsUserEntry(login: string, password: string, permissions: NatsPermissions): string {
  const value = password.startsWith('$') ? password : JSON.stringify(password);
  return `  { user: ${JSON.stringify(login)}, password: ${value}, permissions: ${JSON.stringify(permissions)} }`;
}

function authorizationBlock(entries: string[]): string {
  return `authorization {\n users = [\n${entries.join('\n')}\n ]\n}\n`;
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
