// Owns the port OBS's media source reads one stream's feed from: a TCP server handing each reader the
// transport stream srt-live-transmit writes to a loopback UDP port. Every reader starts at a keyframe, with
// the program tables first: a player that joins mid-GOP buffers everything up to the next keyframe while it
// probes the stream, and plays that wait out as delay for as long as it plays.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@irlkit/shared';
import { TsPacketizer, TsProgram } from '../wire/mpegts.ts';
import { setSocketBuffers } from '../wire/udp.ts';

export interface FeedOutputOptions {
  bindHost: string;
  port: number;
  /** Readers served at once: OBS, a restarted OBS whose old connection is not yet closed, a spare. */
  maxReaders: number;
  /** A reader this far behind (bytes queued for it) is not reading: it is cut off and calls again. */
  maxQueuedBytes: number;
  /** A reader that waited this long for a keyframe gets the stream from the next video frame on. */
  keyframeWaitMs: number;
  socketBufferBytes: number;
  log: Logger;
  /** srt-live-transmit wrote feed data to the output. */
  onFeed(): void;
  /** A reader (OBS's media source) connected or left. */
  onReader(connected: boolean, peer: string): void;
}

interface Reader {
  socket: Socket;
  peer: string;
  since: number;
  /** False until the reader's stream has started at a keyframe. */
  started: boolean;
  /** Its feed ended (endReaders): it gets nothing more, and its connection is closed after the grace. */
  orphaned: boolean;
}

/** Packets kept of the video PES being read, for a reader that starts at it (a PES's verdict comes within a few). */
const MAX_GROUP_PACKETS = 512;

export class FeedOutput {
  private server: Server | undefined;
  private input: UdpSocket | undefined;
  private readonly readers = new Set<Reader>();
  private program = new TsProgram();
  private packetizer = new TsPacketizer();
  /** The packets since the current video PES began. */
  private group: Buffer[] = [];

  constructor(private readonly options: FeedOutputOptions) {}

  /** Binds the loopback UDP port srt-live-transmit writes to and the TCP port OBS reads; returns the former. */
  async start(): Promise<number> {
    const input = createSocket('udp4');
    this.input = input;
    input.on('message', (chunk, rinfo) => {
      if (rinfo.address !== '127.0.0.1') return;
      this.onInput(chunk);
    });
    input.on('error', (error) => this.options.log.error({ err: error }, 'feed output input socket error'));
    await new Promise<void>((resolve, reject) => {
      input.once('error', reject);
      input.bind(0, '127.0.0.1', () => {
        input.off('error', reject);
        resolve();
      });
    });
    setSocketBuffers(input, this.options.socketBufferBytes);
    const server = createServer((socket) => this.addReader(socket));
    this.server = server;
    server.on('error', (error) => this.options.log.error({ err: error }, 'feed output server error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.bindHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return input.address().port;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  private addReader(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.readers.size >= this.options.maxReaders) {
      // The oldest is a dead OBS's whose close has not come yet, or a stranger on the feed network.
      const oldest = [...this.readers].sort((a, b) => a.since - b.since)[0];
      if (oldest) this.dropReader(oldest, 'too many readers');
    }
    socket.setNoDelay(true);
    const reader: Reader = { socket, peer, since: Date.now(), started: false, orphaned: false };
    this.readers.add(reader);
    socket.on('data', () => {
      // A player sends nothing; whatever comes is ignored.
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.readers.delete(reader)) this.options.onReader(false, peer);
    });
    this.options.log.info({ peer }, 'OBS reads the feed');
    this.options.onReader(true, peer);
  }

  private dropReader(reader: Reader, reason: string): void {
    this.options.log.warn({ peer: reader.peer, reason, queuedBytes: reader.socket.writableLength }, 'feed reader cut off');
    this.readers.delete(reader);
    reader.socket.destroy();
    this.options.onReader(false, reader.peer);
  }

  private onInput(chunk: Buffer): void {
    this.options.onFeed();
    const packets = this.packetizer.packets(chunk);
    if (packets.length === 0) return;
    const out = new Map<Reader, Buffer[]>();
    const now = Date.now();
    for (const packet of packets) {
      const verdict = this.program.observe(packet);
      if (verdict === 'key-start' || verdict === 'video-start') this.group = [];
      if (this.group.length < MAX_GROUP_PACKETS) this.group.push(packet);
      for (const reader of this.readers) {
        if (reader.orphaned) continue;
        if (reader.started) {
          out.get(reader)?.push(packet) ?? out.set(reader, [packet]);
          continue;
        }
        if (!this.startsHere(verdict, now - reader.since)) continue;
        reader.started = true;
        const { pat, pmt } = this.program;
        out.set(reader, [...(pat ? [pat] : []), ...(pmt ? [pmt] : []), ...this.group]);
      }
    }
    for (const [reader, buffers] of out) {
      if (reader.socket.destroyed) continue;
      if (reader.socket.writableLength > this.options.maxQueuedBytes) {
        this.dropReader(reader, 'not reading');
        continue;
      }
      reader.socket.write(Buffer.concat(buffers));
    }
  }

  /** May a waiting reader start at this packet? At a keyframe; anywhere when there is no video; at any video frame after the wait. */
  private startsHere(verdict: ReturnType<TsProgram['observe']>, waitedMs: number): boolean {
    if (!this.program.ready) return false;
    if (this.program.videoPid < 0) return true;
    if (verdict === 'key-start' || verdict === 'key') return true;
    return verdict === 'video-start' && waitedMs >= this.options.keyframeWaitMs;
  }

  /**
   * The feed behind the readers ended (srt-live-transmit died): they get nothing more of it, so no player goes on
   * with a new child's stream inside its old session, and their connections are closed after `graceMs` (each player
   * then opens afresh on what comes next). Not at once: OBS's media source that reads the end of its connection waits
   * out its own reconnect delay (1 s) and ignores a new player asked for meanwhile, while one whose connection is
   * still open opens the new one the moment the switcher asks (`pnpm faults feed-relay`: the sender back 0.3 s after
   * a kill -9, OBS reading again 1.0 s after it had read the end, against 0.3 s). Returns how many were ended.
   */
  endReaders(graceMs: number): number {
    const ended = [...this.readers].filter((reader) => !reader.orphaned);
    for (const reader of ended) {
      reader.orphaned = true;
      const timer = setTimeout(() => reader.socket.end(), graceMs);
      reader.socket.once('close', () => clearTimeout(timer));
    }
    this.program = new TsProgram();
    this.packetizer = new TsPacketizer();
    this.group = [];
    return ended.length;
  }

  async stop(): Promise<void> {
    for (const reader of this.readers) reader.socket.destroy();
    this.readers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.input?.close();
    this.input = undefined;
  }
}
