// The restream service as tests and benchmarks run it: its app on a test nats-server, the relay on a free
// port with a known key, and whatever else the caller sets (destinations seed, recordings folder, TLS CA).

import { type Bus, createLogger } from '@irlkit/shared';
import { buildApp, type RestreamApp } from '../../services/restream/src/app.ts';
import { restreamConfig } from '../../services/restream/src/config.ts';
import { testBus } from './bus.ts';
import type { TestNats } from './nats-server.ts';
import { freeTcpPort } from './ports.ts';
import { testLogLevel } from './wait.ts';

export const TEST_RELAY_KEY = 'relay-key-for-tests';

export interface TestRestream {
  app: RestreamApp;
  /** The service's own connection (its events can be followed on it). */
  bus: Bus;
  relayPort: number;
  /** Where OBS (or a feed standing in for it) publishes; another key is turned away. */
  relayUrl: string;
  /** `rtmp://…/program/<key>`: the relay's publish URL with a key, the right one by default. */
  publishUrl(key?: string): string;
  stop(): Promise<void>;
}

/** Starts the restream service; `env` adds or overrides its variables (RESTREAM_*, RECORDING_*). */
export async function startRestream(nats: TestNats, env: Record<string, string | undefined> = {}, streamId = 'main'): Promise<TestRestream> {
  const relayPort = env.RESTREAM_RELAY_PORT ? Number(env.RESTREAM_RELAY_PORT) : await freeTcpPort();
  const relayKey = env.RESTREAM_RELAY_KEY ?? TEST_RELAY_KEY;
  const bus = await testBus(nats, streamId, 'restream');
  const app = buildApp({
    config: restreamConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        NATS_USER: nats.user,
        NATS_PASSWORD: nats.password,
        ...env,
        RESTREAM_RELAY_PORT: String(relayPort),
        RESTREAM_RELAY_KEY: relayKey,
      },
    }),
    bus,
    log: createLogger('restream', testLogLevel),
  });
  await app.start();
  const relayUrl = `rtmp://127.0.0.1:${relayPort}/program`;
  return {
    app,
    bus,
    relayPort,
    relayUrl,
    publishUrl: (key = relayKey) => `${relayUrl}/${key}`,
    async stop() {
      await app.stop();
      await bus.closeConnection();
    },
  };
}
