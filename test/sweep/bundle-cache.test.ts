/**
 * The worker bundle's cache (src/sweep/entry.ts workerBundle): built once,
 * reused while every file it was built from is unchanged, built again when
 * one changes; where the cache folder cannot be written, a temporary bundle
 * that the sweep removes.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_MAIN, workerBundle } from '../../src/sweep/entry.ts';
import { tmp } from './helpers.ts';

const saved = process.env.XDG_CACHE_HOME;
afterEach(() => {
  if (saved === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = saved;
});

interface Manifest {
  bundle: string;
  inputs: string[];
  sha256: string;
}

describe('the sweep worker bundle cache', () => {
  it('is reused while its inputs are unchanged and built again when one changes', async () => {
    const cache = tmp('conmig-bundle-cache-');
    process.env.XDG_CACHE_HOME = cache;
    const first = await workerBundle();
    expect(path.dirname(first.bundle)).toBe(path.join(cache, 'conmig'));
    const manifestFile = path.join(cache, 'conmig', path.basename(first.bundle).replace(/-[0-9a-f]{16}\.mjs$/, '.json'));
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    expect(manifest.inputs).toContain(WORKER_MAIN);
    // The packages it bundles count too.
    expect(manifest.inputs.some((f) => f.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`))).toBe(true);
    const inode = statSync(first.bundle).ino;

    // Unchanged inputs: the same file, not rebuilt (a build renames a new file into place).
    const again = await workerBundle();
    expect(again.bundle).toBe(first.bundle);
    expect(statSync(again.bundle).ino).toBe(inode);

    // An input that changes (here one the test owns, put into the manifest): rebuilt.
    const input = path.join(cache, 'input.js');
    writeFileSync(input, 'one');
    const { createHash } = await import('node:crypto');
    const h = createHash('sha256');
    for (const f of [...manifest.inputs, input]) {
      const c = readFileSync(f);
      h.update(`${f}\u0000${c.length}\u0000`).update(c);
    }
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, inputs: [...manifest.inputs, input], sha256: h.digest('hex') }));
    const stillSame = await workerBundle();
    expect(statSync(stillSame.bundle).ino, 'the tampered manifest still matches: reused').toBe(inode);
    writeFileSync(input, 'two');
    const rebuilt = await workerBundle();
    expect(existsSync(rebuilt.bundle)).toBe(true);
    expect(statSync(rebuilt.bundle).ino).not.toBe(inode);
    expect((JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest).inputs).not.toContain(input);
  }, 120_000);

  it('without a cache folder to be had: a temporary bundle, removed by cleanup', async () => {
    const cache = tmp('conmig-bundle-cache-');
    // A path under a plain file: no folder can be made there, whoever runs the test.
    writeFileSync(path.join(cache, 'file'), '');
    process.env.XDG_CACHE_HOME = path.join(cache, 'file', 'sub');
    const b = await workerBundle();
    expect(b.bundle.startsWith(cache)).toBe(false);
    expect(existsSync(b.bundle)).toBe(true);
    await b.cleanup();
    expect(existsSync(b.bundle)).toBe(false);
  }, 120_000);
});
