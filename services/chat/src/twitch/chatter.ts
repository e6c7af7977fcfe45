// Who wrote a chat line, from Twitch's IRCv3 tags as @twurple/chat parses them (badges, mod flag). Pure.
import type { ChatMessage } from '@twurple/chat';
import type { Chatter } from '../commands/parse.ts';

export interface ChatLine {
  chatter: Chatter & { displayName: string; badges: string[] };
  text: string;
}

/**
 * Twitch marks the broadcaster with the `broadcaster` badge and moderators with `mod=1` (or the
 * `moderator` badge). The channel's own login is the broadcaster too, which also holds on an IRC
 * server that sends no tags.
 */
export function chatLineOf(message: ChatMessage, channel: string): ChatLine {
  const user = message.userInfo;
  const login = user.userName.toLowerCase();
  return {
    chatter: {
      login,
      displayName: user.displayName,
      isBroadcaster: user.isBroadcaster || login === channel.toLowerCase(),
      isMod: user.isMod,
      badges: [...user.badges.keys()],
    },
    text: message.text,
  };
}
