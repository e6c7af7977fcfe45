// Entry of the desktop service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { desktopEnv } from './config.ts';

await runBusService('desktop', desktopEnv, buildApp);
