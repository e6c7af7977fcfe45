// Twitch's own IRCv3 tags (badges, mod flag) parsed from PRIVMSG lines as Twitch sends them (the
// broadcaster, a moderator, a VIP subscriber, a plain viewer), through the parser the service runs.
import { ChatMessage, parseTwitchMessage } from '@twurple/chat';
import { describe, expect, it } from 'vitest';
import { chatLineOf } from '../src/twitch/chatter.ts';

// Lines in the form Twitch's chat servers send them (tags from Twitch's IRC tags reference).
const CAPTURED = {
  broadcaster:
    '@badge-info=;badges=broadcaster/1,twitch-recap-2023/1;client-nonce=459e3142897c7a22b7d275178f2259e0;color=#0000FF;display-name=Ronni;emotes=;first-msg=0;flags=;id=885196de-cb67-427a-baa8-82f9b0fcd05f;mod=0;returning-chatter=0;room-id=713936733;subscriber=0;tmi-sent-ts=1642696567751;turbo=0;user-id=713936733;user-type= :ronni!ronni@ronni.tmi.twitch.tv PRIVMSG #ronni :!switch Privacy',
  moderator:
    '@badge-info=;badges=moderator/1;color=#8A2BE2;display-name=ModMaria;emotes=;first-msg=0;flags=;id=f8b3ad2e-5c92-4f43-8dfb-53a8ef8ab9c0;mod=1;returning-chatter=0;room-id=713936733;subscriber=0;tmi-sent-ts=1642786203573;turbo=0;user-id=102380923;user-type=mod :modmaria!modmaria@modmaria.tmi.twitch.tv PRIVMSG #ronni :!bitrate',
  vipSubscriber:
    '@badge-info=subscriber/14;badges=vip/1,subscriber/12;color=;display-name=VipVince;emotes=25:0-4;first-msg=0;flags=;id=3e6f5d2b-9a3c-4e1f-8b55-1c2d3e4f5a6b;mod=0;returning-chatter=0;room-id=713936733;subscriber=1;tmi-sent-ts=1642786300000;turbo=0;user-id=55501234;user-type=;vip=1 :vipvince!vipvince@vipvince.tmi.twitch.tv PRIVMSG #ronni :Kappa !stop',
  viewer:
    '@badge-info=;badges=;color=;display-name=just_a_viewer;emotes=;first-msg=1;flags=;id=0c8f2a1e-7f4b-4f6a-9d1e-2b3c4d5e6f70;mod=0;returning-chatter=0;room-id=713936733;subscriber=0;tmi-sent-ts=1642786400000;turbo=0;user-id=99887766;user-type= :just_a_viewer!just_a_viewer@just_a_viewer.tmi.twitch.tv PRIVMSG #ronni :!stop',
};

function lineOf(raw: string) {
  const message = parseTwitchMessage(raw);
  expect(message).toBeInstanceOf(ChatMessage);
  return chatLineOf(message as ChatMessage, 'ronni');
}

describe("Twitch's tags on captured chat lines", () => {
  it('knows the broadcaster by the broadcaster badge', () => {
    const line = lineOf(CAPTURED.broadcaster);
    expect(line.chatter).toMatchObject({ login: 'ronni', displayName: 'Ronni', isBroadcaster: true, isMod: false });
    expect(line.chatter.badges).toEqual(['broadcaster', 'twitch-recap-2023']);
    expect(line.text).toBe('!switch Privacy');
  });

  it('knows a moderator by mod=1 and the moderator badge', () => {
    const line = lineOf(CAPTURED.moderator);
    expect(line.chatter).toMatchObject({ login: 'modmaria', displayName: 'ModMaria', isBroadcaster: false, isMod: true });
    expect(line.chatter.badges).toEqual(['moderator']);
  });

  it('does not take a VIP subscriber for a moderator', () => {
    const line = lineOf(CAPTURED.vipSubscriber);
    expect(line.chatter).toMatchObject({ login: 'vipvince', isBroadcaster: false, isMod: false });
    expect(line.chatter.badges).toEqual(['vip', 'subscriber']);
    expect(line.text).toBe('Kappa !stop');
  });

  it('sees a plain viewer as neither', () => {
    const line = lineOf(CAPTURED.viewer);
    expect(line.chatter).toMatchObject({ login: 'just_a_viewer', isBroadcaster: false, isMod: false, badges: [] });
  });

  it('treats the channel owner as the broadcaster on a server that sends no tags', () => {
    const line = lineOf(':ronni!ronni@host PRIVMSG #ronni :!live');
    expect(line.chatter).toMatchObject({ login: 'ronni', isBroadcaster: true, isMod: false, badges: [] });
  });
});
