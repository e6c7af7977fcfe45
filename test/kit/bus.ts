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
