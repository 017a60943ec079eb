/** migrations.csv's optional `transport` column: written only when a row sets it, old files without it still load. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConmigError } from '../../src/model/errors.ts';
import { readRun, writeRun } from '../../src/results/index.ts';
import { fixtureRun } from './fixture.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'conmig-transport-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('migrations.csv transport column', () => {
  it('is absent when no migration sets it (files as before), and such a file reads back without it', async () => {
    const data = fixtureRun('nearest');
    expect(data.migrations.length).toBeGreaterThan(1);
    const dir = join(root, 'none');
    await writeRun(dir, data);
    const text = await readFile(join(dir, 'migrations.csv'), 'utf8');
    expect(text.split('\n')[0].endsWith(',status')).toBe(true);
    const back = await readRun(dir);
    expect(back.migrations.every((m) => !('transport' in m))).toBe(true);
  });

  it('is written when a row is streamed; other rows get an empty cell and read back undefined', async () => {
    const data = fixtureRun('nearest');
    data.migrations[0] = { ...data.migrations[0], transport: 'stream' };
    data.migrations[1] = { ...data.migrations[1], transport: 'disk' };
    const dir = join(root, 'some');
    await writeRun(dir, data);
    const lines = (await readFile(join(dir, 'migrations.csv'), 'utf8')).split('\n');
    expect(lines[0].endsWith(',status,transport')).toBe(true);
    expect(lines[1].endsWith(',stream')).toBe(true);
    expect(lines[2].endsWith(',disk')).toBe(true);
    if (data.migrations.length > 2) expect(lines[3].endsWith(',')).toBe(true);
    const back = await readRun(dir);
    expect(back.migrations.map((m) => m.transport)).toEqual(data.migrations.map((m) => m.transport));
    const { dir: _d, ...rest } = back;
    expect(rest).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('a value outside disk/stream is refused with the file, line and column named', async () => {
    const data = fixtureRun('nearest');
    data.migrations[0] = { ...data.migrations[0], transport: 'stream' };
    const dir = join(root, 'bad');
    await writeRun(dir, data);
    const file = join(dir, 'migrations.csv');
    await writeFile(file, (await readFile(file, 'utf8')).replace(',stream\n', ',pigeon\n'));
    const err = await readRun(dir).then(() => null, (e: unknown) => e);
    expect(isConmigError(err) && err.code).toBe('RESULT_INVALID');
    expect(String((err as Error).message)).toMatch(/migrations\.csv.*line 2, column transport.*one of disk, stream/s);
  });
});
