// Owns the srt-live-transmit child: the SRT listener the relay feeds, writing the stream it receives to the
// loopback UDP port of ingest's feed output (which OBS reads over TCP).
import { type ChildEvent, type Logger, Supervisor } from '@irlkit/shared';
import { parseStatsLine, parseStderrLine, type TransmitNews, type TransmitStats } from './transmit-output.ts';

export interface TransmitSettings {
  binary: string;
  /** Loopback port srt-live-transmit listens on for the relay. */
  listenPort: number;
  latencyMs: number;
  lossMaxTtl: number;
  passphrase?: string | undefined;
  pbKeyLen: number;
  /** Loopback UDP port of ingest's feed output, where srt-live-transmit writes the transport stream. */
  outputPort: number;
  /** Statistics every N packets. */
  statsEveryPackets: number;
}

/**
 * srt-live-transmit's command line. SRT options travel as URI parameters (latency in ms here).
 * Its URI parser takes each value verbatim up to the next `&` and decodes nothing, so values go in
 * raw: percent-encoding would reach SRT as literal `%26`, `+` (a passphrase's space would become `+`).
 * A passphrase containing `&` cannot be carried at all; the configuration refuses it.
 */
export function transmitArgs(s: TransmitSettings): string[] {
  const input: Array<[string, string]> = [
    ['mode', 'listener'],
    ['latency', String(s.latencyMs)],
    ['lossmaxttl', String(s.lossMaxTtl)],
    // A sender that vanishes is noticed by the relay within the stall timeout; this only frees the socket.
    ['peeridletimeo', '4000'],
  ];
  if (s.passphrase) {
    if (s.passphrase.includes('&')) throw new Error("SRT_PASSPHRASE: must not contain '&' (srt-live-transmit cannot take it)");
    input.push(['passphrase', s.passphrase]);
    if (s.pbKeyLen) input.push(['pbkeylen', String(s.pbKeyLen)]);
  }
  const query = (pairs: Array<[string, string]>) => pairs.map(([key, value]) => `${key}=${value}`).join('&');
  return ['-a:yes', `-s:${s.statsEveryPackets}`, '-pf:json', '-ll:note', `srt://127.0.0.1:${s.listenPort}?${query(input)}`, `udp://127.0.0.1:${s.outputPort}`];
}

export interface TransmitCallbacks {
  onStats(stats: TransmitStats): void;
  onNews(news: TransmitNews): void;
  onChildEvent(event: ChildEvent): void;
}

export function createTransmit(settings: TransmitSettings, callbacks: TransmitCallbacks, log: Logger): Supervisor {
  return new Supervisor({
    name: 'srt-live-transmit',
    command: settings.binary,
    args: () => transmitArgs(settings),
    log,
    // A dead relay means a dead stream: come back fast, then back off if it keeps dying.
    backoff: { initialMs: 100, maxMs: 5000 },
    onEvent: callbacks.onChildEvent,
    onStdoutLine: (line) => {
      const stats = parseStatsLine(line);
      if (stats) callbacks.onStats(stats);
    },
    onStderrLine: (line) => {
      const news = parseStderrLine(line);
      log.trace({ line }, 'srt-live-transmit');
      if (news) callbacks.onNews(news);
      else if (/!W|\*E|\*F/.test(line)) log.debug({ line }, 'srt-live-transmit');
    },
  });
}
