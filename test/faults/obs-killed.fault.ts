// OBS killed (SIGKILL) while Live: the desktop service's supervisor starts it again, the bridge
// reconnects and the watchdog puts the stream and the scene back. The loud fault, kept as a baseline.
import { armEvent, collectEvents, probeUntilAudioAndVideo } from '@irlkit/test-kit';
import { armLiveAfterObsRestart, startLive } from './live.ts';
import { runFault } from './report.ts';

const TRIALS = Number(process.env.FAULT_TRIALS ?? 2);

await runFault(
  import.meta.url,
  {
    title: 'OBS killed while Live (native)',
    scenario: `Streaming on \`Live\` with a feed, OBS's process gets SIGKILL (${TRIALS} times in a row). Expected: OBS is started again, the bridge reconnects, the stream resumes (on \`Offline\` until the new OBS's feed input shows a moving picture, then \`Live\`) and the RTMP sink carries audio and video again.`,
    goalsMs: { 'streaming again after the kill': 20_000, 'Live streamed without a moving picture': 0 },
  },
  async (run) => {
    const stack = await startLive();
    try {
      for (let trial = 1; trial <= TRIALS; trial++) {
        const pid = stack.obs.app.runtime.obs.pid;
        if (!pid) throw new Error('OBS has no pid');
        const down = await armEvent(stack.observer, 'obs.state', (s) => !s.reachable, 'the bridge to see OBS gone', 15_000);
        const killedAt = Date.now();
        process.kill(pid, 'SIGKILL');
        run.time('bridge sees OBS unreachable', (await down.next).receivedAt - killedAt);
        const programs = collectEvents(stack.observer, 'obs.state');
        const back = await armEvent(stack.observer, 'obs.state', (s) => s.reachable && s.streaming, 'OBS streaming again', 60_000);
        const reopened = await armLiveAfterObsRestart(stack);
        const streaming = await back.next;
        run.time('streaming again after the kill', streaming.receivedAt - killedAt);
        // A new OBS shows Offline until its reopened feed input moves: Live only with a picture.
        const liveAgain = await reopened.next;
        run.time('Live with a moving picture again after the kill', liveAgain.since - killedAt);
        run.check(/picture moving/.test(liveAgain.reason), `trial ${trial}: Live again without a moving picture (${liveAgain.reason})`);
        // What viewers could see: Live streamed before the switcher saw the reopened input's picture move.
        programs.stop();
        const firstLiveStreamed = programs.items.find((s) => s.reachable && s.streaming && s.programScene === 'Live');
        run.time('Live streamed without a moving picture', firstLiveStreamed ? Math.max(0, liveAgain.since - firstLiveStreamed.receivedAt) : 0);
        await probeUntilAudioAndVideo(stack.sink.playUrl('test'), 'the sink to carry the stream again', 30_000);
        run.time('RTMP sink readable again after the kill', Date.now() - killedAt);
      }
    } finally {
      await stack.stop();
    }
  },
);
