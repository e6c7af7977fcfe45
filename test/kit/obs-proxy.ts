// A TCP relay between obs-bridge and OBS's websocket that can fail the way a real OBS does: freeze
// (a hung process: the socket stays open, nothing moves), drop every connection, refuse new ones. It
// reads the request types the bridge sends (JSON or MessagePack frames), so a test can freeze OBS in
// the middle of a given request and check which requests were ever sent.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

interface Connection {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export interface ObsProxy {
  /** ws://127.0.0.1:PORT, to give the bridge instead of OBS's own URL. */
  url: string;
  /** Every request type the bridge sent, in order, over every connection. */
  requests: string[];
  /** Freezes the connection that sends the next request of this type (the request is not passed on). */
  freezeOn(requestType: string): Promise<void>;
  /** Freezes every open connection. */
  freeze(): void;
  /** Closes every connection at once (no close handshake), as a vanished OBS would. */
  dropAll(): void;
  /** While blocked, new connections are closed as soon as they open. */
  block(blocked: boolean): void;
  stop(): Promise<void>;
}

/** Request types in client→server websocket frames (masked); returns what is left unparsed. */
function readFrames(buffer: Buffer, onPayload: (payload: Buffer) => void): Buffer {
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const second = buffer[offset + 1] as number;
    let length = second & 0x7f;
    let header = 2;
    if (length === 126) {
      if (buffer.length - offset < 4) break;
      length = buffer.readUInt16BE(offset + 2);
      header = 4;
    } else if (length === 127) {
      if (buffer.length - offset < 10) break;
      length = Number(buffer.readBigUInt64BE(offset + 2));
      header = 10;
    }
    const masked = (second & 0x80) !== 0;
    const total = header + (masked ? 4 : 0) + length;
    if (buffer.length - offset < total) break;
    const payload = Buffer.from(buffer.subarray(offset + header + (masked ? 4 : 0), offset + total));
    if (masked) {
      const mask = buffer.subarray(offset + header, offset + header + 4);
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
    }
    onPayload(payload);
    offset += total;
  }
  return buffer.subarray(offset);
}

const REQUEST_TYPE = /requestType[^A-Za-z]{1,4}([A-Za-z]+)/;

export async function startObsProxy(target: string): Promise<ObsProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const connections = new Set<Connection>();
  const requests: string[] = [];
  const freezeWanted = new Map<string, () => void>();
  let blocked = false;

  const server: Server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(Number(targetPort), hostname);
    const conn: Connection = { client, upstream, frozen: false };
    connections.add(conn);
    const close = () => {
      connections.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    upstream.on('data', (chunk) => {
      if (!conn.frozen) client.write(chunk);
    });
    let handshakeDone = false;
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (conn.frozen) return;
      let forward = true;
      pending = Buffer.concat([pending, chunk]);
      if (!handshakeDone) {
        const end = pending.indexOf('\r\n\r\n');
        if (end >= 0) {
          handshakeDone = true;
          pending = pending.subarray(end + 4);
        }
      }
      if (handshakeDone) {
        pending = readFrames(pending, (payload) => {
          const type = REQUEST_TYPE.exec(payload.toString('latin1'))?.[1];
          if (!type) return;
          requests.push(type);
          const froze = freezeWanted.get(type);
          if (froze) {
            freezeWanted.delete(type);
            conn.frozen = true;
            forward = false;
            froze();
          }
        });
      }
      if (forward && !conn.frozen) upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy did not get a port');
  const dropAll = () => {
    for (const conn of [...connections]) {
      connections.delete(conn);
      conn.client.resetAndDestroy();
      conn.upstream.destroy();
    }
  };
  return {
    url: `ws://127.0.0.1:${address.port}`,
    requests,
    freezeOn: (requestType) => new Promise<void>((resolve) => freezeWanted.set(requestType, resolve)),
    freeze: () => {
      for (const conn of connections) conn.frozen = true;
    },
    dropAll,
    block: (value) => {
      blocked = value;
      if (value) dropAll();
    },
    stop: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
