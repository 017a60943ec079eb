/**
 * Pieces of the live migration that need no root: known_hosts matching, the
 * downtime computation, the CRIU probe's reading of `criu check` output (via
 * a local exec running a fake criu), the CLI's mode parsing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';
import { parseKnownHosts, verifyHostKey } from '../../src/live/exec/known-hosts.ts';
import { LocalExec } from '../../src/live/exec/local.ts';
import { runChecked, shq } from '../../src/live/exec/types.ts';
import { assertModeSupported, modeRefusal, probeCriu, supportedModes } from '../../src/live/criu-probe.ts';
import { DowntimeProber } from '../../src/live/migrate/prober.ts';
import { parseMode } from '../../src/cli/migrate.ts';

const keyA = randomBytes(51);
const keyB = randomBytes(51);
const b64 = (b: Buffer): string => b.toString('base64');

describe('known_hosts verification', () => {
  it('accepts the listed key, rejects a changed one, an unknown host and a revoked key', () => {
    const kh = parseKnownHosts(
      [
        '# comment',
        `10.77.0.11,node1 ssh-ed25519 ${b64(keyA)}`,
        `[10.77.0.12]:2222 ssh-ed25519 ${b64(keyA)}`,
        `@revoked 10.77.0.13 ssh-ed25519 ${b64(keyB)}`,
        `10.77.0.13 ssh-ed25519 ${b64(keyB)}`,
      ].join('\n'),
    );
    expect(verifyHostKey(kh, '10.77.0.11', 22, keyA)).toBe('ok');
    expect(verifyHostKey(kh, 'node1', 22, keyA)).toBe('ok');
    expect(verifyHostKey(kh, '10.77.0.11', 22, keyB)).toBe('changed');
    expect(verifyHostKey(kh, '10.77.0.11', 2200, keyA)).toBe('unknown'); // another port is another host
    expect(verifyHostKey(kh, '10.77.0.12', 2222, keyA)).toBe('ok');
    expect(verifyHostKey(kh, '10.77.0.12', 22, keyA)).toBe('unknown');
    expect(verifyHostKey(kh, '10.77.0.99', 22, keyA)).toBe('unknown');
    expect(verifyHostKey(kh, '10.77.0.13', 22, keyB)).toBe('revoked');
  });

  it('matches hashed entries (HashKnownHosts) and wildcard/negated patterns', () => {
    const salt = randomBytes(20);
    const mac = createHmac('sha1', salt).update('10.77.0.21').digest('base64');
    const kh = parseKnownHosts([`|1|${b64(salt)}|${mac} ssh-ed25519 ${b64(keyA)}`, `10.77.1.*,!10.77.1.5 ssh-ed25519 ${b64(keyB)}`].join('\n'));
    expect(verifyHostKey(kh, '10.77.0.21', 22, keyA)).toBe('ok');
    expect(verifyHostKey(kh, '10.77.0.22', 22, keyA)).toBe('unknown');
    expect(verifyHostKey(kh, '10.77.1.7', 22, keyB)).toBe('ok');
    expect(verifyHostKey(kh, '10.77.1.5', 22, keyB)).toBe('unknown');
  });
});

describe('downtime from client probes', () => {
  it('is the longest gap with failures inside, from the last success before to the first success after', () => {
    const p = new DowntimeProber({ address: 'a', port: 1, path: '/h', intervalMs: 10 });
    const samples = (p as unknown as { samples: Array<{ tMs: number; ok: boolean; addr: string }> }).samples;
    for (let t = 0; t <= 100; t += 10) samples.push({ tMs: t, ok: true, addr: 'src' });
    for (let t = 110; t < 900; t += 10) samples.push({ tMs: t, ok: false, addr: t > 500 ? 'dst' : 'src' });
    for (let t = 900; t < 1000; t += 10) samples.push({ tMs: t, ok: true, addr: 'dst' });
    // a slow success with no failure inside its gap is not downtime
    samples.push({ tMs: 2000, ok: true, addr: 'dst' });
    const m = p.measure();
    expect(m.downtimeMs).toBe(800);
    expect(m.lastBeforeGap).toBe('src');
    expect(m.firstAfterGap).toBe('dst');
    expect(m.failures).toBe(79);
  });

  it('once the destination was added, is the gap around that moment, not a longer gap elsewhere (a busy service)', () => {
    const p = new DowntimeProber({ address: 'a', port: 1, path: '/h', intervalMs: 10 });
    const inner = p as unknown as { samples: Array<{ tMs: number; ok: boolean; addr: string }>; switchMs: number | null; startMs: number | null };
    inner.startMs = 0;
    for (let t = 0; t <= 100; t += 10) inner.samples.push({ tMs: t, ok: true, addr: 'src' });
    // the service is busy with a long request: 1.5 s of failed probes at the source
    for (let t = 110; t < 1600; t += 10) inner.samples.push({ tMs: t, ok: false, addr: 'src' });
    inner.samples.push({ tMs: 1600, ok: true, addr: 'src' });
    // the migration: down from 2000 to 2400, restore began at 2200
    for (let t = 1610; t < 2000; t += 10) inner.samples.push({ tMs: t, ok: true, addr: 'src' });
    for (let t = 2000; t < 2400; t += 10) inner.samples.push({ tMs: t, ok: false, addr: t < 2200 ? 'src' : 'dst' });
    inner.samples.push({ tMs: 2400, ok: true, addr: 'dst' });
    inner.switchMs = 2200;
    const m = p.measure();
    expect(m.downtimeMs).toBe(410); // last success 1990 -> first success 2400
    expect(m.lastBeforeGap).toBe('src');
    expect(m.firstAfterGap).toBe('dst');
  });

  it('without any success before the switch, counts from the start of probing', () => {
    const p = new DowntimeProber({ address: 'a', port: 1, path: '/h', intervalMs: 10 });
    const inner = p as unknown as { samples: Array<{ tMs: number; ok: boolean; addr: string }>; switchMs: number | null; startMs: number | null };
    inner.startMs = 100;
    for (let t = 100; t < 900; t += 10) inner.samples.push({ tMs: t, ok: false, addr: t >= 500 ? 'dst' : 'src' });
    inner.switchMs = 500;
    // two destination successes with a failure between them: 40 ms, not the downtime
    inner.samples.push({ tMs: 900, ok: true, addr: 'dst' }, { tMs: 920, ok: false, addr: 'dst' }, { tMs: 940, ok: true, addr: 'dst' });
    expect(p.measure().downtimeMs).toBe(800);
  });

  it('is 0 when nothing failed', () => {
    const p = new DowntimeProber({ address: 'a', port: 1, path: '/h' });
    const samples = (p as unknown as { samples: Array<{ tMs: number; ok: boolean; addr: string }> }).samples;
    for (let t = 0; t < 100; t += 10) samples.push({ tMs: t, ok: true, addr: 'src' });
    expect(p.measure().downtimeMs).toBe(0);
  });
});

describe('CRIU probe', () => {
  function fakeCriu(dirty: boolean, uffd: boolean): string {
    const dir = mkdtempSync(join(tmpdir(), 'conmig-fakecriu-'));
    const f = join(dir, 'criu');
    writeFileSync(
      f,
      `#!/bin/sh
case "$*" in
  --version) echo "Version: 4.2.1";;
  check) echo "Looks good.";;
  "check --feature mem_dirty_track") ${dirty ? 'echo "mem_dirty_track is supported"' : 'echo "Warn  (criu/cr-check.c:824): Dirty tracking is OFF. Memory snapshot will not work."; exit 1'};;
  "check --feature uffd"|"check --feature uffd-noncoop") ${uffd ? 'echo "$3 is supported"' : 'echo "$3 is not supported"; exit 1'};;
esac
`,
    );
    chmodSync(f, 0o755);
    return f;
  }

  it('maps a kernel without soft-dirty to cold + postcopy and refuses pre-copy with the reason', async () => {
    const p = await probeCriu(new LocalExec('node1'), fakeCriu(false, true));
    expect(p.criuVersion).toBe('Version: 4.2.1');
    expect(p.checkOk).toBe(true);
    expect(p.memDirtyTrack).toBe(false);
    expect(supportedModes(p)).toEqual(['cold', 'postcopy']);
    expect(modeRefusal('precopy', p)).toMatch(/^pre-copy needs memory dirty tracking \(soft-dirty\), which node1's kernel \S+ lacks; use --mode cold or postcopy$/);
    expect(() => assertModeSupported('precopy', [p])).toThrow(ConmigError);
    expect(() => assertModeSupported('cold', [p])).not.toThrow();
  });

  it('offers every mode where the kernel has both features, none where criu is missing', async () => {
    const p = await probeCriu(new LocalExec('node2'), fakeCriu(true, true));
    expect(supportedModes(p)).toEqual(['cold', 'precopy', 'postcopy']);
    const none = await probeCriu(new LocalExec('node3'), '/nonexistent/criu');
    expect(supportedModes(none)).toEqual([]);
    expect(modeRefusal('cold', none)).toMatch(/CRIU does not run on node3/);
  });
});

describe('exec helpers', () => {
  it('quotes words for the shell so they arrive unchanged', async () => {
    const words = ["it's", 'a b', '$HOME', '`x`', 'plain-word_1.2', ''];
    const r = await new LocalExec().run(`printf '%s\\n' ${words.map(shq).join(' ')}`);
    expect(r.stdout).toBe(words.map((w) => `${w}\n`).join(''));
  });

  it('runChecked throws COMMAND_FAILED with node, exit and stderr tail; timeouts give code -1', async () => {
    const ex = new LocalExec('nodeX');
    await expect(runChecked(ex, 'echo boom >&2; exit 4', { phase: 'transfer' })).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      context: { node: 'nodeX', exit: 4, stderr: 'boom', phase: 'transfer' },
    });
    const t = await ex.run('sleep 5', { timeoutMs: 200 });
    expect(t.code).toBe(-1);
    expect(t.wallMs).toBeLessThan(2000);
  });

  it('parses --mode', () => {
    expect(parseMode('cold')).toBe('cold');
    expect(() => parseMode('warm')).toThrow(/--mode: expected one of cold, precopy, postcopy/);
  });
});
