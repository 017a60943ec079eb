/**
 * planRecovery: every journal state against every observation of the two
 * nodes. The expected action is written out per (state group, observation)
 * below; invariants that must hold for every combination (never two copies,
 * never a restore while a node that may hold the container is unchecked,
 * never acting while a command of the migration still runs) are checked
 * over the whole product.
 */
import { describe, expect, it } from 'vitest';
import { planRecovery, type ContainerStatus, type NodeObservation, type Observation, type RecoveryAction } from '../../src/live/migrate/recovery-plan.ts';
import { planRollback } from '../../src/live/migrate/rollback-plan.ts';
import { STATE_KINDS, type StateKind } from '../../src/live/migrate/state.ts';
import { facts, plan, stateOf } from './states.ts';

const up = (container: ContainerStatus, checkpoint = false, busy = false): NodeObservation => ({ reachable: true, container, checkpoint, busy });
const down: NodeObservation = { reachable: false, error: 'connect ETIMEDOUT' };

const SRC: Record<string, NodeObservation> = {
  running: up('running'),
  'running+ckpt': up('running', true),
  paused: up('paused', true),
  'absent+ckpt': up('absent', true),
  'stopped+ckpt': up('stopped', true),
  absent: up('absent'),
  busy: up('paused', true, true),
  unreachable: down,
};
const DST: Record<string, NodeObservation> = {
  running: up('running', true),
  absent: up('absent'),
  'absent+files': up('absent', true),
  created: up('created', true),
  stopped: up('stopped', true),
  busy: up('absent', true, true),
  unreachable: down,
};

type Group = 'untouched' | 'stopping' | 'restoring' | 'done';
const GROUP: Record<StateKind, Group> = {
  planned: 'untouched',
  prepared: 'untouched',
  predumped: 'untouched',
  checkpointing: 'stopping',
  checkpointed: 'stopping',
  transferred: 'stopping',
  restoring: 'restoring',
  restored: 'restoring',
  fetched: 'done',
  verified: 'done',
  cleaned: 'done',
};

/** The expected action, written as the rule (docs/migrate.md), for a settled observation. */
function expected(kind: StateKind, src: string, dst: string): RecoveryAction {
  const g = GROUP[kind];
  if (src === 'busy' || dst === 'busy') return 'wait';
  const srcRuns = src.startsWith('running');
  const dstRuns = dst === 'running';
  if (g === 'untouched') return src === 'paused' && kind !== 'planned' && dst !== 'running' ? 'resume-source' : 'untouched';
  if (srcRuns && dstRuns) return g === 'done' ? 'keep-destination' : 'keep-source';
  if (dstRuns) return 'keep-destination';
  const mayHold = g === 'restoring' || g === 'done';
  if (srcRuns) return dst === 'unreachable' && mayHold ? 'wait' : 'keep-source';
  if (src === 'unreachable') return 'wait';
  if (dst === 'unreachable' && mayHold) return 'wait';
  if (src === 'paused') return 'resume-source';
  if (g === 'done') return 'lost';
  return src.includes('ckpt') ? 'restore-source' : 'lost';
}

const obs = (src: string, dst: string, settled = true): Observation => ({ source: SRC[src], destination: DST[dst], settled });

