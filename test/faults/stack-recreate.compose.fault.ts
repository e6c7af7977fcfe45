// The whole compose stack re-created while Live (`docker-compose up -d --force-recreate`, as an upgrade
// or a changed .env does): with OBS_RESUME_AFTER_RESTART on (the default) the stream comes back by
// itself on the scene it was on, from the wanted state kept in JetStream KV; with it off it stays off.
import { waitFor } from '@irlkit/test-kit';
import { startComposeLive } from './compose.ts';
import { runFault } from './report.ts';

/** Every service of docker-compose.yml and the test overlay; each must get a new container. */
const SERVICES = ['nats', 'ingest', 'desktop', 'xpra', 'obs-bridge', 'chat', 'dashboard', 'rtmp-sink'];
/** With the setting off, how long the stream is watched for staying off once every container is new. */
const STAYS_OFF_MS = 20_000;

await runFault(
  import.meta.url,
  {
    title: 'Every service re-created while Live (compose)',
    scenario: `The compose stack streaming on \`Live\` with a feed through the published SRT port (a sender that calls again when dropped, like a phone); \`docker-compose up -d --force-recreate\` replaces every container. Expected: with \`OBS_RESUME_AFTER_RESTART\` on (the default), the stream comes back by itself on \`Live\`. Then the setting is turned off (in .env, \`up -d\`), the stream started again, and the stack re-created again: the new OBS never streams (watched until ${STAYS_OFF_MS / 1000} s after \`up\` returned).`,
    goalsMs: {},
  },
  async (run) => {
    const stack = await startComposeLive('irlkit-faults', run.log);
    const { probe } = stack;
    const ids = async () => Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await stack.containerId(s)] as const)));
    const states = (since: number) =>
      probe.obsStates
        .filter((s) => s.receivedAt >= since)
        .map(
          (s) => `${((s.receivedAt - since) / 1000).toFixed(1)} ${s.reachable ? (s.streaming ? 'streaming' : 'idle') : 'unreachable'} ${s.programScene ?? '-'}`,
        )
        .filter((line, i, all) => i === 0 || line.slice(line.indexOf(' ')) !== (all[i - 1] as string).slice((all[i - 1] as string).indexOf(' ')));
    /** Runs `up -d --force-recreate` and checks that every service got a new container; returns when it started and when the new obs container started. */
    const recreate = async (label: string) => {
      const before = await ids();
      const upAt = Date.now();
      const up = await stack.compose(['up', '-d', '--force-recreate'], 600_000);
      if (up.status !== 0) throw new Error(`docker-compose up -d --force-recreate failed:\n${up.output.slice(-2000)}`);
      const returnedAt = Date.now();
      run.time(`${label}: docker-compose up -d --force-recreate returned`, returnedAt - upAt);
      const after = await ids();
      const kept = SERVICES.filter((s) => !after[s] || after[s] === before[s]);
      run.check(kept.length === 0, `${label}: not re-created: ${kept.join(', ')}`);
      return { upAt, returnedAt, obsStartedAt: await stack.startedAt('desktop') };
    };
    try {
      // The setting on (the default). The new OBS is told apart from the old one by its container's start.
      const on = await recreate('resume on');
      const back = await waitFor(
        () => probe.obsStates.find((s) => s.receivedAt > on.obsStartedAt && s.reachable && s.streaming),
        'the new OBS streaming',
        180_000,
        100,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; obs.state since up: ${states(on.upAt).join(', ')}; timeline: ${probe.log.slice(-10).join(' | ')}`);
      });
      run.time('resume on: streaming again after up started', back.receivedAt - on.upAt);
      const live = await waitFor(
        () => probe.obsStates.find((s) => s.receivedAt > on.obsStartedAt && s.reachable && s.streaming && s.programScene === 'Live'),
        'the new OBS streaming on Live',
        90_000,
        100,
      ).catch(() => undefined);
      run.check(live, `resume on: streaming again, but not on Live (program: ${probe.obsState?.programScene})`);
      if (live) run.time('resume on: streaming on Live again after up started', live.receivedAt - on.upAt);
      await stack.sinkStreams('the sink to carry the stream again', 90_000);
      run.time('resume on: RTMP sink readable again after up started', Date.now() - on.upAt);
      run.note(`Resume on, obs.state after \`up\` started (s, state, program): ${states(on.upAt).join(', ')}`);

      // The setting off, on the running stack first (only obs-bridge is re-created for it), and the stream on again.
      stack.setEnv({ OBS_RESUME_AFTER_RESTART: 'false' });
      const applied = await stack.compose(['up', '-d'], 300_000);
      if (applied.status !== 0) throw new Error(`docker-compose up -d (setting off) failed:\n${applied.output.slice(-2000)}`);
      const bridgeAt = await stack.startedAt('obs-bridge');
      await waitFor(() => probe.obsStates.find((s) => s.receivedAt > bridgeAt && s.reachable), 'the new bridge reaching OBS', 90_000, 100);
      const started = await probe.request('stream.start');
      run.check(started.ok, `stream.start with the setting off: ${started.error}`);
      await waitFor(() => probe.obsState?.reachable && probe.obsState.streaming, 'streaming with the setting off', 60_000, 100);

      const off = await recreate('resume off');
      const answered = await waitFor(() => probe.obsStates.find((s) => s.receivedAt > off.obsStartedAt && s.reachable), 'the new OBS answering', 180_000, 100);
      run.time('resume off: the new OBS answering after up started', answered.receivedAt - off.upAt);
      const watchUntil = Math.max(off.returnedAt, answered.receivedAt) + STAYS_OFF_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, watchUntil - Date.now())));
      const streamed = probe.obsStates.filter((s) => s.receivedAt > off.obsStartedAt && s.streaming);
      run.check(streamed.length === 0, `resume off: the new OBS streamed (${streamed.length} obs.state said streaming)`);
      run.check(probe.obsState?.reachable && !probe.obsState.streaming, `resume off: last obs.state ${JSON.stringify(probe.obsState)}`);
      run.note(`Resume off, obs.state after \`up\` started (s, state, program): ${states(off.upAt).join(', ')}`);
    } finally {
      await stack.stop();
    }
  },
);
