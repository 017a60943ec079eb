/**
 * The setup scripts on a machine where nothing of conmig exists yet: the
 * workload build and setup-live.sh's own steps (CRIU prefix, private apt
 * folder, wrapper, images, log) run into folders whose parents do not exist.
 * An earlier CI passed only because its machine already had /var/lib/conmig;
 * this test would have caught that. Needs root and the tools of
 * scripts/setup-live.sh (the apt packages it checks are already installed
 * here, so it re-downloads only CRIU's .debs into the fresh prefix, and builds the patched
 * lazy-pages daemon, criu-lazy-pages, from its pinned source tarball into a fresh prefix).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipLive } from './helpers/env.ts';

const skip = skipLive('setup-fresh.test', 'fresh-folder setup tests');
const root = mkdtempSync(join(tmpdir(), 'conmig-fresh-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function bash(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000) {
  const r = spawnSync('bash', args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe.skipIf(skip)('setup into folders that do not exist yet', () => {
  it('workloads/build.sh builds both images under a missing parent', () => {
    const out = join(root, 'build', 'var', 'lib', 'conmig', 'images');
    const r = bash(['workloads/build.sh', out]);
    expect(r.out).not.toMatch(/No such file or directory/);
    expect(r.code, r.out).toBe(0);
    for (const img of ['plate', 'synthetic']) {
      expect(existsSync(join(out, img, 'image.json'))).toBe(true);
      expect(statSync(join(out, img, 'rootfs', 'bin', 'busybox')).mode & 0o111).not.toBe(0);
    }
    // The build folder beside OUT is removed; a second run is a no-op.
    expect(bash(['workloads/build.sh', out]).out).toMatch(/up to date/);
  }, 120_000);

  it('scripts/setup-live.sh installs CRIU, the wrapper, images and log into fresh folders and verifies them', () => {
    const f = (p: string) => join(root, 'setup', p);
    const env = {
      CONMIG_CRIU_PREFIX: f('opt/conmig/criu'),
      CONMIG_APT_DIR: f('opt/conmig/apt'),
      CONMIG_CRIU_WRAPPER: f('usr/local/bin/criu'),
      CONMIG_IMAGES: f('var/lib/conmig/images'),
      CONMIG_SETUP_LOG: f('var/log/conmig-setup.log'),
      CONMIG_CRIU_LAZY_PREFIX: f('opt/conmig/criu-lazy'),
      CONMIG_CRIU_LAZY_WRAPPER: f('usr/local/bin/criu-lazy-pages'),
    };
    // the patched lazy-pages daemon is compiled here (about 2 minutes on 2 cores)
    const r = bash(['scripts/setup-live.sh'], env, 900_000);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/setup-live: OK/);
    expect(r.out).toMatch(/smoke checkpoint\/restore: ok/);
    // Everything landed where the environment said, nothing was taken from the machine's own copy.
    const wrapper = readFileSync(env.CONMIG_CRIU_WRAPPER, 'utf8');
    expect(wrapper).toContain(env.CONMIG_CRIU_PREFIX);
    expect(existsSync(join(env.CONMIG_CRIU_PREFIX, 'usr/sbin/criu'))).toBe(true);
    expect(readFileSync(join(env.CONMIG_CRIU_PREFIX, '.conmig-installed'), 'utf8')).toMatch(/^criu=4\.2\.1/);
    expect(existsSync(join(env.CONMIG_IMAGES, 'plate', 'image.json'))).toBe(true);
    expect(readFileSync(env.CONMIG_SETUP_LOG, 'utf8')).toMatch(/setup-live\.sh/);
    expect(r.out).toContain(`criu:      Version: 4.2.1 (${env.CONMIG_CRIU_WRAPPER} -> ${env.CONMIG_CRIU_PREFIX})`);
    // post-copy's daemon: built from the pinned source with the patch, in its own fresh prefix
    expect(readFileSync(env.CONMIG_CRIU_LAZY_WRAPPER, 'utf8')).toContain(env.CONMIG_CRIU_LAZY_PREFIX);
    expect(readFileSync(join(env.CONMIG_CRIU_LAZY_PREFIX, '.conmig-installed'), 'utf8')).toMatch(/^criu_4\.2\.1\.orig\.tar\.xz 29ec0ee0/);
    expect(readFileSync(join(env.CONMIG_CRIU_LAZY_PREFIX, 'bin/criu')).includes('background in flight')).toBe(true);
    expect(r.out).toContain(`criu-lazy-pages: Version: 4.2.1 + lazy-pages patch (${env.CONMIG_CRIU_LAZY_WRAPPER} -> ${env.CONMIG_CRIU_LAZY_PREFIX}), check: Looks good`);
  }, 1_000_000);
});
