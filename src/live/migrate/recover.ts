/**
 * `conmig recover`: end every migration the journal (journal.ts) holds open
 * whose controller died. For each entry: take it (lock), look at both nodes
 * (runc state, the checkpoint's images, a command of the migration still
 * running), decide with planRecovery (recovery-plan.ts) and carry the plan
 * out with the rollback's own steps (rollback.ts), then close the entry and
 * say, naming node and container, what was done. Also run at the start of
 * `conmig migrate` and of a live run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConmigError } from '../../model/errors.ts';
import { nodeByName, type Inventory } from '../inventory.ts';
import { SshExecPool, type AgentSetting, type ExecPool } from '../exec/pool.ts';
import { shq } from '../exec/types.ts';
import { waitHealthy } from './health.ts';
import { claimEntry, closeEntry, listOpenEntries, nodeKey, ownerAlive, rewriteEntry, type JournalEntry } from './journal.ts';
import type { NodeFactory } from './node.ts';
import { planRecovery, type ContainerStatus, type NodeObservation, type Observation, type RecoveryAction, type RecoveryPlan } from './recovery-plan.ts';
import { cleanUp, removeDirs, rollBack } from './rollback.ts';
import { migrationNode } from './agent-node.ts';
import type { MigrationPlan, MigrationState } from './state.ts';

export interface RecoverOptions {
  inventory: Inventory;
  journalDir: string;
  /** Connections to reuse (default: a new SSH pool, closed at the end, opened only if there is work). */
  pool?: ExecPool;
  /** Who runs the node-side steps (default: ShellNode over the pool). */
  nodes?: NodeFactory;
  /** How long a transitional state (a dump or restore still running, paused, created) is waited for. */
  settleMs?: number;
  /** The node agent for the pool made here (default CONMIG_AGENT, else auto). */
  agent?: AgentSetting;
  /** A line per thing done (the CLI prints them). */
  log?: (line: string) => void;
}

export interface RecoveryOutcome {
  id: string;
  container: string;
  from: string;
  to: string;
  /** The state the controller had entered last. */
  interruptedAt: MigrationState['kind'] | null;
  /** What was done; `skipped`: the entry is not this recovery's to end (live owner, other inventory, unreadable). */
  action: RecoveryAction | 'skipped';
  /** Where the container runs now (null: unknown, see summary). */
  runningOn: string | null;
  /** The entry was closed (the migration is over). */
  closed: boolean;
  summary: string;
  details: string[];
}

/** End every interrupted migration in the journal; the outcomes, one per open entry. */
export async function recoverInterrupted(o: RecoverOptions): Promise<RecoveryOutcome[]> {
  const entries = await listOpenEntries(o.journalDir);
  if (entries.length === 0) return [];
  const log = o.log ?? ((): void => undefined);
  const outcomes: RecoveryOutcome[] = [];
  let pool: ExecPool | null = o.pool ?? null;
  let ownPool = false;
  const poolOf = (): ExecPool => {
    if (!pool) {
      pool = new SshExecPool(o.inventory, { connectTimeoutMs: 6000, ...(o.agent ? { agent: o.agent } : {}) });
      ownPool = true;
    }
    return pool;
  };
  const nodeOf: NodeFactory = o.nodes ?? ((name) => migrationNode(nodeByName(o.inventory, name), poolOf().get(name)));
  try {
    for (const { file, entry, problem } of entries) {
      if (!entry) {
        const out: RecoveryOutcome = { id: file, container: '?', from: '?', to: '?', interruptedAt: null, action: 'skipped', runningOn: null, closed: false, summary: `journal entry ${file} cannot be read (${problem}); left as it is`, details: [] };
        log(out.summary);
        outcomes.push(out);
        continue;
      }
      const out = await recoverEntry(entry, o, nodeOf, poolOf);
      if (out.action !== 'skipped' || out.summary.includes('another inventory')) log(out.summary);
      for (const d of out.details) log(`  ${d}`);
      outcomes.push(out);
    }
  } finally {
    if (ownPool && pool) await (pool as ExecPool).closeAll();
  }
  return outcomes;
}

