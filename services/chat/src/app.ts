// The chat service: Twitch chat commands become the same NATS `cmd.<verb>` requests the dashboard sends,
// `!bitrate` answers from ingest's statistics, and switcher changes may be announced. No path to OBS
// of its own: obs-bridge executes every command.
import {
  type Bus,
  type IngestSrtla,
  type IngestStats,
  type Logger,
  type ObsState,
  type RestreamState,
  type SwitcherState,
  startHeartbeat,
  type Timeline,
  timeline,
} from '@irlkit/shared';
import { actionFor, type ChatAction, mayUse, parseCommand, resolveScene } from './commands/parse.ts';
import { bitrateReply, ReplyBudget, switchAnnouncement } from './commands/replies.ts';
import type { ChatConfig } from './config.ts';
import type { ChatLine } from './twitch/chatter.ts';
import { TwitchChat } from './twitch/connection.ts';

export interface ChatApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** For the heartbeat and tests: commands run and ignored, replies sent and dropped. */
  readonly counters: { commands: number; ignored: number; refused: number };
  readonly budget: ReplyBudget;
}

export function buildApp({ config, bus, log }: { config: ChatConfig; bus: Bus; log: Logger }): ChatApp {
  const settings = config;
  const events: Timeline = timeline(bus, 'chat');
  const budget = new ReplyBudget(settings.replies.per30s);
  const counters = { commands: 0, ignored: 0, refused: 0 };
  const latest: { stats?: IngestStats; srtla?: IngestSrtla; obs?: ObsState; switcher?: SwitcherState; restream?: RestreamState } = {};
  const cleanups: Array<() => void> = [];
  let chat: TwitchChat | undefined;

  const reply = (text: string) => {
    if (budget.take()) chat?.say(text);
    else log.debug({ dropped: budget.dropped }, 'reply dropped: over the reply budget');
  };

  const perform = async (action: ChatAction, who: string): Promise<string> => {
    switch (action.kind) {
      case 'reply':
        return action.text;
      case 'bitrate':
        return bitrateReply(latest.stats, latest.srtla, Date.now(), latest.restream);
      case 'switch': {
        const scenes = latest.obs?.scenes ?? [];
        const scene = resolveScene(action.scene, scenes);
        if (!scene) return scenes.length ? `No scene "${action.scene}" (scenes: ${scenes.join(', ')})` : 'OBS is not answering';
        return perform({ kind: 'request', verb: 'scene.set', request: { scene }, done: `Scene switched to ${scene}` }, who);
      }
      case 'request': {
        const answer = await bus.request(action.verb, action.request as never, 10_000);
        if (answer.ok) {
          events.info(`${action.done} (chat: ${who})`);
          return action.done;
        }
        counters.refused += 1;
        return `Could not: ${answer.error}`.slice(0, 300);
      }
    }
  };

  const onLine = (line: ChatLine) => {
    const command = parseCommand(line.text);
    if (!command) return;
    if (!mayUse(line.chatter, command.name, settings.permissions)) {
      counters.ignored += 1;
      log.debug({ login: line.chatter.login, command: command.name }, 'chat command ignored: not permitted');
      return;
    }
    counters.commands += 1;
    log.info({ login: line.chatter.login, command: command.name, args: command.args }, 'chat command');
    perform(actionFor(command, settings.scenes), line.chatter.login).then(reply, (error: unknown) => {
      log.error({ err: error, command: command.name }, 'chat command failed');
    });
  };

  return {
    counters,
    budget,
    async start() {
      cleanups.push(bus.subscribe('ingest.stats', (s) => (latest.stats = s)));
      cleanups.push(bus.subscribe('ingest.srtla', (s) => (latest.srtla = s)));
      cleanups.push(bus.subscribe('obs.state', (s) => (latest.obs = s)));
      cleanups.push(bus.subscribe('restream.state', (s) => (latest.restream = s)));
      cleanups.push(
        bus.subscribe('switcher.state', (s) => {
          const announcement = switchAnnouncement(latest.switcher, s);
          latest.switcher = s;
          if (announcement && settings.replies.announceSwitches) reply(announcement);
        }),
      );
      if (settings.twitch) {
        chat = new TwitchChat(settings.twitch, log, onLine);
        chat.start();
      } else {
        log.info('chat off: CHAT_TWITCH_CHANNEL is not set');
      }
      cleanups.push(
        startHeartbeat(bus, 'chat', () => ({
          ok: !chat || chat.joined,
          detail: {
            channel: settings.twitch?.channel ?? null,
            joined: chat?.joined ?? false,
            commands: counters.commands,
            ignored: counters.ignored,
            refused: counters.refused,
            repliesDropped: budget.dropped,
            said: chat?.counters.said ?? 0,
            disconnects: chat?.counters.disconnects ?? 0,
          },
        })),
      );
    },
    async stop() {
      chat?.stop();
      chat = undefined;
      for (const cleanup of cleanups.splice(0)) cleanup();
    },
  };
}
