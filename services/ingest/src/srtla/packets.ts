// SRTLA packet parsing and building: pure functions on bytes, no I/O. SRT's own wire facts are in
// ../wire/srt.ts. All multi-byte fields are big-endian.

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

export const SRTLA_ID_BYTES = 256;
export const SRTLA_REG_BYTES = 2 + SRTLA_ID_BYTES;
export const SRTLA_ACK_SEQS = 10;
export const SRTLA_ACK_BYTES = 4 + 4 * SRTLA_ACK_SEQS;
/** Extended keepalive (irlserver): timestamp, then magic 0xC01F, version 1 and link telemetry. */
export const KEEPALIVE_EXT_BYTES = 38;
const KEEPALIVE_EXT_MAGIC = 0xc01f;
const KEEPALIVE_EXT_VERSION = 1;

/** A registration's 256-byte id, or undefined when the packet is too short to carry one. */
export function registrationId(datagram: Buffer): Buffer | undefined {
  return datagram.length < SRTLA_REG_BYTES ? undefined : datagram.subarray(2, SRTLA_REG_BYTES);
}

/**
 * Replies the receiver makes up (REG3, REG_ERR, REG_NGP) are 2 bytes of type on the wire, and some
 * carrier NATs drop datagrams that small, so they leave zero-padded to this size (OpenIRL's srtla
 * receiver does the same). Senders dispatch on the type alone: BELABOX's srtla_send.c
 * (handle_srtla_data: `switch (get_srtla_type(buf, n))`, REG3/REG_NGP/REG_ERR read no length) and
 * Moblin's Srtla RemoteConnection.swift (handleSrtlaControlPacket: `switch type`), so padding is safe.
 */
export const SRTLA_REPLY_MIN_BYTES = 32;

function control(type: number): Buffer {
  const b = Buffer.alloc(SRTLA_REPLY_MIN_BYTES);
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
