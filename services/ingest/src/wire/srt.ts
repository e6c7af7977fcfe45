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
