/**
 * The push prepared before the freeze (commands.ts preparePushCmd / preparedPushCmd), run for
 * real with bash in a temporary folder: `ssh` is a stand-in on PATH that runs the remote command
 * locally, so the pipeline, its trigger, the destination side and the ways it ends are the real
 * shell code. No root, no network.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InventoryNode } from '../../src/live/inventory.ts';
import { preparePushCmd, preparedPushCmd, preparedPushFiles, rmCheckpointDir } from '../../src/live/migrate/commands.ts';

const tmp = mkdtempSync(join(tmpdir(), 'conmig-prepared-push-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// `ssh ... 'REMOTE'`: the last argument is the remote command; run it here
const bin = join(tmp, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'ssh'), '#!/bin/sh\nfor a; do last=$a; done\nexec sh -c "$last"\n');
chmodSync(join(bin, 'ssh'), 0o755);

const from = { name: 'node1', address: '10.0.0.1', user: 'root', sshPort: 22, transfer: { key: '/k', knownHosts: '/kh' } } as InventoryNode;
const to = { name: 'node2', address: '10.0.0.2', user: 'root', sshPort: 22 } as InventoryNode;

function bash(script: string, env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const alive = (pid: number): boolean => {
  // a zombie (killed, not yet reaped by whoever adopted it) is not alive
  const st = spawnSync('sh', ['-c', `cat /proc/${pid}/stat 2>/dev/null`]).stdout.toString();
  return st !== '' && !/^\d+ \(.*\) Z/.test(st);
};

function layout(name: string): { srcDir: string; dstDir: string; srcRootfs: string; dstBundle: string } {
  const base = join(tmp, name);
  const q = { srcDir: `${base}/src/ck`, dstDir: `${base}/dst/ck`, srcRootfs: `${base}/src/rootfs`, dstBundle: `${base}/dst/bundle` };
  mkdirSync(`${q.srcDir}/img`, { recursive: true });
  writeFileSync(`${q.srcDir}/img/pages-1.img`, Buffer.alloc(5000, 7));
  mkdirSync(`${q.srcRootfs}/bin`, { recursive: true });
  writeFileSync(`${q.srcRootfs}/bin/app`, 'app');
  return q;
}

const push = (q: ReturnType<typeof layout>, o: { manifest: string; rootfsCached: boolean }) =>
  preparedPushCmd({ ...q, ...o, configCached: '{"cached":true}', configSent: '{"sent":true}' });

describe('the push prepared before the freeze', () => {
  it('set up first, then fed: the images and config.json land at the destination, the bundle in place, and the pipeline ends', () => {
    const q = layout('a');
    const prep = bash(preparePushCmd(from, to, '/ctl', q), { CONMIG_AGENT_PID: String(process.pid) });
    expect(prep.code, prep.err).toBe(0);
    expect(prep.out.trim()).toBe('ready 1');
    // before the bytes: only the destination's checkpoint folder exists there, no bundle
    expect(existsSync(q.dstDir)).toBe(true);
    expect(existsSync(q.dstBundle)).toBe(false);
    const pid = Number(readFileSync(preparedPushFiles(q.srcDir).pid, 'utf8'));
    expect(alive(pid)).toBe(true);
    // the rootfs is cached but its fingerprint is not pre-flight's: it is sent after all
    const r = bash(push(q, { manifest: 'stale', rootfsCached: true }));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('prepared 1');
    expect(r.out).toContain('send_rootfs 1');
    expect(readFileSync(`${q.dstDir}/img/pages-1.img`).length).toBe(5000);
    expect(readFileSync(`${q.dstBundle}/config.json`, 'utf8')).toBe('{"sent":true}');
    expect(readFileSync(`${q.dstBundle}/rootfs/bin/app`, 'utf8')).toBe('app');
    expect(readFileSync(preparedPushFiles(q.srcDir).rc, 'utf8').trim()).toBe('0');
    // a second push finds the pipeline used up: the ordinary path
    expect(bash(push(q, { manifest: 'stale', rootfsCached: true })).out.trim()).toBe('prepared 0');
  });

  it('cached and unchanged: only the images and the cached config.json go', () => {
    const q = layout('b');
    expect(bash(preparePushCmd(from, to, '/ctl', q), { CONMIG_AGENT_PID: String(process.pid) }).code).toBe(0);
    const man = bash(`{ find ${q.srcRootfs} -xdev ! -type d -printf '%P %s %T@ %m %l\\n'; find ${q.srcRootfs} -xdev -type d -printf '%P %m\\n'; } 2>/dev/null | LC_ALL=C sort | sha256sum | cut -c1-64`).out.trim();
    const r = bash(push(q, { manifest: man, rootfsCached: true }));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('send_rootfs 0');
    expect(readFileSync(`${q.dstBundle}/config.json`, 'utf8')).toBe('{"cached":true}');
    expect(existsSync(`${q.dstBundle}/rootfs`)).toBe(false);
  });

  it('ends by itself when the node agent is gone, creating no bundle; the push then takes the ordinary path', async () => {
    const q = layout('c');
    const dead = spawnSync('sh', ['-c', 'sh -c "echo \\$\\$" & wait']).stdout.toString().trim();
    expect(bash(preparePushCmd(from, to, '/ctl', q), { CONMIG_AGENT_PID: dead }).code).toBe(0);
    const rc = preparedPushFiles(q.srcDir).rc;
    for (let i = 0; i < 50 && !existsSync(rc); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(rc)).toBe(true);
    expect(existsSync(q.dstBundle)).toBe(false);
    expect(bash(push(q, { manifest: 'x', rootfsCached: false })).out.trim()).toBe('prepared 0');
  });

  it('removing the checkpoint folder kills a pipeline that was never fed', () => {
    const q = layout('d');
    expect(bash(preparePushCmd(from, to, '/ctl', q), { CONMIG_AGENT_PID: String(process.pid) }).code).toBe(0);
    const pid = Number(readFileSync(preparedPushFiles(q.srcDir).pid, 'utf8'));
    expect(alive(pid)).toBe(true);
    expect(bash(rmCheckpointDir(q.srcDir)).code).toBe(0);
    spawnSync('sleep', ['0.2']);
    expect(alive(pid)).toBe(false);
    expect(existsSync(q.srcDir)).toBe(false);
    expect(existsSync(q.dstBundle)).toBe(false);
  });
});
