// The chat service against a real IRC server (ngircd) and a real nats-server: who may command, the reply
// budget under a flood, switch announcements, and the bot coming back after the IRC server restarts.
import { createLogger, DEFAULT_SWITCHER_SETTINGS, type SwitcherState, subjects } from '@irlkit/shared';
import { type IrcUser, ircUser, startIrcServer, startNats, type TestIrcServer, type TestNats, testBus, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type ChatApp } from '../src/app.ts';
import { chatConfig } from '../src/config.ts';

const CHANNEL = 'streamer';
let nats: TestNats;
let irc: TestIrcServer;
let observer: Awaited<ReturnType<typeof testBus>>;
const cleanups: Array<() => Promise<void>> = [];
/** Every command request seen on the bus, by verb; answered ok, as obs-bridge would. */
const requested: string[] = [];

async function user(nick: string): Promise<IrcUser> {
  const u = await ircUser(irc, nick, CHANNEL);
  cleanups.push(() => u.quit());
  return u;
}
/** `bot` joined after `u` did (its JOIN), or before (in the names list `u` got on joining). */
const inChannel = (u: IrcUser, bot: string) =>
  u.lines.some(
    (l) =>
      (l.startsWith(`:${bot}!`) && l.includes(' JOIN ')) ||
      (/ 353 /.test(l) &&
        l
          .split(':')
          .at(-1)
          ?.split(' ')
          .some((n) => n.replace(/^[@+]/, '') === bot)),
  );
const said = (u: IrcUser, bot: string) => u.messages.filter((m) => m.from === bot);

/** A chat service logged in as `bot`, in the channel, with its own reply budget. */
async function startBot(bot: string, extraEnv: Record<string, string> = {}): Promise<ChatApp> {
  const bus = await testBus(nats, 'main', bot);
  const app = buildApp({
    config: chatConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        NATS_PASSWORD: nats.password,
        CHAT_TWITCH_CHANNEL: CHANNEL,
        CHAT_TWITCH_BOT: bot,
        CHAT_TWITCH_TOKEN: irc.password,
        CHAT_IRC_URL: irc.url,
        CHAT_ALLOW: 'trusted_friend, Flood_1,flood_2,flood_3,flood_4,flood_5',
        ...extraEnv,
      },
    }),
    bus,
    log: createLogger(bot, 'warn'),
  });
  await app.start();
  cleanups.push(async () => {
    await app.stop();
    await bus.closeConnection();
  });
  const watcher = await user(`${bot}_watch`);
  await waitFor(() => inChannel(watcher, bot), `${bot} to join the channel`, 20_000);
  return app;
}

beforeAll(async () => {
  nats = await startNats();
  irc = await startIrcServer();
  observer = await testBus(nats);
  observer.nc.subscribe(`${subjects.all('main').slice(0, -1)}cmd.>`, {
    callback: (_err, msg) => {
      requested.push(msg.subject.split('.cmd.')[1] as string);
      msg.respond(new TextEncoder().encode(JSON.stringify({ ok: true })));
    },
  });
  await observer.nc.flush();
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await observer?.closeConnection();
  await irc?.stop();
  await nats?.stop();
});

describe('chat commands over a real IRC server', () => {
  it("ignores a viewer's !stop, and runs the allow-listed user's and the broadcaster's commands as NATS requests", async () => {
    const app = await startBot('permbot');
    const viewer = await user('random_viewer');
    const friend = await user('trusted_friend');
    const broadcaster = await user(CHANNEL);
    viewer.say('!stop');
    viewer.say('!switch Privacy');
    friend.say('!stop');
    await waitFor(() => said(friend, 'permbot').some((m) => m.text === 'Stream stopped'), 'the bot to confirm the stop');
    broadcaster.say('!noalbs stop'); // NOALBS's words keep working
    await waitFor(() => said(broadcaster, 'permbot').some((m) => m.text.startsWith('Automatic switching off')), 'the bot to confirm manual mode');
    friend.say('!Refresh');
    await waitFor(() => requested.includes('feed.restart'), 'feed.restart from !refresh');
    expect(requested.filter((v) => v === 'stream.stop')).toHaveLength(1);
    expect(requested).not.toContain('scene.set');
    expect(requested).toContain('switcher.mode');
    expect(app.counters.ignored).toBe(2);
    expect(said(viewer, 'permbot').map((m) => m.text)).toEqual(['Stream stopped', 'Automatic switching off (manual)', 'Feed input restarted']);
  });

  it('keeps to its reply budget under a flood: 50 commands in 5 s get at most 10 replies', async () => {
    const app = await startBot('floodbot', { CHAT_REPLIES_PER_30S: '10' });
    // Five allow-listed users, so the IRC server's own flood control does not slow the senders down.
    const flooders = await Promise.all([1, 2, 3, 4, 5].map((i) => user(`flood_${i}`)));
    const start = Date.now();
    for (let i = 0; i < 50; i++) {
      (flooders[i % 5] as IrcUser).say('!bitrate');
      await new Promise((r) => setTimeout(r, 95));
    }
    expect(Date.now() - start).toBeLessThan(5_500);
    await waitFor(() => app.counters.commands >= 50, 'the bot to receive all 50 commands', 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const replies = said(flooders[0] as IrcUser, 'floodbot');
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.length).toBeLessThanOrEqual(10);
    expect(app.budget.dropped).toBe(50 - replies.length);
    expect(replies[0]?.text).toBe('No statistics from ingest (is it running?)');
  });

  it('announces switches when asked to (off by default)', async () => {
    await startBot('quietbot');
    await startBot('newsbot', { CHAT_ANNOUNCE_SWITCHES: 'true' });
    const listener = await user('listener');
    const publisher = await testBus(nats, 'main', 'switcher');
    cleanups.push(() => publisher.closeConnection());
    const state = (s: SwitcherState['state'], since: number): SwitcherState => ({
      ts: Date.now(),
      mode: 'auto',
      state: s,
      since,
      reason: 'test',
      scene: null,
      settings: DEFAULT_SWITCHER_SETTINGS,
      scenes: { live: 'Live', low: 'Low', offline: 'Offline' },
    });
    const t0 = Date.now();
    publisher.publish('switcher.state', state('live', t0 - 60_000));
    await publisher.nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    publisher.publish('switcher.state', state('offline', t0));
    await waitFor(() => said(listener, 'newsbot').length >= 1, 'the offline announcement');
    publisher.publish('switcher.state', state('live', t0 + 12_000));
    await waitFor(() => said(listener, 'newsbot').length >= 2, 'the back-live announcement');
    expect(said(listener, 'newsbot').map((m) => m.text)).toEqual(['Feed lost, on Offline', 'Back Live after 12 s']);
    expect(said(listener, 'quietbot')).toEqual([]);
  });

  it('comes back by itself after the IRC server restarts, and answers again', async () => {
    await startBot('steadybot');
    await irc.restart();
    const broadcaster = await ircUser(irc, CHANNEL, CHANNEL);
    cleanups.push(() => broadcaster.quit());
    await waitFor(() => inChannel(broadcaster, 'steadybot'), 'the bot to rejoin after the restart', 30_000);
    broadcaster.say('!bitrate');
    await waitFor(() => said(broadcaster, 'steadybot').length >= 1, 'an answer after the restart');
  });
});
