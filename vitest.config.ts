import { configDefaults, defineConfig } from 'vitest/config';

// `npm test` (scripts/test.sh) runs two more passes after the unit tests:
// the package test (test/package: npm pack, install from the registry in an
// empty folder; CONMIG_PACKAGE_TEST=1 includes it), then the live tests, one
// file at a time (they share the machine's namespaces and addresses).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(process.env.CONMIG_PACKAGE_TEST === '1' ? [] : ['test/package/**'])],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});
