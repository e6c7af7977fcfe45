// A NATS tap inside the compose network, for compose.check.ts: run in a container of the obs-bridge
// image (`docker-compose run … obs-bridge`), it prints the events the check watches as JSON lines
// and sends the commands it reads from stdin ({"id":1,"verb":"stream.start","payload":{}}).
import { createInterface } from 'node:readline';
import { Bus, type CommandVerb, commonEnv, connectNats, type EventName, loadConfig, silentLogger } from '../../packages/shared/src/index.ts';

const WATCHED: EventName[] = ['obs.state', 'switcher.state', 'ingest.link', 'restream.state', 'recording.state', 'process', 'log', 'heartbeat'];

const config = loadConfig(commonEnv, { envFile: false });
const nc = await connectNats({ url: config.NATS_URL, user: config.NATS_USER, password: config.NATS_PASSWORD, name: 'compose-check' }, silentLogger());
const bus = new Bus(nc, config.IRL_STREAM_ID, silentLogger());
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
for (const name of WATCHED) bus.subscribe(name, (payload) => print({ event: name, payload }));
print({ ready: true });

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { id, verb, payload } = JSON.parse(line) as { id: number; verb: CommandVerb; payload: object };
  const reply = await bus.request(verb, payload as never, 10_000);
  print({ reply: id, ...reply });
}
// stdin closed: the check is done.
bus.close();
await nc.close();
