import type { LabelledRun } from '../../src/report/index.ts';
import { fixtureRun } from '../results/fixture.ts';

/** The two-policy fixture, labelled by policy. */
export function twoPolicyRuns(): LabelledRun[] {
  return [
    { ...fixtureRun('never'), label: 'never' },
    { ...fixtureRun('nearest'), label: 'nearest' },
  ];
}

/** Many nodes (heatmap), no per-user series, no migrations in one run. */
export function manyNodeRuns(nodes = 30): LabelledRun[] {
  return twoPolicyRuns().map((r, k) => ({
    ...r,
    label: `${r.label}-big`,
    userSeries: null,
    nodeLoad: r.timeseries.flatMap((t) =>
      Array.from({ length: nodes }, (_, i) => ({
        windowStartS: t.windowStartS,
        nodeId: `n${String(i).padStart(2, '0')}`,
        utilisation: ((i * 7 + t.windowStartS + k * 13) % 100) / 100,
        requests: 10,
        containers: 1,
        memoryUsedMiB: 128,
        meanQueueMs: 1.5,
      })),
    ),
  }));
}
