import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRuns, readRun } from '../../src/results/index.ts';
import { FIXTURE_DIR } from '../fixtures/results/generate.ts';
import { fixtureRun } from './fixture.ts';

describe('committed fixture runs (test/fixtures/results/two-policies)', () => {
  it('are found by findRuns and equal the in-code fixture (regenerate with generate.ts)', async () => {
    expect(await findRuns(FIXTURE_DIR)).toEqual([join(FIXTURE_DIR, 'nearest'), join(FIXTURE_DIR, 'never')]);
    for (const policy of ['never', 'nearest'] as const) {
      const { dir, ...data } = await readRun(join(FIXTURE_DIR, policy));
      expect(dir).toBe(join(FIXTURE_DIR, policy));
      expect(data).toEqual(fixtureRun(policy));
    }
  });
});
