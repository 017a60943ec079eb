import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Live tests share one machine's namespaces: they must not run in parallel files.
    fileParallelism: true,
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});
