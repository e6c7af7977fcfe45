// A user-space TCP link in front of ingest's feed output: what OBS's media source reads passes through it,
// so a test can make the connection OBS holds carry nothing readable.
import { connect, createServer, type Socket } from 'node:net';
import { freeTcpPort } from './ports.ts';

export interface TcpLink {
  port: number;
  /**
   * From now on the connection opened last carries zeros instead of the feed: it stays up with nothing to
   * show. A new connection (a reopened player) is left alone.
   */
  garbleCurrent(): void;
  /**
   * While on, a new connection is accepted and then left silent for good: nothing reaches ingest and nothing
   * comes back, like a path that swallows a reopened player's connection. Connections held stay held.
   */
  holdNew(on: boolean): void;
  /** Closes the connection opened last (both ways), as a path that breaks would. */
  cutCurrent(): void;
  /** Connections held so far. */
  readonly held: number;
  stop(): Promise<void>;
}

export async function startTcpLink(target: { host: string; port: number }): Promise<TcpLink> {
  const port = await freeTcpPort();
  const sockets = new Set<Socket>();
  let latest: Socket | undefined;
  const garbled = new WeakSet<Socket>();
  let holding = false;
  let held = 0;
  const server = createServer((front) => {
    if (holding) {
      held += 1;
      sockets.add(front);
      front.on('error', () => front.destroy());
      front.on('close', () => sockets.delete(front));
      return;
    }
    latest = front;
    const back = connect(target.port, target.host);
    sockets.add(front).add(back);
    back.on('data', (chunk: Buffer) => {
      front.write(garbled.has(front) ? Buffer.alloc(chunk.length) : chunk);
    });
    front.on('data', (chunk: Buffer) => back.write(chunk));
    const close = () => {
      front.destroy();
      back.destroy();
      sockets.delete(front);
      sockets.delete(back);
    };
    for (const s of [front, back]) {
      s.on('close', close);
      s.on('error', close);
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    garbleCurrent: () => {
      if (latest) garbled.add(latest);
    },
    cutCurrent: () => {
      latest?.destroy();
    },
    holdNew: (on) => {
      holding = on;
    },
    get held() {
      return held;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
