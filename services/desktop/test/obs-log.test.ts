// OBS's audio warnings, as OBS 29 writes them to its log, become structured warnings.
import { describe, expect, it } from 'vitest';
import { parseObsAudioWarning } from '../src/obs/obs-log.ts';

describe('parseObsAudioWarning', () => {
  it('reads buffering growth, its maximum and lagging sources, and nothing else', () => {
    expect(parseObsAudioWarning('info: adding 938 milliseconds of audio buffering, total audio buffering is now 960 milliseconds (source: SRT feed)')).toEqual({
      kind: 'audio-buffering',
      message: 'OBS added 938 ms of audio buffering, now 960 ms (source: SRT feed): the stream runs that much later',
      totalMs: 960,
      source: 'SRT feed',
    });
    expect(parseObsAudioWarning('warning: Max audio buffering reached!')?.kind).toBe('max-audio-buffering');
    expect(
      parseObsAudioWarning('warning: Source SRT feed audio is lagging (over by 8926.14 ms) at max audio buffering. Restarting source audio.'),
    ).toMatchObject({
      kind: 'audio-lagging',
      message: 'OBS: audio of SRT feed lags by 8926 ms',
      source: 'SRT feed',
    });
    expect(parseObsAudioWarning('info: adding 21 milliseconds of audio buffering, total audio buffering is now 21 milliseconds')?.source).toBeNull();
    expect(parseObsAudioWarning('warning: MP: av_read_frame failed: Input/output error (-5)')).toBeUndefined();
  });
});
