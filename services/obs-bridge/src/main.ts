// Entry of the obs-bridge service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { bridgeConfig } from './config.ts';

await runBusService('obs-bridge', bridgeConfig, buildApp);
