// What every service's main.ts and app.ts share: heartbeats, timeline entries, signal handling.
import { type CommonSettings, exitOnConfigError } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { Bus, connectNats } from './nats.ts';
import type { Heartbeat, LogEntry } from './schemas/index.ts';
import type { ChildEvent } from './supervise.ts';

export const HEARTBEAT_INTERVAL_MS = 1000;

/** Publishes `heartbeat` every second so others (and the dashboard) can tell the service is alive. */
export function startHeartbeat(
  bus: Bus,
  service: string,
  status: () => { ok: boolean; detail: Heartbeat['detail'] },
  intervalMs = HEARTBEAT_INTERVAL_MS,
): () => void {
  const startedAt = Date.now();
  const beat = () => {
    const { ok, detail } = status();
    bus.publish('heartbeat', { ts: Date.now(), service, pid: process.pid, uptimeMs: Date.now() - startedAt, ok, detail });
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  return () => clearInterval(timer);
}

/** Human-readable timeline entries on `irl.<s>.log`. */
export function timeline(bus: Bus, source: string) {
  const entry = (level: LogEntry['level']) => (message: string) => bus.publish('log', { ts: Date.now(), level, source, message: message.slice(0, 1000) });
  return { info: entry('info'), warn: entry('warn'), error: entry('error') };
}
export type Timeline = ReturnType<typeof timeline>;

/** Publishes a supervised child's state change as a `process` event. */
export function publishChildEvent(bus: Bus, service: string, event: ChildEvent, kind: 'process' | 'container' = 'process'): void {
  bus.publish('process', { ts: Date.now(), service, kind, ...event });
}

/**
 * Runs a service: builds it, starts it, and stops it once on SIGINT/SIGTERM.
 * Configuration errors are printed and exit with status 78.
 */
export async function runService(name: string, build: () => Promise<{ start(): Promise<void>; stop(): Promise<void> }>, log?: Logger): Promise<void> {
  let app: Awaited<ReturnType<typeof build>>;
  try {
    app = await build();
  } catch (error) {
    exitOnConfigError(error, name);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log?.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await app.stop();
      process.exit(0);
    } catch (error) {
      log?.error({ err: error }, 'stop failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  try {
    await app.start();
  } catch (error) {
    log?.fatal({ err: error }, 'start failed');
    process.stderr.write(`${name}: ${(error as Error).message}\n`);
    await app.stop().catch(() => {});
    process.exit(1);
  }
}

/** The variables every bus-connected service reads (a subset of commonEnv). */
/**
 * The whole main.ts of a service on the bus: load its configuration, connect to NATS, build the app,
 * start it, and on SIGTERM stop the app, then drain the connection.
 */
export async function runBusService<Settings extends { common: CommonSettings }>(
  name: string,
  definition: { load(): Settings },
  build: (deps: { config: Settings; bus: Bus; log: Logger }) => { start(): Promise<void>; stop(): Promise<void> },
): Promise<void> {
  const log = createLogger(name);
  await runService(
    name,
    async () => {
      const config = definition.load();
      const { common } = config;
      log.level = common.logLevel;
      const nc = await connectNats({ ...common.nats, name }, log);
      const bus = new Bus(nc, common.streamId, log);
      const app = build({ config, bus, log });
      return {
        start: () => app.start(),
        stop: async () => {
          await app.stop();
          bus.close();
          await nc.drain();
        },
      };
    },
    log,
  );
}