function base(e: JournalEntry): Omit<RecoveryOutcome, 'action' | 'runningOn' | 'closed' | 'summary' | 'details'> {
  const p = e.state.plan;
  return { id: e.id, container: p.container, from: p.from, to: p.to, interruptedAt: e.state.kind };
}

function what(p: MigrationPlan, kind: string): string {
  return `interrupted migration of "${p.container}" ${p.from} -> ${p.to} (journal ${kind})`;
}

async function recoverEntry(e: JournalEntry, o: RecoverOptions, nodeOf: NodeFactory, poolOf: () => ExecPool): Promise<RecoveryOutcome> {
  const p = e.state.plan;
  const skipped = (summary: string): RecoveryOutcome => ({ ...base(e), action: 'skipped', runningOn: null, closed: false, summary, details: [] });
  if (ownerAlive(e.owner)) return skipped(`migration ${e.id} is in progress (pid ${e.owner.pid} on ${e.owner.host})`);
  for (const n of [p.from, p.to]) {
    if (nodeKey(o.inventory, n) !== e.nodes[n]) {
      return skipped(`journal entry ${e.id} (${what(p, e.state.kind)}) is for another inventory (${n} was ${e.nodes[n]}, here ${nodeKey(o.inventory, n) ?? 'not a node'}); left for a recovery with that inventory`);
    }
  }
  const release = await claimEntry(o.journalDir, e.id);
  if (!release) return skipped(`migration ${e.id} is being recovered by another process`);
  try {
    const settleMs = o.settleMs ?? 60_000;
    // disk-less cold: a page server the destination started for a dump that may never come
    // would count as a command of the migration still running. Stopping it is safe: a dump
    // streaming to it fails, and runc resumes the container on the source.
    if (p.mode === 'cold' && ['planned', 'prepared', 'checkpointing'].includes(e.state.kind)) await nodeOf(p.to).stopPageServer(p.dstDir).catch(() => undefined);
    const t0 = Date.now();
    let plan: RecoveryPlan;
    let obs: Observation;
    for (;;) {
      const settled = Date.now() - t0 >= settleMs;
      obs = { ...(await observe(e.state, o.inventory, poolOf)), settled };
      plan = planRecovery(e.state, obs);
      if (plan.action !== 'wait' || !plan.retry) break;
      await sleep(500);
    }
    const out = await carryOut(e, plan, obs, o.inventory, nodeOf, poolOf);
    if (out.closed) await closeEntry(o.journalDir, { ...e, outcome: { at: new Date().toISOString(), by: 'recovery', summary: out.summary, runningOn: out.runningOn } });
    else await rewriteEntry(o.journalDir, { ...e, lastError: out.summary, updatedAt: new Date().toISOString() }).catch(() => undefined);
    return out;
  } finally {
    await release();
  }
}

/** Both nodes of the migration, one command each. */
async function observe(s: MigrationState, inv: Inventory, poolOf: () => ExecPool): Promise<Omit<Observation, 'settled'>> {
  const p = s.plan;
  const [source, destination] = await Promise.all([observeNode(inv, poolOf, p.from, p.container, p.srcDir), observeNode(inv, poolOf, p.to, p.container, p.dstDir)]);
  return { source, destination };
}

/** A regular expression matching `dir` that its own command line does not match (pgrep would find itself). */
function selfSafePattern(dir: string): string {
  const esc = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const last = esc.slice(-1);
  return /[A-Za-z0-9]/.test(last) ? `${esc.slice(0, -1)}[${last}]` : esc;
}

