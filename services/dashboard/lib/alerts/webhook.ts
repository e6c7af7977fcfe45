// Delivers alerts to the streamer's webhooks: one queue per URL, in order, each retried with backoff until it
// is taken (or too old to matter); Discord's shape for Discord URLs, a generic JSON shape for the rest.
// Every attempt is logged with the host only: a webhook URL is a secret (its path is the key).
import type { Logger } from '@irlkit/shared';
import type { Alert } from './rules';

export type WebhookFormat = 'discord' | 'generic';

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

export interface DeliveryRecord {
  host: string;
  kind: Alert['kind'];
  alertTs: number;
  attempt: number;
  status: number | null;
  error: string | null;
  delivered: boolean;
}

export interface WebhookOptions {
  /** First retry after this; doubled each time up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An alert not delivered within this is dropped (logged): news that old helps nobody. */
  giveUpAfterMs?: number;
  requestTimeoutMs?: number;
  streamId: string;
}

const DISCORD_COLORS: Record<Alert['severity'], number> = { critical: 0xe5484d, warning: 0xf5a524, info: 0x46a758 };

export function webhookFormat(url: string, configured: 'auto' | WebhookFormat): WebhookFormat {
  if (configured !== 'auto') return configured;
  const { hostname, pathname } = new URL(url);
  return /(^|\.)(discord|discordapp)\.com$/.test(hostname) && pathname.startsWith('/api/webhooks/') ? 'discord' : 'generic';
}

export function webhookBody(alert: Alert, format: WebhookFormat, streamId: string): unknown {
  if (format === 'discord') {
    return {
      username: 'irlkit',
      content: `**${alert.title}** (${streamId})`,
      embeds: [{ title: alert.title, description: alert.message, color: DISCORD_COLORS[alert.severity], timestamp: new Date(alert.ts).toISOString() }],
      allowed_mentions: { parse: [] },
    };
  }
  return {
    source: 'irlkit',
    streamId,
    kind: alert.kind,
    severity: alert.severity,
    title: alert.title,
    message: alert.message,
    ts: alert.ts,
    time: new Date(alert.ts).toISOString(),
  };
}

class WebhookQueue {
  private readonly queue: Alert[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly host: string;

  constructor(
    private readonly target: WebhookTarget,
    private readonly options: Required<WebhookOptions>,
    private readonly log: Logger,
    private readonly onDelivery: (record: DeliveryRecord) => void,
  ) {
    this.host = new URL(target.url).host;
  }

  push(alert: Alert): void {
    this.queue.push(alert);
    if (!this.running) void this.run();
  }

  get pending(): number {
    return this.queue.length;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const alert = this.queue[0] as Alert;
        let backoffMs = this.options.initialBackoffMs;
        for (let attempt = 1; !this.stopped; attempt++) {
          const result = await this.send(alert);
          const record = { host: this.host, kind: alert.kind, alertTs: alert.ts, attempt, ...result };
          this.onDelivery(record);
          if (result.delivered) {
            this.log.info(record, 'alert delivered');
            break;
          }
          const permanent = result.status !== null && result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429;
          if (permanent || Date.now() - alert.ts > this.options.giveUpAfterMs) {
            this.log.error(record, permanent ? 'alert refused by the webhook; not retried' : 'alert not delivered in time; dropped');
            break;
          }
          this.log.warn({ ...record, retryInMs: backoffMs }, 'alert delivery failed; retrying');
          await this.sleep(result.retryAfterMs ?? backoffMs);
          backoffMs = Math.min(backoffMs * 2, this.options.maxBackoffMs);
        }
        this.queue.shift();
      }
    } finally {
      this.running = false;
    }
  }

  private async send(alert: Alert): Promise<{ delivered: boolean; status: number | null; error: string | null; retryAfterMs?: number }> {
    try {
      const response = await fetch(this.target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'irlkit-alerts' },
        body: JSON.stringify(webhookBody(alert, this.target.format, this.options.streamId)),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        redirect: 'error',
      });
      await response.arrayBuffer().catch(() => undefined);
      const retryAfterS = Number(response.headers.get('retry-after'));
      return {
        delivered: response.ok,
        status: response.status,
        error: response.ok ? null : `HTTP ${response.status}`,
        ...(response.status === 429 && retryAfterS > 0 ? { retryAfterMs: Math.min(retryAfterS * 1000, this.options.maxBackoffMs) } : {}),
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { delivered: false, status: null, error: cause ?? (error as Error).message };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }
}

/** Every configured webhook, each with its own ordered queue. */
export class WebhookSender {
  private readonly queues: WebhookQueue[];
  /** The latest attempts, newest last (for the settings page and tests). */
  readonly deliveries: DeliveryRecord[] = [];

  constructor(targets: readonly WebhookTarget[], options: WebhookOptions, log: Logger) {
    const full: Required<WebhookOptions> = {
      initialBackoffMs: 1000,
      maxBackoffMs: 60_000,
      giveUpAfterMs: 30 * 60_000,
      requestTimeoutMs: 10_000,
      ...options,
    };
    this.queues = targets.map(
      (target) =>
        new WebhookQueue(target, full, log, (record) => {
          this.deliveries.push(record);
          if (this.deliveries.length > 200) this.deliveries.shift();
        }),
    );
  }

  send(alert: Alert): void {
    for (const queue of this.queues) queue.push(alert);
  }

  get pending(): number {
    return this.queues.reduce((sum, q) => sum + q.pending, 0);
  }

  stop(): void {
    for (const queue of this.queues) queue.stop();
  }
}
