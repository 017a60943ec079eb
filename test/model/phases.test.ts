/** One definition of the migration phases: the record columns follow it. */
import { describe, expect, it } from 'vitest';
import { MIGRATION_PHASES, RECORD_PHASE_COLUMNS, setPhaseMs, type RecordedPhase } from '../../src/model/phases.ts';
import type { MigrationRecord } from '../../src/model/results.ts';

function record(): MigrationRecord {
  return {
    id: 1, containerId: 'c', from: 'a', to: 'b', mode: 'cold', reason: 'r', startS: 0, precopyRounds: 0,
    precopyMs: 0, checkpointMs: 0, transferMs: 0, restoreMs: 0, lazyPagesMs: 0, downtimeMs: 0, totalMs: 0, bytes: 0, status: 'ok',
  };
}

describe('migration phases', () => {
  it('setPhaseMs writes exactly the column of its phase', () => {
    const phases = Object.keys(RECORD_PHASE_COLUMNS) as RecordedPhase[];
    expect(phases).toEqual(['predump', 'checkpoint', 'transfer', 'restore', 'lazy-pages']);
    for (const [k, p] of phases.entries()) {
      const rec = record();
      setPhaseMs(rec, p, 7 + k);
      const changed = Object.entries(rec).filter(([key, v]) => v !== (record() as unknown as Record<string, unknown>)[key]);
      expect(changed).toEqual([[RECORD_PHASE_COLUMNS[p], 7 + k]]);
    }
  });

  it('lists the recorded phases in the order a migration runs them', () => {
    const order = (Object.keys(RECORD_PHASE_COLUMNS) as RecordedPhase[]).map((p) => MIGRATION_PHASES.indexOf(p));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(MIGRATION_PHASES[0]).toBe('preflight');
    expect(MIGRATION_PHASES.at(-1)).toBe('rollback');
  });
});
