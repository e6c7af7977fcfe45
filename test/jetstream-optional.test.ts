// obs-bridge started while JetStream is unavailable: it starts on defaults, commands work at once,
// /healthz says settings are not persisted, and once JetStream is back what changed is saved.
import { collectEvents, startStack, type TestStack, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ noJetstream: true, bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'js_optional' } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const health = async () =>
  (await (await fetch(`http://127.0.0.1:${stack.apiPort}/healthz`)).json()) as { ok: boolean; settingsPersisted: boolean; obsLastAnswerAgeMs: number | null };

it('starts with JetStream down: commands work at once, settings persist once JetStream is back', async () => {
  const { observer, nats } = stack;
  expect(await health()).toMatchObject({ ok: true, settingsPersisted: false });
  expect((await health()).obsLastAnswerAgeMs).toBeLessThan(5000);
  expect(await observer.request('scene.set', { scene: 'Starting' })).toEqual({ ok: true });
  const changed = await observer.request('switcher.config', { lowEnterKbps: 700 });
  expect(changed.ok && changed.result?.lowEnterKbps).toBe(700);

  const log = collectEvents(observer, 'log');
  await nats.restart({ jetstream: true });
  await waitFor(async () => (await health()).settingsPersisted, 'settings persisted once JetStream is back', 20_000, 250);
  await waitFor(() => log.items.some((e) => /Settings persisted again/.test(e.message)), 'a timeline entry saying so', 5000);
  log.stop();
  const kv = await observer.nc.jetstream().views.kv('js_optional');
  const stored = await kv.get('switcher_main_config');
  expect(JSON.parse(new TextDecoder().decode(stored?.value)).lowEnterKbps).toBe(700);
  const wanted = await kv.get('wanted_main');
  expect(JSON.parse(new TextDecoder().decode(wanted?.value)).scene).toBe('Starting');
}, 90_000);
