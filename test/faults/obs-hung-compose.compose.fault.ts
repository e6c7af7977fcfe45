// OBS hung (SIGSTOP) while Live, in compose: OBS's container (`desktop`) keeps running and its port keeps
// accepting connections, so only the bridge's liveness pings (and the container's Hello healthcheck)
// can tell. The watchdog restarts the container through Docker and the stream resumes on Live.
import { spawnSync } from 'node:child_process';
import { waitFor } from '@irlkit/test-kit';
import { startComposeLive } from './compose.ts';
import { runFault } from './report.ts';

const TRIALS = Number(process.env.FAULT_TRIALS ?? 2);

/** The host pid of the OBS process inside the desktop container. */
function obsPid(containerId: string): number {
  const top = spawnSync('/usr/bin/docker', ['top', containerId, '-eo', 'pid,comm'], { encoding: 'utf8' }).stdout ?? '';
  const line = top.split('\n').find((l) => /^\s*\d+\s+obs$/.test(l));
  if (!line) throw new Error(`no obs process in the desktop container:\n${top}`);
  return Number(line.trim().split(/\s+/)[0]);
}

await runFault(
  import.meta.url,
  {
    title: 'OBS hung while Live (compose)',
    scenario: `The compose stack streaming on \`Live\` with a feed through the published SRT port; the OBS process inside the \`desktop\` container is frozen with SIGSTOP (${TRIALS} times). Expected: the bridge's pings go unanswered, it reports OBS hung (\`process\` event \`unhealthy\`), the watchdog restarts the container through Docker, and the stream resumes on \`Live\`.`,
    goalsMs: { 'hang detected (process event)': 8000, 'streaming again after the SIGSTOP': 20_000 },
  },
  async (run) => {
    const stack = await startComposeLive('irlkit-faults', run.log);
    const { probe } = stack;
    try {
      for (let trial = 1; trial <= TRIALS; trial++) {
        const containerId = await stack.containerId('desktop');
        const pid = obsPid(containerId);
        const eventsBefore = probe.processEvents.length;
        const logBefore = probe.log.length;
        const since = () => probe.processEvents.slice(eventsBefore);
        const stoppedAt = Date.now();
        process.kill(pid, 'SIGSTOP');
        try {
          const hung = await waitFor(
            () => since().find((e) => e.service === 'obs-bridge' && e.event === 'unhealthy' && e.detail?.startsWith('hung')),
            'the bridge to report OBS hung',
            30_000,
            50,
          );
          run.time('hang detected (process event)', hung.receivedAt - stoppedAt);
          const started = await waitFor(
            () => since().find((e) => e.kind === 'container' && e.child === 'obs' && e.event === 'started'),
            'the OBS container started again',
            60_000,
            50,
          );
          run.time('OBS container started again', started.receivedAt - stoppedAt);
          const reachable = await waitFor(
            () => probe.obsStates.find((s) => s.receivedAt > hung.receivedAt && s.reachable),
            'the bridge to reach the new OBS',
            60_000,
            50,
          );
          run.time('the bridge connected to the new OBS', reachable.receivedAt - stoppedAt);
          const streaming = await waitFor(
            () => probe.obsStates.find((s) => s.receivedAt > hung.receivedAt && s.reachable && s.streaming),
            'OBS streaming again',
            60_000,
            50,
          ).catch((error: Error) => {
            throw new Error(`${error.message}; timeline: ${probe.log.slice(-8).join(' | ')}`);
          });
          run.time('streaming again after the SIGSTOP', streaming.receivedAt - stoppedAt);
          run.check(streaming.programScene === 'Live', `trial ${trial}: back on ${streaming.programScene}, not Live`);
          await stack.sinkStreams('the sink to carry the stream again', 60_000);
          run.time('RTMP sink readable again after the SIGSTOP', Date.now() - stoppedAt);
          const restarts = probe.log.slice(logBefore).filter((l) => /Watchdog restarting OBS/.test(l)).length;
          run.check(restarts === 1, `trial ${trial}: the watchdog restarted the OBS container ${restarts} times, not once`);
          run.check((await stack.containerId('desktop')) === containerId, `trial ${trial}: the OBS container was replaced, not restarted`);
        } finally {
          try {
            process.kill(pid, 'SIGCONT');
          } catch {}
        }
      }
      run.note(`The timeline's last entries: ${probe.log.slice(-8).join(' | ')}`);
    } finally {
      await stack.stop();
    }
  },
);
