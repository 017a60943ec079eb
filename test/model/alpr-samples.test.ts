import { describe, expect, it } from 'vitest';
import { ALPR_SAMPLES_MS, ALPR_SERVICE_TIME } from '../../src/model/alpr-samples.ts';
import { createRng, standardNormal } from '../../src/model/random.ts';
import { serviceTimeMeanMs } from '../../src/model/service-time.ts';

/** The generator described in alpr-samples.ts: regenerating must give the checked-in values. */
function regenerate(): number[] {
  const rng = createRng(2022, 'shareon-alpr-samples');
  const m = 14.3;
  const sd = 8;
  const s2 = Math.log(1 + (sd * sd) / (m * m));
  const mu = Math.log(m) - s2 / 2;
  const xs: number[] = [];
  for (let i = 0; i < 367; i++) {
    const x = 49.3 + Math.exp(mu + Math.sqrt(s2) * standardNormal(rng));
    xs.push(Math.round(Math.min(x, 92.8) * 10) / 10);
  }
  return xs;
}

describe('ALPR samples (fit to ShareOn summary)', () => {
  it('has 367 samples, mean within 0.5 ms of 63.6, inside [49.3, 92.8]', () => {
    expect(ALPR_SAMPLES_MS).toHaveLength(367);
    const mean = ALPR_SAMPLES_MS.reduce((a, b) => a + b, 0) / ALPR_SAMPLES_MS.length;
    expect(Math.abs(mean - 63.6)).toBeLessThan(0.5);
    expect(Math.min(...ALPR_SAMPLES_MS)).toBeGreaterThanOrEqual(49.3);
    expect(Math.max(...ALPR_SAMPLES_MS)).toBeLessThanOrEqual(92.8);
  });
  it('is exactly what the documented generator produces', () => {
    expect([...ALPR_SAMPLES_MS]).toEqual(regenerate());
  });
  it('is exported as an empirical service-time spec', () => {
    expect(ALPR_SERVICE_TIME.kind).toBe('empirical');
    expect(serviceTimeMeanMs(ALPR_SERVICE_TIME)).toBeCloseTo(63.26, 1);
  });
});
