// The hang watch on a fake clock: input flowing with silence coming back is a hang; quiet input is not.
import { describe, expect, it } from 'vitest';
import { RelayWatch } from '../src/srt/relay-watch.ts';

const feed = (watch: RelayWatch, from: number, to: number, everyMs = 10) => {
  for (let t = from; t <= to; t += everyMs) watch.onInput(t);
};

describe('RelayWatch', () => {
  it('reports a hang once input has flowed for hungAfterMs with no answer', () => {
    const watch = new RelayWatch({ hungAfterMs: 1500, inputFreshMs: 500 });
    feed(watch, 0, 1000);
    watch.onAnswer();
    feed(watch, 1010, 2400);
    expect(watch.check(2400)).toBeUndefined();
    feed(watch, 2410, 2520);
    expect(watch.check(2520)).toMatch(/1\.5 s with no answer/);
  });

  it('answers keep it healthy; no input (a stalled sender) is no hang', () => {
    const watch = new RelayWatch({ hungAfterMs: 1500, inputFreshMs: 500 });
    for (let t = 0; t < 10_000; t += 10) {
      watch.onInput(t);
      if (t % 200 === 0) watch.onAnswer();
      expect(watch.check(t)).toBeUndefined();
    }
    watch.onInput(10_000);
    expect(watch.check(12_000)).toBeUndefined(); // the sender went quiet, the child had nothing to answer
    watch.reset();
    expect(watch.check(20_000)).toBeUndefined();
  });
});
