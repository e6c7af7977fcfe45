// srt-live-transmit failing under a Live feed, natively, measured on OBS's program: hung (SIGSTOP), and
// killed (kill -9) under a plain SRT sender and under a bonded (SRTLA, two links) one. Ingest restarts a
// hung child, tells the sender its SRT session is over so it calls again at once, and the switcher shows
// Live again only once the reopened feed input's picture moves.
import { armEvent, collectEvents, freeUdpPort, nextEvent, startReconnectingFeed, startSrtlaSender, startStack, type TestStack } from '@irlkit/test-kit';
import { type FaultRun, runFault } from './report.ts';

const TRIALS = Number(process.env.FAULT_TRIALS ?? 2);

/**
 * ingest's supervisor doubles the restart delay for a child that dies again within 10 s of its start (its
 * crash-loop backoff, 100 ms up to 5 s): each trial starts 14 s after the last (a hang is found within
 * 3 s), from a child that ran longer, so that it
 * measures one restart and not the backoff of the trials before it.
 */
const SETTLED_CHILD_MS = 14_000;
let lastRestartAt = 0;

/** Waits for Live (a moving picture) on program, then lets it run so the next fault hits a settled feed and child. */
async function live(stack: TestStack, what: string): Promise<void> {
  await nextEvent(stack.observer, 'switcher.state', (s) => s.state === 'live', what, 40_000);
  await new Promise((r) => setTimeout(r, Math.max(2000, lastRestartAt + SETTLED_CHILD_MS - Date.now())));
}

/** One fault on srt-live-transmit while Live: program leaving Live, and Live (picture moving) again. */
async function trial(run: FaultRun, stack: TestStack, signal: 'SIGSTOP' | 'SIGKILL', label: string): Promise<void> {
  const pid = stack.ingest.transmit.pid as number;
  const left = await armEvent(stack.observer, 'obs.state', (s) => s.programScene !== 'Live', 'Live to leave program', 20_000);
  const timeline = collectEvents(stack.observer, 'log');
  const at = Date.now();
  lastRestartAt = at;
  process.kill(pid, signal);
  try {
    const leftState = await left.next;
    run.time(`${label} → Offline on program`, leftState.receivedAt - at);
    const back = await nextEvent(stack.observer, 'switcher.state', (s) => s.state === 'live', `Live again after ${label}`, 40_000);
    run.time(`${label} → Live with a moving picture again`, back.since - at);
    run.check(/picture moving/.test(back.reason), `${label}: Live again without a moving picture (${back.reason})`);
    run.check(stack.ingest.transmit.pid !== pid, `${label}: srt-live-transmit was not restarted`);
    // Where the time went (printed only): the timeline from the fault to Live.
    const steps = timeline.items.filter((e) => e.receivedAt >= at && e.receivedAt <= back.receivedAt);
    run.log(`  ${steps.map((e) => `+${e.receivedAt - at} ms ${e.message.slice(0, 60)}`).join(' | ')}`);
    await live(stack, `Live before the next fault after ${label}`);
  } finally {
    timeline.stop();
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // restarted already
    }
  }
}

await runFault(
  import.meta.url,
  {
    title: 'srt-live-transmit hung or killed while Live (native)',
    scenario: `A sender on \`Live\` (ffmpeg that calls again as soon as its connection breaks, like a phone); srt-live-transmit is frozen with SIGSTOP (${TRIALS} times), then killed with SIGKILL under that plain SRT sender and under a bonded one (two SRTLA links; ${TRIALS} times each). Expected: a hang is found from the sender's data flowing with nothing coming back and the child restarted; after any restart the sender gets an SRT shutdown and calls again at once; \`Offline\` on program while the feed is gone, and \`Live\` again only once the reopened feed input's picture moves. Measured on OBS's program (\`obs.state\`) and the switcher's state. Flap damping is narrowed to a 1 s window, and each trial starts 14 s after the one before (srt-live-transmit has run over 10 s), so that each trial measures one restart, not the hold the switcher or the restart delay ingest's supervisor deliberately grows over repeated falls.`,
    goalsMs: {
      'SIGSTOP → Offline on program': 3000,
      'kill -9 (plain SRT) → Live with a moving picture again': 3000,
      'kill -9 (bonded) → Live with a moving picture again': 3000,
    },
  },
  async (run) => {
    const srtlaPort = await freeUdpPort();
    const stack = await startStack({
      ingestEnv: { SRTLA_PORT: String(srtlaPort), SRTLA_BIND: '127.0.0.1' },
      bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'feed_relay' },
    });
    // Each trial is one restart on its own: flap damping (the hold before Live doubled for every fall
    // within flapWindowMs, 2 min by default) would otherwise add up across six trials a few seconds apart.
    await stack.observer.request('switcher.config', { flapWindowMs: 1000 });
    try {
      const plain = startReconnectingFeed({ port: stack.srtPort, bitrateKbps: 2500, latencyMs: 500 }, 100);
      try {
        await live(stack, 'Live with the plain SRT sender');
        for (let i = 1; i <= TRIALS; i++) await trial(run, stack, 'SIGSTOP', 'SIGSTOP');
        for (let i = 1; i <= TRIALS; i++) await trial(run, stack, 'SIGKILL', 'kill -9 (plain SRT)');
      } finally {
        await plain.stop();
      }
      await nextEvent(stack.observer, 'switcher.state', (s) => s.state === 'offline', 'Offline once the plain sender stopped', 20_000);
      const sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
      const bonded = startReconnectingFeed({ port: sender.port, bitrateKbps: 2500, latencyMs: 500 }, 100);
      try {
        await live(stack, 'Live with the bonded sender');
        for (let i = 1; i <= TRIALS; i++) await trial(run, stack, 'SIGKILL', 'kill -9 (bonded)');
        run.check(
          sender.links.every((l) => l.registered),
          'a bonded link had to register again',
        );
      } finally {
        await bonded.stop();
        await sender.stop();
      }
    } finally {
      await stack.stop();
    }
  },
);
