/**
 * The rollback is decided from the state at the failure alone: every state,
 * against the table written out here (the same as docs/migrate.md's).
 */
import { describe, expect, it } from 'vitest';
import { planRollback, type RollbackPlan } from '../../src/live/migrate/rollback-plan.ts';
import { STATE_KINDS, type StateKind } from '../../src/live/migrate/state.ts';
import { facts, plan, stateOf } from './states.ts';

const bothDirs = [
  { node: 'node1', dir: plan.srcDir },
  { node: 'node2', dir: plan.dstDir },
];
const restoreSource = { node: 'node1', container: 'counter', dir: plan.srcDir, bundle: '/b1/counter', service: plan.service };
const back = (mayHoldContainer: boolean): RollbackPlan => ({
  direction: 'back',
  clearDestination: { node: 'node2', container: 'counter', dir: plan.dstDir, bundle: '/b2/counter', mayHoldContainer },
  restoreSource,
});

const TABLE: Record<StateKind, RollbackPlan> = {
  planned: { direction: 'none', removeDirs: [] },
  prepared: { direction: 'none', removeDirs: bothDirs },
  predumped: { direction: 'none', removeDirs: bothDirs },
  checkpointing: back(false),
  checkpointed: back(false),
  transferred: back(false),
  restoring: back(true),
  restored: back(true),
  fetched: {
    direction: 'forward',
    cleanUp: { source: { node: 'node1', container: 'counter', dir: plan.srcDir }, destination: { node: 'node2', dir: plan.dstDir } },
  },
  verified: {
    direction: 'forward',
    cleanUp: { source: { node: 'node1', container: 'counter', dir: plan.srcDir }, destination: { node: 'node2', dir: plan.dstDir } },
  },
  cleaned: { direction: 'none', removeDirs: [] },
};

describe('rollback decided from the state', () => {
  it('lists every state once, in the order a migration passes them', () => {
    expect(STATE_KINDS).toEqual(Object.keys(TABLE));
    for (const k of STATE_KINDS) expect(stateOf(k).kind).toBe(k);
  });

  it.each(STATE_KINDS)('%s', (kind) => {
    expect(planRollback(stateOf(kind))).toEqual(TABLE[kind]);
  });

  it('keeps a bundle folder at the destination that was there before the migration', () => {
    for (const k of STATE_KINDS) {
      const p = planRollback(stateOf(k, facts({ dstBundleExisted: true })));
      const want = TABLE[k];
      if (want.direction === 'back') expect(p).toEqual({ ...want, clearDestination: { ...want.clearDestination, bundle: null } });
      else expect(p).toEqual(want);
    }
  });

  it('needs nothing but the state: a state read back from JSON (a journal) gives the same decision', () => {
    for (const k of STATE_KINDS) {
      const s = stateOf(k);
      const back = JSON.parse(JSON.stringify(s)) as typeof s;
      expect(back).toEqual(s);
      expect(planRollback(back)).toEqual(planRollback(s));
    }
  });

  it('post-copy: the way back never restores from the checkpoint (it holds no memory), it resumes the source\'s copy', () => {
    for (const k of STATE_KINDS) {
      const s = stateOf(k);
      const p = planRollback({ ...s, plan: { ...s.plan, mode: 'postcopy' } } as typeof s);
      const want = TABLE[k];
      if (want.direction === 'back') expect(p).toEqual({ ...want, restoreSource: { ...want.restoreSource, lazy: true } });
      else expect(p).toEqual(want);
    }
  });

  it('never restores on the source while the destination may run the container unchecked', () => {
    // the destination may hold it exactly from the restore on; before, an unreachable destination is known clean
    const mayHold = STATE_KINDS.filter((k) => {
      const p = planRollback(stateOf(k));
      return p.direction === 'back' && p.clearDestination.mayHoldContainer;
    });
    expect(mayHold).toEqual(['restoring', 'restored']);
  });
});
