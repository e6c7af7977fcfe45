// Reads the switcher's settings bucket as obs-bridge does (its NATS user, a container on the stack's network;
// run by swarm.check.ts): prints one JSON line with each key's value and the bucket's JetStream cluster
// (leader and replicas), or the error. Bound only: it never creates the bucket.
import { commonEnv, connectNats, loadConfig, SETTINGS_BUCKET, silentLogger } from '../../packages/shared/src/index.ts';

const config = loadConfig(commonEnv, { envFile: false });
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
try {
  const started = Date.now();
  const nc = await connectNats({ url: config.NATS_URL, user: config.NATS_USER, password: config.NATS_PASSWORD, name: 'swarm-check' }, silentLogger());
  const connectedInMs = Date.now() - started;
  const kv = await nc.jetstream({ timeout: 5000 }).views.kv(SETTINGS_BUCKET, { bindOnly: true });
  // The switcher's keys (services/obs-bridge/src/switcher/runtime.ts: switcher_<stream>_config and _mode).
  const values: Record<string, unknown> = {};
  for (const key of [`switcher_${config.IRL_STREAM_ID}_config`, `switcher_${config.IRL_STREAM_ID}_mode`]) {
    const entry = await kv.get(key);
    if (entry?.value.length) values[key] = JSON.parse(new TextDecoder().decode(entry.value));
  }
  const status = await kv.status();
  const cluster = status.streamInfo.cluster;
  print({
    server: nc.getServer(),
    connectedInMs,
    values,
    replicas: status.replicas,
    leader: cluster?.leader,
    peers: (cluster?.replicas ?? []).map((r) => ({ name: r.name, current: r.current })),
  });
  await nc.close();
} catch (error) {
  print({ error: (error as Error).message });
}
