/**
 * Work that did not finish, in the results: QoS violations counted over every
 * request whose outcome is known (failed and late unfinished ones included),
 * unfinished migrations counted, and folders written before these counts
 * still read (conmig-result/1).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultCollector } from '../../src/cluster/collector.ts';
import { readRun, readSummary, writeRun } from '../../src/results/index.ts';
import { fixtureRun } from './fixture.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('QoS violations over every request whose outcome is known', () => {
  it('served over the threshold, failed, and unfinished sent more than the threshold before the end count; an unfinished request sent just before the end does not', () => {
    const S = 1e6;
    // 60 s run, 10 s windows, no warm-up, 100 ms threshold, one node.
    const col = new ResultCollector(10 * S, 60 * S, 0, 100, ['n'], [1], null);
    col.served1(52 * S, 0, 50_000, 10_000, 0, 40_000, 0); // 50 ms: in time
    col.served1(53 * S, 0, 150_000, 10_000, 0, 140_000, 0); // 150 ms: a violation
    col.failed1(54 * S); // a violation
    col.unfinished1(60 * S - 500_000); // no answer after 500 ms: a violation already
    col.unfinished1(60 * S - 50_000); // no answer after 50 ms: could still have been in time
    expect(col.qos()).toEqual({ violations: 3, counted: 4, fractionOver: 3 / 4 });
    expect(col.unfinished).toBe(2);
    const last = col.timeseries().at(-1)!;
    expect(last.windowStartS).toBe(50);
    expect(last.overQosFraction).toBe(3 / 4);
    // A window in which every request failed is a window of violations, not a blank.
    const all = new ResultCollector(10 * S, 20 * S, 0, 100, ['n'], [1], null);
    all.failed1(1 * S);
    expect(all.timeseries()[0].overQosFraction).toBe(1);
    expect(all.qos().fractionOver).toBe(1);
    // Nothing known: no fraction.
    expect(new ResultCollector(10 * S, 20 * S, 0, 100, ['n'], [1], null).qos().fractionOver).toBeNaN();
  });
});

describe('a folder written before qos.violations, qos.counted and migrations.unfinished', () => {
  it('reads: its fraction was over the served requests (counted = served), unfinished migrations counted from migrations.csv', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conmig-old-result-'));
    dirs.push(dir);
    const data = fixtureRun('nearest');
    data.migrations[0].status = 'unfinished';
    await writeRun(dir, data);
    const file = join(dir, 'summary.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as { qos: Record<string, unknown>; migrations: Record<string, unknown>; requests: { served: number } };
    const oldFraction = 0.25;
    json.qos = { thresholdMs: json.qos.thresholdMs, fractionOver: oldFraction };
    delete json.migrations.unfinished;
    await writeFile(file, JSON.stringify(json, null, 2) + '\n');

    const s = await readSummary(dir);
    expect(s.schema).toBe('conmig-result/1');
    expect(s.qos).toEqual({ thresholdMs: data.summary.qos.thresholdMs, fractionOver: oldFraction, counted: json.requests.served, violations: Math.round(oldFraction * json.requests.served) });
    expect(s.migrations.unfinished).toBeNaN();
    const run = await readRun(dir);
    expect(run.summary.migrations.unfinished).toBe(1);
  });

  it('a new folder reads back its own counts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conmig-new-result-'));
    dirs.push(dir);
    const data = fixtureRun('nearest');
    data.migrations[0].status = 'unfinished';
    data.summary.migrations.unfinished = 1;
    await writeRun(dir, data);
    const s = await readSummary(dir);
    expect(s.qos).toEqual(data.summary.qos);
    expect(s.migrations.unfinished).toBe(1);
  });
});
