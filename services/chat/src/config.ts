// The chat service's configuration: which Twitch channel, the bot's login and token, who may command.
import { type CommonSettings, ConfigError, commonEnv, commonSettings, defineConfig, env } from '@irlkit/shared';
import { z } from 'zod';
import { COMMAND_NAMES, type CommandName } from './commands/parse.ts';

const TWITCH_LOGIN = /^[a-z0-9_]{1,25}$/;
const logins = z
  .string()
  .default('')
  .transform((v) => v.split(/[\s,]+/).flatMap((s) => (s ? [s.toLowerCase().replace(/^@/, '')] : [])))
  .pipe(z.array(z.string().regex(TWITCH_LOGIN, 'must be Twitch logins (a-z, 0-9, _) separated by commas')));

export const chatEnv = {
  ...commonEnv,
  /** The Twitch channel whose chat is read, without '#'; empty turns chat off. */
  CHAT_TWITCH_CHANNEL: env.optionalString().pipe(z.string().toLowerCase().regex(TWITCH_LOGIN, 'must be a Twitch login (a-z, 0-9, _)').optional()),
  /** The bot's own login (the account the token belongs to); the channel's own account when empty. */
  CHAT_TWITCH_BOT: env.optionalString().pipe(z.string().toLowerCase().regex(TWITCH_LOGIN, 'must be a Twitch login (a-z, 0-9, _)').optional()),
  /** The bot's OAuth token, with or without its "oauth:" prefix; required when a channel is set. */
  CHAT_TWITCH_TOKEN: env.optionalSecret(),
  /** Where Twitch's chat speaks IRC: TLS on 6697 by default. */
  CHAT_IRC_URL: z
    .string()
    .regex(/^ircs?:\/\/[^\s:/]+:\d{1,5}$/, 'must look like ircs://irc.chat.twitch.tv:6697')
    .default('ircs://irc.chat.twitch.tv:6697'),
  /** Logins allowed every command besides the broadcaster and the channel's moderators. */
  CHAT_ALLOW: logins,
  /** Commands everyone in chat may use (NOALBS lets everyone use bitrate); none by default. */
  CHAT_PUBLIC_COMMANDS: z
    .string()
    .default('')
    .transform((v) => v.split(/[\s,]+/).flatMap((s) => (s ? [s.toLowerCase().replace(/^!/, '')] : [])))
    .pipe(z.array(z.enum(COMMAND_NAMES, { message: `must be command names among ${COMMAND_NAMES.join(', ')}` }))),
  /** Replies the bot sends per 30 s at most (Twitch allows 20 for a bot that is not a moderator). */
  CHAT_REPLIES_PER_30S: env.int(15, 1, 100),
  /** Say in chat when the switcher changes scene ("feed lost, on Offline", "back Live after 12 s"). */
  CHAT_ANNOUNCE_SWITCHES: env.bool(false),
  OBS_SCENE_LIVE: env.string('Live'),
  OBS_SCENE_STARTING: env.string('Starting'),
  OBS_SCENE_PRIVACY: env.string('Privacy'),
};
type ChatVariables = z.infer<z.ZodObject<typeof chatEnv>>;

export interface ChatSettings {
  /** Null when no channel is configured: the service runs, and stays out of chat. */
  twitch: { channel: string; bot: string; token: string; host: string; port: number; secure: boolean } | null;
  permissions: { allow: string[]; publicCommands: CommandName[] };
  replies: { per30s: number; announceSwitches: boolean };
  scenes: { live: string; starting: string; privacy: string };
}

/** The domain-shaped settings; a channel without a token is a configuration error naming the variable. */
export function chatSettings(config: ChatVariables): ChatSettings {
  const url = new URL(config.CHAT_IRC_URL);
  const secure = url.protocol === 'ircs:';
  let twitch: ChatSettings['twitch'] = null;
  if (config.CHAT_TWITCH_CHANNEL) {
    const token = config.CHAT_TWITCH_TOKEN.replace(/^oauth:/, '');
    if (!token) throw new ConfigError(['CHAT_TWITCH_TOKEN: must be set when CHAT_TWITCH_CHANNEL is (the bot logs in with it; see README "Chat commands")']);
    if (!/^[A-Za-z0-9_-]{10,200}$/.test(token)) throw new ConfigError(['CHAT_TWITCH_TOKEN: must be the OAuth token, 10-200 letters and digits (got hidden)']);
    twitch = {
      channel: config.CHAT_TWITCH_CHANNEL,
      bot: config.CHAT_TWITCH_BOT ?? config.CHAT_TWITCH_CHANNEL,
      token,
      host: url.hostname,
      port: Number(url.port),
      secure,
    };
  }
  return {
    twitch,
    permissions: { allow: config.CHAT_ALLOW, publicCommands: config.CHAT_PUBLIC_COMMANDS },
    replies: { per30s: config.CHAT_REPLIES_PER_30S, announceSwitches: config.CHAT_ANNOUNCE_SWITCHES },
    scenes: { live: config.OBS_SCENE_LIVE, starting: config.OBS_SCENE_STARTING, privacy: config.OBS_SCENE_PRIVACY },
  };
}

export const chatConfig = defineConfig(chatEnv, (v): ChatSettings & { common: CommonSettings } => ({ common: commonSettings(v), ...chatSettings(v) }));
export type ChatConfig = ReturnType<typeof chatConfig.load>;
