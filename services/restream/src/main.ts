// Entry of the restream service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { restreamConfig } from './config.ts';

await runBusService('restream', restreamConfig, buildApp);
