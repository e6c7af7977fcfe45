// SRT's wire facts both doors need (the plain SRT relay and the SRTLA receiver): header size, control
// types, and a datagram's kind by its first bytes. Pure functions on bytes, no I/O.

/** SRT control packet types (the 16 bits after the control flag). */
export const SRT_CONTROL = {
  handshake: 0x8000,
  keepalive: 0x8001,
  ack: 0x8002,
  nak: 0x8003,
  shutdown: 0x8005,
  ackack: 0x8006,
} as const;

/** SRT's header is 16 bytes; anything shorter is not SRT. */
export const SRT_HEADER_BYTES = 16;

export type SrtPacketKind = 'data' | 'control' | 'invalid';

export function srtPacketKind(datagram: Uint8Array): SrtPacketKind {
  if (datagram.length < SRT_HEADER_BYTES) return 'invalid';
  return isSrtData(datagram) ? 'data' : 'control';
}

/** Data packets have the top bit clear. */
export function isSrtData(datagram: Uint8Array): boolean {
  return datagram.length > 0 && ((datagram[0] as number) & 0x80) === 0;
}

/** The first 16 bits: a control packet's type (with its flag), or the top of a data packet's sequence number; -1 if under 2 bytes. */
export function packetType(datagram: Uint8Array): number {
  return datagram.length < 2 ? -1 : ((datagram[0] as number) << 8) | (datagram[1] as number);
}

export function isSrtShutdown(datagram: Uint8Array): boolean {
  return srtPacketKind(datagram) === 'control' && packetType(datagram) === SRT_CONTROL.shutdown;
}

/**
 * Whether a datagram srt-live-transmit sent to a sender belongs to an established connection: ACKs,
 * NAKs and keepalives go only to the peer it accepted, never to a pending or refused handshake.
 */
export function isConnectedAnswer(datagram: Uint8Array): boolean {
  if (srtPacketKind(datagram) !== 'control') return false;
  const type = packetType(datagram);
  return type === SRT_CONTROL.ack || type === SRT_CONTROL.nak || type === SRT_CONTROL.keepalive;
}

/** The 31-bit sequence number of an SRT data packet. */
export function srtDataSeq(datagram: Uint8Array): number {
  return ((((datagram[0] as number) & 0x7f) << 24) | ((datagram[1] as number) << 16) | ((datagram[2] as number) << 8) | (datagram[3] as number)) >>> 0;
}

/** An SRT data packet the sender sent again (the R flag, bit 26 of the second word). */
export function isSrtRetransmission(datagram: Uint8Array): boolean {
  return datagram.length >= SRT_HEADER_BYTES && ((datagram[0] as number) & 0x80) === 0 && ((datagram[4] as number) & 0x04) !== 0;
}

/** The ACK number an SRT ACK carries and its ACKACK echoes (bytes 4–7). */
export function srtAckNumber(datagram: Uint8Array): number {
  return datagram.length < 8
    ? -1
    : (((datagram[4] as number) << 24) | ((datagram[5] as number) << 16) | ((datagram[6] as number) << 8) | (datagram[7] as number)) >>> 0;
}

/** The destination socket id (header bytes 12–15): on a listener's reply, the sender's SRT socket id. */
export function srtDestinationSocketId(datagram: Uint8Array): number {
  if (datagram.length < SRT_HEADER_BYTES) return 0;
  return (((datagram[12] as number) << 24) | ((datagram[13] as number) << 16) | ((datagram[14] as number) << 8) | (datagram[15] as number)) >>> 0;
}

/**
 * An SRT shutdown control packet for one socket (16-byte header and the 4 bytes of padding libsrt sends):
 * the peer closes that connection at once instead of waiting for its idle timeout.
 */
export function srtShutdownPacket(destinationSocketId: number): Buffer {
  const packet = Buffer.alloc(SRT_HEADER_BYTES + 4);
  packet.writeUInt16BE(SRT_CONTROL.shutdown, 0);
  packet.writeUInt32BE(destinationSocketId >>> 0, 12);
  return packet;
}

/** Handshake type of the caller's second handshake, the one carrying the stream id (SRT RFC draft, §3.2.1). */
const HS_CONCLUSION = 0xffffffff;
/** Handshake extension holding the stream id (SRT_CMD_SID). */
const HS_EXT_SID = 5;
/** The handshake's fixed part (48 bytes) after the 16-byte header; extensions follow it. */
const HS_EXTENSIONS_AT = SRT_HEADER_BYTES + 48;

/** A handshake's type field (induction, conclusion, …), or undefined when the datagram is no full handshake. */
function handshakeType(datagram: Uint8Array): number | undefined {
  if (datagram.length < HS_EXTENSIONS_AT || packetType(datagram) !== SRT_CONTROL.handshake) return undefined;
  return new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength).getUint32(SRT_HEADER_BYTES + 20);
}

/** Whether this is a caller's conclusion handshake (the one srt-live-transmit accepts or rejects). */
export function isConclusionHandshake(datagram: Uint8Array): boolean {
  return handshakeType(datagram) === HS_CONCLUSION;
}

/**
 * The stream id a caller put in its conclusion handshake, '' when it sent none, undefined when the
 * datagram is not a conclusion handshake. SRT stores the id as 32-bit words with each word's bytes
 * reversed, zero-padded (libsrt's `srt::HtoILA` on the SID extension), so each word is turned back.
 */
export function handshakeStreamId(datagram: Uint8Array): string | undefined {
  if (!isConclusionHandshake(datagram)) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  for (let at = HS_EXTENSIONS_AT; at + 4 <= datagram.length; ) {
    const type = view.getUint16(at);
    const words = view.getUint16(at + 2);
    const end = at + 4 + words * 4;
    if (end > datagram.length) return '';
    if (type === HS_EXT_SID) {
      const bytes: number[] = [];
      for (let w = at + 4; w < end; w += 4) bytes.push(datagram[w + 3] as number, datagram[w + 2] as number, datagram[w + 1] as number, datagram[w] as number);
      const zero = bytes.indexOf(0);
      return Buffer.from(zero >= 0 ? bytes.slice(0, zero) : bytes).toString('utf8');
    }
    at = end;
  }
  return '';
}

/** Handshake type of the caller's first handshake, answered with the listener's SYN cookie. */
const HS_INDUCTION = 1;
/** Where the SYN cookie sits: the handshake's 8th 32-bit field (after version, encryption/extension, ISN, MTU, flow window, type, socket id). */
const HS_COOKIE_AT = SRT_HEADER_BYTES + 28;

/** Whether this is an induction handshake (the caller's first, or the listener's answer to it). */
export function isInductionHandshake(datagram: Uint8Array): boolean {
  return handshakeType(datagram) === HS_INDUCTION;
}

/** A handshake's SYN cookie (the listener's in its induction answer, echoed by the caller's conclusion). */
export function handshakeCookie(datagram: Uint8Array): number {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  return view.getUint32(HS_COOKIE_AT);
}

/**
 * A copy of a conclusion handshake carrying another listener's cookie. Each srt-live-transmit bakes its own
 * cookie (from the caller's address and its own start time), so a caller inducted by one listener must bring
 * the other's cookie to be accepted there.
 */
export function withHandshakeCookie(datagram: Uint8Array, cookie: number): Buffer {
  const copy = Buffer.from(datagram);
  copy.writeUInt32BE(cookie >>> 0, HS_COOKIE_AT);
  return copy;
}
