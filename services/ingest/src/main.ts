// Entry of the ingest service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { ingestEnv } from './config.ts';

await runBusService('ingest', ingestEnv, buildApp);
