import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; integration and end-to-end suites live under test/.
// Real services (Postgres, Kafka, Prometheus) are started by the suites themselves.
export default defineConfig({
  test: {
    include: [
      '{pipeline,receivers,processors,exporters,extensions,config,cli,bench}/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