export function observeCmd(runcRoot: string, id: string, dir: string): string {
  // the folder travels base64-encoded: a command line naming it would match the pgrep below
  const b64 = (x: string): string => Buffer.from(x).toString('base64');
  return [
    `d=$(printf %s ${b64(dir)} | base64 -d)`,
    `pat=$(printf %s ${b64(selfSafePattern(dir))} | base64 -d)`,
    `st=$(runc --root ${shq(runcRoot)} state ${shq(id)} 2>/dev/null | tr -d '\\n')`,
    'echo "state $st"',
    'if [ -e "$d/img/inventory.img" ]; then echo "checkpoint 1"; else echo "checkpoint 0"; fi',
    'if pgrep -f -- "$pat" >/dev/null 2>&1; then echo "busy 1"; else echo "busy 0"; fi',
  ].join('; ');
}

export function parseObservation(stdout: string): NodeObservation {
  const lines = new Map(stdout.split('\n').map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)] as [string, string]));
  let container: ContainerStatus = 'absent';
  const st = (lines.get('state') ?? '').trim();
  if (st.startsWith('{')) {
    try {
      const status = (JSON.parse(st) as { status?: string }).status;
      container = status === 'running' || status === 'paused' || status === 'created' ? status : 'stopped';
    } catch {
      container = 'stopped';
    }
  }
  return { reachable: true, container, checkpoint: lines.get('checkpoint') === '1', busy: lines.get('busy') === '1' };
}

async function observeNode(inv: Inventory, poolOf: () => ExecPool, node: string, id: string, dir: string): Promise<NodeObservation> {
  const n = nodeByName(inv, node);
  try {
    const r = await poolOf().get(node).run(observeCmd(n.runcRoot, id, dir), { timeoutMs: 20_000 });
    if (r.code !== 0 && !r.stdout.includes('busy ')) return { reachable: false, error: r.stderr.trim() || `exit ${r.code}` };
    return parseObservation(r.stdout);
  } catch (err) {
    return { reachable: false, error: (err as Error).message };
  }
}

function describeObs(node: string, o: NodeObservation): string {
  if (!o.reachable) return `${node}: unreachable (${o.error})`;
  return `${node}: container ${o.container}${o.checkpoint ? ', checkpoint images present' : ''}${o.busy ? ', a command of the migration still runs' : ''}`;
}

