// The whole native stack for end-to-end tests and benchmarks: nats-server, an RTMP sink, OBS
// provisioned under Xvfb, ingest and obs-bridge, wired as in production, on free ports.
import { createLogger } from '@irlkit/shared';
import { buildApp as buildIngest } from '../../services/ingest/src/app.ts';
import { ingestConfig } from '../../services/ingest/src/config.ts';
import { type BridgeApp, buildApp as buildBridge } from '../../services/obs-bridge/src/app.ts';
import { bridgeConfig } from '../../services/obs-bridge/src/config.ts';
import { testBus } from './bus.ts';
import { startNats, type TestNats } from './nats-server.ts';
import { startObs, type TestObs } from './obs.ts';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { type RtmpSink, startRtmpSink } from './rtmp.ts';
import { nextEvent } from './wait.ts';

export interface TestStack {
  nats: TestNats;
  sink: RtmpSink;
  obs: TestObs;
  ingest: ReturnType<typeof buildIngest>;
  bridge: BridgeApp;
  observer: Awaited<ReturnType<typeof testBus>>;
  srtPort: number;
  apiPort: number;
  apiToken: string;
  stop(): Promise<void>;
}

export async function startStack(options: { bridgeEnv?: Record<string, string>; ingestEnv?: Record<string, string> } = {}): Promise<TestStack> {
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    const nats = await startNats();
    closers.push(() => nats.stop());
    const sink = await startRtmpSink();
    closers.push(() => sink.stop());
    const srtPort = await freeUdpPort();
    const outputPort = await freeUdpPort();
    const obs = await startObs(nats, {
      OBS_RTMP_URL: sink.serverUrl,
      OBS_RTMP_KEY: 'test',
      OBS_FEED_URL: `srt://127.0.0.1:${outputPort}?mode=caller&latency=200000&connect_timeout=500`,
    });
    closers.push(() => obs.stop());
    const ingestBus = await testBus(nats, 'main', 'ingest');
    const ingest = buildIngest({
      config: ingestConfig.load({
        envFile: false,
        source: {
          NATS_URL: nats.url,
          NATS_PASSWORD: nats.password,
          SRT_PORT: String(srtPort),
          SRT_BIND: '127.0.0.1',
          INGEST_OUTPUT_PORT: String(outputPort),
          INGEST_RELAY_PORT: String(await freeUdpPort()),
          SRT_LATENCY_MS: '500',
          SRTLA_PORT: '0',
          ...options.ingestEnv,
        },
      }),
      bus: ingestBus,
      log: createLogger('ingest', 'warn'),
    });
    await ingest.start();
    closers.push(async () => {
      await ingest.stop();
      await ingestBus.closeConnection();
    });
    const apiPort = await freeTcpPort();
    const apiToken = 'test-api-token-123';
    const bridgeBus = await testBus(nats, 'main', 'bridge');
    const bridge = buildBridge({
      config: bridgeConfig.load({
        envFile: false,
        source: {
          NATS_URL: nats.url,
          NATS_PASSWORD: nats.password,
          OBS_WS_URL: obs.wsUrl,
          OBS_WS_PASSWORD: obs.password,
          BRIDGE_PORT: String(apiPort),
          BRIDGE_API_TOKEN: apiToken,
          ...options.bridgeEnv,
        },
      }),
      bus: bridgeBus,
      log: createLogger('bridge', 'warn'),
    });
    const observer = await testBus(nats);
    closers.push(() => observer.closeConnection());
    await bridge.start();
    closers.push(async () => {
      await bridge.stop();
      await bridgeBus.closeConnection();
    });
    await nextEvent(observer, 'obs.state', (s) => s.reachable, 'OBS to become reachable', 60_000);
    return { nats, sink, obs, ingest, bridge, observer, srtPort, apiPort, apiToken, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
