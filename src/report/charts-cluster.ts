/** The run report's cluster charts: the migration timeline, node load and per-user series. */
import { emptyChart, policyColor, windowWidthS, type ChartSettings, type LabelledRun } from './charts-common.ts';
import { chart, num as n, type Chart, type Datum } from './vega.ts';

export function migrationTimeline(runs: LabelledRun[], labels: string[], o: ChartSettings): Chart {
  // With hundreds of moving containers one row each is unreadable (and the page
  // huge): keep the containers that moved most, ties by id, and say so.
  const moves = new Map<string, number>();
  for (const r of runs) for (const m of r.migrations) moves.set(m.containerId, (moves.get(m.containerId) ?? 0) + 1);
  const shown = new Set(
    [...moves.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, o.maxTimelineContainers)
      .map(([id]) => id),
  );
  const title =
    shown.size < moves.size
      ? `Migrations of the ${shown.size} containers that moved most, of ${moves.size} (start → end; dark = downtime)`
      : 'Migrations (start → end; dark = downtime)';
  const values: Datum[] = [];
  for (const r of runs) {
    for (const m of r.migrations) {
      if (!shown.has(m.containerId)) continue;
      const endS = m.startS + Math.max(m.totalMs, 0) / 1000;
      // Downtime ends when the container runs again at the destination, i.e. before lazy page fetching.
      const downEndS = Math.max(m.startS, endS - Math.max(m.lazyPagesMs, 0) / 1000);
      const downStartS = Math.max(m.startS, downEndS - Math.max(m.downtimeMs, 0) / 1000);
      values.push({
        policy: r.label,
        container: m.containerId,
        route: `${m.from} → ${m.to}`,
        status: m.status,
        reason: m.reason,
        startS: n(m.startS),
        endS: n(endS),
        downStartS: n(downStartS),
        downEndS: n(downEndS),
        downtimeMs: n(m.downtimeMs),
        totalMs: n(m.totalMs),
      });
    }
  }
  if (values.length === 0) return emptyChart('migration-timeline', title, 'No migrations in any run', o);
  const containers = [...new Set(values.map((v) => String(v.container)))].sort();
  const y = { field: 'container', type: 'nominal' as const, title: 'container', sort: containers };
  const yOffset = { field: 'policy', type: 'nominal' as const, scale: { domain: labels } };
  const tooltip = [
    { field: 'policy', type: 'nominal' as const },
    { field: 'container', type: 'nominal' as const },
    { field: 'route', type: 'nominal' as const },
    { field: 'status', type: 'nominal' as const },
    { field: 'startS', type: 'quantitative' as const, title: 'start (s)' },
    { field: 'totalMs', type: 'quantitative' as const, title: 'total (ms)' },
    { field: 'downtimeMs', type: 'quantitative' as const, title: 'downtime (ms)' },
    { field: 'reason', type: 'nominal' as const },
  ];
  return chart('migration-timeline', title, {
    width: o.widthPx,
    // With yOffset the step is per policy sub-band: about 24 px per container row in all.
    height: { step: Math.max(6, Math.round(24 / labels.length)) },
    data: { values },
    encoding: { y, yOffset },
    layer: [
      {
        mark: { type: 'bar', opacity: 0.55 },
        encoding: {
          x: { field: 'startS', type: 'quantitative', title: 'scenario time (s)' },
          x2: { field: 'endS' },
          color: policyColor(labels),
          tooltip,
        },
      },
      {
        mark: { type: 'bar', color: '#222' },
        encoding: { x: { field: 'downStartS', type: 'quantitative' }, x2: { field: 'downEndS' } },
      },
      {
        // Migrations last seconds in runs of hours: a tick at the start keeps each one visible.
        mark: { type: 'tick', thickness: 2 },
        encoding: {
          x: { field: 'startS', type: 'quantitative' },
          color: policyColor(labels),
          opacity: { condition: { test: "datum.status === 'ok'", value: 1 }, value: 0.4 },
          tooltip,
        },
      },
    ],
  });
}

