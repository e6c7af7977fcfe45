// Next.js configuration: the shared workspace package is TypeScript source, compiled by Next.
import type { NextConfig } from 'next';

const config: NextConfig = {
  transpilePackages: ['@irlkit/shared'],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { ignoreBuildErrors: false },
  serverExternalPackages: ['nats', 'pino', 'pino-pretty'],
};
export default config;
