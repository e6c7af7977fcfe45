// Reads OBS's log lines for what viewers would notice: its audio buffering growing (every step adds
// delay to the whole stream), reaching its maximum, and sources whose audio lags behind. Pure.
import { obsAudioLag } from '@irlkit/shared';

export interface ObsAudioWarning {
  kind: 'audio-buffering' | 'max-audio-buffering' | 'audio-lagging';
  /** A sentence for the timeline. */
  message: string;
  /** OBS's total audio buffering after the change, when the line says it. */
  totalMs: number | null;
  source: string | null;
}

const buffering = /adding (\d+) milliseconds of audio buffering, total audio buffering is now (\d+) milliseconds(?: \(source: (.*)\))?/i;
const maxBuffering = /Max audio buffering reached/i;
const lagging = /Source (.+?) audio is lagging \(over by ([\d.]+) ms\)/i;

export function parseObsAudioWarning(line: string): ObsAudioWarning | undefined {
  const b = buffering.exec(line);
  if (b) {
    const source = b[3]?.trim() || null;
    return {
      kind: 'audio-buffering',
      message: `OBS added ${b[1]} ms of audio buffering, now ${b[2]} ms${source ? ` (source: ${source})` : ''}: the stream runs that much later`,
      totalMs: Number(b[2]),
      source,
    };
  }
  if (maxBuffering.test(line))
    return { kind: 'max-audio-buffering', message: 'OBS reached its maximum audio buffering: late audio is now dropped', totalMs: null, source: null };
  const l = lagging.exec(line);
  if (l) {
    return { kind: 'audio-lagging', message: obsAudioLag.detail(l[1] ?? '', Number(l[2])), totalMs: null, source: l[1] ?? null };
  }
  return undefined;
}
