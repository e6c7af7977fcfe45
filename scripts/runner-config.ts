// The native runner's own variables (the services read theirs in their config.ts): where its state
// lives, the ports it publishes and derives URLs from, and the desktop password it hands to xpra.
import { join, resolve } from 'node:path';
import { commonEnv, DEV_SECRETS, env, streamListEnv } from '@irlkit/shared';

const root = resolve(import.meta.dirname, '..');

export const runnerEnv = {
  ...commonEnv,
  IRL_STATE_DIR: env.string(join(root, '.state')),
  IRL_PUBLIC_HOST: env.optionalString(),
  NATS_PORT: env.port(4222),
  SRT_PORT: env.port(9000),
  SRTLA_PORT: env.port(5000),
  DASHBOARD_PORT: env.port(8080),
  DESKTOP_PORT: env.port(14500),
  // Ports two services must agree on: the runner derives the URLs from them (unless set).
  OBS_WS_PORT: env.port(4455),
  INGEST_OUTPUT_PORT: env.port(9001),
  INGEST_RELAY_PORT: env.port(9002),
  BRIDGE_PORT: env.port(8090),
  /** Several streams (see ingest's IRL_STREAMS): one desktop, obs-bridge, dashboard and xpra per stream, one ingest for all. */
  IRL_STREAMS: streamListEnv(),
  RESTREAM_RELAY_PORT: env.port(1935),
  /** With IRL_STREAMS: the operator dashboard over every stream; unset, the port after the streams' dashboards. */
  OPERATOR_DASHBOARD_PORT: env.optionalPort(),
};

/** Secrets only the runner hands out (xpra's password); checked like every service's, after generation. */
export const runnerSecretsEnv = {
  NODE_ENV: commonEnv.NODE_ENV,
  IRL_PRODUCTION: commonEnv.IRL_PRODUCTION,
  DESKTOP_PASSWORD: env.secret(DEV_SECRETS.desktop),
  /** The operator dashboard's login (with IRL_STREAMS). */
  OPERATOR_DASHBOARD_PASSWORD: env.secret(DEV_SECRETS.dashboard),
};
