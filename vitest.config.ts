import { configDefaults, defineConfig } from 'vitest/config';

// Three projects. `npm test` (scripts/test.sh) runs the unit tests, then the
// package test (npm pack, install from the registry in an empty folder; only
// with CONMIG_PACKAGE_TEST=1), then the live tests one file at a time (they
// share the machine's namespaces and addresses).
const packageTest = process.env.CONMIG_PACKAGE_TEST === '1';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: process.env.CI ? ['verbose'] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/live/**', 'test/package/**'],
          // Unit test files share a worker's module cache: none changes module state another
          // depends on, and importing the sources once per worker, not once per file, saves
          // most of the import time.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'package', include: packageTest ? ['test/package/**/*.test.ts'] : [] } },
      // Live files run one at a time; each gets its own migration journal (helpers/journal-setup.ts).
      { extends: true, test: { name: 'live', include: ['test/live/**/*.test.ts'], setupFiles: ['test/live/helpers/journal-setup.ts'] } },
    ],
  },
});
