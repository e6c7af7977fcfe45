// OBS hung (SIGSTOP) while Live, natively: its socket stays open and the kernel keeps accepting
// connections, so only the bridge's liveness pings can tell. Detected, OBS restarted by the desktop
// service (SIGTERM, then SIGKILL), and the stream resumes on the wanted scene.
import { armEvent, probeUntilAudioAndVideo, waitFor } from '@irlkit/test-kit';
import { armLiveAfterObsRestart, startLive } from './live.ts';
import { runFault } from './report.ts';

const TRIALS = Number(process.env.FAULT_TRIALS ?? 2);

await runFault(
  import.meta.url,
  {
    title: 'OBS hung while Live (native)',
    scenario: `Streaming on \`Live\` with a feed, OBS's process is frozen with SIGSTOP (${TRIALS} times). Expected: the bridge's pings go unanswered, it reports OBS hung (\`process\` event \`unhealthy\`), the watchdog has the desktop service restart OBS, and the stream resumes (on \`Offline\` until the new OBS's feed input shows a moving picture, then \`Live\`).`,
    goalsMs: { 'hang detected (process event)': 8000, 'streaming again after the SIGSTOP': 20_000 },
  },
  async (run) => {
    const stack = await startLive();
    try {
      for (let trial = 1; trial <= TRIALS; trial++) {
        const pid = stack.obs.app.runtime.obs.pid;
        if (!pid) throw new Error('OBS has no pid');
        const hung = await armEvent(
          stack.observer,
          'process',
          (e) => e.service === 'obs-bridge' && e.event === 'unhealthy',
          'the bridge to report OBS hung',
          30_000,
        );
        const stoppedAt = Date.now();
        process.kill(pid, 'SIGSTOP');
        try {
          const report = await hung.next;
          run.time('hang detected (process event)', report.receivedAt - stoppedAt);
          await waitFor(() => stack.obs.app.runtime.obs.running && stack.obs.app.runtime.obs.pid !== pid, 'a new OBS process', 30_000);
          run.time('new OBS process started', Date.now() - stoppedAt);
          const reachable = await armEvent(stack.observer, 'obs.state', (s) => s.reachable, 'the bridge to reach the new OBS', 60_000);
          const back = await armEvent(stack.observer, 'obs.state', (s) => s.reachable && s.streaming, 'OBS streaming again', 60_000);
          const reopened = await armLiveAfterObsRestart(stack);
          run.time('the bridge connected to the new OBS', (await reachable.next).receivedAt - stoppedAt);
          const streaming = await back.next;
          run.time('streaming again after the SIGSTOP', streaming.receivedAt - stoppedAt);
          // A new OBS shows Offline until its reopened feed input moves: Live only with a picture.
          const liveAgain = await reopened.next;
          run.time('Live with a moving picture again after the SIGSTOP', liveAgain.since - stoppedAt);
          run.check(/picture moving/.test(liveAgain.reason), `trial ${trial}: Live again without a moving picture (${liveAgain.reason})`);
          await probeUntilAudioAndVideo(stack.sink.playUrl('test'), 'the sink to carry the stream again', 30_000);
          run.time('RTMP sink readable again after the SIGSTOP', Date.now() - stoppedAt);
        } finally {
          try {
            process.kill(pid, 'SIGCONT');
          } catch {}
        }
      }
    } finally {
      await stack.stop();
    }
  },
);
