/**
 * The request stream's shortcut (src/sim/requests.ts): when every user is
 * active at one rate, the user of an arrival is floor(u * n) without reading
 * the alias table. That is the table's own answer (every probability is 1 for
 * equal weights, whatever the rounding of their sum), checked here draw by draw.
 */
import { describe, expect, it } from 'vitest';
import { AliasTable } from '../../src/model/alias.ts';
import { createRng } from '../../src/model/random.ts';

describe('uniform user pick', () => {
  it.each([
    [1, 10_000],
    [0.3, 10_000],
    [0.1, 3],
    [7, 1],
    [1e-3, 100_000],
  ])('equal rates %d for %d users: the alias table picks floor(u * n)', (rate, n) => {
    const table = new AliasTable(new Array<number>(n).fill(rate));
    const a = createRng(7, 'arrivals');
    const b = createRng(7, 'arrivals');
    let differ = 0;
    for (let k = 0; k < 100_000; k++) if (table.pick(a) !== Math.floor(b() * n)) differ++;
    expect(differ).toBe(0);
  });

  it('unequal rates: the table is needed (the shortcut would differ)', () => {
    const n = 1000;
    const table = new AliasTable(Array.from({ length: n }, (_, i) => 1 + (i % 3)));
    const a = createRng(7, 'arrivals');
    const b = createRng(7, 'arrivals');
    let differ = 0;
    for (let k = 0; k < 10_000; k++) if (table.pick(a) !== Math.floor(b() * n)) differ++;
    expect(differ).toBeGreaterThan(0);
  });
});
