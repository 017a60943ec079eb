/**
 * A sweep killed with -9 mid-way (the whole process group, as a crash leaves
 * it) resumes without redoing what finished and ends byte-identical to a
 * sweep that was never interrupted.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conmig, interruptibleSweep, MERGED, SLOW_SWEEP_TEST_MS, stamps, startDetachedSweep, sweepDir, tree } from './helpers.ts';

const SWEEP = interruptibleSweep('resume');
const SLOW = SLOW_SWEEP_TEST_MS;

describe('conmig sweep (local)', () => {
  it('killed with -9 mid-way: the rerun redoes nothing finished and ends identical to an uninterrupted sweep', async () => {
    const { dir, file } = sweepDir(SWEEP);
    const out = path.join(dir, 'out');
    const { child, stderr: output, exited } = startDetachedSweep(file, out);
    const finished = (): string[] => (existsSync(path.join(out, 'runs')) ? readdirSync(path.join(out, 'runs')).filter((id) => existsSync(path.join(out, 'runs', id, 'done.json'))) : []);
    const t0 = Date.now();
    while (finished().length < 3 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 25));
    // The whole process group, as a crash or the OOM killer would leave it: no chance to clean up.
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    const kept = finished();
    expect(kept.length, output()).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeLessThan(12);
    expect(existsSync(path.join(out, 'results.csv'))).toBe(false);
    const before = new Map(kept.map((id) => [id, stamps(path.join(out, 'runs', id))]));

    // The workers ran the cached bundle (src/sweep/entry.ts): the kill leaves no folder of its own behind.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`conmig-worker-${child.pid}-`))).toEqual([]);
    const again = await conmig('sweep', file, '--jobs', '2', '--out', out);
    expect(again.status, again.stderr).toBe(0);
    const already = Number(/; (\d+) already done/.exec(again.stderr)?.[1]);
    expect(already).toBeGreaterThanOrEqual(kept.length); // runs finishing as the kill landed count too
    for (const [id, s] of before) expect(stamps(path.join(out, 'runs', id)), `run ${id} was rewritten`).toEqual(s);

    const ref = path.join(dir, 'ref');
    expect((await conmig('sweep', file, '--jobs', '2', '--out', ref)).status).toBe(0);
    for (const f of MERGED) expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(ref, f))), f).toBe(true);
    expect(tree(path.join(out, 'runs'))).toEqual(tree(path.join(ref, 'runs')));
  }, SLOW);
});