async function carryOut(e: JournalEntry, plan: RecoveryPlan, obs: Observation, inv: Inventory, nodeOf: NodeFactory, poolOf: () => ExecPool): Promise<RecoveryOutcome> {
  const s = e.state;
  const p = s.plan;
  const head = what(p, s.kind);
  const details = [describeObs(p.from, obs.source), describeObs(p.to, obs.destination)];
  const done = (runningOn: string | null, summary: string, closed = runningOn !== null): RecoveryOutcome => ({ ...base(e), action: plan.action, runningOn, closed, summary, details });
  const closeChannel = async (): Promise<void> => {
    if (s.kind === 'planned') return;
    await nodeOf(p.from).closeChannel(s.channel, nodeByName(inv, p.to)).catch(() => undefined);
  };
  switch (plan.action) {
    case 'wait':
      return done(null, `${head}: NOT recovered yet: ${plan.reason}; nothing was changed, run \`conmig recover\` again`, false);
    case 'lost':
      return done(null, `${head}: NOT recovered: ${plan.reason}; every file is kept (checkpoint on ${p.from} at ${p.srcDir}/img, on ${p.to} at ${p.dstDir})`, false);
    case 'untouched': {
      await removeDirs(plan.removeDirs, nodeOf);
      if (plan.closeChannel) await closeChannel();
      const where = plan.runningOn ? `"${p.container}" runs on ${plan.runningOn}` : `"${p.container}" runs on neither ${p.from} nor ${p.to}`;
      return done(plan.runningOn, `${head}: the container had not been touched; ${where}; removed the migration's folders`, true);
    }
    case 'keep-source':
    case 'resume-source': {
      const dst = plan.clearDestination;
      let cleared = false;
      try {
        cleared = await nodeOf(dst.node).clear(dst.container, dst.dir, dst.bundle);
        details.push(cleared ? `${dst.node}: no container "${dst.container}", the migration's files removed` : `${dst.node}: container "${dst.container}" could not be removed`);
      } catch (err) {
        details.push(`${dst.node}: unreachable (${(err as Error).message}); its checkpoint files stay`);
        cleared = !dst.mayHoldContainer;
      }
      if (!cleared) return done(null, `${head}: NOT recovered: "${p.container}" runs on ${p.from} but could not be removed from ${dst.node}`, false);
      if (plan.action === 'resume-source') {
        // a dump that never finished left it frozen: thawing keeps the process exactly as it was
        const n = nodeByName(inv, plan.node);
        const r = await poolOf()
          .get(plan.node)
          .run(`runc --root ${shq(n.runcRoot)} resume ${shq(plan.container)}`, { timeoutMs: 20_000 })
          .catch(() => ({ code: -1 }));
        if (r.code !== 0) return done(null, `${head}: NOT recovered: "${p.container}" is frozen on ${plan.node} and \`runc resume\` failed`, false);
        details.push(`${plan.node}: resumed the frozen container`);
      }
      await removeDirs([...plan.removeDirs, { node: p.from, dir: p.srcDir }], nodeOf);
      if (plan.closeChannel) await closeChannel();
      const answers = await answerNote(p, inv, p.from);
      return done(p.from, `${head}: "${p.container}" runs on ${p.from}${plan.action === 'resume-source' ? ' (resumed)' : ''}; cleared ${dst.node}${answers}`);
    }
    case 'restore-source': {
      const rb = await rollBack(plan, { inventory: inv, nodeOf });
      details.push(...rb.details);
      if (plan.closeChannel) await closeChannel();
      if (rb.runningOn === null) return done(null, `${head}: ${rb.summary}`, false);
      return done(rb.runningOn, `${head}: restored "${p.container}" on ${rb.runningOn} from its checkpoint; cleared ${plan.clearDestination.node}`);
    }
    case 'keep-destination': {
      await cleanUp(plan.cleanUp, nodeOf);
      if (plan.closeChannel) await closeChannel();
      if (!plan.sourceReachable) details.push(`${p.from}: unreachable: its checkpoint folder ${p.srcDir} stays`);
      const answers = await answerNote(p, inv, p.to);
      return done(p.to, `${head}: "${p.container}" runs on ${p.to}: finished the migration (cleaned up ${p.from}${plan.sourceReachable ? '' : ' as far as it could be reached'})${answers}`);
    }
  }
}

async function answerNote(p: MigrationPlan, inv: Inventory, node: string): Promise<string> {
  if (!p.service) return '';
  const n = nodeByName(inv, node);
  const ok = await waitHealthy(n.address, p.service.port, p.service.healthPath, 10_000);
  return ok ? `; it answers http://${n.address}:${p.service.port}${p.service.healthPath}` : `; it does NOT answer http://${n.address}:${p.service.port}${p.service.healthPath}`;
}

/**
 * Run at the start of `conmig migrate` and of a live run: end what an earlier
 * controller left, and refuse to go on with a container whose earlier
 * migration could not be ended (moving it again could leave two copies).
 */
export async function recoverBeforeMigrating(o: RecoverOptions, containers: readonly string[]): Promise<RecoveryOutcome[]> {
  const outcomes = await recoverInterrupted(o);
  const stuck = outcomes.filter((x) => !x.closed && x.action !== 'skipped' && containers.includes(x.container));
  if (stuck.length > 0) {
    throw new ConmigError('MIGRATION_FAILED', `an earlier migration of ${stuck.map((x) => `"${x.container}"`).join(', ')} could not be ended: ${stuck.map((x) => x.summary).join('; ')}`, {
      context: { journal: o.journalDir, container: stuck.map((x) => x.container).join(', ') },
    });
  }
  return outcomes;
}
