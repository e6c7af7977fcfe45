// The frozen-picture watch's arithmetic: PGM screenshots decoded, and a frozen picture told from a
// still, noisy one by their mean difference (pictures made by ffmpeg, as OBS decodes the feed).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FrozenPictureWatch, type GrayPicture, NO_PICTURE, parsePgm, pictureDifference, STILL_PICTURE_DIFFERENCE } from '../src/switcher/picture.ts';

/** Frames 1 s apart of an H.264-encoded lavfi source, as 64 px PGM images. */
function pgmFrames(source: string, filter: string): Buffer[] {
  const encoded = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      source,
      '-t',
      '10',
      '-vf',
      filter,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
      '-b:v',
      '2500k',
      '-maxrate',
      '2500k',
      '-bufsize',
      '2500k',
      '-g',
      '30',
      '-f',
      'mpegts',
      'pipe:1',
    ],
    { maxBuffer: 64 << 20 },
  );
  expect(encoded.status).toBe(0);
  const frames = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', 'pipe:0', '-vf', "select='not(mod(n,30))',scale=64:-2", '-fps_mode', 'passthrough', '-c:v', 'pgm', '-f', 'image2pipe', 'pipe:1'],
    {
      input: encoded.stdout,
      maxBuffer: 64 << 20,
    },
  );
  expect(frames.status).toBe(0);
  const images: Buffer[] = [];
  const all = frames.stdout;
  for (let at = all.indexOf('P5'); at !== -1; ) {
    const next = all.indexOf('P5\n', at + 3);
    images.push(all.subarray(at, next === -1 ? all.length : next));
    at = next;
  }
  return images;
}

describe('the frozen-picture watch', () => {
  it('reads binary and plain PGM, bare or as a data URL, and refuses anything else', () => {
    const binary = Buffer.concat([Buffer.from('P5\n# a comment\n2 2\n255\n'), Buffer.from([0, 10, 20, 255])]);
    expect(parsePgm(binary)).toEqual({ width: 2, height: 2, pixels: new Uint8Array([0, 10, 20, 255]) });
    expect(parsePgm(`data:image/pgm;base64,${binary.toString('base64')}`).pixels).toEqual(new Uint8Array([0, 10, 20, 255]));
    expect(parsePgm(Buffer.from('P2 2 2 255\n0 10\n20 255\n')).pixels).toEqual(new Uint8Array([0, 10, 20, 255]));
    expect(() => parsePgm(Buffer.from('\x89PNG\r\n'))).toThrow(/not an 8-bit PGM/);
    expect(() => parsePgm(Buffer.from('P5 4 4 255\n\x00\x01'))).toThrow(/cut short/);
    expect(pictureDifference(parsePgm(binary), parsePgm(Buffer.from('P2 2 2 255\n4 10 20 255')))).toBe(1);
  });

  it('sees a frozen camera as unchanged within 2 s of the freeze, and a dark static shot with camera noise as changing every second', () => {
    const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
    // The test pattern with a clock that freezes 3 s in (90 frames); the encoder keeps encoding it.
    const frozen = pgmFrames(
      'testsrc2=size=640x360:rate=30',
      `drawtext=fontfile=${font}:text='%{pts\\:hms}':x=20:y=20:fontsize=36:fontcolor=white,split[a][b];[a][b]freezeframes=first=90:last=2147483647:replace=89`,
    ).map((f) => parsePgm(f));
    const noisy = pgmFrames('color=c=0x303030:size=640x360:rate=30,noise=alls=7:allf=t', 'null').map((f) => parsePgm(f));
    const steps = (pictures: ReturnType<typeof parsePgm>[]) =>
      pictures.slice(1).map((p, i) => pictureDifference(pictures[i] as ReturnType<typeof parsePgm>, p));
    const frozenSteps = steps(frozen);
    const noisySteps = steps(noisy);
    console.log(`1 s steps, frozen: ${frozenSteps.map((d) => d.toFixed(2)).join(' ')}; noisy still: ${noisySteps.map((d) => d.toFixed(2)).join(' ')}`);
    expect(frozenSteps.slice(0, 2).every((d) => d >= STILL_PICTURE_DIFFERENCE)).toBe(true); // moving before the freeze
    expect(frozenSteps.slice(4).every((d) => d < STILL_PICTURE_DIFFERENCE)).toBe(true);
    expect(noisySteps.every((d) => d >= 2 * STILL_PICTURE_DIFFERENCE)).toBe(true);
  });
});

/** A 64x36 picture of one gray level: different levels are different pictures. */
const gray = (level: number): GrayPicture => ({ width: 64, height: 36, pixels: new Uint8Array(64 * 36).fill(level) });

/** Feeds one screenshot a second (at 1000, 2000, … ms) and returns the verdicts, by time. */
function watchSeconds(watch: FrozenPictureWatch, levels: number[]): string[] {
  return levels.map((level, i) => {
    const verdict = watch.observe(gray(level), (i + 1) * 1000);
    return `${(i + 1) * 1000}:${verdict ? verdict.action : '-'}`;
  });
}

