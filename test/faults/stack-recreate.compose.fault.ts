// The whole compose stack re-created while Live (`docker-compose up -d --force-recreate`, as an upgrade
// or a changed .env does): with OBS_RESUME_AFTER_RESTART on (the default) the stream comes back by
// itself on the scene it was on, from the wanted state kept in JetStream KV; with it off it stays off.
import type { ObsState } from '@irlkit/shared';
import { waitFor } from '@irlkit/test-kit';
import type { Stamped } from '../compose/probe.ts';
import { startComposeLive } from './compose.ts';
import { runFault } from './report.ts';

/** Every service of docker-compose.yml and the test overlay; each must get a new container. */
const SERVICES = ['nats', 'ingest', 'desktop', 'xpra', 'obs-bridge', 'chat', 'dashboard', 'rtmp-sink'];
/** With the setting off, how long the stream is watched for staying off once OBS answers again. */
const STAYS_OFF_MS = 20_000;

await runFault(
  import.meta.url,
  {
    title: 'Every service re-created while Live (compose)',
    scenario: `The compose stack streaming on \`Live\` with a feed through the published SRT port (a sender that calls again when dropped, like a phone); \`docker-compose up -d --force-recreate\` replaces every container. Expected: with \`OBS_RESUME_AFTER_RESTART\` on (the default), the stream comes back by itself on \`Live\`; then with it off (set in .env, re-created again), OBS comes back idle and stays off (watched for ${STAYS_OFF_MS / 1000} s after OBS answers).`,
    goalsMs: {},
  },
  async (run) => {
    const stack = await startComposeLive('irlkit-faults', run.log);
    const { probe } = stack;
    const ids = () => Object.fromEntries(SERVICES.map((s) => [s, stack.containerId(s)]));
    /** Runs `up -d --force-recreate` and checks that every service got a new container. */
    const recreate = async (label: string) => {
      const before = ids();
      const startedAt = Date.now();
      const up = await stack.compose(['up', '-d', '--force-recreate'], 600_000);
      if (up.status !== 0) throw new Error(`docker-compose up -d --force-recreate failed:\n${up.output.slice(-2000)}`);
      run.time(`${label}: docker-compose up -d --force-recreate returned`, Date.now() - startedAt);
      const after = ids();
      const kept = SERVICES.filter((s) => !after[s] || after[s] === before[s]);
      run.check(kept.length === 0, `${label}: not re-created: ${kept.join(', ')}`);
      return startedAt;
    };
    /** The first obs.state after `since` that matches, once the stream has been seen down after `since`. */
    const afterOutage = (since: number, match: (s: Stamped<ObsState>) => boolean) => {
      const down = probe.obsStates.find((s) => s.receivedAt > since && !(s.reachable && s.streaming));
      return down && probe.obsStates.find((s) => s.receivedAt >= down.receivedAt && match(s));
    };
    try {
      // The setting on (the default).
      const upAt = await recreate('resume on');
      const back = await waitFor(() => afterOutage(upAt, (s) => s.reachable && s.streaming), 'OBS streaming again after the re-creation', 180_000, 100).catch(
        (error: Error) => {
          throw new Error(`${error.message}; timeline: ${probe.log.slice(-10).join(' | ')}`);
        },
      );
      run.time('resume on: streaming again after up started', back.receivedAt - upAt);
      const live = await waitFor(
        () => afterOutage(upAt, (s) => s.reachable && s.streaming && s.programScene === 'Live'),
        'OBS streaming on Live again',
        90_000,
        100,
      ).catch(() => undefined);
      run.check(live, `resume on: streaming again, but not on Live (program: ${probe.obsState?.programScene})`);
      if (live) run.time('resume on: streaming on Live again after up started', live.receivedAt - upAt);
      await stack.sinkStreams('the sink to carry the stream again', 90_000);
      run.time('resume on: RTMP sink readable again after up started', Date.now() - upAt);
      run.note(`Resume on, timeline: ${probe.log.slice(-6).join(' | ')}`);

      // The setting off: the same re-creation leaves the stream off.
      stack.setEnv({ OBS_RESUME_AFTER_RESTART: 'false' });
      const offAt = await recreate('resume off');
      const answered = await waitFor(() => afterOutage(offAt, (s) => s.reachable), 'OBS answering after the re-creation', 180_000, 100);
      run.time('resume off: OBS answering again after up started', answered.receivedAt - offAt);
      await new Promise((r) => setTimeout(r, STAYS_OFF_MS));
      const streamed = probe.obsStates.filter((s) => s.receivedAt >= answered.receivedAt && s.streaming);
      run.check(streamed.length === 0, `resume off: OBS streamed again (${streamed.length} obs.state said streaming)`);
      run.check(probe.obsState?.reachable && !probe.obsState.streaming, `resume off: last obs.state ${JSON.stringify(probe.obsState)}`);
      run.note(
        `Resume off: ${STAYS_OFF_MS / 1000} s after OBS answered, streaming=${probe.obsState?.streaming}, program=${probe.obsState?.programScene}; timeline: ${probe.log.slice(-4).join(' | ')}`,
      );
    } finally {
      await stack.stop();
    }
  },
);
