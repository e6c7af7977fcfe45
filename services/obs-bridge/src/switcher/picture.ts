// Tells a frozen picture from a still one: tiny grayscale screenshots (PGM, as OBS's Qt writes them)
// and their mean difference, and the frozen-picture watch's decisions. No I/O.

/**
 * Mean gray-level difference (0–255) under which two 64 px screenshots count as the same picture.
 * Measured with libx264 at 2500 kbit/s: a frozen camera still changes by 0.01–0.09 as the encoder
 * refines the same frame at each keyframe; a dark static shot with camera noise changes by 0.16–0.5
 * (the unit case: 0.48–0.51; through OBS in the feed-faults test: 1.0–1.4).
 */
export const STILL_PICTURE_DIFFERENCE = 0.05;

export interface GrayPicture {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Decodes a PGM image (binary P5 or plain P2, 8-bit), bare or as a base64 data URL. */
export function parsePgm(image: string | Uint8Array): GrayPicture {
  const bytes = typeof image === 'string' ? Buffer.from(image.replace(/^data:[^,]*,/, ''), 'base64') : Buffer.from(image);
  // Header: magic, width, height, maxval, separated by whitespace; comments start with '#'.
  const fields: string[] = [];
  let at = 0;
  while (fields.length < 4 && at < bytes.length) {
    const c = bytes[at] as number;
    if (c === 0x23) {
      while (at < bytes.length && bytes[at] !== 0x0a) at += 1;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      at += 1;
    } else {
      const start = at;
      while (at < bytes.length && ![0x20, 0x09, 0x0a, 0x0d].includes(bytes[at] as number)) at += 1;
      fields.push(bytes.subarray(start, at).toString('latin1'));
    }
  }
  const [magic, w, h, max] = fields;
  const width = Number(w);
  const height = Number(h);
  if ((magic !== 'P5' && magic !== 'P2') || !(width > 0) || !(height > 0) || Number(max) !== 255) {
    throw new Error(`not an 8-bit PGM image (header ${fields.join(' ').slice(0, 40)})`);
  }
  const count = width * height;
  if (magic === 'P5') {
    const pixels = bytes.subarray(at + 1, at + 1 + count);
    if (pixels.length !== count) throw new Error(`PGM image cut short: ${pixels.length} of ${count} pixels`);
    return { width, height, pixels: new Uint8Array(pixels) };
  }
  const values = bytes.subarray(at).toString('latin1').trim().split(/\s+/).slice(0, count).map(Number);
  if (values.length !== count) throw new Error(`PGM image cut short: ${values.length} of ${count} pixels`);
  return { width, height, pixels: Uint8Array.from(values) };
}

/**
 * What a screenshot of an input that draws nothing reads as: OBS cannot render one ("Failed to render
 * screenshot") once its player has ended or before its first frame. The same as itself, unlike any picture.
 */
export const NO_PICTURE: GrayPicture = Object.freeze({ width: 0, height: 0, pixels: new Uint8Array(0) });

/** Mean absolute gray-level difference of two pictures of the same size (Infinity when sizes differ). */
export function pictureDifference(a: GrayPicture, b: GrayPicture): number {
  if (a.width !== b.width || a.height !== b.height) return Number.POSITIVE_INFINITY;
  if (a.pixels.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) sum += Math.abs((a.pixels[i] as number) - (b.pixels[i] as number));
  return sum / a.pixels.length;
}

/** What the frozen-picture watch asks for after a screenshot. */
export type PictureVerdict = { action: 'restart'; stillMs: number } | { action: 'frozen' } | null;

/**
 * The frozen-picture watch's arithmetic, one screenshot at a time (the runtime takes the screenshots and
 * acts): a picture unchanged for `frozenMs` asks for the feed input to be restarted once; once restarted,
 * it counts as frozen only if no new picture came for `restartWaitMs` since the restart and since it last
 * moved. A restart that shows a new picture just as the wait ends worked; two changes end the episode.
 */
export class FrozenPictureWatch {
  private last: GrayPicture | null = null;
  private changedAt = 0;
  private restartedAt: number | null = null;
  private changesSinceRestart = 0;

  constructor(
    private readonly frozenMs: number,
    private readonly restartWaitMs: number,
  ) {}

  /** Not watching (no data, not Live, OBS away): the next screenshot starts afresh. */
  reset(now: number): void {
    this.last = null;
    this.changedAt = now;
    this.restartedAt = null;
    this.changesSinceRestart = 0;
  }

  /**
   * Would this screenshot, observed at `at`, ask for a restart or call the picture frozen? (Nothing changes.)
   * The runtime looks closer before it lets it: screenshots about a second apart can keep landing on the same
   * phase of a picture that repeats (a strobe, a test feed's flash) however randomly they are spaced.
   */
  wouldAct(shot: GrayPicture, at: number): boolean {
    if (this.last === null || pictureDifference(this.last, shot) >= STILL_PICTURE_DIFFERENCE) return false;
    if (this.restartedAt === null) return at - this.changedAt >= this.frozenMs;
    return at - Math.max(this.restartedAt, this.changedAt) >= this.restartWaitMs;
  }

  observe(shot: GrayPicture, at: number): PictureVerdict {
    if (this.last === null) {
      // The first screenshot of a watch: the picture's age counts from here.
      this.reset(at);
      this.last = shot;
      return null;
    }
    if (pictureDifference(this.last, shot) >= STILL_PICTURE_DIFFERENCE) {
      this.changedAt = at;
      this.changesSinceRestart += 1;
      if (this.restartedAt !== null && this.changesSinceRestart >= 2) this.restartedAt = null;
    }
    this.last = shot;
    if (this.restartedAt === null) {
      if (at - this.changedAt < this.frozenMs) return null;
      this.restartedAt = at;
      this.changesSinceRestart = 0;
      return { action: 'restart', stillMs: at - this.changedAt };
    }
    if (at - Math.max(this.restartedAt, this.changedAt) < this.restartWaitMs) return null;
    this.reset(at);
    return { action: 'frozen' };
  }
}
