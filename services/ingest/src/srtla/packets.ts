// SRTLA and SRT packet parsing and building (../shared/SRTLA.md): pure functions on bytes, no I/O.
// All multi-byte fields are big-endian.

export const SRTLA_TYPE = {
  keepalive: 0x9000,
  ack: 0x9100,
  reg1: 0x9200,
  reg2: 0x9201,
  reg3: 0x9202,
  regErr: 0x9210,
  regNgp: 0x9211,
  regNak: 0x9212,
} as const;

export const SRT_TYPE = {
  handshake: 0x8000,
  keepalive: 0x8001,
  ack: 0x8002,
  nak: 0x8003,
  shutdown: 0x8005,
  ackack: 0x8006,
} as const;

export const SRTLA_ID_BYTES = 256;
export const SRTLA_REG_BYTES = 2 + SRTLA_ID_BYTES;
export const SRTLA_ACK_SEQS = 10;
export const SRTLA_ACK_BYTES = 4 + 4 * SRTLA_ACK_SEQS;
/** SRT's header; shorter packets that are not SRTLA control are not SRT. */
export const SRT_HEADER_BYTES = 16;
/** Extended keepalive (irlserver): timestamp, then magic 0xC01F, version 1 and link telemetry. */
export const KEEPALIVE_EXT_BYTES = 38;
const KEEPALIVE_EXT_MAGIC = 0xc01f;
const KEEPALIVE_EXT_VERSION = 1;

/** The 16-bit type of a control packet (or the top half of a data packet's sequence number); -1 if under 2 bytes. */
export function packetType(datagram: Uint8Array): number {
  return datagram.length < 2 ? -1 : ((datagram[0] as number) << 8) | (datagram[1] as number);
}

export function isSrtData(datagram: Uint8Array): boolean {
  return datagram.length > 0 && ((datagram[0] as number) & 0x80) === 0;
}

/** The 31-bit sequence number of an SRT data packet. */
export function srtDataSeq(datagram: Uint8Array): number {
  return ((((datagram[0] as number) & 0x7f) << 24) | ((datagram[1] as number) << 16) | ((datagram[2] as number) << 8) | (datagram[3] as number)) >>> 0;
}

export type SrtlaKind =
  | 'keepalive'
  | 'srtla_ack'
  | 'reg1'
  | 'reg2'
  | 'reg3'
  | 'reg_err'
  | 'reg_ngp'
  | 'reg_nak'
  | 'srtla_unknown'
  | 'srt_data'
  | 'srt_control'
  | 'short';

/** What a datagram is, by its first bytes; padding after a control packet's fields is allowed. */
export function classify(datagram: Uint8Array): SrtlaKind {
  const type = packetType(datagram);
  if (type < 0) return 'short';
  if (type >= 0x9000 && type <= 0x92ff) {
    switch (type) {
      case SRTLA_TYPE.keepalive:
        return 'keepalive';
      case SRTLA_TYPE.ack:
        return 'srtla_ack';
      case SRTLA_TYPE.reg1:
        return 'reg1';
      case SRTLA_TYPE.reg2:
        return 'reg2';
      case SRTLA_TYPE.reg3:
        return 'reg3';
      case SRTLA_TYPE.regErr:
        return 'reg_err';
      case SRTLA_TYPE.regNgp:
        return 'reg_ngp';
      case SRTLA_TYPE.regNak:
        return 'reg_nak';
      default:
        return 'srtla_unknown';
    }
  }
  if (datagram.length < SRT_HEADER_BYTES) return 'short';
  return isSrtData(datagram) ? 'srt_data' : 'srt_control';
}

/** A registration's 256-byte id, or undefined when the packet is too short to carry one. */
export function registrationId(datagram: Buffer): Buffer | undefined {
  return datagram.length < SRTLA_REG_BYTES ? undefined : datagram.subarray(2, SRTLA_REG_BYTES);
}

function control(type: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(type);
  return b;
}
export const REG3 = control(SRTLA_TYPE.reg3);
export const REG_ERR = control(SRTLA_TYPE.regErr);
export const REG_NGP = control(SRTLA_TYPE.regNgp);

