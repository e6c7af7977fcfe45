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

/**
 * Whether a datagram srt-live-transmit sent to a sender belongs to an established connection: ACKs,
 * NAKs and keepalives go only to the peer it accepted, never to a pending or refused handshake.
 */
export function isConnectedAnswer(datagram: Uint8Array): boolean {
  if (srtPacketKind(datagram) !== 'control') return false;
  const type = srtControlType(datagram);
  return type === SRT_CONTROL.ack || type === SRT_CONTROL.nak || type === SRT_CONTROL.keepalive;
}
