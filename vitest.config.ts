// One vitest run over every package: real components, so generous timeouts one file at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/compose/**'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // One file at a time: OBS, ffmpeg and timing assertions share 2 cores.
    fileParallelism: false,
    reporters: ['default', './test/kit/summary-reporter.ts'],
  },
});
