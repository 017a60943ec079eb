/** The scenario fields of the new migration variants: migration.cost.coldTransport and lazyPagesEfficiency. */
import { describe, expect, it } from 'vitest';
import { checkScenarioText, parseScenarioText } from '../../src/scenario-io/parse.ts';
import { TINY_SCENARIO } from '../helpers/scenarios.ts';

const BASE = TINY_SCENARIO;
const withCost = (cost: string): string => `${BASE}migration:\n  cost: { ${cost} }\n`;
const problems = (text: string): string[] => checkScenarioText(text, 's.yaml').problems.map((p) => `${p.path}: ${p.message}`);

describe('migration.cost.coldTransport and lazyPagesEfficiency', () => {
  it('absent: the resolved cost has neither key (disk cold, lazy fetch at eta), so old scenarios hash as before', () => {
    const s = parseScenarioText(BASE, 's.yaml');
    expect('coldTransport' in s.migration.cost).toBe(false);
    expect('lazyPagesEfficiency' in s.migration.cost).toBe(false);
  });

  it('accepted when valid', () => {
    const s = parseScenarioText(withCost('coldTransport: stream, lazyPagesEfficiency: 0.5'), 's.yaml');
    expect(s.migration.cost.coldTransport).toBe('stream');
    expect(s.migration.cost.lazyPagesEfficiency).toBe(0.5);
  });

  it.each([
    ['coldTransport: pigeon', /migration\.cost\.coldTransport: .*disk.*stream/],
    ['lazyPagesEfficiency: 0', /migration\.cost\.lazyPagesEfficiency: /],
    ['lazyPagesEfficiency: 1.5', /migration\.cost\.lazyPagesEfficiency: /],
  ])('%s is refused naming the field', (cost, want) => {
    const p = problems(withCost(cost));
    expect(p.length).toBeGreaterThan(0);
    expect(p.join('\n')).toMatch(want);
  });
});
