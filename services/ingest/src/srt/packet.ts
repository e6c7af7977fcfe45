// Classifies SRT datagrams by their header, without decoding more than the first bytes.

export const SRT_CONTROL = {
  handshake: 0x8000,
  keepalive: 0x8001,
  ack: 0x8002,
  nak: 0x8003,
  shutdown: 0x8005,
  ackack: 0x8006,
} as const;

export type SrtPacketKind = 'data' | 'control' | 'invalid';

/** SRT's header is 16 bytes; anything shorter is not SRT. */
export const SRT_HEADER_BYTES = 16;

export function srtPacketKind(datagram: Uint8Array): SrtPacketKind {
  if (datagram.length < SRT_HEADER_BYTES) return 'invalid';
  return (datagram[0] as number) & 0x80 ? 'control' : 'data';
}

export function srtControlType(datagram: Uint8Array): number {
  return (((datagram[0] as number) << 8) | (datagram[1] as number)) & 0xffff;
}

export function isSrtShutdown(datagram: Uint8Array): boolean {
  return srtPacketKind(datagram) === 'control' && srtControlType(datagram) === SRT_CONTROL.shutdown;
}

/** The destination socket id (header bytes 12–15): on a listener's reply, the sender's SRT socket id. */
export function srtDestinationSocketId(datagram: Uint8Array): number {
  if (datagram.length < SRT_HEADER_BYTES) return 0;
  return Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength).readUInt32BE(12);
}

/**
 * An SRT shutdown control packet for one socket (16-byte header and the 4 bytes of padding libsrt sends):
 * the peer closes that connection at once instead of waiting for its idle timeout.
 */
export function srtShutdownPacket(destinationSocketId: number, timestampUs = 0): Buffer {
  const packet = Buffer.alloc(SRT_HEADER_BYTES + 4);
  packet.writeUInt16BE(SRT_CONTROL.shutdown, 0);
  packet.writeUInt32BE(timestampUs >>> 0, 8);
  packet.writeUInt32BE(destinationSocketId >>> 0, 12);
  return packet;
}
