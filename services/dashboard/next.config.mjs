// Next.js configuration: the shared workspace package is TypeScript source, compiled by Next. Plain
// JavaScript, not next.config.ts: Next loads its SWC compiler (about 24 MB resident) to read a TypeScript
// config at every server start.
/** @type {import('next').NextConfig} */
const config = {
  transpilePackages: ['@irlkit/shared'],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { ignoreBuildErrors: false },
  serverExternalPackages: ['nats', 'pino', 'pino-pretty'],
  // Pages' server modules load on their first request, not all at start: about 11 MB less for a dashboard
  // nobody has opened yet (docs/BENCHMARKS.md, footprint).
  experimental: { preloadEntriesOnStart: false },
};
export default config;
