import { describe, expect, it } from 'vitest';
import { selfCommand, siblingModuleArgs } from '../../src/run/self.ts';

describe('starting conmig code in another process', () => {
  it('runs a sibling module the way the caller runs: compiled with plain node, a source through tsx', () => {
    expect(siblingModuleArgs('file:///pkg/dist/live/testbed/up.js', 'relay-main')).toEqual(['/pkg/dist/live/testbed/relay-main.js']);
    expect(siblingModuleArgs('file:///repo/src/live/testbed/up.ts', 'relay-main')).toEqual(['--import', 'tsx', '/repo/src/live/testbed/relay-main.ts']);
  });

  it('the --seeds children run bin/conmig.js, from the sources when this process does', () => {
    const self = selfCommand();
    expect(self.args).toHaveLength(1);
    expect(self.args[0]).toMatch(/bin\/conmig\.js$/);
    // These tests run the sources: the children must too (CONMIG_FROM_SOURCE), not a possibly stale dist/.
    expect(self.env).toEqual({ CONMIG_FROM_SOURCE: '1' });
  });
});
