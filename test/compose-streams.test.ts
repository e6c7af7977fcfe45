// The compose override for several streams (scripts/compose-override.ts) as data: what a new list changes is what
// compose re-creates, so a stream that stays must come out the same, service for service. The stack itself is
// checked by test/compose/streams.check.ts.

import { assignSlots } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import { composeOverride, streamContainers } from '../scripts/compose-override.ts';

const alice = { id: 'alice', srtKey: 'alice-key-1' };
const bob = { id: 'bob', srtKey: 'bob-key-1', rtmp: { url: 'rtmp://live.example/app', key: 'bob-rtmp-key' } };
const carol = { id: 'carol', srtKey: 'carol-key-1' };
const perStream = streamContainers;
const digests = (ids: string[], changed: Record<string, string> = {}) =>
  new Map(ids.flatMap(perStream).map((container) => [container, changed[container] ?? `digest-of-${container}`]));

describe('compose-streams override', () => {
  it('keeps each stream in its slot; a new stream takes the lowest free one', () => {
    expect(assignSlots(['alice', 'bob'], {})).toEqual({ alice: 0, bob: 1 });
    expect(assignSlots(['bob', 'carol'], { alice: 0, bob: 1 })).toEqual({ bob: 1, carol: 0 });
    expect(assignSlots(['bob', 'carol', 'dave'], { bob: 1, carol: 0 })).toEqual({ bob: 1, carol: 0, dave: 2 });
  });

  it("adding a stream changes none of the others' services, nor nats or ingest", () => {
    const before = composeOverride([alice, bob], { alice: 0, bob: 1 }, 8444, digests(['alice', 'bob']));
    const after = composeOverride([alice, bob, carol], { alice: 0, bob: 1, carol: 2 }, 8444, digests(['alice', 'bob', 'carol']));
    const services = (o: typeof before) => o.services as Record<string, unknown>;
    for (const name of [...perStream('alice'), ...perStream('bob'), 'nats', 'ingest', 'desktop', 'dashboard'])
      expect(services(after)[name], name).toEqual(services(before)[name]);
    for (const name of perStream('carol')) expect(services(after)[name], name).toBeDefined();
    // streamContainers (what the generator keeps secrets for, what the stack check watches) names exactly carol's services.
    expect(Object.keys(services(after)).filter((name) => name.endsWith('-carol'))).toEqual(expect.arrayContaining(perStream('carol')));
    expect(Object.keys(services(after)).filter((name) => name.endsWith('-carol'))).toHaveLength(perStream('carol').length);
    // Caddy gains carol's port and the operator's dashboard its list: those two are re-created.
    expect(services(after).caddy).not.toEqual(services(before).caddy);
    expect(JSON.stringify(services(after).caddy)).toContain('8446:8446');
    expect(after.volumes).toHaveProperty('obs-config-carol');
  });

  it("a stream's own port and feed follow its slot, and a changed secret changes only the container that reads it", () => {
    const override = composeOverride([bob], { bob: 1 }, 8444, digests(['bob'], { 'desktop-bob': 'new-key' }));
    const desktop = (override.services as Record<string, { environment: Record<string, unknown> }>)['desktop-bob'];
    expect(desktop?.environment.OBS_FEED_URL).toBe('tcp://ingest-feed:9003');
    expect(desktop?.environment.OBS_RTMP_URL).toBe('rtmp://live.example/app');
    expect(JSON.stringify(override), 'no secret in the configuration').not.toContain('bob-rtmp-key');
    const before = composeOverride([bob], { bob: 1 }, 8444, digests(['bob']));
    const changed = Object.keys(override.services).filter(
      (name) => JSON.stringify((override.services as Record<string, unknown>)[name]) !== JSON.stringify((before.services as Record<string, unknown>)[name]),
    );
    expect(changed).toEqual(['desktop-bob']);
  });
});
