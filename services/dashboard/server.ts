// The dashboard's HTTP server: Next.js behind a plain Node server whose front door (lib/front-door.ts)
// stamps every request with the client address it can vouch for, refuses cross-site and non-JSON
// writes, and answers logins itself, before Next reads a byte of their bodies.
import { createServer } from 'node:http';
import { basename, dirname } from 'node:path';
import { createLogger, runService } from '@irlkit/shared';
import next from 'next';
import { AlertService } from './lib/alerts/service.ts';
import { bus, closeBus } from './lib/bus.ts';
import { trustedProxies } from './lib/client-address.ts';
import { config } from './lib/config.ts';
import { createFrontDoor } from './lib/front-door.ts';
import { LoginGate } from './lib/login-gate.ts';
import { PublisherTracker } from './lib/publisher-stats.ts';
import { brotliStatic } from './lib/static-brotli.ts';
import { serveStats } from './lib/stats-endpoint.ts';

const log = createLogger('dashboard');
/** The Next app's folder: this file's, or its parent's when this runs compiled as dist/server.js. */
const appDir = basename(import.meta.dirname) === 'dist' ? dirname(import.meta.dirname) : import.meta.dirname;

await runService(
  'dashboard',
  async () => {
    const settings = config(); // a bad variable ends here, named, with exit 78
    log.level = settings.common.logLevel;
    const app = next({ dev: false, dir: appDir, hostname: settings.http.host, port: settings.http.port });
    const handle = app.getRequestHandler();
    const frontDoor = createFrontDoor({
      config: settings,
      proxies: trustedProxies(settings.http.trustedProxies),
      gate: new LoginGate({
        perClientPerMinute: settings.login.attemptsPerMinute,
        globalPerMinute: settings.login.globalAttemptsPerMinute,
      }),
      log,
    });
    const publisher = new PublisherTracker();
    const staticFiles = brotliStatic(appDir);
    let stopFollowing: (() => void) | undefined;
    let alerts: AlertService | undefined;
    const server = createServer((request, response) => {
      frontDoor(request, response)
        .then(async (handled) => {
          if (handled) return;
          if (await serveStats(request, response, settings.stats.key, () => publisher.view(), log)) return;
          if (await staticFiles.handle(request, response)) return;
          await handle(request, response);
        })
        .catch((error: unknown) => {
          log.error({ err: error, path: request.url }, 'request failed');
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
          response.end('{"ok":false,"error":"internal error"}');
        });
    });
    return {
      async start() {
        await app.prepare();
        void staticFiles.warm().catch((error: unknown) => log.warn({ err: error }, 'brotli: the build was not compressed'));
        // Follow the stream from the start, so the stats endpoint has numbers at its first request.
        void bus().then(
          (b) => {
            // The operator's page follows every stream itself (lib/operator/); the stats endpoint and alerts are a stream's.
            if (settings.role === 'operator') return;
            stopFollowing = publisher.follow(b);
            alerts = new AlertService(b, settings.alerts, log);
            alerts.start();
          },
          (error: unknown) => log.error({ err: error }, 'dashboard: NATS connection failed'),
        );
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(settings.http.port, settings.http.host, resolve);
        });
        log.info({ url: `http://${settings.http.host}:${settings.http.port}` }, 'dashboard listening');
      },
      async stop() {
        // Open event streams never end by themselves: close them, so a stop does not wait on them.
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        stopFollowing?.();
        alerts?.stop();
        await closeBus();
      },
    };
  },
  log,
);
