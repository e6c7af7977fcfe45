// A real IRC server (ngircd from Debian's packages) on a free loopback port, and a plain IRC user to
// speak in its channels: the stand-in for Twitch chat in the chat service's tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface TestIrcServer {
  port: number;
  url: string;
  /** What every client must send as PASS: Twitch takes the bot's token there as `oauth:<token>`. */
  password: string;
  /** Kills the server and starts it again on the same port (every client is dropped). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startIrcServer(password = 'oauth:testtoken0123456789'): Promise<TestIrcServer> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'irlkit-ngircd-'));
  const configPath = join(dir, 'ngircd.conf');
  writeFileSync(
    configPath,
    [
      '[Global]',
      'Name = irc.irlkit.test',
      'Info = irlkit test chat',
      'Listen = 127.0.0.1',
      `Ports = ${port}`,
      'MotdPhrase = irlkit test',
      `PidFile = ${join(dir, 'ngircd.pid')}`,
      `Password = ${password}`,
      '[Limits]',
      'MaxConnectionsIP = 0',
      'MaxNickLength = 25',
      'PingTimeout = 30',
      '[Options]',
      'DNS = no',
      'Ident = no',
      'PAM = no',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const launch = async () => {
    const c = spawn('ngircd', ['--nodaemon', '--config', configPath], { stdio: 'ignore' });
    child = c;
    await waitFor(() => c.exitCode === null && portOpen(port), `ngircd to listen on ${port}`, 10_000);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await launch();
  return {
    port,
    url: `irc://127.0.0.1:${port}`,
    password,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface IrcUser {
  nick: string;
  /** Every line received, oldest first. */
  lines: string[];
  /** PRIVMSG texts seen in the channel, with their sender. */
  messages: Array<{ from: string; text: string; at: number }>;
  say(text: string): void;
  quit(): Promise<void>;
}

/** Connects a plain IRC user and joins `channel` (without '#'). */
export async function ircUser(server: Pick<TestIrcServer, 'port' | 'password'>, nick: string, channel: string): Promise<IrcUser> {
  const socket: Socket = connect(server.port, '127.0.0.1');
  const lines: string[] = [];
  const messages: IrcUser['messages'] = [];
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      lines.push(line);
      if (line.startsWith('PING')) socket.write(`PONG${line.slice(4)}\r\n`);
      const privmsg = /^:([^!\s]+)\S* PRIVMSG #\S+ :(.*)$/.exec(line);
      if (privmsg) messages.push({ from: privmsg[1] as string, text: privmsg[2] as string, at: Date.now() });
    }
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`PASS ${server.password}\r\nNICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await waitFor(() => lines.some((l) => / 001 /.test(l)), `${nick} to be welcomed by the IRC server`);
  socket.write(`JOIN #${channel}\r\n`);
  await waitFor(() => lines.some((l) => l.startsWith(`:${nick}!`) && l.includes(` JOIN `)), `${nick} to join #${channel}`);
  return {
    nick,
    lines,
    messages,
    say: (text) => socket.write(`PRIVMSG #${channel} :${text}\r\n`),
    quit: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.end(`QUIT :bye\r\n`);
        setTimeout(() => socket.destroy(), 1000).unref();
      }),
  };
}
