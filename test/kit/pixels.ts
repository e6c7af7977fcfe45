// Pixel checks on images from OBS: decode with ffmpeg to a tiny grayscale raster and compare.
import { spawnSync } from 'node:child_process';
import type { Bus } from '@irlkit/shared';
import { collectEvents, waitFor } from './wait.ts';

/** Decodes a base64 JPEG/PNG to a 32x18 grayscale raster. */
export function grayRaster(base64: string): Uint8Array {
  const data = Buffer.from(base64.replace(/^data:[^,]+,/, ''), 'base64');
  const result = spawnSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-vf', 'scale=32:18,format=gray', '-f', 'rawvideo', 'pipe:1'], {
    input: data,
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0 || result.stdout.length !== 32 * 18) throw new Error(`could not decode image: ${result.stderr.toString().slice(0, 200)}`);
  return new Uint8Array(result.stdout);
}

/** Mean absolute difference of two rasters, 0..255. */
export function pixelDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}

/** Standard deviation of a raster: a flat frame (black, a single colour) is near 0. */
export function pixelSpread(a: Uint8Array): number {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
}

/**
 * How much OBS's program moves, as the dashboard's preview shows it: the larger mean difference between
 * consecutive frames of the next three `obs.screenshot` events (a moving feed on program: well above 1).
 */
export async function programMotion(observer: Bus): Promise<number> {
  const shots = collectEvents(observer, 'obs.screenshot');
  await waitFor(() => shots.items.length >= 3, 'three program screenshots', 15_000);
  shots.stop();
  const rasters = shots.items.slice(-3).map((s) => grayRaster(s.data));
  return Math.max(pixelDifference(rasters[0] as Uint8Array, rasters[1] as Uint8Array), pixelDifference(rasters[1] as Uint8Array, rasters[2] as Uint8Array));
}