export function nodeLoad(runs: LabelledRun[], labels: string[], o: ChartSettings): Chart {
  const nodes = new Set<string>();
  const values: Datum[] = [];
  for (const r of runs) {
    const w = windowWidthS(
      r.nodeLoad.map((x) => x.windowStartS),
      r.summary.durationS,
    );
    for (const x of r.nodeLoad) {
      nodes.add(x.nodeId);
      values.push({
        policy: r.label,
        node: x.nodeId,
        windowStartS: x.windowStartS,
        windowEndS: x.windowStartS + w,
        utilisation: n(x.utilisation),
        requests: x.requests,
        containers: x.containers,
      });
    }
  }
  const nodeList = [...nodes].sort();
  const heatmap = nodeList.length > o.heatmapAboveNodes;
  const title = heatmap ? 'Node utilisation (window × node)' : 'Node utilisation over time';
  if (values.length === 0) return emptyChart('node-load', title, 'No node load recorded', o);
  const x = { field: 'windowStartS', type: 'quantitative' as const, title: 'scenario time (s)' };
  return chart('node-load', title, {
    data: { values },
    facet: { row: { field: 'policy', type: 'nominal', title: 'policy', sort: labels } },
    spec: heatmap
      ? {
          width: o.widthPx,
          height: { step: Math.max(2, Math.min(14, Math.floor(400 / nodeList.length))) },
          mark: { type: 'rect' },
          encoding: {
            x,
            x2: { field: 'windowEndS' },
            y: { field: 'node', type: 'nominal', sort: nodeList, axis: nodeList.length > 40 ? { labels: false, ticks: false } : {} },
            color: { field: 'utilisation', type: 'quantitative', title: 'utilisation', scale: { scheme: 'viridis', domain: [0, 1] } },
            tooltip: [
              { field: 'node', type: 'nominal' },
              { field: 'windowStartS', type: 'quantitative' },
              { field: 'utilisation', type: 'quantitative', format: '.2f' },
            ],
          },
        }
      : {
          width: o.widthPx,
          height: 140,
          mark: { type: 'line' },
          encoding: {
            x,
            y: { field: 'utilisation', type: 'quantitative', title: 'utilisation', scale: { domain: [0, 1] } },
            color: { field: 'node', type: 'nominal', title: 'node', scale: { domain: nodeList } },
          },
        },
  });
}

export function userSeries(runs: LabelledRun[], labels: string[], o: ChartSettings): Chart | null {
  const withUsers = runs.filter((r) => r.userSeries !== null && r.userSeries.length > 0);
  if (withUsers.length === 0) return null;
  const allUsers = [...new Set(withUsers.flatMap((r) => (r.userSeries ?? []).map((u) => u.userId)))].sort();
  const users = allUsers.slice(0, o.maxUsers);
  const shown = new Set(users);
  // One dataset (facets share their data): `kind` tells user rows from migration instants.
  const values: Datum[] = [];
  for (const r of withUsers) {
    for (const u of r.userSeries ?? []) {
      if (!shown.has(u.userId)) continue;
      values.push({ kind: 'user', policy: r.label, user: u.userId, windowStartS: u.windowStartS, ms: n(u.meanMs), node: u.nodeId });
    }
    for (const m of r.migrations) {
      values.push({ kind: 'migration', policy: r.label, startS: m.startS, container: m.containerId, status: m.status });
    }
  }
  const more = allUsers.length > users.length ? ` (first ${users.length} of ${allUsers.length} users)` : '';
  const title = `Per-user mean response time; dashed = migration start${more}`;
  return chart('user-series', title, {
    data: { values },
    facet: { row: { field: 'policy', type: 'nominal', title: 'policy', sort: labels.filter((l) => withUsers.some((r) => r.label === l)) } },
    spec: {
      width: o.widthPx,
      height: 150,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'migration'" }],
          mark: { type: 'rule', strokeDash: [3, 3], color: '#888' },
          encoding: {
            x: { field: 'startS', type: 'quantitative' },
            tooltip: [
              { field: 'container', type: 'nominal' },
              { field: 'startS', type: 'quantitative' },
              { field: 'status', type: 'nominal' },
            ],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'user'" }],
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'windowStartS', type: 'quantitative', title: 'scenario time (s)' },
            y: { field: 'ms', type: 'quantitative', title: 'mean response time (ms)' },
            color: { field: 'user', type: 'nominal', title: 'user', scale: { domain: users } },
            tooltip: [
              { field: 'user', type: 'nominal' },
              { field: 'windowStartS', type: 'quantitative' },
              { field: 'ms', type: 'quantitative', format: '.2f' },
              { field: 'node', type: 'nominal' },
            ],
          },
        },
      ],
    },
  });
}
