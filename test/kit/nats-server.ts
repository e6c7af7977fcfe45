// A real nats-server with JetStream on a free loopback port, in its own temp directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface TestNats {
  url: string;
  port: number;
  user: string;
  password: string;
  /** Kills and starts the server again on the same port and store; `jetstream` turns JetStream on or off from then on. */
  restart(options?: { jetstream?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface NatsOptions {
  user?: string;
  password?: string;
  /**
   * An `authorization { users = [...] }` block instead of the one test user (the test's user and
   * password must be one of its users); `$VARIABLES` in it are read from `env`.
   */
  authorization?: string;
  env?: Record<string, string>;
  /** JetStream on (the default) or off at start; `restart({ jetstream })` changes it. */
  jetstream?: boolean;
}

export async function startNats(options: NatsOptions = {}): Promise<TestNats> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'irlkit-nats-'));
  const user = options.user ?? 'irlkit';
  const password = options.password ?? 'test-nats-password';
  const configPath = join(dir, 'nats.conf');
  const writeConfig = (jetstream: boolean) =>
    writeFileSync(
      configPath,
      `listen: 127.0.0.1:${port}\n${jetstream ? `jetstream { store_dir: "${join(dir, 'js')}" }\n` : ''}${options.authorization ?? `authorization { user: "${user}", password: "${password}" }`}\n`,
    );
  writeConfig(options.jetstream ?? true);
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn('nats-server', ['-c', configPath], { stdio: 'ignore', env: { ...process.env, ...options.env } });
    await waitFor(() => portOpen(port), `nats-server to listen on ${port}`, 10_000);
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
    url: `nats://127.0.0.1:${port}`,
    port,
    user,
    password,
    restart: async (restartOptions = {}) => {
      await kill();
      if (restartOptions.jetstream !== undefined) writeConfig(restartOptions.jetstream);
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
