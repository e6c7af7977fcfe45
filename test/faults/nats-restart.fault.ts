// nats-server restarted while Live, and obs-bridge started while JetStream is unavailable.
import { armEvent, collectEvents, nextEvent, startReconnectingFeed, testBus, waitFor } from '@irlkit/test-kit';
import { startLive } from './live.ts';
import { runFault } from './report.ts';

await runFault(
  import.meta.url,
  {
    title: 'nats-server restarted while Live; bridge started with JetStream down',
    scenario:
      'Streaming on `Live`, nats-server is killed and started again. Expected: every service reconnects, a command sent by a client that connects the moment the server is back is answered (not lost), the stream stays on air, and the switcher still switches (feed cut → `Offline`, back → `Live`). Then nats-server runs without JetStream and obs-bridge is restarted: it starts on defaults, a command works at once, and what changed is saved once JetStream is back.',
    goalsMs: { 'command sent right after the restart answered': 5000, 'bridge started with JetStream down: first command answered': 5000 },
  },
  async (run) => {
    const stack = await startLive({ bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'fault_nats' } });
    const feeds: Array<{ stop(): Promise<void> }> = [];
    try {
      const restartedAt = Date.now();
      await stack.nats.restart();
      const fresh = await testBus(stack.nats, 'main', 'fresh');
      try {
        const sentAt = Date.now();
        const reply = await fresh.request('switcher.mode', { mode: 'auto' }, 10_000);
        run.check(reply.ok, `command after the restart: ${JSON.stringify(reply)}`);
        run.time('command sent right after the restart answered', Date.now() - sentAt);
        for (const service of ['ingest', 'obs-bridge', 'desktop']) {
          const beat = await nextEvent(fresh, 'heartbeat', (h) => h.service === service, `a heartbeat of ${service}`, 15_000);
          run.time(`${service} heard again after the restart`, beat.receivedAt - restartedAt);
        }
        const state = await nextEvent(fresh, 'obs.state', () => true, 'obs.state', 5000);
        run.check(state.streaming, 'the stream stopped during the restart');
        const offline = await armEvent(fresh, 'obs.state', (s) => s.programScene === 'Offline', 'Offline', 20_000);
        const cutAt = Date.now();
        await stack.feed.kill9();
        run.time('switcher: feed cut → Offline', (await offline.next).receivedAt - cutAt);
        const live = await armEvent(fresh, 'obs.state', (s) => s.programScene === 'Live', 'Live again', 30_000);
        const backAt = Date.now();
        // A phone calls again until the relay takes it (it lets the vanished sender time out first).
        const feed = startReconnectingFeed({ port: stack.srtPort, bitrateKbps: 1500, latencyMs: 500, width: 640, height: 360 });
        feeds.push(feed);
        run.time('switcher: sender calls again → Live', (await live.next).receivedAt - backAt);
      } finally {
        await fresh.closeConnection();
      }

      await stack.nats.restart({ jetstream: false });
      await stack.restartBridge();
      const startedAt = Date.now();
      const reply = await stack.observer.request('switcher.config', { lowEnterKbps: 650 }, 10_000);
      run.check(reply.ok, `command with JetStream down: ${JSON.stringify(reply)}`);
      run.time('bridge started with JetStream down: first command answered', Date.now() - startedAt);
      const log = collectEvents(stack.observer, 'log');
      const jsBackAt = Date.now();
      await stack.nats.restart({ jetstream: true });
      const kvValue = async () => {
        try {
          const kv = await stack.observer.nc.jetstream().views.kv('fault_nats');
          const entry = await kv.get('switcher_main_config');
          return entry ? (JSON.parse(new TextDecoder().decode(entry.value)) as { lowEnterKbps: number }).lowEnterKbps === 650 : false;
        } catch {
          return false;
        }
      };
      await waitFor(kvValue, 'the change made while JetStream was down to be saved', 30_000, 250);
      run.time('change saved after JetStream is back', Date.now() - jsBackAt);
      log.stop();
      run.note(
        `Timeline: ${log.items
          .filter((e) => /Settings/.test(e.message))
          .map((e) => `"${e.message.slice(0, 80)}"`)
          .join(', ')}`,
      );
    } finally {
      for (const feed of feeds) await feed.stop();
      await stack.stop();
    }
  },
);
