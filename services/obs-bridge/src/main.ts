// Entry of the obs-bridge service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { bridgeEnv } from './config.ts';

await runBusService('obs-bridge', bridgeEnv, buildApp);
