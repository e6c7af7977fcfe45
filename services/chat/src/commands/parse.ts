// Chat commands named as NOALBS names them, so moderators keep their habits, and what each becomes:
// the same `cmd.<verb>` request the dashboard sends, or a reply from the latest statistics. Pure.
// NOALBS's names and behaviour: src/chat/mod.rs (`impl From<&str> for Command`: bitrate, switch, live,
// privacy, starting, fix, refresh, start, stop, noalbs) and src/chat/chat_handler.rs (`!noalbs start|stop`
// turns its switcher on and off; `!switch` without a scene answers "No scene specified") in
// NOALBS/nginx-obs-automatic-low-bitrate-switching.
import type { CommandRequest, CommandVerb } from '@irlkit/shared';

export const COMMAND_NAMES = [
  'bitrate',
  'switch',
  'live',
  'privacy',
  'starting',
  'fix',
  'refresh',
  'start',
  'stop',
  'mute',
  'unmute',
  'irlkit',
  'noalbs',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export interface ParsedCommand {
  name: CommandName;
  args: string[];
}

const PREFIX = '!';

/** `!Switch  Privacy` → { name: 'switch', args: ['Privacy'] }; anything else (chatter, unknown commands) → null. */
export function parseCommand(text: string): ParsedCommand | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PREFIX)) return null;
  const [word, ...args] = trimmed.slice(PREFIX.length).split(/\s+/);
  const name = word?.toLowerCase();
  if (!name || !(COMMAND_NAMES as readonly string[]).includes(name)) return null;
  return { name: name as CommandName, args: args.slice(0, 10) };
}

export interface Chatter {
  login: string;
  isBroadcaster: boolean;
  isMod: boolean;
}

export interface Permissions {
  /** Logins allowed every command besides the broadcaster and the moderators. */
  allow: string[];
  /** Commands anyone may use. */
  publicCommands: CommandName[];
}

/** The broadcaster, the channel's moderators and the allow-list may use every command; others only the public ones. */
export function mayUse(chatter: Chatter, name: CommandName, permissions: Permissions): boolean {
  return chatter.isBroadcaster || chatter.isMod || permissions.allow.includes(chatter.login.toLowerCase()) || permissions.publicCommands.includes(name);
}

export type ChatAction =
  | { kind: 'bitrate' }
  | { kind: 'request'; verb: CommandVerb; request: CommandRequest<CommandVerb>; done: string }
  /** `!switch <scene>`: resolved against OBS's scene list before it is sent. */
  | { kind: 'switch'; scene: string }
  | { kind: 'reply'; text: string };

function request<V extends CommandVerb>(verb: V, body: CommandRequest<V>, done: string): ChatAction {
  return { kind: 'request', verb, request: body, done };
}

/** What a permitted command does. Scene names are the deployment's (OBS_SCENE_*). */
export function actionFor(command: ParsedCommand, scenes: { live: string; starting: string; privacy: string }): ChatAction {
  switch (command.name) {
    case 'bitrate':
      return { kind: 'bitrate' };
    case 'switch': {
      const scene = command.args.join(' ');
      return scene ? { kind: 'switch', scene } : { kind: 'reply', text: 'Which scene? !switch <scene>' };
    }
    case 'live':
      return request('scene.set', { scene: scenes.live }, `Scene switched to ${scenes.live}`);
    case 'privacy':
      return request('scene.set', { scene: scenes.privacy }, `Scene switched to ${scenes.privacy}`);
    case 'starting':
      return request('scene.set', { scene: scenes.starting }, `Scene switched to ${scenes.starting}`);
    case 'fix':
    case 'refresh':
      return request('feed.restart', {}, 'Feed input restarted');
    case 'start':
      return request('stream.start', {}, 'Stream started');
    case 'stop':
      return request('stream.stop', {}, 'Stream stopped');
    case 'mute':
      return request('audio.mute', { muted: true }, 'Muted');
    case 'unmute':
      return request('audio.mute', { muted: false }, 'Unmuted');
    case 'irlkit':
    case 'noalbs': {
      // NOALBS's `!noalbs start|stop` switch its switcher on and off; `auto|manual` are irlkit's own words.
      const word = command.args[0]?.toLowerCase();
      if (word === 'auto' || word === 'start') return request('switcher.mode', { mode: 'auto' }, 'Automatic switching on');
      if (word === 'manual' || word === 'stop') return request('switcher.mode', { mode: 'manual' }, 'Automatic switching off (manual)');
      return { kind: 'reply', text: `!${command.name} auto | manual` };
    }
  }
}

/** `!switch privacy` picks OBS's `Privacy`: an exact name first, then one that differs only in case. */
export function resolveScene(asked: string, scenes: readonly string[]): string | undefined {
  return scenes.find((s) => s === asked) ?? scenes.find((s) => s.toLowerCase() === asked.toLowerCase());
}
