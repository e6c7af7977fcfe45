// Just enough MPEG-TS to start a reader at a keyframe: the program tables (PAT, PMT) and where each video
// access unit a decoder can start at (H.264 IDR/SPS, HEVC IRAP/VPS/SPS) begins. No I/O.

export const TS_PACKET_BYTES = 188;
const SYNC = 0x47;

export type VideoCodec = 'h264' | 'hevc' | 'other';

const STREAM_TYPES: Record<number, VideoCodec> = { 27: 'h264', 36: 'hevc', 1: 'other', 2: 'other', 16: 'other' };

/** Video ES bytes scanned for a start-able NAL unit before a PES is taken for not a keyframe. */
const KEY_SCAN_BYTES = 4 * TS_PACKET_BYTES;

export const tsPid = (packet: Buffer): number => ((packet[1] as number) & 0x1f) * 256 + (packet[2] as number);
const unitStart = (packet: Buffer): boolean => ((packet[1] as number) & 0x40) !== 0;

/** Where a packet's payload begins (after the adaptation field), or -1 when it has none. */
function payloadOffset(packet: Buffer): number {
  const control = ((packet[3] as number) >> 4) & 0x3;
  if (control === 0 || control === 2) return -1;
  if (control === 1) return 4;
  const offset = 5 + (packet[4] as number);
  return offset < TS_PACKET_BYTES ? offset : -1;
}

/** The adaptation field's random access indicator: the encoder says a decoder may start here. */
function randomAccess(packet: Buffer): boolean {
  const control = ((packet[3] as number) >> 4) & 0x3;
  return (control === 2 || control === 3) && (packet[4] as number) > 0 && ((packet[5] as number) & 0x40) !== 0;
}

/** A PSI section in a unit-start packet (after its pointer field), or undefined. */
function section(packet: Buffer): Buffer | undefined {
  if (!unitStart(packet)) return undefined;
  const offset = payloadOffset(packet);
  if (offset < 0) return undefined;
  const start = offset + 1 + (packet[offset] as number);
  if (start + 3 > TS_PACKET_BYTES) return undefined;
  const length = (((packet[start + 1] as number) & 0x0f) << 8) | (packet[start + 2] as number);
  return packet.subarray(start, Math.min(TS_PACKET_BYTES, start + 3 + length));
}

/** Does this video elementary-stream data hold a NAL unit a decoder can start at? */
export function holdsKeyNal(es: Buffer, codec: VideoCodec): boolean {
  for (let i = 0; i + 3 < es.length; i++) {
    if (es[i] !== 0 || es[i + 1] !== 0 || es[i + 2] !== 1) continue;
    const header = es[i + 3] as number;
    if (codec === 'h264') {
      const type = header & 0x1f;
      if (type === 5 || type === 7) return true;
    } else if (codec === 'hevc') {
      const type = (header >> 1) & 0x3f;
      if ((type >= 16 && type <= 21) || type === 32 || type === 33) return true;
    }
  }
  return false;
}

/**
 * Follows one transport stream packet by packet: keeps its latest PAT and PMT packets (what a new reader
 * must get first) and tells, for each video PES, whether it begins an access unit a decoder can start at.
 */
export class TsProgram {
  /** The latest PAT and PMT packets, as sent. */
  pat: Buffer | undefined;
  pmt: Buffer | undefined;
  private pmtPid = -1;
  /** -1: the PMT names no video stream (a reader may start anywhere). */
  videoPid = -1;
  codec: VideoCodec = 'other';
  /** The video PES being read: its ES bytes so far, until it is known whether it starts at a keyframe. */
  private pesBytes: Buffer[] = [];
  private pesScanned = 0;
  private pesVerdict: boolean | null = null;

  get ready(): boolean {
    return this.pat !== undefined && this.pmt !== undefined;
  }

