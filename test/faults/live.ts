// The starting point most faults share: the native stack (test/kit's startStack) with an ffmpeg sender
// on the SRT port, the switcher showing the feed on Live, and OBS streaming to the RTMP sink.
import { armEvent, type Feed, nextEvent, probeUntilAudioAndVideo, startSrtFeed, startStack, type TestStack } from '@irlkit/test-kit';

export interface LiveStack extends TestStack {
  feed: Feed;
}

export async function startLive(options: Parameters<typeof startStack>[0] = {}): Promise<LiveStack> {
  const stack = await startStack(options);
  let feed: Feed | undefined;
  try {
    feed = startSrtFeed({ port: stack.srtPort, bitrateKbps: 1500, latencyMs: 500, width: 640, height: 360 });
    await nextEvent(stack.observer, 'switcher.state', (s) => s.state === 'live', 'the switcher to show the feed live', 30_000);
    const reply = await stack.observer.request('stream.start', {}, 15_000);
    if (!reply.ok) throw new Error(`stream.start refused: ${reply.error}`);
    await probeUntilAudioAndVideo(stack.sink.playUrl('test'), 'the RTMP sink to carry the stream', 30_000);
    const started = feed;
    const stopStack = stack.stop;
    // Assigned onto the stack, not spread: its `bridge` follows restartBridge().
    return Object.assign(stack, {
      feed: started,
      stop: async () => {
        await started.stop();
        await stopStack();
      },
    });
  } catch (error) {
    await feed?.stop();
    await stack.stop();
    throw error;
  }
}

/**
 * Armed before a restarted OBS answers: a new OBS shows `Offline` ("OBS restarted") until its reopened
 * feed input moves, then `Live`. `.next` resolves with that `Live` (the switcher's heartbeat says Live
 * until the new OBS answers, so the reopened input's wait has to come first).
 */
export async function armLiveAfterObsRestart(stack: TestStack) {
  const reopened = await armEvent(
    stack.observer,
    'switcher.state',
    (s) => s.state === 'offline' && /OBS restarted/.test(s.reason),
    'Offline while the reopened input starts',
    60_000,
  );
  const next = reopened.next.then(() => nextEvent(stack.observer, 'switcher.state', (s) => s.state === 'live', 'Live again with a moving picture', 60_000));
  next.catch(() => {}); // a timeout is reported where `.next` is awaited
  return { next };
}
