/**
 * The service component of a live answer: a service that reports its job's CPU time
 * (the synthetic workload: cpuMs) is charged cpuMs / the node's speedFactor, the
 * simulator's service component (the job alone on the node's CPU share), whatever wall
 * time it took while neighbours shared the node; otherwise processingMs (the plate
 * service's wall time); otherwise 0.
 */
import { describe, expect, it } from 'vitest';
import { parseServiceMs } from '../../src/live/backend/users.ts';

describe('parseServiceMs', () => {
  it('charges a synthetic job cpuMs / speedFactor, not its wall time', () => {
    // a 6 ms job on a node limited to 0.3 CPU: 20 ms alone, though it took 45 ms of wall time beside its neighbours
    const body = JSON.stringify({ cpuMs: 6, wallMs: 45, processingMs: 45, count: 3 });
    expect(parseServiceMs(body, 0.3)).toBeCloseTo(6 / 0.3, 12);
    expect(parseServiceMs(body, 1)).toBe(6);
  });

  it('falls back to processingMs (the plate service), then to 0', () => {
    expect(parseServiceMs(JSON.stringify({ plate: 'AB123', processingMs: 104.5 }), 0.5)).toBe(104.5);
    expect(parseServiceMs('{"ok":true}', 0.5)).toBe(0);
    expect(parseServiceMs('not json', 0.5)).toBe(0);
    expect(parseServiceMs(JSON.stringify({ cpuMs: 'x', processingMs: 7 }), 0.5)).toBe(7);
  });
});
