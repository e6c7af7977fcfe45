// Every schema of the contract accepts a valid sample and rejects malformed ones.
import { describe, expect, it } from 'vitest';
import {
  COMMAND_VERBS,
  commandSchemas,
  DEFAULT_SWITCHER_SETTINGS,
  EVENT_NAMES,
  eventSchemas,
  parseSubject,
  storedSwitcherSettings,
  subjects,
  switcherSettings,
} from '../src/index.ts';
import { validEvents } from './samples.ts';

const validRequests = {
  'stream.start': {},
  'stream.stop': {},
  'audio.mute': { muted: true },
  'scene.set': { scene: 'Privacy' },
  'switcher.mode': { mode: 'manual' },
  'switcher.config': { lowEnterKbps: 500, stopAfterOfflineMin: 0 },
  'obs.restart': {},
  'feed.restart': {},
  'destination.save': { name: 'YouTube', url: 'rtmps://a.rtmps.youtube.com/live2', key: 'abcd-efgh' },
  'destination.remove': { id: 'youtube' },
  'destination.enable': { id: 'youtube', enabled: false },
  'recording.enable': { enabled: true },
};

describe.each(EVENT_NAMES)('event %s', (name) => {
  const schema = eventSchemas[name];
  const sample = validEvents[name] as Record<string, unknown>;
  it('accepts a valid sample', () => expect(schema.safeParse(sample).success).toBe(true));
  it('rejects a missing field', () => {
    const { ts: _ts, ...rest } = sample;
    expect(schema.safeParse(rest).success).toBe(false);
  });
  it('rejects a wrong type', () => expect(schema.safeParse({ ...sample, ts: 'now' }).success).toBe(false));
  it('rejects extra junk', () => expect(schema.safeParse({ ...sample, junk: 1 }).success).toBe(false));
  it('rejects non-objects', () => {
    for (const bad of [null, 'text', 42, []]) expect(schema.safeParse(bad).success).toBe(false);
  });
});

describe.each(COMMAND_VERBS)('command %s', (verb) => {
  const schema = commandSchemas[verb].request;
  it('accepts a valid request', () => expect(schema.safeParse(validRequests[verb]).success).toBe(true));
  it('rejects extra junk and wrong types', () => {
    expect(schema.safeParse({ ...validRequests[verb], junk: true }).success).toBe(false);
    expect(schema.safeParse('stream').success).toBe(false);
  });
});

describe('specific rules', () => {
  it('refuses a switcher config whose leave threshold is under its enter threshold', () => {
    expect(switcherSettings.safeParse({ ...DEFAULT_SWITCHER_SETTINGS, lowLeaveKbps: 100 }).success).toBe(false);
    expect(switcherSettings.safeParse(DEFAULT_SWITCHER_SETTINGS).success).toBe(true);
  });
  it('reads settings stored when they still carried the scenes and the feed input, without them', () => {
    const stored = { ...DEFAULT_SWITCHER_SETTINGS, lowEnterKbps: 321, scenes: { live: 'Live', low: 'Low', offline: 'Offline' }, mediaInput: 'SRT feed' };
    expect(storedSwitcherSettings.parse(stored)).toEqual({ ...DEFAULT_SWITCHER_SETTINGS, lowEnterKbps: 321 });
    expect(switcherSettings.safeParse(stored).success).toBe(false);
  });
  it('leaves scene names and the feed input out of switcher.config: configuration owns them', () => {
    const patch = commandSchemas['switcher.config'].request;
    expect(patch.safeParse({ scenes: { offline: 'BRB' } }).success).toBe(false);
    expect(patch.safeParse({ mediaInput: 'Camera' }).success).toBe(false);
    expect(patch.safeParse({ lowEnterKbps: 500 }).success).toBe(true);
  });
  it('requires a boolean for audio.mute and a non-empty scene', () => {
    expect(commandSchemas['audio.mute'].request.safeParse({ muted: 'yes' }).success).toBe(false);
    expect(commandSchemas['scene.set'].request.safeParse({ scene: '' }).success).toBe(false);
  });
  it('names subjects from one place and parses them back', () => {
    expect(subjects.ingestStats('main')).toBe('irl.main.ingest.stats');
    expect(parseSubject('irl.main.cmd.scene.set')).toEqual({ kind: 'command', streamId: 'main', verb: 'scene.set' });
    expect(parseSubject('irl.x.obs.state')).toEqual({ kind: 'event', streamId: 'x', name: 'obs.state' });
    expect(parseSubject('irl.x.history.ingest.stats')).toEqual({ kind: 'history', streamId: 'x', name: 'ingest.stats' });
    expect(parseSubject('irl.x.cmd.rm').kind).toBe('unknown');
  });
});
