// Acts on srt-live-transmit's stderr news: acceptance and disconnects for the feed monitor, and rejections
// named after the sender whose handshake it logged last.
// No I/O: the feed monitor and a rejection sink are handed in.
import type { Logger } from '@irlkit/shared';
import type { FeedMonitor } from './feed-monitor.ts';
import type { TransmitNews } from './transmit-output.ts';

export interface TransmitNewsRouting {
  monitor: Pick<FeedMonitor, 'onSourceAccepted' | 'onDisconnected'>;
  /**
   * The streamer's name for a handshake that reached srt-live-transmit from this loopback address and
   * port; undefined when no sender is behind it.
   */
  senderOf(request: { from: string; port: number }): string | undefined;
  onRejected(rejection: { peer: string | null; code: number; reason: string }): void;
  log: Logger;
}

export class TransmitNewsRouter {
  /**
   * The sender whose connection request srt-live-transmit logged last, only to name a rejected one in
   * logs (a flood can blur that name; which sender was accepted comes from srt-live-transmit's answers).
   */
  private lastRequestPeer: string | undefined;

  constructor(private readonly routing: TransmitNewsRouting) {}

  handle(news: TransmitNews): void {
    const { monitor, log } = this.routing;
    switch (news.kind) {
      case 'source-connected':
        monitor.onSourceAccepted();
        break;
      case 'source-disconnected':
        monitor.onDisconnected('SRT connection closed');
        break;
      case 'connection-request': {
        const peer = this.routing.senderOf(news);
        if (peer !== undefined) this.lastRequestPeer = peer;
        break;
      }
      case 'rejected':
        this.routing.onRejected({ peer: this.lastRequestPeer ?? null, code: news.code, reason: news.reason });
        break;
      case 'error':
        log.warn({ line: news.message }, 'srt-live-transmit error');
        break;
    }
  }
}
