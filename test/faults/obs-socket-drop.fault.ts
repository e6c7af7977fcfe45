// OBS's websocket dropped while a call is in flight: a screenshot, and the state read right after
// connecting. OBS itself is healthy (a relay between the bridge and OBS freezes, then drops the
// connection). Expected: the preview comes back within 3 s of OBS answering again, and OBS is never restarted.
import { armEvent, nextEvent } from '@irlkit/test-kit';
import { startLive } from './live.ts';
import { runFault } from './report.ts';

await runFault(
  import.meta.url,
  {
    title: "OBS's socket dropped with a call in flight",
    scenario:
      'Streaming on `Live`, the connection between the bridge and a healthy OBS is frozen in the middle of a screenshot, then dropped; then again in the middle of the state read that follows a reconnect. Expected: the bridge reconnects, the preview (`obs.screenshot`) resumes within 3 s of OBS answering again, and the watchdog never restarts the healthy OBS.',
    goalsMs: { 'preview again after OBS answers (screenshot in flight)': 3000, 'preview again after OBS answers (state read in flight)': 3000 },
  },
  async (run) => {
    const stack = await startLive({ obsProxy: true });
    const proxy = stack.obsProxy;
    if (!proxy) throw new Error('no proxy');
    try {
      const pid = stack.obs.app.runtime.obs.pid;
      await nextEvent(stack.observer, 'obs.screenshot', () => true, 'a preview frame', 15_000);
      const frozen = proxy.freezeOn('GetSourceScreenshot');
      await frozen;
      await new Promise((r) => setTimeout(r, 500));
      let down = await armEvent(stack.observer, 'obs.state', (s) => !s.reachable, 'the bridge to see OBS gone', 10_000);
      let droppedAt = Date.now();
      proxy.dropAll();
      await down.next;
      let back = await nextEvent(stack.observer, 'obs.state', (s) => s.reachable, 'OBS reachable again', 20_000);
      run.time('reconnected after the drop (screenshot in flight)', back.receivedAt - droppedAt);
      let frame = await nextEvent(stack.observer, 'obs.screenshot', (f) => f.ts > back.ts, 'a preview frame after the reconnect', 20_000);
      run.time('preview again after OBS answers (screenshot in flight)', frame.receivedAt - back.receivedAt);

      const frozenRead = proxy.freezeOn('GetSceneList');
      down = await armEvent(stack.observer, 'obs.state', (s) => !s.reachable, 'the bridge to see OBS gone', 10_000);
      proxy.dropAll();
      await down.next;
      await frozenRead;
      await new Promise((r) => setTimeout(r, 500));
      droppedAt = Date.now();
      proxy.dropAll();
      back = await nextEvent(stack.observer, 'obs.state', (s) => s.reachable, 'OBS reachable again after the state read was cut', 20_000);
      run.time('reconnected after the drop (state read in flight)', back.receivedAt - droppedAt);
      frame = await nextEvent(stack.observer, 'obs.screenshot', (f) => f.ts > back.ts, 'a preview frame after the reconnect', 20_000);
      run.time('preview again after OBS answers (state read in flight)', frame.receivedAt - back.receivedAt);
      await new Promise((r) => setTimeout(r, 12_000)); // past the watchdog's timeout
      run.check(stack.obs.app.runtime.obs.pid === pid && stack.obs.app.runtime.obs.restarts === 0, 'the healthy OBS was restarted');
      run.note(`OBS restarts during the fault: ${stack.obs.app.runtime.obs.restarts} (same process throughout: ${stack.obs.app.runtime.obs.pid === pid}).`);
    } finally {
      await stack.stop();
    }
  },
);
