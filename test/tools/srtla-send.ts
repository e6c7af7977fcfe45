// A test SRTLA sender on the command line: accepts SRT from ffmpeg (caller) on a local UDP port and
// spreads it over N links bound to 127.0.0.2, .3, … (or ::1), towards an SRTLA receiver. Type
// `cut N`, `restore N`, `rebind N` or `stats` on stdin to play with the links.
//
//   npx tsx test/tools/srtla-send.ts --receiver 127.0.0.1:5000 --links 3 --listen 6000
//   ffmpeg -re -f lavfi -i testsrc2=size=854x480:rate=30 -c:v libx264 -f mpegts 'srt://127.0.0.1:6000?mode=caller&latency=2000000'
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type KeepaliveStyle, startSrtlaSender } from '../kit/srtla-sender.ts';

const usage = 'usage: srtla-send --receiver HOST:PORT [--links N] [--listen PORT] [--keepalive belabox|moblin|extended] [--ipv6] [--pad BYTES]';

const argsSchema = z.object({
  receiver: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be HOST:PORT or [v6]:PORT'),
  links: z.coerce.number().int().min(1).max(64).default(2),
  listen: z.coerce.number().int().min(0).max(65535).default(0),
  keepalive: z.enum(['belabox', 'moblin', 'extended']).default('moblin'),
  ipv6: z.boolean().default(false),
  pad: z.coerce.number().int().min(0).max(1400).default(0),
});

function parse() {
  try {
    const { values } = parseArgs({
      options: {
        receiver: { type: 'string' },
        links: { type: 'string' },
        listen: { type: 'string' },
        keepalive: { type: 'string' },
        ipv6: { type: 'boolean' },
        pad: { type: 'string' },
      },
    });
    const parsed = argsSchema.safeParse(values);
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    process.exit(64);
  }
}

const args = parse();
const hostPort = /^\[?([^\]]+?)\]?:(\d+)$/.exec(args.receiver) as RegExpExecArray;
const receiver = { host: hostPort[1] as string, port: Number(hostPort[2]) };
const sender = await startSrtlaSender(receiver, args.links, {
  family: args.ipv6 || receiver.host.includes(':') ? 'ipv6' : 'ipv4',
  keepalive: args.keepalive as KeepaliveStyle,
  padTo: args.pad || undefined,
  listenPort: args.listen || undefined,
});
const show = () =>
  sender.links
    .map(
      (l, i) =>
        `  link ${i} ${l.address}:${l.port} ${l.cut ? 'CUT' : l.registered ? 'registered' : 'registering'} sent=${l.sent} acks=${l.acks} rtt=${l.rttMs ?? '-'} ms`,
    )
    .join('\n');
process.stdout.write(`SRT in on udp 127.0.0.1:${sender.port}, ${args.links} links to ${args.receiver}\n${show()}\n`);

const input = createInterface({ input: process.stdin });
input.on('line', async (line) => {
  const [command, index] = line.trim().split(/\s+/);
  try {
    const i = Number(index);
    if (command === 'cut') sender.cut(i);
    else if (command === 'restore') sender.restore(i);
    else if (command === 'rebind') await sender.rebind(i);
    else if (command !== 'stats' && command !== '') throw new Error(`unknown command "${command}" (cut N, restore N, rebind N, stats)`);
    process.stdout.write(`${show()}\n`);
  } catch (error) {
    process.stdout.write(`${(error as Error).message}\n`);
  }
});
const shutdown = async () => {
  input.close();
  await sender.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