export function buildReg(type: typeof SRTLA_TYPE.reg1 | typeof SRTLA_TYPE.reg2, id: Uint8Array): Buffer {
  const b = Buffer.alloc(SRTLA_REG_BYTES);
  b.writeUInt16BE(type);
  b.set(id.subarray(0, SRTLA_ID_BYTES), 2);
  return b;
}

export function reg2(id: Uint8Array): Buffer {
  return buildReg(SRTLA_TYPE.reg2, id);
}

/** An empty SRTLA ACK (0x91000000 + room for 10 sequence numbers), filled by `writeAckSeq`. */
export function newSrtlaAck(): Buffer {
  const b = Buffer.alloc(SRTLA_ACK_BYTES);
  b.writeUInt32BE(0x91000000);
  return b;
}

export function writeAckSeq(ack: Buffer, index: number, seq: number): void {
  ack.writeUInt32BE(seq >>> 0, 4 + index * 4);
}

export function srtlaAck(seqs: readonly number[]): Buffer {
  const b = newSrtlaAck();
  for (let i = 0; i < Math.min(seqs.length, SRTLA_ACK_SEQS); i++) writeAckSeq(b, i, seqs[i] as number);
  return b;
}

export function srtlaAckSeqs(ack: Buffer): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < SRTLA_ACK_SEQS && 8 + i * 4 <= ack.length; i++) seqs.push(ack.readUInt32BE(4 + i * 4));
  return seqs;
}

/** Link telemetry a sender puts in its extended keepalive. */
export interface KeepaliveTelemetry {
  connId: number;
  window: number;
  inFlight: number;
  rttMs: number;
  nakCount: number;
  bitrateBytesPerSec: number;
}

export interface Keepalive {
  /** The sender's clock in ms (Moblin and extended keepalives); null for BELABOX's 2-byte one. */
  timestampMs: number | null;
  telemetry: KeepaliveTelemetry | null;
}

export function parseKeepalive(datagram: Buffer): Keepalive {
  const timestampMs = datagram.length >= 10 ? Number(datagram.readBigUInt64BE(2)) : null;
  let telemetry: KeepaliveTelemetry | null = null;
  if (datagram.length >= KEEPALIVE_EXT_BYTES && datagram.readUInt16BE(10) === KEEPALIVE_EXT_MAGIC && datagram.readUInt16BE(12) === KEEPALIVE_EXT_VERSION) {
    telemetry = {
      connId: datagram.readUInt32BE(14),
      window: datagram.readInt32BE(18),
      inFlight: datagram.readInt32BE(22),
      rttMs: datagram.readUInt32BE(26),
      nakCount: datagram.readUInt32BE(30),
      bitrateBytesPerSec: datagram.readUInt32BE(34),
    };
  }
  return { timestampMs, telemetry };
}

export function buildKeepalive(timestampMs?: number, telemetry?: KeepaliveTelemetry): Buffer {
  if (timestampMs === undefined) return control(SRTLA_TYPE.keepalive);
  const b = Buffer.alloc(telemetry ? KEEPALIVE_EXT_BYTES : 10);
  b.writeUInt16BE(SRTLA_TYPE.keepalive);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(timestampMs))), 2);
  if (telemetry) {
    b.writeUInt16BE(KEEPALIVE_EXT_MAGIC, 10);
    b.writeUInt16BE(KEEPALIVE_EXT_VERSION, 12);
    b.writeUInt32BE(telemetry.connId >>> 0, 14);
    b.writeInt32BE(telemetry.window | 0, 18);
    b.writeInt32BE(telemetry.inFlight | 0, 22);
    b.writeUInt32BE(telemetry.rttMs >>> 0, 26);
    b.writeUInt32BE(telemetry.nakCount >>> 0, 30);
    b.writeUInt32BE(telemetry.bitrateBytesPerSec >>> 0, 34);
  }
  return b;
}

/** The ACK number an SRT ACK carries and its ACKACK echoes (bytes 4–7). */
export function srtAckNumber(datagram: Uint8Array): number {
  return datagram.length < 8
    ? -1
    : (((datagram[4] as number) << 24) | ((datagram[5] as number) << 16) | ((datagram[6] as number) << 8) | (datagram[7] as number)) >>> 0;
}

/** "::ffff:1.2.3.4" (a dual-stack socket's view of IPv4) → "1.2.3.4". */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** host:port, or [v6]:port. */
export function linkLabel(address: string, port: number): string {
  const host = normalizeAddress(address);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