describe('planRecovery: every state x every observation', () => {
  for (const kind of STATE_KINDS) {
    it(`${kind}`, () => {
      for (const src of Object.keys(SRC)) {
        for (const dst of Object.keys(DST)) {
          const p = planRecovery(stateOf(kind), obs(src, dst));
          expect(p.action, `${kind} source=${src} destination=${dst}`).toBe(expected(kind, src, dst));
        }
      }
    });
  }

  it('waits and looks again while a transitional state may still change by itself (not settled)', () => {
    for (const kind of STATE_KINDS) {
      for (const [src, dst] of [['paused', 'absent'], ['absent+ckpt', 'created'], ['busy', 'absent'], ['running', 'busy']]) {
        expect(planRecovery(stateOf(kind), obs(src, dst, false)), `${kind} ${src} ${dst}`).toMatchObject({ action: 'wait', retry: true });
      }
      // a settled busy node is still a wait, but not retried: the entry stays open
      expect(planRecovery(stateOf(kind), obs('busy', 'absent', true))).toMatchObject({ action: 'wait', retry: false });
    }
  });

  it('never leaves two copies and never restores while a node that may hold the container is unchecked', () => {
    for (const kind of STATE_KINDS) {
      for (const src of Object.keys(SRC)) {
        for (const dst of Object.keys(DST)) {
          const p = planRecovery(stateOf(kind), obs(src, dst));
          const where = `${kind} ${src} ${dst}`;
          if (p.action === 'restore-source') {
            expect(SRC[src].reachable, where).toBe(true);
            expect(DST[dst], where).not.toMatchObject({ container: 'running' });
            if (p.clearDestination.mayHoldContainer) expect(DST[dst].reachable, where).toBe(true);
          }
          if (p.action === 'keep-source' || p.action === 'resume-source') {
            // the destination is cleared, and an unreachable one is only accepted when it cannot hold it
            expect(p.clearDestination.node).toBe('node2');
            if (!DST[dst].reachable) expect(p.clearDestination.mayHoldContainer, where).toBe(false);
          }
          if (p.action === 'keep-destination') expect(p.cleanUp.source).toEqual({ node: 'node1', container: 'counter', dir: plan.srcDir });
          if (p.action === 'untouched') expect(GROUP[kind]).toBe('untouched');
        }
      }
    }
  });

  it('the way back is planRollback\'s own (same destination clearing, same restore from the source checkpoint)', () => {
    for (const kind of ['checkpointing', 'checkpointed', 'transferred', 'restoring', 'restored'] as const) {
      const s = stateOf(kind);
      const p = planRecovery(s, obs('absent+ckpt', 'absent+files'));
      const rb = planRollback(s);
      expect(rb.direction).toBe('back');
      if (rb.direction !== 'back') continue;
      expect(p).toEqual({ action: 'restore-source', clearDestination: rb.clearDestination, restoreSource: rb.restoreSource, closeChannel: true });
      // keep-source clears the destination the same way
      const k = planRecovery(s, obs('running', 'stopped'));
      expect(k).toMatchObject({ action: 'keep-source', node: 'node1', clearDestination: rb.clearDestination });
    }
  });

  it('post-copy: never a restore from the checkpoint (it holds no memory): the same decisions otherwise, lost instead', () => {
    for (const kind of STATE_KINDS) {
      for (const src of Object.keys(SRC)) {
        for (const dst of Object.keys(DST)) {
          const s = stateOf(kind);
          const p = planRecovery({ ...s, plan: { ...s.plan, mode: 'postcopy' } } as typeof s, obs(src, dst));
          const cold = expected(kind, src, dst);
          let want = cold;
          // before the restore, a busy source is the lazy dump waiting for a restore that never comes: ended
          if (src === 'busy' && ['checkpointing', 'checkpointed', 'transferred'].includes(kind) && dst !== 'running') want = 'restore-source';
          else if (want === 'restore-source') want = 'lost';
          expect(p.action, `${kind} ${src} ${dst}`).toBe(want);
          if (p.action === 'restore-source') expect(p.restoreSource.lazy).toBe(true);
          if (p.action === 'lost' && cold === 'restore-source') expect(p.reason).toMatch(/post-copy checkpoint holds no memory/);
        }
      }
    }
  });

  it('a destination bundle folder that existed before is kept', () => {
    const s = stateOf('transferred', facts({ dstBundleExisted: true }));
    expect(planRecovery(s, obs('absent+ckpt', 'absent'))).toMatchObject({ action: 'restore-source', clearDestination: { bundle: null } });
    expect(planRecovery(stateOf('transferred'), obs('absent+ckpt', 'absent'))).toMatchObject({ clearDestination: { bundle: '/b2/counter' } });
  });

  it('before the checkpoint only the migration\'s folders go, and the node it runs on is said', () => {
    expect(planRecovery(stateOf('planned'), obs('running', 'absent'))).toEqual({ action: 'untouched', runningOn: 'node1', removeDirs: [], closeChannel: false });
    expect(planRecovery(stateOf('prepared'), obs('running', 'absent'))).toEqual({
      action: 'untouched',
      runningOn: 'node1',
      removeDirs: [
        { node: 'node1', dir: plan.srcDir },
        { node: 'node2', dir: plan.dstDir },
      ],
      closeChannel: true,
    });
    expect(planRecovery(stateOf('predumped'), obs('unreachable', 'absent'))).toMatchObject({ action: 'untouched', runningOn: null });
  });

  it('reads a state back from the journal\'s JSON and decides the same', () => {
    for (const kind of STATE_KINDS) {
      const s = stateOf(kind);
      const back = JSON.parse(JSON.stringify(s)) as typeof s;
      expect(planRecovery(back, obs('absent+ckpt', 'running'))).toEqual(planRecovery(s, obs('absent+ckpt', 'running')));
    }
  });
});
