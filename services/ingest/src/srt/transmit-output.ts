// Parses what srt-live-transmit 1.5.1 prints: JSON statistics on stdout, connection news on stderr.
import { z } from 'zod';

const statsLine = z.object({
  sid: z.number(),
  link: z.object({ rtt: z.number() }),
  recv: z.object({
    packets: z.number(),
    packetsLost: z.number(),
    packetsDropped: z.number(),
    packetsRetransmitted: z.number().optional(),
    msBuf: z.number(),
    mbitRate: z.number(),
    msTsbPdDelay: z.number().optional(),
  }),
  send: z.object({ packets: z.number() }),
});

export interface TransmitStats {
  socketId: number;
  rttMs: number;
  receiveBufferMs: number;
  /** The TSBPD delay agreed with the sender (the SRT latency in force), when reported. */
  latencyMs: number | null;
  /** Counters since the previous report of this socket. */
  received: number;
  lost: number;
  dropped: number;
  retransmitted: number;
}

/**
 * One JSON statistics line. srt-live-transmit reports both its source and its target
 * socket; only the source (the streamer's side, which receives) is returned.
 */
export function parseStatsLine(line: string): TransmitStats | undefined {
  if (!line.startsWith('{')) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = statsLine.safeParse(raw);
  if (!parsed.success) return undefined;
  const s = parsed.data;
  if (s.send.packets > 0 && s.recv.packets === 0) return undefined; // the target (OBS) side
  return {
    socketId: s.sid,
    rttMs: s.link.rtt,
    receiveBufferMs: s.recv.msBuf,
    latencyMs: s.recv.msTsbPdDelay ?? null,
    received: s.recv.packets,
    lost: s.recv.packetsLost,
    dropped: s.recv.packetsDropped,
    retransmitted: s.recv.packetsRetransmitted ?? 0,
  };
}

export type TransmitNews =
  | { kind: 'source-connected' }
  | { kind: 'source-disconnected' }
  /** A handshake reached one of srt-live-transmit's listeners from this loopback address and port. */
  | { kind: 'connection-request'; from: string; port: number }
  | { kind: 'rejected'; code: number; reason: string }
  | { kind: 'error'; message: string };

/** One stderr line; undefined for lines that carry nothing the service acts on. */
export function parseStderrLine(line: string): TransmitNews | undefined {
  if (line.startsWith('Accepted SRT source connection')) return { kind: 'source-connected' };
  if (line.startsWith('SRT source disconnected')) return { kind: 'source-disconnected' };
  const request = /PASSING request from: (\S+):(\d+) to agent/.exec(line);
  if (request) return { kind: 'connection-request', from: `${request[1]}:${request[2]}`, port: Number(request[2]) };
  const reject = /processConnectRequest: rsp\(REJECT\): (\d+) - (.+)$/.exec(line);
  if (reject) return { kind: 'rejected', code: Number(reject[1]), reason: (reject[2] as string).trim() };
  if (/^(ERROR|Error)|\*E:/.test(line) && !/rejecting/.test(line)) return { kind: 'error', message: line };
  return undefined;
}
