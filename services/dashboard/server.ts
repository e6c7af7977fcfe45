// The dashboard's HTTP server: Next.js behind a plain Node server that stamps every request with the
// client address it can vouch for (the socket's, or the one your proxy appended), so the login rate
// limit is per client and a forged X-Forwarded-For can neither dodge it nor lock the streamer out.
import { createServer } from 'node:http';
import { createLogger, runService } from '@irlkit/shared';
import next from 'next';
import { bus, closeBus } from './lib/bus.ts';
import { CLIENT_ADDRESS_HEADER, clientAddress } from './lib/client-address.ts';
import { config } from './lib/config.ts';
import { PublisherTracker } from './lib/publisher-stats.ts';
import { serveStats } from './lib/stats-endpoint.ts';

const log = createLogger('dashboard');

await runService(
  'dashboard',
  async () => {
    const settings = config(); // a bad variable ends here, named, with exit 78
    log.level = settings.common.logLevel;
    const app = next({ dev: false, dir: import.meta.dirname, hostname: settings.http.host, port: settings.http.port });
    const handle = app.getRequestHandler();
    const publisher = new PublisherTracker();
    let stopFollowing: (() => void) | undefined;
    const server = createServer((request, response) => {
      request.headers[CLIENT_ADDRESS_HEADER] = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], settings.http.trustProxy);
      void serveStats(request, response, settings.stats.key, () => publisher.view(), log).then(
        async (served) => {
          if (!served) await handle(request, response);
        },
        (error: unknown) => {
          log.error({ err: error }, 'stats endpoint failed');
          if (!response.headersSent) response.writeHead(503).end();
        },
      );
    });
    return {
      async start() {
        await app.prepare();
        // Follow the stream from the start, so the stats endpoint has numbers at its first request.
        void bus().then(
          (b) => {
            stopFollowing = publisher.follow(b);
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
        await closeBus();
      },
    };
  },
  log,
);
