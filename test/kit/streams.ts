// Several streams on one native host for end-to-end tests: nats-server, one ingest serving every stream
// through its one SRT door (IRL_STREAMS), and per stream its own OBS (desktop service) and obs-bridge.

import { createLogger } from '@irlkit/shared';
import { buildApp as buildIngest } from '../../services/ingest/src/app.ts';
import { ingestConfig } from '../../services/ingest/src/config.ts';
import { type BridgeApp, buildApp as buildBridge } from '../../services/obs-bridge/src/app.ts';
import { bridgeConfig } from '../../services/obs-bridge/src/config.ts';
import { testBus } from './bus.ts';
import { startNats, type TestNats } from './nats-server.ts';
import { startObs, type TestObs } from './obs.ts';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { nextEvent, testLogLevel } from './wait.ts';

export interface TestStream {
  id: string;
  /** The key a sender names in its SRT stream id (e.g. `live_<key>`). */
  srtKey: string;
  obs: TestObs;
  bridge: BridgeApp;
  /** A bus on this stream's subjects. */
  observer: Awaited<ReturnType<typeof testBus>>;
}

export interface StreamsStack {
  nats: TestNats;
  ingest: ReturnType<typeof buildIngest>;
  /** The one SRT door every stream's sender uses. */
  srtPort: number;
  streams: TestStream[];
  stop(): Promise<void>;
}

export async function startStreamsStack(options: {
  ids: string[];
  obsEnv?: Record<string, string>;
  /** OBS settings for one stream (e.g. its own RTMP key), on top of obsEnv. */
  obsEnvFor?: (id: string) => Record<string, string>;
}): Promise<StreamsStack> {
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    const nats = await startNats();
    closers.push(() => nats.stop());
    // Two asks for a free port may be answered with the same one: every port here is a different one.
    const taken = new Set<number>();
    const distinctUdpPort = async (): Promise<number> => {
      for (;;) {
        const port = await freeUdpPort();
        if (!taken.has(port)) {
          taken.add(port);
          return port;
        }
      }
    };
    const srtPort = await distinctUdpPort();
    const list = [];
    for (const id of options.ids)
      list.push({
        id,
        srtKey: `${id}-key-${Math.random().toString(36).slice(2, 10)}`,
        relayPort: await distinctUdpPort(),
        outputPort: await freeTcpPort(),
      });
    const ingestBus = await testBus(nats, list[0]?.id, 'ingest');
    const ingest = buildIngest({
      config: ingestConfig.load({
        envFile: false,
        source: {
          NATS_URL: nats.url,
          NATS_PASSWORD: nats.password,
          IRL_STREAM_ID: list[0]?.id,
          IRL_STREAMS: JSON.stringify(list),
          SRT_PORT: String(srtPort),
          SRT_BIND: '127.0.0.1',
          SRT_LATENCY_MS: '500',
          SRTLA_PORT: '0',
        },
      }),
      bus: ingestBus,
      log: createLogger('ingest', testLogLevel),
    });
    await ingest.start();
    closers.push(async () => {
      await ingest.stop();
      await ingestBus.closeConnection();
    });
    const streams: TestStream[] = [];
    for (const stream of list) {
      const obs = await startObs(nats, {
        IRL_STREAM_ID: stream.id,
        OBS_FEED_URL: `tcp://127.0.0.1:${stream.outputPort}`,
        ...options.obsEnv,
        ...options.obsEnvFor?.(stream.id),
      });
      closers.push(() => obs.stop());
      const bus = await testBus(nats, stream.id, `bridge-${stream.id}`);
      const bridge = buildBridge({
        config: bridgeConfig.load({
          envFile: false,
          source: {
            NATS_URL: nats.url,
            NATS_PASSWORD: nats.password,
            IRL_STREAM_ID: stream.id,
            OBS_WS_URL: obs.wsUrl,
            OBS_WS_PASSWORD: obs.password,
            BRIDGE_PORT: String(await freeTcpPort()),
            BRIDGE_API_TOKEN: 'test-api-token-123',
            BRIDGE_SETTINGS_BUCKET: 'streams_test',
          },
        }),
        bus,
        log: createLogger(`bridge-${stream.id}`, testLogLevel),
      });
      await bridge.start();
      closers.push(async () => {
        await bridge.stop();
        await bus.closeConnection();
      });
      const observer = await testBus(nats, stream.id);
      closers.push(() => observer.closeConnection());
      streams.push({ id: stream.id, srtKey: stream.srtKey, obs, bridge, observer });
    }
    await Promise.all(streams.map((s) => nextEvent(s.observer, 'obs.state', (o) => o.reachable, `${s.id}'s OBS to become reachable`, 90_000)));
    return { nats, ingest, srtPort, streams, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
