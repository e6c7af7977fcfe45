// The test kit's reading of a flash around an A/V pair, on made-up recordings (a pure unit: the benchmarks
// use it on real RTMP recordings).
import { describe, expect, it } from 'vitest';
import { beepOnsets, FLASH_FPS, flashContext, flashOnsets, type OutputFrame, type Recording } from './flash.ts';

const FRAME = 1000 / FLASH_FPS;

/** Sender frames 0…n on air at their own times, optionally with some dropped or held (a stall). */
function recording(shown: Array<{ frame: number; atMs: number }>): Recording {
  const frames: OutputFrame[] = shown.map(({ frame, atMs }) => {
    const flash = frame % FLASH_FPS < 3;
    return { ptsMs: atMs, scene: 'feed', flash, senderFrame: flash ? null : frame };
  });
  return { frames, beepsMs: [], flashesMs: flashOnsets(frames), frameMs: FRAME, firstPtsMs: 0 };
}

describe('flashContext', () => {
  it('a picture on time: the flash shown when due, the beep measured against the picture clock', () => {
    const rec = recording(Array.from({ length: 40 }, (_, i) => ({ frame: i + 10, atMs: (i + 10) * FRAME })));
    const flashMs = 30 * FRAME;
    const c = flashContext(rec, flashMs, flashMs - 5);
    expect(c).toMatchObject({ whiteShown: 3, flashFrame: 30, before: { frame: 29 }, after: { frame: 33 } });
    expect(c?.shownLateMs).toBeCloseTo(0, 5);
    expect(c?.againstClockMs).toBeCloseTo(-5, 5);
  });

  it('a picture that stalled 2 frames before the flash: shown late, the beep on the picture clock', () => {
    // Frames 10…29 on time, then everything from 30 on shown 2 frames late.
    const shown = Array.from({ length: 40 }, (_, i) => i + 10).map((frame) => ({ frame, atMs: (frame + (frame >= 30 ? 2 : 0)) * FRAME }));
    const rec = recording(shown);
    const flashMs = 32 * FRAME;
    const c = flashContext(rec, flashMs, 30 * FRAME);
    expect(c?.shownLateMs).toBeCloseTo(2 * FRAME, 5);
    expect(c?.againstClockMs).toBeCloseTo(0, 5);
  });

  it('the first white frames dropped: fewer of them on air, the flash later than due', () => {
    const shown = Array.from({ length: 40 }, (_, i) => i + 10)
      .filter((frame) => frame !== 30 && frame !== 31)
      .map((frame) => ({ frame, atMs: frame * FRAME }));
    const rec = recording(shown);
    const c = flashContext(rec, 32 * FRAME, 30 * FRAME);
    expect(c?.whiteShown).toBe(1);
    expect(c?.shownLateMs).toBeCloseTo(2 * FRAME, 5);
  });

  it('no flash at that time: undefined', () => {
    const rec = recording(Array.from({ length: 20 }, (_, i) => ({ frame: i + 5, atMs: (i + 5) * FRAME })));
    expect(flashContext(rec, 12_345, 12_345)).toBeUndefined();
  });
});

describe('flashOnsets', () => {
  it("a flash after the feed's picture counts from its first white frame", () => {
    const rec = recording(Array.from({ length: 40 }, (_, i) => ({ frame: i + 10, atMs: (i + 10) * FRAME })));
    expect(rec.flashesMs).toEqual([30 * FRAME]);
  });

  it('a flash already on air when the recording starts, or first seen right after another scene, is not counted', () => {
    const rec = recording(Array.from({ length: 40 }, (_, i) => ({ frame: i + 31, atMs: (i + 31) * FRAME })));
    expect(rec.flashesMs).toEqual([60 * FRAME]);
    const frames: OutputFrame[] = [
      { ptsMs: 0, scene: 'other', flash: false, senderFrame: null },
      { ptsMs: FRAME, scene: 'feed', flash: true, senderFrame: null },
      { ptsMs: 2 * FRAME, scene: 'feed', flash: false, senderFrame: 33 },
    ];
    expect(flashOnsets(frames)).toEqual([]);
  });
});

describe('beepOnsets', () => {
  const RATE = 8000;
  /** `ms` of audio, loud where `loud(t)` holds. */
  const audio = (ms: number, loud: (t: number) => boolean) =>
    Int16Array.from({ length: (ms * RATE) / 1000 }, (_, i) => (loud((i / RATE) * 1000) ? (i % 2 ? 8000 : -8000) : 0));

  it('a beep after quiet counts from its first loud 5 ms, shifted by the audio start', () => {
    const beeps = beepOnsets(
      audio(2000, (t) => t % 1000 >= 500 && t % 1000 < 600),
      RATE,
      40,
    );
    expect(beeps).toEqual([540, 1540]);
  });

  it('a beep already sounding when the audio starts is not counted', () => {
    const beeps = beepOnsets(
      audio(1500, (t) => t % 1000 < 100),
      RATE,
      0,
    );
    expect(beeps).toEqual([1000]);
  });
});
