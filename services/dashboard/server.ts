// The dashboard's HTTP server: Next.js behind a plain Node server that stamps every request with the
// client address it can vouch for (the socket's, or the one your proxy appended), so the login rate
// limit is per client and a forged X-Forwarded-For can neither dodge it nor lock the streamer out.
import { createServer } from 'node:http';
import next from 'next';
import { CLIENT_ADDRESS_HEADER, clientAddress } from './lib/client-address.ts';
import { config } from './lib/config.ts';

const settings = config();
const app = next({ dev: false, dir: import.meta.dirname, hostname: settings.DASHBOARD_HOST, port: settings.DASHBOARD_PORT });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((request, response) => {
  request.headers[CLIENT_ADDRESS_HEADER] = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], settings.DASHBOARD_TRUST_PROXY);
  void handle(request, response);
});
server.listen(settings.DASHBOARD_PORT, settings.DASHBOARD_HOST, () => {
  process.stdout.write(`dashboard listening on http://${settings.DASHBOARD_HOST}:${settings.DASHBOARD_PORT}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
