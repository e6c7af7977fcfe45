// Entry of the desktop service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { desktopConfig } from './config.ts';

await runBusService('desktop', desktopConfig, buildApp);