  /**
   * Reads one packet. A video PES's first packet is 'key-start' when it is known at once to begin at a keyframe,
   * else 'video-start'; a later packet of it that settles it does is 'key'; anything else is undefined.
   */
  observe(packet: Buffer): 'key-start' | 'video-start' | 'key' | undefined {
    if (packet[0] !== SYNC) return undefined;
    const pid = tsPid(packet);
    if (pid === 0) this.readPat(packet);
    else if (pid === this.pmtPid) this.readPmt(packet);
    if (pid !== this.videoPid || this.videoPid < 0) return undefined;
    if (unitStart(packet)) {
      this.pesBytes = [];
      this.pesScanned = 0;
      this.pesVerdict = null;
      if (randomAccess(packet)) this.pesVerdict = true;
      else this.scan(packet, true);
      return this.pesVerdict ? 'key-start' : 'video-start';
    }
    if (this.pesVerdict !== null) return undefined;
    this.scan(packet, false);
    return this.pesVerdict ? 'key' : undefined;
  }

  private scan(packet: Buffer, first: boolean): void {
    let offset = payloadOffset(packet);
    if (offset < 0) return;
    if (first) {
      // PES header: start code (3), stream id, length (2), flags (2), header data length.
      if (offset + 9 > TS_PACKET_BYTES) return;
      offset += 9 + (packet[offset + 8] as number);
      if (offset >= TS_PACKET_BYTES) return;
    }
    const es = packet.subarray(offset);
    this.pesBytes.push(es);
    this.pesScanned += es.length;
    if (holdsKeyNal(Buffer.concat(this.pesBytes), this.codec)) this.pesVerdict = true;
    else if (this.pesScanned >= KEY_SCAN_BYTES || this.codec === 'other') this.pesVerdict = false;
    if (this.pesVerdict !== null) this.pesBytes = [];
  }

  private readPat(packet: Buffer): void {
    const s = section(packet);
    if (s?.[0] !== 0x00) return;
    // Program entries from byte 8 to the CRC: the first real program (number ≠ 0) is the one played.
    for (let i = 8; i + 4 <= s.length - 4; i += 4) {
      const program = ((s[i] as number) << 8) | (s[i + 1] as number);
      if (program === 0) continue;
      this.pmtPid = (((s[i + 2] as number) & 0x1f) << 8) | (s[i + 3] as number);
      this.pat = Buffer.from(packet);
      return;
    }
  }

  private readPmt(packet: Buffer): void {
    const s = section(packet);
    if (s?.[0] !== 0x02 || s.length < 16) return;
    const infoLength = (((s[10] as number) & 0x0f) << 8) | (s[11] as number);
    let videoPid = -1;
    let codec: VideoCodec = 'other';
    for (let i = 12 + infoLength; i + 5 <= s.length - 4; ) {
      const type = s[i] as number;
      const pid = (((s[i + 1] as number) & 0x1f) << 8) | (s[i + 2] as number);
      const esInfo = (((s[i + 3] as number) & 0x0f) << 8) | (s[i + 4] as number);
      if (videoPid < 0 && STREAM_TYPES[type] !== undefined) {
        videoPid = pid;
        codec = STREAM_TYPES[type] as VideoCodec;
      }
      i += 5 + esInfo;
    }
    this.videoPid = videoPid;
    this.codec = codec;
    this.pmt = Buffer.from(packet);
  }
}

/** Splits a byte stream into whole TS packets, keeping a partial packet for the next chunk and skipping to sync. */
export class TsPacketizer {
  private rest: Buffer = Buffer.alloc(0);

  packets(chunk: Buffer): Buffer[] {
    let data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: Buffer[] = [];
    let i = 0;
    while (i + TS_PACKET_BYTES <= data.length) {
      if (data[i] !== SYNC) {
        i++;
        continue;
      }
      out.push(data.subarray(i, i + TS_PACKET_BYTES));
      i += TS_PACKET_BYTES;
    }
    data = data.subarray(i);
    this.rest = data.length ? Buffer.from(data) : Buffer.alloc(0);
    return out;
  }
}
