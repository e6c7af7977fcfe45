// Free TCP/UDP ports on loopback, for tests that start real servers (the product's own helpers).
import { freeLoopbackTcpPort, freeLoopbackUdpPort } from '@irlkit/shared';

export { freeLoopbackTcpPort as freeTcpPort, freeLoopbackUdpPort as freeUdpPort } from '@irlkit/shared';

/**
 * Free ports for every door the native runner (`./irlkit up`) opens, as its environment variables. With
 * IRL_STREAMS, stream n uses the dashboard, desktop, OBS websocket and bridge ports + n.
 */
export async function runnerPorts() {
  return {
    NATS_PORT: await freeLoopbackTcpPort(),
    SRT_PORT: await freeLoopbackUdpPort(),
    SRTLA_PORT: await freeLoopbackUdpPort(),
    DASHBOARD_PORT: await freeLoopbackTcpPort(),
    DESKTOP_PORT: await freeLoopbackTcpPort(),
    INGEST_OUTPUT_PORT: await freeLoopbackUdpPort(),
    INGEST_RELAY_PORT: await freeLoopbackUdpPort(),
    OBS_WS_PORT: await freeLoopbackTcpPort(),
    BRIDGE_PORT: await freeLoopbackTcpPort(),
    RESTREAM_RELAY_PORT: await freeLoopbackTcpPort(),
  };
}

/** The ports as environment variables. */
export const portsEnv = (ports: Record<string, number>): Record<string, string> => Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));
