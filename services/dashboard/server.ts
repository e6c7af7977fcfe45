// The dashboard's HTTP server: Next.js behind a plain Node server whose front door (lib/front-door.ts)
// stamps every request with the client address it can vouch for, refuses cross-site and non-JSON
// writes, and answers logins itself, before Next reads a byte of their bodies.
import { createServer } from 'node:http';
import { createLogger, runService } from '@irlkit/shared';
import next from 'next';
import { closeBus } from './lib/bus.ts';
import { trustedProxies } from './lib/client-address.ts';
import { config } from './lib/config.ts';
import { createFrontDoor } from './lib/front-door.ts';
import { LoginGate } from './lib/login-gate.ts';

const log = createLogger('dashboard');

await runService(
  'dashboard',
  async () => {
    const settings = config(); // a bad variable ends here, named, with exit 78
    log.level = settings.LOG_LEVEL;
    const app = next({ dev: false, dir: import.meta.dirname, hostname: settings.DASHBOARD_HOST, port: settings.DASHBOARD_PORT });
    const handle = app.getRequestHandler();
    const frontDoor = createFrontDoor({
      config: settings,
      proxies: trustedProxies(settings.DASHBOARD_TRUSTED_PROXIES),
      gate: new LoginGate({
        perClientPerMinute: settings.DASHBOARD_LOGIN_ATTEMPTS_PER_MINUTE,
        globalPerMinute: settings.DASHBOARD_LOGIN_GLOBAL_ATTEMPTS_PER_MINUTE,
      }),
      log,
    });
    const server = createServer((request, response) => {
      frontDoor(request, response).then(
        (handled) => {
          if (!handled) void handle(request, response);
        },
        (error: unknown) => {
          log.error({ err: error, path: request.url }, 'front door failed');
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
          response.end('{"ok":false,"error":"internal error"}');
        },
      );
    });
    return {
      async start() {
        await app.prepare();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(settings.DASHBOARD_PORT, settings.DASHBOARD_HOST, resolve);
        });
        log.info({ url: `http://${settings.DASHBOARD_HOST}:${settings.DASHBOARD_PORT}` }, 'dashboard listening');
      },
      async stop() {
        // Open event streams never end by themselves: close them, so a stop does not wait on them.
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await closeBus();
      },
    };
  },
  log,
);
