/**
 * traffic-aware's pruning test through a per-node wait factor (waitWithin)
 * gives exactly the full formula's answer, expectedWaitMs(...) <= marginMs,
 * on random loads, including margins within 1e-12 of the exact wait (where
 * it must fall back to the formula) and loads near saturation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StepLedger } from '../../src/model/policies/common.ts';
import { expectedWaitMs, waitWithin, waitWithinAt, WW_MARGIN, WW_RATE, WW_SCV, WW_SERVICE, WW_UTIL } from '../../src/model/policies/traffic-aware.ts';
import type { NodeView } from '../../src/model/view.ts';
import { fakeView } from './fake-view.ts';

describe('waitWithin', () => {
  it('property: equals expectedWaitMs <= marginMs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 0, max: 1.2, noNaN: true }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.double({ min: 0.1, max: 500, noNaN: true }),
        fc.constantFrom(0.5, 1, 2),
        fc.constantFrom(0, 0.5, 1, 2),
        fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(-1e-12, 1e-12, 0, 2e-9, -2e-9)),
        (cores, util, rate, serviceMs, speed, scv, marginOrOffset) => {
          const view = fakeView({
            nodes: [{ id: 'n1', cpuCores: cores, utilisation: util, speedFactor: speed, memoryMiB: 1e6, memoryUsedMiB: 0 }],
            containers: [{ id: 'c1', nodeId: 'n1', requestRatePerS: rate, meanServiceMs: serviceMs, users: ['u1'] }],
            users: [{ id: 'u1', apId: 'a1', containerId: 'c1' }],
          });
          const ledger = new StepLedger(view);
          const c = view.containers[0];
          const n: NodeView = view.nodes[0];
          const exact = expectedWaitMs(ledger, c, n, serviceMs, scv);
          // Small offsets put the margin right at the exact wait: the fallback must decide there.
          const margin = Math.abs(marginOrOffset) < 1e-6 && Number.isFinite(exact) ? exact * (1 + marginOrOffset) : marginOrOffset;
          const factors = new Map<NodeView, { busy: number; g: number }>();
          expect(waitWithin(ledger, c, n, serviceMs, scv, margin, factors)).toBe(exact <= margin);
          // And again from the remembered factor.
          expect(waitWithin(ledger, c, n, serviceMs, scv, margin, factors)).toBe(exact <= margin);
          // The values-passed variant decide() uses, fresh and from its remembered factor.
          const busy = new Float64Array(1).fill(Number.NaN);
          const g = new Float64Array(1);
          const inputs = new Float64Array(5);
          inputs[WW_RATE] = c.requestRatePerS;
          inputs[WW_UTIL] = n.utilisation;
          inputs[WW_SERVICE] = serviceMs;
          inputs[WW_SCV] = scv;
          inputs[WW_MARGIN] = margin;
          expect(waitWithinAt(ledger, c, n, 0, inputs, busy, g)).toBe(exact <= margin);
          expect(waitWithinAt(ledger, c, n, 0, inputs, busy, g)).toBe(exact <= margin);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
