// The chat commands' pure parts: NOALBS names to NATS requests, who may use them, the reply budget on a
// fake clock, the !bitrate answer, switch announcements, and configuration errors that name the variable.
import { ConfigError, type IngestSrtla, type IngestStats, isSecret, loadConfig, type SwitcherState } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import { actionFor, mayUse, parseCommand, resolveScene } from '../src/commands/parse.ts';
import { bitrateReply, ReplyBudget, switchAnnouncement } from '../src/commands/replies.ts';
import { chatEnv, chatSettings } from '../src/config.ts';

const scenes = { live: 'Live', starting: 'Starting', privacy: 'Privacy' };
const act = (text: string) => {
  const parsed = parseCommand(text);
  return parsed && actionFor(parsed, scenes);
};

describe('commands', () => {
  it('maps NOALBS names to the dashboard verbs', () => {
    expect(act('!live')).toMatchObject({ kind: 'request', verb: 'scene.set', request: { scene: 'Live' } });
    expect(act('!PRIVACY')).toMatchObject({ kind: 'request', verb: 'scene.set', request: { scene: 'Privacy' } });
    expect(act('!starting')).toMatchObject({ kind: 'request', verb: 'scene.set', request: { scene: 'Starting' } });
    expect(act('!fix')).toMatchObject({ kind: 'request', verb: 'feed.restart' });
    expect(act('!refresh')).toMatchObject({ kind: 'request', verb: 'feed.restart' });
    expect(act('!start')).toMatchObject({ kind: 'request', verb: 'stream.start' });
    expect(act('!stop')).toMatchObject({ kind: 'request', verb: 'stream.stop' });
    expect(act('!mute')).toMatchObject({ kind: 'request', verb: 'audio.mute', request: { muted: true } });
    expect(act('!unmute')).toMatchObject({ kind: 'request', verb: 'audio.mute', request: { muted: false } });
    expect(act('!irlkit manual')).toMatchObject({ kind: 'request', verb: 'switcher.mode', request: { mode: 'manual' } });
    expect(act('!noalbs start')).toMatchObject({ kind: 'request', verb: 'switcher.mode', request: { mode: 'auto' } });
    expect(act('!irlkit')).toEqual({ kind: 'reply', text: '!irlkit auto | manual' });
    expect(act('!switch  Be Right Back ')).toEqual({ kind: 'switch', scene: 'Be Right Back' });
    expect(act('!switch')).toMatchObject({ kind: 'reply' });
    expect(act('!bitrate')).toEqual({ kind: 'bitrate' });
    expect(act('hello !stop')).toBeNull();
    expect(act('!unknown')).toBeNull();
  });

  it('lets the broadcaster, moderators and the allow-list command; others only public commands', () => {
    const permissions = { allow: ['friend'], publicCommands: ['bitrate' as const] };
    const viewer = { login: 'viewer', isBroadcaster: false, isMod: false };
    expect(mayUse({ ...viewer, isBroadcaster: true }, 'stop', permissions)).toBe(true);
    expect(mayUse({ ...viewer, isMod: true }, 'stop', permissions)).toBe(true);
    expect(mayUse({ ...viewer, login: 'Friend' }, 'stop', permissions)).toBe(true);
    expect(mayUse(viewer, 'stop', permissions)).toBe(false);
    expect(mayUse(viewer, 'bitrate', permissions)).toBe(true);
  });

  it("resolves !switch against OBS's scenes, exact name first", () => {
    expect(resolveScene('privacy', ['Live', 'Privacy'])).toBe('Privacy');
    expect(resolveScene('BRB', ['brb', 'BRB'])).toBe('BRB');
    expect(resolveScene('Nope', ['Live'])).toBeUndefined();
  });
});

describe('reply budget', () => {
  it('allows its budget per 30 s window and drops the rest, never queueing them', () => {
    let now = 0;
    const budget = new ReplyBudget(3, 30_000, () => now);
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([true, true, true, false]);
    now = 29_999;
    expect(budget.take()).toBe(false);
    now = 30_000;
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([true, true, true, false]);
    expect(budget.dropped).toBe(3);
  });
});

const stats = (over: Partial<IngestStats> = {}): IngestStats => ({
  ts: 1000,
  connected: true,
  peer: '10.0.0.2:5000',
  bitrateKbps: 4512.4,
  rttMs: 38.2,
  receiveBufferMs: 1200,
  lastPacketAgeMs: 3,
  totals: { received: 1, lost: 0, dropped: 0, retransmitted: 0 },
  deltas: { received: 1, lost: 0, dropped: 0, retransmitted: 0 },
  ...over,
});

