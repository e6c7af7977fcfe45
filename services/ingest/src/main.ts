// Entry of the ingest service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { ingestConfig } from './config.ts';

await runBusService('ingest', ingestConfig, buildApp);
