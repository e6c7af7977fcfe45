// Ingest on a test NATS, on loopback: its SRT port, its SRTLA port (unless `srtla: false`) and its output
// for a reader, with the app, an observer on the stream's events and the ports. For ingest's tests and
// benchmarks that run the whole service (bonded and plain senders, srt-live-transmit faults).
import { createLogger } from '@irlkit/shared';
import { freeTcpPort, freeUdpPort, type TestNats, testBus } from '@irlkit/test-kit';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';

export interface TestIngestOptions {
  streamId?: string;
  latencyMs: number;
  /** Open the SRTLA port (default true). */
  srtla?: boolean;
  /** More ingest configuration, over the above. */
  env?: Record<string, string>;
  logName?: string;
  logLevel?: string;
}

export async function startTestIngest(nats: TestNats, options: TestIngestOptions) {
  const streamId = options.streamId ?? 'main';
  const bus = await testBus(nats, streamId, 'ingest');
  const observer = await testBus(nats, streamId);
  const srtPort = await freeUdpPort();
  const srtlaPort = options.srtla === false ? 0 : await freeUdpPort();
  const outputPort = await freeTcpPort();
  const app = buildApp({
    config: ingestConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        IRL_STREAM_ID: streamId,
        SRT_PORT: String(srtPort),
        SRT_BIND: '127.0.0.1',
        SRTLA_PORT: String(srtlaPort),
        SRTLA_BIND: '127.0.0.1',
        INGEST_OUTPUT_PORT: String(outputPort),
        INGEST_RELAY_PORT: String(await freeUdpPort()),
        SRT_LATENCY_MS: String(options.latencyMs),
        ...options.env,
      },
    }),
    bus,
    log: createLogger(options.logName ?? 'ingest', options.logLevel ?? 'warn'),
  });
  await app.start();
  return {
    app,
    observer,
    srtPort,
    srtlaPort,
    outputPort,
    stop: async () => {
      await app.stop();
      await observer.closeConnection();
      await bus.closeConnection();
    },
  };
}
