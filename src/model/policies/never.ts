/** Baseline: containers stay where they were placed. */
import { definePolicy } from './define.ts';

export const neverPolicy = definePolicy({
  name: 'never',
  defaults: {},
  decide: () => [],
});
