// A Bus connected to a test nats-server.
import { Bus, connectNats, silentLogger } from '@irlkit/shared';
import type { TestNats } from './nats-server.ts';

export async function testBus(nats: TestNats, streamId = 'main', name = 'test'): Promise<Bus & { closeConnection(): Promise<void> }> {
  const nc = await connectNats({ url: nats.url, user: nats.user, password: nats.password, name }, silentLogger());
  const bus = new Bus(nc, streamId, silentLogger()) as Bus & { closeConnection(): Promise<void> };
  bus.closeConnection = async () => {
    bus.close();
    await nc.close();
  };
  return bus;
}

/**
 * A dashboard page open, as far as obs-bridge can tell: `dashboard.viewers` with one page, repeated as the
 * dashboard repeats it. obs-bridge takes preview screenshots only while one is open.
 */
export class PreviewViewer {
  private repeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly repeatMs = 5000,
  ) {}

  open(): void {
    if (this.repeat) return;
    const tell = () => this.bus.publish('dashboard.viewers', { ts: Date.now(), viewers: 1 });
    tell();
    this.repeat = setInterval(tell, this.repeatMs);
  }

  close(): void {
    if (!this.repeat) return;
    clearInterval(this.repeat);
    this.repeat = undefined;
    this.bus.publish('dashboard.viewers', { ts: Date.now(), viewers: 0 });
  }
}