describe('!bitrate', () => {
  it('answers with bitrate, RTT and each SRTLA link share', () => {
    const srtla: IngestSrtla = {
      ts: 900,
      groups: 1,
      drops: {},
      links: [
        { group: 'g', address: '10.0.0.2:4000', bitrateKbps: 2800, share: 0.62, packets: 1, lastSeenMsAgo: 1, registeredAt: 1, rttMs: null },
        { group: 'g', address: '10.0.0.3:4001', bitrateKbps: 1712, share: 0.38, packets: 1, lastSeenMsAgo: 1, registeredAt: 1, rttMs: null },
      ],
    };
    expect(bitrateReply(stats(), srtla, 1100)).toBe('Feed 4512 kbps | RTT 38 ms | links: 10.0.0.2:4000 62% 2800 kbps, 10.0.0.3:4001 38% 1712 kbps');
    expect(bitrateReply(stats(), undefined, 1100)).toBe('Feed 4512 kbps | RTT 38 ms');
    expect(bitrateReply(stats({ connected: false }), undefined, 1100)).toBe('Feed offline: no sender connected');
    expect(bitrateReply(stats(), undefined, 10_000)).toBe('No statistics from ingest (is it running?)');
    const destination = { url: 'rtmp://x/app', keyHint: '…abcd', enabled: true, error: null, droppedFrames: 0, uptimeMs: 0, failures: 0, retryInMs: null };
    const restream = {
      ts: 1000,
      programLive: true,
      programSince: 0,
      destinations: [
        { ...destination, id: 'twitch', name: 'Twitch', status: 'connected' as const, bitrateKbps: 2650.4 },
        { ...destination, id: 'kick', name: 'Kick', status: 'failed' as const, bitrateKbps: 0 },
        { ...destination, id: 'off', name: 'Off', status: 'disabled' as const, bitrateKbps: 0, enabled: false },
      ],
    };
    expect(bitrateReply(stats(), undefined, 1100, restream)).toBe('Feed 4512 kbps | RTT 38 ms | out: Twitch 2650 kbps, Kick down');
    expect(bitrateReply(stats(), undefined, 1100, { ...restream, programLive: false })).toBe('Feed 4512 kbps | RTT 38 ms');
  });
});

describe('switch announcements', () => {
  const state = (s: SwitcherState['state'], since: number, mode: SwitcherState['mode'] = 'auto') =>
    ({ ts: since, mode, state: s, since, reason: '', scene: null, scenes: { live: 'Live', low: 'Low', offline: 'Offline' } }) as SwitcherState;
  it('says what viewers see, and nothing for repeats, manual mode or the first state', () => {
    expect(switchAnnouncement(undefined, state('offline', 0))).toBeNull();
    expect(switchAnnouncement(state('live', 0), state('offline', 1000))).toBe('Feed lost, on Offline');
    expect(switchAnnouncement(state('live', 0), state('low', 1000))).toBe('Low bitrate, on Low');
    expect(switchAnnouncement(state('offline', 1000), state('live', 13_400))).toBe('Back Live after 12 s');
    expect(switchAnnouncement(state('live', 0), state('live', 5))).toBeNull();
    expect(switchAnnouncement(state('live', 0), state('offline', 5, 'manual'))).toBeNull();
  });
});

describe('configuration', () => {
  const load = (source: Record<string, string>) => chatSettings(loadConfig(chatEnv, { envFile: false, source }));
  it('is off without a channel, and a channel needs the token', () => {
    expect(load({}).twitch).toBeNull();
    expect(() => load({ CHAT_TWITCH_CHANNEL: 'me' })).toThrow(/CHAT_TWITCH_TOKEN: must be set/);
    const settings = load({ CHAT_TWITCH_CHANNEL: 'Me', CHAT_TWITCH_TOKEN: 'oauth:abcdefghij0123', CHAT_ALLOW: '@Friend, other' });
    expect(settings.twitch).toEqual({ channel: 'me', bot: 'me', token: 'abcdefghij0123', host: 'irc.chat.twitch.tv', port: 6697, secure: true });
    expect(settings.permissions.allow).toEqual(['friend', 'other']);
  });
  it('names the variable of a bad value, and never shows the token', () => {
    expect(() => load({ CHAT_PUBLIC_COMMANDS: 'bitrate,explode' })).toThrow(/CHAT_PUBLIC_COMMANDS/);
    expect(() => load({ CHAT_IRC_URL: 'http://x' })).toThrow(/CHAT_IRC_URL/);
    let error: unknown;
    try {
      load({ CHAT_TWITCH_CHANNEL: 'me', CHAT_TWITCH_TOKEN: 'short!' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).not.toContain('short!');
  });
  it('treats the token as a secret: production refuses a well-known one, and may leave it empty (no chat)', () => {
    expect(isSecret(chatEnv.CHAT_TWITCH_TOKEN)).toBe(true);
    const production = { IRL_PRODUCTION: 'true', NATS_PASSWORD: 'a-nats-password-of-our-own' };
    expect(load(production).twitch).toBeNull();
    expect(() => load({ ...production, CHAT_TWITCH_CHANNEL: 'me', CHAT_TWITCH_TOKEN: 'changeme' })).toThrow(
      /CHAT_TWITCH_TOKEN: is a default or well-known value/,
    );
  });
});
