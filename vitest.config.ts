import { defineConfig } from 'vitest/config';

// `npm test` (scripts/test.sh) runs the live tests in a second, serial pass:
// they share the machine's namespaces and addresses.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});
