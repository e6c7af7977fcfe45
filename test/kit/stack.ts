// The whole native stack for end-to-end tests and benchmarks: nats-server, an RTMP sink, OBS
// provisioned under Xvfb, ingest and obs-bridge, wired as in production, on free ports.

import { createLogger } from '@irlkit/shared';
import { buildApp as buildIngest } from '../../services/ingest/src/app.ts';
import { ingestConfig } from '../../services/ingest/src/config.ts';
import { type BridgeApp, buildApp as buildBridge } from '../../services/obs-bridge/src/app.ts';
import { bridgeConfig } from '../../services/obs-bridge/src/config.ts';
import { PreviewViewer, testBus } from './bus.ts';
import { startNats, type TestNats } from './nats-server.ts';
import { startObs, type TestObs } from './obs.ts';
import { type ObsProxy, startObsProxy } from './obs-proxy.ts';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { type RtmpSink, startRtmpSink } from './rtmp.ts';
import { startTcpLink, type TcpLink } from './tcp-link.ts';
import { nextEvent, testLogLevel } from './wait.ts';

export interface TestStack {
  nats: TestNats;
  sink: RtmpSink;
  obs: TestObs;
  /** A user-space link between OBS's media input and ingest's feed output, when asked for (`obsLink: true`). */
  obsLink: TcpLink | undefined;
  /** The relay between the bridge and OBS's websocket, when asked for (`obsProxy: true`). */
  obsProxy: ObsProxy | undefined;
  ingest: ReturnType<typeof buildIngest>;
  bridge: BridgeApp;
  /** Stops obs-bridge and starts a new one on the same bus (a bridge restart); `env` is merged into its configuration. */
  restartBridge(env?: Record<string, string>): Promise<void>;
  observer: Awaited<ReturnType<typeof testBus>>;
  /** A dashboard page, open from the start (the bridge takes preview screenshots only while one is). */
  viewer: PreviewViewer;
  srtPort: number;
  apiPort: number;
  apiToken: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  bridgeEnv?: Record<string, string>;
  ingestEnv?: Record<string, string>;
  /** Merged into the desktop service's configuration (OBS's provisioning). */
  obsEnv?: Record<string, string>;
  /** Puts an ObsProxy between the bridge and OBS, to fail OBS's websocket on purpose. */
  obsProxy?: boolean;
  /** Puts a TcpLink between OBS's media input and ingest, to garble OBS's connection on purpose. */
  obsLink?: boolean;
  /** Start nats-server without JetStream (as if it were unavailable). */
  noJetstream?: boolean;
  /** Where OBS streams instead of the stack's sink (the restream relay). */
  obsRtmp?: { url: string; key: string };
}

export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    const nats = await startNats({ jetstream: !options.noJetstream });
    closers.push(() => nats.stop());
    const sink = await startRtmpSink();
    closers.push(() => sink.stop());
    const srtPort = await freeUdpPort();
    const outputPort = await freeTcpPort();
    const obsLink = options.obsLink ? await startTcpLink({ host: '127.0.0.1', port: outputPort }) : undefined;
    if (obsLink) closers.push(() => obsLink.stop());
    const obs = await startObs(nats, {
      OBS_RTMP_URL: options.obsRtmp?.url ?? sink.serverUrl,
      OBS_RTMP_KEY: options.obsRtmp?.key ?? 'test',
      OBS_FEED_URL: `tcp://127.0.0.1:${obsLink?.port ?? outputPort}`,
      ...options.obsEnv,
    });
    closers.push(() => obs.stop());
    const obsProxy = options.obsProxy ? await startObsProxy(obs.wsUrl) : undefined;
    if (obsProxy) closers.push(() => obsProxy.stop());
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
      log: createLogger('ingest', testLogLevel),
    });
    await ingest.start();
    closers.push(async () => {
      await ingest.stop();
      await ingestBus.closeConnection();
    });
    const apiPort = await freeTcpPort();
    const apiToken = 'test-api-token-123';
    const buildBridgeApp = async (env: Record<string, string>) => {
      const bus = await testBus(nats, 'main', 'bridge');
      const app = buildBridge({
        config: bridgeConfig.load({
          envFile: false,
          source: {
            NATS_URL: nats.url,
            NATS_PASSWORD: nats.password,
            OBS_WS_URL: obsProxy?.url ?? obs.wsUrl,
            OBS_WS_PASSWORD: obs.password,
            BRIDGE_PORT: String(apiPort),
            BRIDGE_API_TOKEN: apiToken,
            ...env,
          },
        }),
        bus,
        log: createLogger('bridge', testLogLevel),
      });
      return { app, bus };
    };
    const observer = await testBus(nats);
    closers.push(() => observer.closeConnection());
    let bridge = await buildBridgeApp(options.bridgeEnv ?? {});
    await bridge.app.start();
    closers.push(async () => {
      await bridge.app.stop();
      await bridge.bus.closeConnection();
    });
    const restartBridge = async (env: Record<string, string> = {}) => {
      await bridge.app.stop();
      await bridge.bus.closeConnection();
      bridge = await buildBridgeApp({ ...options.bridgeEnv, ...env });
      await bridge.app.start();
    };
    const viewer = new PreviewViewer(observer);
    viewer.open();
    closers.push(async () => viewer.close());
    await nextEvent(observer, 'obs.state', (s) => s.reachable, 'OBS to become reachable', 60_000);
    return {
      nats,
      sink,
      obs,
      obsLink,
      obsProxy,
      ingest,
      get bridge() {
        return bridge.app;
      },
      restartBridge,
      observer,
      viewer,
      srtPort,
      apiPort,
      apiToken,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