describe("the frozen-picture watch's decisions (1 s screenshots, 2 s frozen, 2 s wait after the restart)", () => {
  it('a moving picture: nothing to do', () => {
    expect(watchSeconds(new FrozenPictureWatch(2000, 2000), [1, 2, 3, 4, 5, 6]).filter((v) => !v.endsWith('-'))).toEqual([]);
  });

  it('a picture unchanged for 2 s: restart once; still unchanged 2 s after the restart: frozen', () => {
    expect(watchSeconds(new FrozenPictureWatch(2000, 2000), [1, 2, 2, 2, 2, 2])).toEqual([
      '1000:-',
      '2000:-',
      '3000:-',
      '4000:restart',
      '5000:-',
      '6000:frozen',
    ]);
  });

  it('a restart whose new picture shows only as the wait ends worked: not frozen', () => {
    // The input restarted at 4 s needs more than a second to reconnect: the first new picture is seen at
    // 6 s, the end of the wait, and it keeps moving. Counted from the restart alone this read as frozen.
    const verdicts = watchSeconds(new FrozenPictureWatch(2000, 2000), [1, 2, 2, 2, 2, 3, 4, 5, 6, 7]);
    expect(verdicts.filter((v) => !v.endsWith('-'))).toEqual(['4000:restart']);
  });

  it('a restart that shows one new picture and then freezes again: frozen, 2 s after that picture', () => {
    expect(watchSeconds(new FrozenPictureWatch(2000, 2000), [1, 2, 2, 2, 2, 3, 3, 3]).filter((v) => !v.endsWith('-'))).toEqual(['4000:restart', '8000:frozen']);
  });

  it('moving twice after the restart ends the episode: a later freeze restarts again before it counts as frozen', () => {
    const verdicts = watchSeconds(new FrozenPictureWatch(2000, 2000), [1, 2, 2, 2, 3, 4, 4, 4, 4, 4, 4]);
    expect(verdicts.filter((v) => !v.endsWith('-'))).toEqual(['4000:restart', '8000:restart', '10000:frozen']);
  });

  it("the first screenshot of a watch starts the picture's age: no restart for a watch that starts late", () => {
    const watch = new FrozenPictureWatch(2000, 2000);
    expect(watch.observe(gray(1), 60_000)).toBeNull();
    expect(watch.observe(gray(1), 61_000)).toBeNull();
    expect(watch.observe(gray(1), 62_000)).toEqual({ action: 'restart', stillMs: 2000 });
  });

  it('wouldAct says, without acting, whether a screenshot would restart the input or call the picture frozen', () => {
    const watch = new FrozenPictureWatch(2000, 2000);
    watchSeconds(watch, [1, 2, 2]);
    // 3 s: still for 1 s. At 4 s it would restart; a moving picture would not; nothing was changed by asking.
    expect(watch.wouldAct(gray(2), 3500)).toBe(false);
    expect(watch.wouldAct(gray(2), 4000)).toBe(true);
    expect(watch.wouldAct(gray(3), 4000)).toBe(false);
    expect(watch.observe(gray(2), 4000)).toEqual({ action: 'restart', stillMs: 2000 });
    // After the restart: frozen only once the wait has passed.
    expect(watch.wouldAct(gray(2), 5000)).toBe(false);
    expect(watch.wouldAct(gray(2), 6000)).toBe(true);
    expect(watch.observe(gray(2), 6000)).toEqual({ action: 'frozen' });
    // A fresh watch has nothing to compare with.
    expect(new FrozenPictureWatch(2000, 2000).wouldAct(gray(2), 9000)).toBe(false);
  });

  it('reset (no data, not Live, OBS away) forgets the picture and any restart in progress', () => {
    const watch = new FrozenPictureWatch(2000, 2000);
    watchSeconds(watch, [1, 2, 2, 2]);
    watch.reset(4500);
    expect(watch.observe(gray(2), 5000)).toBeNull();
    expect(watch.observe(gray(2), 6000)).toBeNull();
    expect(watch.observe(gray(2), 7000)).toEqual({ action: 'restart', stillMs: 2000 });
  });

  it('an input that stops drawing (no screenshot at all, NO_PICTURE) is restarted, then frozen; a picture coming back ends it', () => {
    expect(pictureDifference(NO_PICTURE, NO_PICTURE)).toBe(0);
    expect(pictureDifference(NO_PICTURE, gray(1))).toBe(Number.POSITIVE_INFINITY);
    const watch = new FrozenPictureWatch(2000, 2000);
    const at = (ms: number, shot: GrayPicture) => watch.observe(shot, ms)?.action ?? '-';
    // A moving picture until 2 s, then nothing drawn from 3 s on: nothing is a change from the picture, then the same.
    expect([at(1000, gray(1)), at(2000, gray(2)), at(3000, NO_PICTURE), at(4000, NO_PICTURE), at(5000, NO_PICTURE)]).toEqual(['-', '-', '-', '-', 'restart']);
    expect([at(6000, NO_PICTURE), at(7000, NO_PICTURE)]).toEqual(['-', 'frozen']);
    // The restart brings the picture back: moving again, nothing to do.
    const again = new FrozenPictureWatch(2000, 2000);
    const verdicts = [gray(1), NO_PICTURE, NO_PICTURE, NO_PICTURE, gray(2), gray(3), gray(4), gray(5)].map(
      (shot, i) => again.observe(shot, (i + 1) * 1000)?.action ?? '-',
    );
    expect(verdicts).toEqual(['-', '-', '-', 'restart', '-', '-', '-', '-']);
  });
});
