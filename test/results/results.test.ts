import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConmigError, isConmigError } from '../../src/model/errors.ts';
import type { RequestRecord, RunData } from '../../src/model/results.ts';
import { LatencyHistogram } from '../../src/model/histogram.ts';
import {
  createRequestTraceWriter,
  findRuns,
  normalizeRunData,
  parseCsv,
  readRequestTrace,
  readRun,
  writeRun,
} from '../../src/results/index.ts';
import { formatNumber } from '../../src/results/csv.ts';
import { fixtureRun } from './fixture.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'conmig-results-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function expectInvalid(p: Promise<unknown>): Promise<ConmigError> {
  try {
    await p;
  } catch (e) {
    if (isConmigError(e) && e.code === 'RESULT_INVALID') return e;
    throw e;
  }
  throw new Error('expected RESULT_INVALID');
}

async function writeFixture(name: string, data: RunData = fixtureRun('nearest')): Promise<string> {
  const dir = join(root, name);
  await writeRun(dir, data);
  return dir;
}

describe('writeRun / readRun', () => {
  it('round-trips a run exactly', async () => {
    for (const policy of ['never', 'nearest'] as const) {
      const data = fixtureRun(policy);
      const dir = await writeFixture(`rt-${policy}`, data);
      const back = await readRun(dir);
      expect(back.dir).toBe(dir);
      const { dir: _d, ...rest } = back;
      expect(rest).toEqual(data);
    }
  });

  it('writes byte-identical files when written twice and after a read', async () => {
    const a = await writeFixture('twice-a');
    const b = await writeFixture('twice-b');
    await writeRun(join(root, 'twice-c'), await readRun(a));
    const files = (await readdir(a)).sort();
    expect(files).toEqual([
      'latency-hist.csv',
      'migrations.csv',
      'node-load.csv',
      'summary.json',
      'timeseries.csv',
      'user-series.csv',
    ]);
    for (const f of files) {
      const ta = await readFile(join(a, f), 'utf8');
      expect(await readFile(join(b, f), 'utf8')).toBe(ta);
      expect(await readFile(join(root, 'twice-c', f), 'utf8')).toBe(ta);
    }
  });

  it('writes summary.json in the fixed key order with NaN as null', async () => {
    const dir = await writeFixture('summary-order', fixtureRun('never'));
    const text = await readFile(join(dir, 'summary.json'), 'utf8');
    const keys = Object.keys(JSON.parse(text) as object);
    expect(keys).toEqual([
      'schema', 'mode', 'scenario', 'policy', 'seed', 'durationS', 'warmupS', 'qosThresholdMs',
      'requests', 'responseMs', 'componentsMeanMs', 'qos', 'migrations', 'nodes',
    ]);
    expect(text).toContain('"mean": null');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toMatch(/^\{\n {2}"schema": "conmig-result\/1",\n/);
    const back = await readRun(dir);
    expect(back.summary.migrations.downtimeMs.mean).toBeNaN();
  });

  it('rounds CSV numbers to 6 significant digits and normalizeRunData predicts the read-back', async () => {
    const data = fixtureRun('nearest');
    data.timeseries[0].meanMs = 12.3456789;
    data.timeseries[1].meanMs = NaN;
    data.nodeLoad[0].utilisation = 1 / 3;
    data.migrations[0].startS = 12.3456789123;
    const dir = await writeFixture('rounding', data);
    const csv = await readFile(join(dir, 'timeseries.csv'), 'utf8');
    expect(csv).toContain(',12.3457,');
    expect(csv.split('\n')[2]).toMatch(/^10,200,0,,/);
    const back = await readRun(dir);
    expect(back.nodeLoad[0].utilisation).toBe(0.333333);
    expect(back.migrations[0].startS).toBe(12.345679);
    const { dir: _d, ...rest } = back;
    expect(rest).toEqual(normalizeRunData(data));
  });

  it('omits user-series.csv when userSeries is null and removes a stale one', async () => {
    const dir = await writeFixture('no-users');
    const data = { ...fixtureRun('nearest'), userSeries: null };
    await writeRun(dir, data);
    expect((await readdir(dir)).includes('user-series.csv')).toBe(false);
    expect((await readRun(dir)).userSeries).toBeNull();
  });

  it('quotes CSV fields only when needed', async () => {
    const dir = await writeFixture('quoting');
    const csv = await readFile(join(dir, 'migrations.csv'), 'utf8');
    expect(csv).toContain(',"user u1, ""fast"" path, retry",');
    expect(csv).toContain(',user u1 closer to edge-b,');
    expect(csv.includes('\r')).toBe(false);
  });

  it('leaves no temporary files behind', async () => {
    const dir = await writeFixture('no-tmp');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('readRun errors name the folder, file and field', () => {
  it('missing file', async () => {
    const dir = await writeFixture('err-missing');
    await rm(join(dir, 'migrations.csv'));
    const e = await expectInvalid(readRun(dir));
    expect(e.message).toContain(dir);
    expect(e.message).toContain('migrations.csv: (root): file is missing');
    expect(e.problems[0].file).toBe('migrations.csv');
  });

  it('not a folder', async () => {
    const e = await expectInvalid(readRun(join(root, 'does-not-exist')));
    expect(e.message).toContain('does-not-exist');
  });

  it('bad JSON and bad summary fields', async () => {
    const dir = await writeFixture('err-json');
    await writeFile(join(dir, 'summary.json'), '{ "schema": ');
    expect((await expectInvalid(readRun(dir))).message).toMatch(/summary\.json: \(root\): not JSON/);

    const s = JSON.parse(JSON.stringify(fixtureRun('nearest').summary)) as Record<string, unknown>;
    (s.requests as Record<string, unknown>).served = 'many';
    s.schema = 'conmig-result/0';
    await writeFile(join(dir, 'summary.json'), JSON.stringify(s));
    const e = await expectInvalid(readRun(dir));
    expect(e.message).toContain(dir);
    expect(e.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['requests.served', 'schema']));
    expect(e.message).toMatch(/summary\.json: requests\.served: /);
  });

  it('missing CSV column', async () => {
    const dir = await writeFixture('err-column');
    const csv = await readFile(join(dir, 'node-load.csv'), 'utf8');
    await writeFile(join(dir, 'node-load.csv'), csv.replace('utilisation', 'util'));
    const e = await expectInvalid(readRun(dir));
    expect(e.message).toMatch(/node-load\.csv: line 1: missing column\(s\) utilisation/);
  });

  it('bad CSV cell names line and column', async () => {
    const dir = await writeFixture('err-cell');
    const lines = (await readFile(join(dir, 'timeseries.csv'), 'utf8')).split('\n');
    lines[3] = lines[3].replace(/^(\d+),(\d+),/, '$1,lots,');
    await writeFile(join(dir, 'timeseries.csv'), lines.join('\n'));
    const e = await expectInvalid(readRun(dir));
    expect(e.message).toContain('timeseries.csv: line 4, column requests: expected an integer, got "lots"');
    expect(e.context.file).toBe('timeseries.csv');
  });

  it('bad enum value and wrong field count', async () => {
    const dir = await writeFixture('err-enum');
    const csv = await readFile(join(dir, 'migrations.csv'), 'utf8');
    await writeFile(join(dir, 'migrations.csv'), csv.replace(',precopy,', ',warp,').replace(/\n$/, '\n1,2\n'));
    const e = await expectInvalid(readRun(dir));
    expect(e.message).toMatch(/migrations\.csv: line 2, column mode: expected one of cold, precopy, postcopy, got "warp"/);
    expect(e.message).toMatch(/migrations\.csv: line 5: expected 17 fields, found 2/);
  });

  it('histogram that does not add up to the summary count', async () => {
    const dir = await writeFixture('err-hist');
    const lines = (await readFile(join(dir, 'latency-hist.csv'), 'utf8')).split('\n');
    lines.splice(1, 1);
    await writeFile(join(dir, 'latency-hist.csv'), lines.join('\n'));
    const e = await expectInvalid(readRun(dir));
    expect(e.message).toMatch(/latency-hist\.csv: count: bucket counts add up to/);
  });
});

describe('request trace', () => {
  const rec = (i: number): RequestRecord => ({
    userId: i % 3 === 0 ? 'user "x", 1' : `u${i % 7}`,
    containerId: `c${i % 5}`,
    nodeId: `edge-${i % 3}`,
    sentS: i / 1000,
    status: i % 97 === 0 ? 'failed' : 'served',
    responseMs: i % 97 === 0 ? NaN : 10 + (i % 100) / 7,
    networkMs: 5,
    queueMs: (i % 10) / 3,
    serviceMs: 4.25,
    migrationWaitMs: 0,
  });

  it('streams many rows out and back, in chunks', async () => {
    const dir = join(root, 'trace');
    await mkdir(dir, { recursive: true });
    const w = createRequestTraceWriter(dir);
    const n = 60_000; // > one 1 MiB chunk
    for (let i = 0; i < n; i++) w.write(rec(i));
    expect((await readdir(dir)).includes('requests.csv')).toBe(false); // still under the temporary name
    await w.close();
    await w.close();
    expect(w.rows).toBe(n);
    // One assertion over all rows (240,000 expect() calls took seconds): the rows that differ.
    let i = 0;
    const wrong: number[] = [];
    for await (const r of readRequestTrace(dir)) {
      const want = rec(i);
      const responseOk = Number.isNaN(want.responseMs) ? Number.isNaN(r.responseMs) : r.responseMs === Number(want.responseMs.toPrecision(6));
      if (r.userId !== want.userId || r.status !== want.status || r.sentS !== want.sentS || !responseOk) wrong.push(i);
      i++;
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(i).toBe(n);
    expect(() => w.write(rec(0))).toThrow(/after close/);
  });

  it('yields nothing without a trace and rejects a bad one', async () => {
    const dir = await writeFixture('no-trace');
    const got: RequestRecord[] = [];
    for await (const r of readRequestTrace(dir)) got.push(r);
    expect(got).toEqual([]);
    await writeFile(join(dir, 'requests.csv'), 'userId,nodeId\nu1,n1\n');
    await expect(async () => {
      for await (const _ of readRequestTrace(dir)) void _;
    }).rejects.toThrow(/requests\.csv: line 1: missing column\(s\) containerId/);
  });
});

describe('findRuns', () => {
  it('finds a run folder itself or the runs one level below', async () => {
    const out = join(root, 'multi');
    await writeRun(join(out, 'nearest'), fixtureRun('nearest'));
    await writeRun(join(out, 'never'), fixtureRun('never'));
    await mkdir(join(out, 'charts'), { recursive: true });
    expect(await findRuns(out)).toEqual([join(out, 'nearest'), join(out, 'never')]);
    expect(await findRuns(join(out, 'never'))).toEqual([join(out, 'never')]);
    expect(await findRuns(join(out, 'charts'))).toEqual([]);
    await expectInvalid(findRuns(join(out, 'nope')));
  });
});

describe('csv', () => {
  it('parses what it formats (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é', 'x') });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
        const text = rows.map((r) => r.map(quote).join(',')).join('\n') + '\n';
        expect(parseCsv(text).map((r) => r.fields)).toEqual(rows);
      }),
    );
  });

  it('reports a broken quote with its line', () => {
    expect(() => parseCsv('a,b\n1,"2\n')).toThrow(/line 2: unterminated/);
    expect(() => parseCsv('a,b\n1,2"x\n')).toThrow(/line 2: quote inside/);
  });

  it('formats numbers deterministically', () => {
    expect(formatNumber(1 / 3, 'num')).toBe('0.333333');
    expect(formatNumber(123456789, 'num')).toBe('123457000');
    expect(formatNumber(-0, 'num')).toBe('0');
    expect(formatNumber(NaN, 'num')).toBe('');
    expect(formatNumber(Infinity, 'num')).toBe('Infinity');
    expect(formatNumber(1.0000004, 'time')).toBe('1');
    expect(formatNumber(9982443.52, 'exact')).toBe('9982443.52');
    expect(formatNumber(268435457, 'int')).toBe('268435457');
  });

  it('histogram rows survive the CSV exactly over the whole layout', async () => {
    const h = new LatencyHistogram();
    for (let e = -3; e <= 7; e += 0.002) h.record(10 ** e);
    const data = fixtureRun('never');
    data.histogram = h.nonEmptyBuckets();
    data.summary.responseMs.count = h.count;
    const dir = await writeFixture('hist-layout', data);
    const back = await readRun(dir);
    expect(back.histogram).toEqual(h.nonEmptyBuckets());
    expect(LatencyHistogram.fromBuckets(back.histogram).nonEmptyBuckets()).toEqual(h.nonEmptyBuckets());
  });
});
