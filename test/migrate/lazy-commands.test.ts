/**
 * Post-copy's and disk-less cold's node commands (src/live/migrate/commands.ts) and the
 * probe-based mode choice (src/live/criu-probe.ts): no root, no CRIU. The commands are
 * syntax-checked by bash, and the waits are run for real against files laid out as CRIU's
 * jobs leave them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAZY_PIPE_BYTES, lazyPipesOk, modeRefusal, supportedModes, type CriuProbe } from '../../src/live/criu-probe.ts';
import type { InventoryNode } from '../../src/live/inventory.ts';
import {
  abortLazyDumpCmd,
  freePortSnippet,
  lazyCheckpointCmd,
  lazyDaemonCriu,
  lazyDumpWaitCmd,
  lazyRestoreCmd,
  lazyWaitCmd,
  pageServerCmd,
  rmCheckpointDir,
  streamCheckpointCmd,
} from '../../src/live/migrate/commands.ts';

const node = { name: 'node1', workDir: '/w1', runcRoot: '/run/r1', criuPath: '/usr/local/bin/criu' } as InventoryNode;
const tmp = mkdtempSync(join(tmpdir(), 'conmig-lazy-cmd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bash(script: string): { code: number; out: string; err: string } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The command with shell quoting taken out (shq quotes only what needs it, and jobs are quoted again). */
const unq = (c: string): string => c.replace(/'\\''/g, "'").replace(/'/g, '');

function syntaxOk(script: string): void {
  const r = spawnSync('bash', ['-n', '-c', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

const probe = (o: Partial<CriuProbe>): CriuProbe => ({
  node: 'node1', criuVersion: 'Version: 4.2.1', kernel: '6.18', checkOk: true, checkOutput: 'Looks good.', memDirtyTrack: false, uffd: true, uffdNoncoop: true, failures: {}, ...o,
});

describe('post-copy is chosen by the probe', () => {
  it('refuses it where CRIU cannot size its lazy page server\'s pipes (pipe-max-size < 4 MiB, no CAP_SYS_RESOURCE), naming the fix', () => {
    const p = probe({ pipeMaxBytes: 1_048_576, capSysResource: false });
    expect(lazyPipesOk(p)).toBe(false);
    expect(supportedModes(p)).toEqual(['cold']);
    expect(modeRefusal('postcopy', p)).toBe(
      "post-copy needs 4 MiB pipes for CRIU's lazy page server: node1 has fs.pipe-max-size 1048576 and no CAP_SYS_RESOURCE, so CRIU's page server would fail at the first page (\"page-pipe: splice: Bad file descriptor\"); run `sysctl -w fs.pipe-max-size=4194304` on node1 (scripts/setup-live.sh does) or use --mode cold",
    );
    expect(modeRefusal('cold', p)).toBeNull();
  });

  it('allows it with 4 MiB pipes, or with CAP_SYS_RESOURCE, or when the probe did not look (older probes)', () => {
    for (const p of [probe({ pipeMaxBytes: LAZY_PIPE_BYTES, capSysResource: false }), probe({ pipeMaxBytes: 65536, capSysResource: true }), probe({})]) {
      expect(modeRefusal('postcopy', p)).toBeNull();
      expect(supportedModes(p)).toEqual(['cold', 'postcopy']);
    }
  });

  it('still needs userfaultfd first', () => {
    expect(modeRefusal('postcopy', probe({ uffdNoncoop: false, pipeMaxBytes: LAZY_PIPE_BYTES }))).toMatch(/^post-copy needs userfaultfd/);
  });
});

describe('the node commands', () => {
  it('lazy dump: runc checkpoint --lazy-pages in the background, a page server on the source address, ready on the status fd', () => {
    const c = lazyCheckpointCmd(node, 'ctr', '/w1/checkpoints/x', '10.0.0.1');
    syntaxOk(c);
    expect(unq(c)).toContain('checkpoint --lazy-pages --page-server "10.0.0.1:$port" --status-fd 3');
    expect(unq(c)).toContain('3>/w1/checkpoints/x/work/ready');
    expect(c).toContain('setsid bash -c');
    expect(unq(c)).toContain('CRIU_CONFIG_FILE=/w1/conmig-criu.conf runc --root /run/r1 --criu /usr/local/bin/criu');
    syntaxOk(abortLazyDumpCmd('/w1/checkpoints/x'));
  });

  it('lazy restore: the daemon fetches from the source\'s page server in the restore\'s work dir, and kills the container if it fails', () => {
    const c = lazyRestoreCmd(node, 'ctr', '/w2/checkpoints/x', '/b2/ctr', '10.0.0.1', 27123);
    syntaxOk(c);
    expect(unq(c)).toContain('lazy-pages --page-server --address 10.0.0.1 --port 27123 --images-dir /w2/checkpoints/x/img --work-dir /w2/checkpoints/x/rwork');
    expect(unq(c)).toContain('restore -d --lazy-pages --image-path /w2/checkpoints/x/img --work-path /w2/checkpoints/x/rwork --bundle /b2/ctr ctr');
    // the guard (inside the background job's quoted script)
    expect(unq(c)).toContain('if [ $rc != 0 ]; then runc --root /run/r1 kill ctr KILL');
  });

  it('lazy restore: the daemon is criu-lazy-pages (the patched CRIU) where the node has it on PATH, else the node\'s CRIU; stockDaemon forces the node\'s', () => {
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'criu-lazy-pages'), '#!/bin/sh\n', { mode: 0o755 });
    const which = (path: string, stock: boolean): string =>
      spawnSync('bash', ['-c', `echo ${lazyDaemonCriu(node, stock)}`], { encoding: 'utf8', env: { PATH: path } }).stdout.trim();
    expect(which(`${bin}:/usr/bin:/bin`, false)).toBe(join(bin, 'criu-lazy-pages'));
    expect(which('/usr/bin:/bin', false)).toBe('/usr/local/bin/criu');
    expect(which(`${bin}:/usr/bin:/bin`, true)).toBe('/usr/local/bin/criu');
    // only the daemon: the restore itself keeps the node's CRIU
    const c = lazyRestoreCmd(node, 'ctr', '/w2/checkpoints/x', '/b2/ctr', '10.0.0.1', 27123);
    expect(unq(c)).toContain('"$(command -v criu-lazy-pages 2>/dev/null || echo /usr/local/bin/criu)" lazy-pages --page-server');
    expect(unq(c)).toContain('runc --root /run/r1 --criu /usr/local/bin/criu restore -d --lazy-pages');
    expect(unq(lazyRestoreCmd(node, 'ctr', '/w2/checkpoints/x', '/b2/ctr', '10.0.0.1', 27123, { stockDaemon: true }))).toContain('/usr/local/bin/criu lazy-pages --page-server');
  });

  it('disk-less cold: a page server on the destination, the dump streaming to it; a removed folder takes its page server along', () => {
    syntaxOk(pageServerCmd(node, '/w2/checkpoints/x', '10.0.0.2'));
    expect(unq(pageServerCmd(node, '/w2/checkpoints/x', '10.0.0.2'))).toContain('page-server -d --images-dir /w2/checkpoints/x/img');
    const s = streamCheckpointCmd(node, 'ctr', '/w1/checkpoints/x', '10.0.0.2', 27901);
    syntaxOk(s);
    expect(unq(s)).toContain('checkpoint --page-server 10.0.0.2:27901 --image-path /w1/checkpoints/x/img');
    expect(unq(rmCheckpointDir('/w2/checkpoints/x'))).toContain('kill -KILL "$(cat /w2/checkpoints/x/pswork/ps.pid)"');
  });

  it('a free port: in the range asked for, never one a socket listens on', () => {
    for (let k = 0; k < 5; k++) {
      const r = bash(`${freePortSnippet(27100)}\necho $port`);
      expect(r.code, r.err).toBe(0);
      const port = Number(r.out.trim());
      expect(port).toBeGreaterThanOrEqual(27100);
      expect(port).toBeLessThan(27900);
      const listening = bash("awk '$4 == \"0A\" {print $2}' /proc/net/tcp /proc/net/tcp6 2>/dev/null").out;
      expect(listening.toUpperCase()).not.toContain(`:${port.toString(16).toUpperCase().padStart(4, '0')}\n`);
    }
  });

  it('the lazy-pages wait says rc 0 only when the daemon ended with 0; the log tail otherwise', () => {
    const d = join(tmp, 'dst');
    mkdirSync(join(d, 'rwork'), { recursive: true });
    writeFileSync(join(d, 'rwork', 'lazy.rc'), '0\n');
    expect(bash(lazyWaitCmd(d, 1)).out.trim()).toBe('rc 0');
    writeFileSync(join(d, 'rwork', 'lazy.rc'), '1\n');
    writeFileSync(join(d, 'rwork', 'lazy-pages.log'), 'Error (criu/page-xfer.c:1660): page-xfer: Remote side closed connection\n');
    expect(bash(lazyWaitCmd(d, 1)).out).toBe('rc 1\nError (criu/page-xfer.c:1660): page-xfer: Remote side closed connection\n');
    rmSync(join(d, 'rwork', 'lazy.rc'));
    expect(bash(lazyWaitCmd(d, 1)).out.split('\n')[0]).toBe('rc timeout');
  });

  it('the lazy dump\'s wait gives its exit status and the lazy bytes from CRIU\'s pagemap lines', () => {
    const d = join(tmp, 'src');
    mkdirSync(join(d, 'work'), { recursive: true });
    writeFileSync(join(d, 'work', 'ckpt.rc'), '0\n');
    writeFileSync(
      join(d, 'work', 'dump.log'),
      ['(00.206090) Pagemap generated: 2 pages (0 lazy) 0 holes', '(00.206100) Pagemap generated: 3 pages (3 lazy) 0 holes', '(00.206105) Pagemap generated: 16384 pages (16384 lazy) 0 holes'].join('\n'),
    );
    expect(bash(lazyDumpWaitCmd(d, 1)).out).toBe(`rc 0\nlazy_bytes ${(3 + 16384) * 4096}\n`);
  });
});
