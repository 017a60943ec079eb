/**
 * The node agent (scripts/conmig-agent.sh) and its controller side (src/live/exec/agent.ts) on
 * this machine: local bash processes instead of SSH channels (same byte stream, same script).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConmigError } from '../../src/model/errors.ts';
import { AgentExec, agentPath, agentScript, sha256, type AgentMode } from '../../src/live/exec/agent.ts';
import { encodeRun, FrameParser, AgentProtocolError, type AgentFrame } from '../../src/live/exec/agent-protocol.ts';
import { LocalExec } from '../../src/live/exec/local.ts';

describe('agent frames', () => {
  const frames = (): Buffer =>
    Buffer.concat([
      Buffer.from('hello conmig-agent 1 abc 42\n'),
      Buffer.from('out 3 1 5\nhel\nodone 3 0 1500 2 3 -\nokerr'),
      Buffer.from('done 4 -1 7 0 0 killed\n'),
    ]);

  it('parses frames however the bytes are split', () => {
    const all = frames();
    const whole = new FrameParser().push(all);
    for (const size of [1, 2, 3, 7, 13]) {
      const p = new FrameParser();
      const got: AgentFrame[] = [];
      for (let i = 0; i < all.length; i += size) got.push(...p.push(all.subarray(i, i + size)));
      expect(got).toEqual(whole);
    }
    expect(whole.map((f) => f.kind)).toEqual(['hello', 'out', 'done', 'done']);
    const out = whole[1] as Extract<AgentFrame, { kind: 'out' }>;
    expect(out.data.toString()).toBe('hel\no');
    const done = whole[2] as Extract<AgentFrame, { kind: 'done' }>;
    expect([done.code, done.nodeWallUs, done.stdout.toString(), done.stderr.toString(), done.flags]).toEqual([0, 1500, 'ok', 'err', '-']);
    expect((whole[3] as Extract<AgentFrame, { kind: 'done' }>).code).toBe(-1);
  });

  it('carries a large binary payload whole', () => {
    const big = Buffer.alloc(3 * 2 ** 20 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const p = new FrameParser();
    const all = Buffer.concat([Buffer.from(`done 9 0 1 ${big.length} 0 -\n`), big]);
    const got: AgentFrame[] = [];
    for (let i = 0; i < all.length; i += 65536) got.push(...p.push(all.subarray(i, i + 65536)));
    expect(got).toHaveLength(1);
    expect((got[0] as Extract<AgentFrame, { kind: 'done' }>).stdout.equals(big)).toBe(true);
  });

  it('refuses what is not a frame', () => {
    expect(() => new FrameParser().push(Buffer.from('Welcome to the node!\n'))).toThrow(AgentProtocolError);
    expect(() => new FrameParser().push(Buffer.from('done 1 0 x 0 0 -\n'))).toThrow(/wall time/);
  });

  it('encodes byte lengths, not character lengths', () => {
    const b = encodeRun(5, 'echo é', { stdin: 'ü', timeoutMs: 1500 });
    expect(b.toString('utf8')).toBe('run 5 1500 0 7 2\necho éü');
  });
});

describe('AgentExec over a local agent', () => {
  // the agents started here re-check their facts every 0.2 s (inherited environment)
  process.env.CONMIG_AGENT_REFRESH_S = '0.2';
  let dir: string;
  const execs: AgentExec[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'conmig-agent-test-'));
  });
  afterEach(async () => {
    await Promise.all(execs.splice(0).map((e) => e.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const agentExec = (mode: AgentMode = 'require', extra: Partial<ConstructorParameters<typeof AgentExec>[0]> = {}): AgentExec => {
    const local = new LocalExec('nodeA');
    const e = new AgentExec({ node: 'nodeA', workDir: dir, open: (cmd) => local.openPipe(cmd), fallback: local, mode, ...extra });
    execs.push(e);
    return e;
  };

  it('runs commands with exit code, stdout, stderr, stdin and both wall times', async () => {
    const a = agentExec();
    const r = await a.run('echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(r.nodeWallMs).toBeGreaterThan(0);
    expect(r.wallMs).toBeGreaterThanOrEqual(r.nodeWallMs!);
    const bin = Buffer.from([0, 1, 2, 255, 10, 13, 0]);
    const c = await a.run('od -An -tx1 | tr -s " "', { stdin: bin });
    expect(c.stdout.trim()).toBe('00 01 02 ff 0a 0d 00');
    expect(a.via).toBe('agent');
    // the script was installed where the controller put it, byte for byte
    expect(readFileSync(agentPath(dir)).equals(agentScript())).toBe(true);
  });

  it('returns large outputs whole', async () => {
    const a = agentExec();
    const r = await a.run('head -c 6000000 /dev/zero | tr "\\0" x; head -c 300000 /dev/zero | tr "\\0" y >&2');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(6_000_000);
    expect(/^x+$/.test(r.stdout)).toBe(true);
    expect(r.stderr).toBe('y'.repeat(300_000));
  });

  it('runs commands concurrently over one agent', async () => {
    const a = agentExec();
    const flag = join(dir, 'flag');
    // the first finishes only once the second has run: they must run at the same time
    const waiter = a.run(`while [ ! -e ${flag} ]; do sleep 0.02; done; echo saw-it`, { timeoutMs: 20_000 });
    const others = await Promise.all(Array.from({ length: 8 }, (_, k) => a.run(`echo ${k}`)));
    expect(others.map((o) => o.stdout.trim())).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    await a.run(`touch ${flag}`);
    expect((await waiter).stdout).toBe('saw-it\n');
  });

  it('streams output as it comes (progress of a long command)', async () => {
    const a = agentExec();
    const go = join(dir, 'go');
    const chunks: string[] = [];
    let sawFirst!: () => void;
    const first = new Promise<void>((r) => (sawFirst = r));
    const cmd = a.stream(`echo step1; while [ ! -e ${go} ]; do sleep 0.02; done; echo step2`, {
      timeoutMs: 20_000,
      onStdout: (c) => {
        chunks.push(c.toString());
        sawFirst();
      },
    });
    await first; // step1 arrived while the command still waits
    expect(chunks.join('')).toBe('step1\n');
    writeFileSync(go, '');
    const r = await cmd.done;
    expect(r.stdout).toBe('step1\nstep2\n');
    expect(chunks.join('')).toBe('step1\nstep2\n');
  });

  it('kills a command with its whole process group, and times one out', async () => {
    const a = agentExec();
    let pid = 0;
    let got!: () => void;
    const started = new Promise<void>((r) => (got = r));
    const cmd = a.stream('sleep 60 & echo $!; wait', {
      onStdout: (c) => {
        pid = Number(c.toString().trim());
        got();
      },
    });
    await started;
    expect(alive(pid)).toBe(true);
    cmd.kill();
    const r = await cmd.done;
    expect(r.code).toBe(-1);
    await waitFor(() => !alive(pid));
    const t = await a.run('sleep 60', { timeoutMs: 300 });
    expect(t.code).toBe(-1);
    expect(t.stderr).toMatch(/timed out after 300 ms/);
    expect(t.wallMs).toBeLessThan(10_000);
    // the agent still works
    expect((await a.run('echo alive')).stdout).toBe('alive\n');
  });

  it('a crashing agent fails its running commands with NODE_UNREACHABLE naming the node; the next command gets a new agent', async () => {
    const a = agentExec();
    await a.ping();
    const pid = a.agentPid!;
    expect(pid).toBeGreaterThan(0);
    const running = a.run('sleep 5').then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, 'SIGKILL');
    const e = await running;
    expect(isConmigError(e) && e.code).toBe('NODE_UNREACHABLE');
    expect((e as Error).message).toMatch(/conmig agent on nodeA ended/);
    expect((await a.run('echo again')).stdout).toBe('again\n');
    expect(a.agentPid).not.toBe(pid);
  });

  it('replaces a stale agent file on the node', async () => {
    writeFileSync(agentPath(dir), '#!/bin/bash\necho "hello conmig-agent 0 old 1"\n');
    const a = agentExec();
    expect((await a.run('echo ok')).stdout).toBe('ok\n');
    expect(sha256(readFileSync(agentPath(dir)))).toBe(sha256(agentScript()));
  });

  it('refuses an agent of another version (require), or falls back to one command per step with a note (auto)', async () => {
    const wrong = 'f'.repeat(64);
    const strict = agentExec('require', { expectHash: wrong });
    const e = await strict.run('echo x').then(
      () => null,
      (x: unknown) => x,
    );
    expect(isConmigError(e) && e.code).toBe('SETUP_MISSING');
    expect((e as Error).message).toMatch(/could not start on nodeA: .*another version.*this conmig needs protocol 1, sha256 ffffffffffff/);
    const notes: string[] = [];
    const lax = agentExec('auto', { expectHash: wrong, onNote: (n) => notes.push(n) });
    expect((await lax.run('echo via-ssh')).stdout).toBe('via-ssh\n');
    expect(lax.via).toBe('ssh');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/using one SSH command per step on nodeA/);
  });

  it('cannot install the agent: a clear error naming the file (require), the fallback (auto)', async () => {
    mkdirSync(agentPath(dir)); // a folder where the script should go
    writeFileSync(join(agentPath(dir), 'x'), '');
    const e = await agentExec('require').run('true').then(
      () => null,
      (x: unknown) => x,
    );
    expect(isConmigError(e) && e.code).toBe('SETUP_MISSING');
    expect((e as Error).message).toContain(`cannot install ${agentPath(dir)}`);
    const notes: string[] = [];
    const lax = agentExec('auto', { onNote: (n) => notes.push(n) });
    expect((await lax.run('echo fine')).stdout).toBe('fine\n');
    expect(notes.join('')).toMatch(/could not start on nodeA/);
  });

  it('keeps facts: answered from the cache, re-run only when the validator output changes', async () => {
    const a = agentExec();
    const src = join(dir, 'src');
    writeFileSync(src, 'v1');
    const cmd = `cat ${src}; date +%s%N`;
    const validator = `cat ${src}`;
    const f1 = await a.fact(cmd, { maxAgeMs: 60_000, validator });
    expect(f1.cached).toBe(false);
    const f2 = await a.fact(cmd, { maxAgeMs: 60_000, validator });
    expect(f2.cached).toBe(true);
    expect(f2.stdout).toBe(f1.stdout);
    // maxAge 0: checked now; validator unchanged -> the command is not re-run
    const f3 = await a.fact(cmd, { maxAgeMs: 0, validator });
    expect(f3.cached).toBe(false);
    expect(f3.stdout).toBe(f1.stdout);
    writeFileSync(src, 'v2');
    const f4 = await a.fact(cmd, { maxAgeMs: 0, validator });
    expect(f4.stdout.startsWith('v2')).toBe(true);
    // the refresher keeps it (and fresh): after a few of its rounds the fact is still cached, and a
    // changed validator output was picked up in the background
    writeFileSync(src, 'v3');
    await new Promise((r) => setTimeout(r, 1500));
    const f5 = await a.fact(cmd, { maxAgeMs: 60_000, validator });
    expect(f5.cached).toBe(true);
    expect(f5.stdout.startsWith('v3')).toBe(true);
    // a failing fact reports its exit code and stderr
    const bad = await a.fact('echo nope >&2; exit 4', { maxAgeMs: 60_000 });
    expect([bad.code, bad.stderr]).toEqual([4, 'nope\n']);
  });

  it('keeps facts for the next agent (the next conmig process): re-checked by their validator, re-run only if it changed', async () => {
    const src = join(dir, 'src');
    writeFileSync(src, 'v1');
    // the command's own output says whether it ran again (a new time stamp)
    const cmd = `cat ${src}; date +%s%N`;
    const validator = `cat ${src}`;
    const a = agentExec();
    const f1 = await a.fact(cmd, { maxAgeMs: 60_000, validator });
    await a.close();
    const b = agentExec();
    // a new agent checks a fact before its first use, however recently the last agent did
    const f2 = await b.fact(cmd, { maxAgeMs: 60_000, validator });
    expect(b.agentPid).not.toBe(null);
    expect(f2.stdout).toBe(f1.stdout); // not re-run: the fingerprint is unchanged
    await b.close();
    writeFileSync(src, 'v2');
    const c = agentExec();
    const f3 = await c.fact(cmd, { maxAgeMs: 60_000, validator });
    expect(f3.stdout.startsWith('v2')).toBe(true); // changed: re-run
    // a fact without a validator is re-run by a new agent (e.g. a df: the disk may have filled since)
    const d1 = await c.fact('date +%s%N', { maxAgeMs: 60_000 });
    expect((await c.fact('date +%s%N', { maxAgeMs: 60_000 })).stdout).toBe(d1.stdout);
    await c.close();
    const d = agentExec();
    const d2 = await d.fact('date +%s%N', { maxAgeMs: 60_000 });
    expect(d2.stdout).not.toBe(d1.stdout);
    expect((await d.fact('date +%s%N', { maxAgeMs: 60_000 })).stdout).toBe(d2.stdout);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}


