/**
 * Ctrl-C keeps what finished and says so (exit 130); the next sweep
 * completes it. One sweep at a time writes a folder.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockSweep } from '../../src/sweep/lock.ts';
import { conmig, interruptibleSweep, readCsv, SLOW_SWEEP_TEST_MS, startDetachedSweep, sweepDir } from './helpers.ts';

const SWEEP = interruptibleSweep('intr');
const SLOW = SLOW_SWEEP_TEST_MS;

describe('conmig sweep (local)', () => {
  it('Ctrl-C: exit 130, what finished is kept and said so; the next sweep completes it', async () => {
    const { dir, file } = sweepDir(SWEEP);
    const out = path.join(dir, 'out');
    const { child, stderr: output, exited } = startDetachedSweep(file, out);
    const t0 = Date.now();
    while (!/done \(2\/12\)/.test(output()) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 25));
    // As a terminal does: SIGINT to the whole foreground group, workers included.
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    expect(output()).not.toMatch(/^\s+at /m);
    const m = /conmig: interrupted: (\d+) of 12 run\(s\) finished and kept in .*; run the same command again to resume/.exec(output());
    expect(m, output()).not.toBeNull();
    expect(output()).not.toContain('FAILED');
    const kept = readdirSync(path.join(out, 'runs')).filter((id) => existsSync(path.join(out, 'runs', id, 'done.json')));
    expect(kept.length).toBe(Number(m![1]));
    const again = await conmig('sweep', file, '--jobs', '2', '--out', out);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain(`; ${kept.length} already done`);
    expect(readCsv(path.join(out, 'results.csv'))).toHaveLength(12);
  }, SLOW);

  it('one writer per folder: a sweep into a folder another sweep holds is refused; a stale lock is taken over', async () => {
    const { dir, file } = sweepDir(SWEEP.replace(/grid:[\s\S]*$/, 'grid:\n  durationS: [20]\n'));
    const out = path.join(dir, 'out');
    mkdirSync(out, { recursive: true });
    const release = lockSweep(out);
    const refused = await conmig('sweep', file, '--out', out);
    release();
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`conmig: another sweep (pid ${process.pid}) is running in ${out}: let it finish or stop it first`);
    expect(existsSync(path.join(out, 'runs'))).toBe(false);
    // A lock left by a process that is gone (kill -9, a reboot).
    writeFileSync(path.join(out, 'sweep.lock'), `999999999 ${hostname()}\n`);
    const ok = await conmig('sweep', file, '--out', out);
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(path.join(out, 'sweep.lock'))).toBe(false);
  }, SLOW);
});
