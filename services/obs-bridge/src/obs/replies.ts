// OBS's answers are outside input: whoever reaches the desktop can name a scene anything. Each value
// is checked where it enters the bridge, and a bad one is skipped or cut there, so one odd scene
// never makes a whole obs.state invalid (and the dashboard lose OBS). No I/O.
import { obsState, sceneName } from '@irlkit/shared';

/** obs.state's bound on the scene list (schemas/obs.ts). */
const MAX_SCENES = 500;

/** Scene names in OBS's order (top first); names the contract cannot carry are skipped and reported. */
export function sceneNamesFrom(scenes: unknown, onSkipped: (reason: string) => void): string[] {
  if (!Array.isArray(scenes)) return [];
  const ordered = scenes
    .filter((s): s is { sceneName: unknown; sceneIndex: unknown } => typeof s === 'object' && s !== null)
    .sort((a, b) => Number(b.sceneIndex) - Number(a.sceneIndex));
  const names: string[] = [];
  for (const scene of ordered) {
    const name = sceneNameFrom(scene.sceneName);
    if (name === null) onSkipped(describe(scene.sceneName));
    else if (names.length < MAX_SCENES) names.push(name);
  }
  if (ordered.length > MAX_SCENES) onSkipped(`${ordered.length - MAX_SCENES} scenes over ${MAX_SCENES}`);
  return names;
}

/** A scene name the contract can carry, or null (an over-long program scene shows as unknown). */
export function sceneNameFrom(name: unknown): string | null {
  return sceneName.safeParse(name).success ? (name as string) : null;
}

/** A timecode as OBS reports it ("HH:MM:SS.mmm"), or null when it is not one. */
export function timecodeFrom(value: unknown): string | null {
  return obsState.shape.streamTimecode.safeParse(value).success ? (value as string | null) : null;
}

/** A counter: a whole number ≥ 0, or 0 when OBS answers something else. */
export function countFrom(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.min(Math.round(value), Number.MAX_SAFE_INTEGER) : 0;
}

/** A finite number ≥ 0, or null. */
export function amountFrom(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `a scene name of ${value.length} characters (at most 256)` : `a scene name that is not text (${typeof value})`;
}
