// The alerts' runtime: follows the stream's events, runs the rules on a one-second clock, checks the disk
// once a minute, and hands each alert to the webhooks. Started and stopped by the dashboard server.
import { statfs } from 'node:fs/promises';
import type { Bus, EventName, Logger } from '@irlkit/shared';
import { type Alert, type AlertKind, AlertRules } from './rules';
import { type WebhookOptions, WebhookSender, type WebhookTarget } from './webhook';

export interface AlertSettings {
  targets: WebhookTarget[];
  kinds: AlertKind[];
  feedLostMs: number;
  diskPercent: number;
  diskPath: string;
}

const FOLLOWED: EventName[] = ['switcher.state', 'obs.state', 'log', 'process', 'restream.state'];
const DISK_CHECK_MS = 60_000;

export class AlertService {
  readonly rules: AlertRules;
  readonly webhooks: WebhookSender;
  /** Every alert raised, newest last (bounded). */
  readonly raised: Alert[] = [];
  private readonly unsubscribes: Array<() => void> = [];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly settings: AlertSettings,
    private readonly log: Logger,
    webhookOptions: Omit<WebhookOptions, 'streamId'> = {},
  ) {
    this.rules = new AlertRules({ kinds: new Set(settings.kinds), feedLostMs: settings.feedLostMs, diskPercent: settings.diskPercent });
    this.webhooks = new WebhookSender(settings.targets, { ...webhookOptions, streamId: bus.streamId }, log);
  }

  start(): void {
    if (this.settings.targets.length === 0) {
      this.log.info('alerts: no webhook configured (ALERT_WEBHOOK_URLS)');
      return;
    }
    for (const name of FOLLOWED) this.unsubscribes.push(this.bus.subscribe(name, (payload) => this.raise(this.rules.observe(name, payload, Date.now()))));
    this.timers.push(setInterval(() => this.raise(this.rules.tick(Date.now())), 1000));
    if (this.settings.kinds.includes('disk-full')) {
      const check = () => void this.checkDisk();
      check();
      this.timers.push(setInterval(check, DISK_CHECK_MS));
    }
    this.log.info({ webhooks: this.settings.targets.map((t) => ({ host: new URL(t.url).host, format: t.format })), kinds: this.settings.kinds }, 'alerts on');
  }

  private async checkDisk(): Promise<void> {
    try {
      const s = await statfs(this.settings.diskPath);
      const usedPercent = s.blocks > 0 ? (100 * (s.blocks - s.bavail)) / s.blocks : 0;
      this.raise(this.rules.observeDisk(usedPercent, this.settings.diskPath, Date.now()));
    } catch (error) {
      this.log.warn({ err: (error as Error).message, path: this.settings.diskPath }, 'alerts: cannot read the disk usage');
    }
  }

  private raise(alerts: Alert[]): void {
    for (const alert of alerts) {
      this.log.warn({ kind: alert.kind, title: alert.title, message: alert.message }, 'alert');
      this.raised.push(alert);
      if (this.raised.length > 200) this.raised.shift();
      this.webhooks.send(alert);
    }
  }

  stop(): void {
    for (const u of this.unsubscribes.splice(0)) u();
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.webhooks.stop();
  }
}
