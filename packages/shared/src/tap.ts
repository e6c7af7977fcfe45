#!/usr/bin/env -S npx tsx
// `pnpm tap [pattern]`: prints every message on irlkit's subjects, one line each, checked against its schema.
import { parseArgs } from 'node:util';
import { connect, type Msg } from 'nats';
import { commonEnv, loadConfig } from './config.ts';
import { commandSchemas, eventSchemas } from './schemas/index.ts';
import { parseSubject, subjects } from './subjects.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean', default: false },
    server: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: pnpm tap [pattern (default irl.>)] [--json] [--server nats://host:port] [--user U --password P]\n' +
      'NATS_URL, NATS_USER and NATS_PASSWORD are read from the environment (or .env) when the flags are not given.\n',
  );
  process.exit(0);
}
const config = loadConfig({ NATS_URL: commonEnv.NATS_URL, NATS_USER: commonEnv.NATS_USER, NATS_PASSWORD: commonEnv.NATS_PASSWORD });
const pattern = positionals[0] ?? subjects.allStreams();
const decoder = new TextDecoder();

/** A one-line view of a payload: screenshots summarised, long strings cut. */
export function compact(value: unknown): string {
  if (value && typeof value === 'object' && 'data' in value && 'width' in value && typeof (value as { data: unknown }).data === 'string') {
    const s = value as { data: string; width: number; height: number; format?: string };
    return `${s.format ?? 'image'} ${s.width}x${s.height} ${Math.round((s.data.length * 3) / 4 / 1024)} KiB`;
  }
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 117)}...` : v));
  return text.length > 400 ? `${text.slice(0, 397)}...` : text;
}

function check(subject: string, raw: unknown): string | undefined {
  const parsed = parseSubject(subject);
  const schema =
    parsed.kind === 'event' || parsed.kind === 'history'
      ? eventSchemas[parsed.name]
      : parsed.kind === 'command'
        ? commandSchemas[parsed.verb].request
        : undefined;
  if (!schema) return parsed.kind === 'unknown' && subject.startsWith('_INBOX') ? undefined : 'unknown subject';
  const result = schema.safeParse(raw);
  return result.success ? undefined : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

function print(msg: Msg): void {
  const text = decoder.decode(msg.data);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), subject: msg.subject, data: text })}\n`);
    return;
  }
  let raw: unknown;
  let problem: string | undefined;
  try {
    raw = text.length ? JSON.parse(text) : {};
    problem = check(msg.subject, raw);
  } catch {
    problem = 'not JSON';
  }
  const time = new Date().toISOString().slice(11, 23);
  const view = problem === 'not JSON' ? JSON.stringify(text.slice(0, 200)) : compact(raw);
  process.stdout.write(`${time} ${msg.subject} ${problem ? `INVALID(${problem}) ` : ''}${view}\n`);
}

const nc = await connect({
  servers: values.server ?? config.NATS_URL,
  user: values.user ?? config.NATS_USER,
  pass: values.password ?? config.NATS_PASSWORD,
  name: 'tap',
  maxReconnectAttempts: -1,
});
nc.subscribe(pattern, { callback: (_err, msg) => print(msg) });
process.stderr.write(`tap: listening on ${pattern} at ${nc.getServer()}\n`);
const stop = async () => {
  await nc.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
