/**
 * The node agent for real (issue 11): migrations between rig nodes through the agents started
 * over the nodes' SSH connections, the agent installed over a stale copy and version-checked,
 * and the per-command SSH path (--no-agent) still migrating. Needs root and the tools of
 * scripts/setup-live.sh; skipped locally with a printed reason otherwise, never in CI.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConmigError } from '../../src/model/errors.ts';
import type { Inventory } from '../../src/live/inventory.ts';
import { AgentExec, agentPath, agentScript } from '../../src/live/exec/agent.ts';
import { SshExecPool } from '../../src/live/exec/pool.ts';
import { SshNodeExec } from '../../src/live/exec/ssh.ts';
import { locateContainer, migrateContainer } from '../../src/live/migrate/migrator.ts';
import type { CriuProbe } from '../../src/live/criu-probe.ts';
import { counterState, rig, rigUnavailableReason, rigUp, waitCounter } from './helpers/rig.ts';

const STATE = '/tmp/conmig-rigb-agent-test';
const reason = rigUnavailableReason();
if (reason && process.env.CI) throw new Error(`live agent tests cannot run in CI: ${reason}`);
if (reason) console.warn(`[skip] test/live/agent.test.ts: ${reason}`);

const ADDR: Record<string, string> = { node1: '10.77.0.194', node2: '10.77.0.195' };
let inv: Inventory;
const probeCache = new Map<string, CriuProbe>();
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function expectOnlyOn(pool: SshExecPool, node: string): Promise<void> {
  const where = await locateContainer(inv, pool, 'counter');
  expect(where.unreachable).toEqual([]);
  expect(where.running).toEqual([node]);
  for (const [n, a] of Object.entries(ADDR)) {
    if (n === node) expect(await counterState(a)).not.toBeNull();
    else expect(await counterState(a)).toBeNull();
  }
}

describe.skipIf(reason !== null)('the node agent (live)', () => {
  beforeAll(async () => {
    inv = await rigUp(STATE, 2);
    rig('counter', STATE, 'node1', 'counter');
    await waitCounter(ADDR.node1);
  }, 120_000);

  afterAll(() => {
    rig('down', STATE);
  });

  it('migrates through the agents (a stale agent file replaced at start-up), state intact, on one node only', async () => {
    // an older agent left on node1: start-up must replace it (the nodes share this machine's filesystem)
    const stale = agentPath(inv.nodes[0].workDir);
    writeFileSync(stale, '#!/bin/bash\necho "hello conmig-agent 0 0000 1"\n');
    const notes: string[] = [];
    const pool = new SshExecPool(inv, { agent: 'require', onNote: (n) => notes.push(n) });
    try {
      const s0 = await waitCounter(ADDR.node1);
      const r1 = await migrateContainer({ inventory: inv, pool, container: 'counter', from: 'node1', to: 'node2', mode: 'cold', probeCache });
      expect(r1.runningOn).toBe('node2');
      for (const n of inv.nodes) {
        const ex = pool.get(n.name);
        expect(ex).toBeInstanceOf(AgentExec);
        expect((ex as AgentExec).via).toBe('agent');
        expect(sha(readFileSync(agentPath(n.workDir)))).toBe(sha(agentScript()));
      }
      const s1 = await waitCounter(ADDR.node2);
      expect(s1.start).toBe(s0.start);
      expect(s1.pid).toBe(s0.pid);
      expect(s1.count).toBeGreaterThan(s0.count);
      await expectOnlyOn(pool, 'node2');
      // warm: agents, facts and the node-to-node channel are kept; the second pre-flight is faster
      const r2 = await migrateContainer({ inventory: inv, pool, container: 'counter', from: 'node2', to: 'node1', mode: 'cold', probeCache });
      expect(r2.runningOn).toBe('node1');
      expect(r2.rootfsCached).toBe(true);
      const pre = (r: typeof r1): number => r.phases.find((p) => p.phase === 'preflight')!.wallMs;
      expect(pre(r2)).toBeLessThan(pre(r1));
      const s2 = await waitCounter(ADDR.node1);
      expect(s2.start).toBe(s0.start);
      expect(s2.count).toBeGreaterThan(s1.count);
      await expectOnlyOn(pool, 'node1');
      // the warm master to node2 runs while the pool is open and is stopped with it
      const warm = `/tmp/conmig-${process.pid}-warm-node1-node2.ctl`;
      expect(existsSync(warm)).toBe(true);
      expect(notes).toEqual([]);
    } finally {
      await pool.closeAll();
    }
    expect(existsSync(`/tmp/conmig-${process.pid}-warm-node1-node2.ctl`)).toBe(false);
  });

  it('a foreign agent is refused with a clear error (require) or replaced by one SSH command per step with a note (auto)', async () => {
    const n = inv.nodes[0];
    const ssh = new SshNodeExec({ node: n.name, host: n.address, port: n.sshPort, user: n.user, keyFile: inv.controller.sshKey, knownHostsFile: inv.controller.knownHosts });
    const wrong = '0'.repeat(64);
    try {
      const strict = new AgentExec({ node: n.name, workDir: n.workDir, open: (c) => ssh.openPipe(c), fallback: ssh, mode: 'require', expectHash: wrong });
      const e = await strict.run('true').then(
        () => null,
        (x: unknown) => x,
      );
      expect(isConmigError(e) && e.code).toBe('SETUP_MISSING');
      expect((e as Error).message).toMatch(new RegExp(`could not start on ${n.name}: .*another version`));
      const notes: string[] = [];
      const lax = new AgentExec({ node: n.name, workDir: n.workDir, open: (c) => ssh.openPipe(c), fallback: ssh, mode: 'auto', expectHash: wrong, onNote: (t) => notes.push(t) });
      expect((await lax.run('echo via-ssh')).stdout).toBe('via-ssh\n');
      expect(lax.via).toBe('ssh');
      expect(notes.join('\n')).toMatch(/using one SSH command per step/);
    } finally {
      await ssh.close();
    }
  });

  it('--no-agent: the per-command SSH path still migrates', async () => {
    const pool = new SshExecPool(inv, { agent: 'off' });
    try {
      expect(pool.get('node1')).toBeInstanceOf(SshNodeExec);
      const s0 = await waitCounter(ADDR.node1);
      const r = await migrateContainer({ inventory: inv, pool, container: 'counter', from: 'node1', to: 'node2', mode: 'cold', probeCache });
      expect(r.runningOn).toBe('node2');
      const s1 = await waitCounter(ADDR.node2);
      expect(s1.start).toBe(s0.start);
      expect(s1.count).toBeGreaterThan(s0.count);
      await expectOnlyOn(pool, 'node2');
    } finally {
      await pool.closeAll();
    }
  });
});
