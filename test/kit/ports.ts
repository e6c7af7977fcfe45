// Free TCP/UDP ports on loopback, for tests that start real servers (the product's own helpers).
import { freeLoopbackTcpPort, freeLoopbackUdpPort } from '@irlkit/shared';

export { freeLoopbackTcpPort as freeTcpPort, freeLoopbackUdpPort as freeUdpPort } from '@irlkit/shared';

/**
 * Free ports for every door the native runner (`./irlkit up`) opens, as its environment variables. With
 * IRL_STREAMS, stream n uses the dashboard, desktop, OBS websocket and bridge ports + n, and ingest's relay and
 * output ports + 2n. Each port is free when asked, and no two (nor the ranges above them) coincide: two asks for
 * a free port may both be answered with the same one (a runner once got one UDP port as both ingest's relay and
 * output, and its stream never went Live).
 */
export async function runnerPorts() {
  const taken: Array<{ udp: boolean; port: number }> = [];
  /** A free port at least RANGE away from every port already handed out over the same protocol. */
  const RANGE = 16;
  const pick = async (udp: boolean): Promise<number> => {
    for (let attempt = 0; ; attempt++) {
      const port = await (udp ? freeLoopbackUdpPort() : freeLoopbackTcpPort());
      if (port + RANGE <= 65535 && !taken.some((t) => t.udp === udp && Math.abs(t.port - port) < RANGE)) {
        taken.push({ udp, port });
        return port;
      }
      if (attempt > 100) throw new Error('no free port range for the runner');
    }
  };
  return {
    NATS_PORT: await pick(false),
    SRT_PORT: await pick(true),
    SRTLA_PORT: await pick(true),
    DASHBOARD_PORT: await pick(false),
    DESKTOP_PORT: await pick(false),
    INGEST_OUTPUT_PORT: await pick(false),
    INGEST_RELAY_PORT: await pick(true),
    OBS_WS_PORT: await pick(false),
    BRIDGE_PORT: await pick(false),
    RESTREAM_RELAY_PORT: await pick(false),
  };
}

/** The ports as environment variables. */
export const portsEnv = (ports: Record<string, number>): Record<string, string> => Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));
