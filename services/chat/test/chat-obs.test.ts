// Chat into a real OBS: a moderator's `!switch Privacy` in a real IRC server (ngircd) puts Privacy on
// OBS's program through obs-bridge, and `!bitrate` answers with the numbers ingest publishes for a live
// ffmpeg feed; `!fix` restarts the feed input. Run under the heavy lock, inside scripts/in-netns.sh.
import { createLogger, type IngestStats } from '@irlkit/shared';
import {
  collectEvents,
  type IrcUser,
  ircUser,
  nextEvent,
  startIrcServer,
  startSrtFeed,
  startStack,
  type TestIrcServer,
  type TestStack,
  testBus,
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type ChatApp } from '../src/app.ts';
import { chatConfig } from '../src/config.ts';

let stack: TestStack;
let irc: TestIrcServer;
let app: ChatApp;
let chatBus: Awaited<ReturnType<typeof testBus>>;
let feed: ReturnType<typeof startSrtFeed> | undefined;
let moderator: IrcUser;

beforeAll(async () => {
  stack = await startStack();
  irc = await startIrcServer();
  feed = startSrtFeed({ port: stack.srtPort, bitrateKbps: 2000, latencyMs: 500, width: 854, height: 480 });
  chatBus = await testBus(stack.nats, 'main', 'chat');
  app = buildApp({
    config: chatConfig.load({
      envFile: false,
      source: {
        NATS_URL: stack.nats.url,
        NATS_PASSWORD: stack.nats.password,
        CHAT_TWITCH_CHANNEL: 'streamer',
        CHAT_TWITCH_BOT: 'irlkitbot',
        CHAT_TWITCH_TOKEN: irc.password,
        CHAT_IRC_URL: irc.url,
        // A plain IRC server sends no Twitch tags: the moderator is on the allow-list here (tags: twitch-tags.test.ts).
        CHAT_ALLOW: 'moderator',
      },
    }),
    bus: chatBus,
    log: createLogger('chat', 'warn'),
  });
  await app.start();
  moderator = await ircUser(irc, 'moderator', 'streamer');
  await nextEvent(stack.observer, 'obs.state', (s) => s.programScene === 'Live', 'the feed on Live', 60_000);
}, 180_000);

afterAll(async () => {
  await moderator?.quit();
  await app?.stop();
  await chatBus?.closeConnection();
  await feed?.stop();
  await irc?.stop();
  await stack?.stop();
});

describe('chat commands into a real OBS', () => {
  it("a moderator's !switch Privacy puts Privacy on OBS's program", async () => {
    const onPrivacy = nextEvent(stack.observer, 'obs.state', (s) => s.programScene === 'Privacy', 'Privacy on program', 20_000);
    await waitFor(() => app.counters !== undefined && moderator.lines.length > 0, 'the moderator connected');
    moderator.say('!switch privacy');
    await onPrivacy;
    await waitFor(() => moderator.messages.some((m) => m.from === 'irlkitbot' && m.text === 'Scene switched to Privacy'), 'the bot to confirm');
    // Back to the switcher's scene, so the next test sees the feed.
    const beforeLive = moderator.messages.length;
    moderator.say('!live');
    await nextEvent(stack.observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program again', 20_000);
    // The bot's answer to !live can arrive after OBS's state: wait for it, or the next test takes it for its own.
    await waitFor(
      () => moderator.messages.slice(beforeLive).some((m) => m.from === 'irlkitbot' && m.text === 'Scene switched to Live'),
      'the bot to confirm !live',
    );
  });

  it("!fix restarts OBS's feed input through obs-bridge", async () => {
    const before = moderator.messages.length;
    moderator.say('!fix');
    const answer = await waitFor(() => moderator.messages.slice(before).find((m) => m.from === 'irlkitbot'), 'the !fix answer', 20_000);
    expect(answer.text).toBe('Feed input restarted');
    await nextEvent(stack.observer, 'obs.state', (s) => s.programScene === 'Live', 'the feed still on Live', 20_000);
  });

  it('!bitrate answers with the live numbers ingest publishes', async () => {
    const published = collectEvents(stack.observer, 'ingest.stats');
    await waitFor(() => published.items.some((s) => s.connected && s.bitrateKbps > 500), 'ingest to publish live statistics', 20_000);
    const before = moderator.messages.length;
    moderator.say('!bitrate');
    const answer = await waitFor(() => moderator.messages.slice(before).find((m) => m.from === 'irlkitbot'), 'the !bitrate answer');
    published.stop();
    const match = /^Feed (\d+) kbps \| RTT (\d+) ms$/.exec(answer.text);
    expect(match, answer.text).not.toBeNull();
    const kbps = Number(match?.[1]);
    // The answer is the latest published sample: it matches one of the samples around it.
    const around = published.items.filter((s): s is IngestStats & { receivedAt: number } => s.connected && Math.abs(s.receivedAt - answer.at) < 2000);
    expect(around.some((s) => Math.round(s.bitrateKbps) === kbps)).toBe(true);
    expect(kbps).toBeGreaterThan(500);
  });
});
