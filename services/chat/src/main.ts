// Entry of the chat service: configuration, NATS, the app; stops cleanly on SIGTERM.
import { runBusService } from '@irlkit/shared';
import { buildApp } from './app.ts';
import { chatConfig } from './config.ts';

await runBusService('chat', chatConfig, buildApp);
