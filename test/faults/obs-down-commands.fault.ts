// `stream.stop` and `scene.set Privacy` sent while OBS is down (crashed, and out of the bridge's reach
// until its replacement answers). Expected: both are accepted as queued, and once OBS is back no
// StartStream is ever sent and Privacy is on program.
import { armEvent, nextEvent, waitFor } from '@irlkit/test-kit';
import { startLive } from './live.ts';
import { runFault } from './report.ts';

await runFault(
  import.meta.url,
  {
    title: 'Stop and Privacy sent while OBS is down',
    scenario:
      'Streaming on `Live`, OBS crashes (SIGKILL) while the bridge cannot reach it; `stream.stop` and `scene.set Privacy` arrive during the outage. Expected: both are answered "queued: OBS is restarting"; once the new OBS answers, the bridge never sends StartStream (checked on the wire for 10 s) and `Privacy` is on program.',
    goalsMs: { 'Privacy on program after OBS answers again': 3000 },
  },
  async (run) => {
    const stack = await startLive({ obsProxy: true });
    const proxy = stack.obsProxy;
    if (!proxy) throw new Error('no proxy');
    try {
      const pid = stack.obs.app.runtime.obs.pid;
      const gone = await armEvent(stack.observer, 'obs.state', (s) => !s.reachable, 'the bridge to see OBS gone', 10_000);
      proxy.block(true);
      await gone.next;
      process.kill(pid as number, 'SIGKILL');
      const sentBefore = proxy.requests.length;
      const stop = await stack.observer.request('stream.stop', {});
      const privacy = await stack.observer.request('scene.set', { scene: 'Privacy' });
      run.note(`stream.stop answered ${JSON.stringify(stop)}; scene.set Privacy answered ${JSON.stringify(privacy)}.`);
      run.check(stop.ok && privacy.ok, 'a command sent while OBS was down was refused');
      await waitFor(() => stack.obs.app.runtime.obs.running && stack.obs.app.runtime.obs.pid !== pid, 'a new OBS process', 20_000);
      await new Promise((r) => setTimeout(r, 3000)); // the new OBS boots
      const reachable = await armEvent(stack.observer, 'obs.state', (s) => s.reachable, 'OBS reachable again', 30_000);
      proxy.block(false);
      const back = await reachable.next;
      const onPrivacy = await nextEvent(stack.observer, 'obs.state', (s) => s.reachable && s.programScene === 'Privacy', 'Privacy on program', 20_000);
      run.time('Privacy on program after OBS answers again', Math.max(0, onPrivacy.receivedAt - back.receivedAt));
      await new Promise((r) => setTimeout(r, 10_000));
      const sent = proxy.requests.slice(sentBefore);
      run.check(!sent.includes('StartStream'), 'StartStream was sent after the Stop');
      const last = await nextEvent(stack.observer, 'obs.state', () => true, 'a heartbeat', 5000);
      run.check(!last.streaming && last.programScene === 'Privacy', `after 10 s: streaming ${last.streaming}, scene ${last.programScene}`);
      run.note(
        `Requests sent to OBS after its return: ${sent.includes('StartStream') ? 'StartStream among them' : 'no StartStream'}; 10 s later streaming=${last.streaming}, program=${last.programScene}.`,
      );
    } finally {
      await stack.stop();
    }
  },
);
