/**
 * The machinery of one migration run around its story (migrator.ts): the
 * nodes and connections, timed phases with their hooks and progress, the
 * current state, the downtime prober, and what a failure leads to (decided
 * by planRollback from the state alone).
 */
import { performance } from 'node:perf_hooks';
import { ConmigError, isConmigError } from '../../model/errors.ts';
import { nodeByName, type InventoryNode } from '../inventory.ts';
import { SshExecPool, type ExecPool } from '../exec/pool.ts';
import type { HookContext, MigrateOptions } from './options.ts';
import type { NodeFactory, TransferChannel } from './node.ts';
import { DowntimeProber } from './prober.ts';
import { dryRunResult, migratedResult, type LiveMigrationResult, type MigrationPhase, type PhaseTiming, type ResultMeta } from './result.ts';
import { planRollback } from './rollback-plan.ts';
import { cleanUp, removeDirs, rollBack, type RollbackOutcome } from './rollback.ts';
import { migrationNode } from './agent-node.ts';
import { MigrationJournal } from './journal.ts';
import { pauseIfAsked } from './test-pause.ts';
import type { StepContext } from './steps.ts';
import type { Cleaned, MigrationPlan, MigrationState, Prepared } from './state.ts';

export class MigrationRun {
  readonly from: InventoryNode;
  readonly to: InventoryNode;
  readonly ctx: StepContext;
  readonly plan: MigrationPlan;
  /** The node-to-node channel pre-flight opens (its control socket on the source). */
  readonly channel: TransferChannel;
  /** The state now: where a failure is rolled back from. */
  state: MigrationState;
  private readonly pool: ExecPool;
  private readonly ownPool: boolean;
  private readonly hookCtx: HookContext;
  private readonly t0 = performance.now();
  private readonly startS = Date.now() / 1000;
  private readonly phases: PhaseTiming[] = [];
  /** The phase running (or last run) when something fails. */
  private current: MigrationPhase = 'preflight';
  private prober: DowntimeProber | null = null;
  /** The journal entry (opts.journalDir), written on every state entered. */
  private journal: MigrationJournal | null = null;
  private readonly stamp: string;

  constructor(private readonly opts: MigrateOptions) {
    const inv = opts.inventory;
    const id = opts.container;
    this.from = nodeByName(inv, opts.from);
    this.to = nodeByName(inv, opts.to);
    if (this.from.name === this.to.name) throw new ConmigError('USAGE', `--from and --to are the same node (${this.from.name})`);
    this.ownPool = !opts.pool;
    const pool = opts.pool ?? new SshExecPool(inv, opts.agent === undefined ? {} : { agent: opts.agent });
    this.pool = pool;
    const nodeOf: NodeFactory = opts.nodes ?? ((name) => migrationNode(nodeByName(inv, name), pool.get(name)));
    const port = opts.port ?? inv.containers.find((c) => c.name === id)?.port;
    const stamp = `${id}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${process.pid}`;
    const plan: MigrationPlan = {
      container: id,
      mode: opts.mode,
      from: this.from.name,
      to: this.to.name,
      srcDir: `${this.from.workDir}/checkpoints/${stamp}`,
      dstDir: `${this.to.workDir}/checkpoints/${stamp}`,
      service: port === undefined ? null : { port, healthPath: opts.healthPath ?? '/health' },
    };
    this.plan = plan;
    this.stamp = stamp;
    this.state = { kind: 'planned', plan };
    this.channel = { from: this.from.name, to: this.to.name, ctlSock: `/tmp/conmig-${process.pid}-${stamp.slice(-20).replace(/[^A-Za-z0-9-]/g, '')}.ctl` };
    this.hookCtx = { container: id, from: this.from, to: this.to, srcDir: plan.srcDir, dstDir: plan.dstDir, exec: (n) => pool.get(n) };
    this.ctx = {
      inventory: inv,
      from: this.from,
      to: this.to,
      src: nodeOf(this.from.name),
      dst: nodeOf(this.to.name),
      nodeOf,
      enter: async (s) => {
        this.state = s;
        // on disk before the step this state announces (journal.ts)
        await this.journal?.record(s);
        await pauseIfAsked(s.kind);
      },
      verifyTimeoutMs: opts.verifyTimeoutMs ?? 10_000,
      stockLazyDaemon: opts.stockLazyDaemon === true,
    };
  }

  /** Before anything else: the journal entry (if journalled) with the first state. */
  async begin(): Promise<void> {
    if (this.opts.journalDir) this.journal = await MigrationJournal.open(this.opts.journalDir, this.stamp, this.opts.inventory, this.state);
    await pauseIfAsked(this.state.kind);
  }

  /** The migration ended where `runningOn` says: its journal entry is closed (best effort: the outcome stands). */
  private async closeJournal(summary: string, runningOn: string | null): Promise<void> {
    await this.journal?.close(summary, runningOn).catch(() => undefined);
    this.journal = null;
  }

  get aborted(): boolean {
    return this.opts.signal?.aborted === true;
  }

  /** Between phases: Ctrl-C ends the migration here (rolled back from the state reached). */
  checkInterrupt(): void {
    if (this.aborted) throw new ConmigError('INTERRUPTED', 'interrupted');
  }

  /** After cleanup, Ctrl-C is reported, but the migration stands. */
  checkInterruptAfterCompletion(): void {
    if (this.aborted) {
      throw new ConmigError('INTERRUPTED', `interrupted after the migration completed: "${this.plan.container}" runs on ${this.plan.to}`, {
        context: { container: this.plan.container, runningOn: this.plan.to },
      });
    }
  }

  /** Run a phase: hook, progress, wall time; its result becomes the state. */
  async step<S extends MigrationState>(name: MigrationPhase, fn: () => Promise<S>, note?: string, startedAt?: number): Promise<S> {
    const next = await this.timed(name, fn, note, startedAt);
    await this.ctx.enter(next);
    return next;
  }

  /** A timed phase that does not change the state (disk-less cold's preparation before the freeze). */
  phase<T>(name: MigrationPhase, fn: () => Promise<T>, note?: string): Promise<T> {
    return this.timed(name, fn, note);
  }

  /** Now, on the clock phases are timed with (a phase that began earlier: `step`'s startedAt). */
  now(): number {
    return performance.now();
  }

  /** Note on the last timed phase (how a disk-less dump went). */
  noteLast(note: string): void {
    const last = this.phases.at(-1);
    if (last) last.note = last.note ? `${last.note}; ${note}` : note;
  }

  /**
   * `startedAt` (run.now()): the phase began before this call, overlapping the previous one
   * (disk-less cold: the transfer began with the dump); its wall time counts from then.
   */
  private async timed<T>(name: MigrationPhase, fn: () => Promise<T>, note?: string, startedAt?: number): Promise<T> {
    await this.opts.hooks?.beforePhase?.(name, this.hookCtx);
    const s = startedAt ?? performance.now();
    this.current = name;
    this.opts.onPhase?.(name, 'start', 0);
    try {
      return await fn();
    } finally {
      const wallMs = performance.now() - s;
      this.phases.push({ phase: name, wallMs, startWallMs: s - this.t0, ...(note ? { note } : {}) });
      this.opts.onPhase?.(name, 'end', wallMs);
    }
  }

  /** Client-side downtime probing from before the freeze (when the service has a port). */
  async startProber(): Promise<void> {
    const svc = this.plan.service;
    if (!svc || this.opts.probe === false) return;
    this.prober = new DowntimeProber({ address: this.from.address, port: svc.port, path: svc.healthPath, intervalMs: this.opts.probeIntervalMs ?? 10 });
    this.prober.start();
    await new Promise((r) => setTimeout(r, 50)); // a baseline of successes before the freeze
  }

  /** The restore begins: probe the destination too. */
  probeDestination(): void {
    this.prober?.addTarget(this.to.address);
  }

  private meta(reason: string): ResultMeta {
    return { id: this.opts.id ?? 0, reason: this.opts.reason ?? reason, startS: this.startS, totalMs: performance.now() - this.t0, phases: this.phases };
  }

  async dryRunResult(s: Prepared): Promise<LiveMigrationResult> {
    await this.closeJournal('dry run: nothing was changed', this.plan.from);
    return dryRunResult(s, this.meta('dry-run'));
  }

  async result(s: Cleaned): Promise<LiveMigrationResult> {
    const downtime = this.prober ? await this.prober.stop() : null;
    this.prober = null;
    await this.closeJournal(`migrated: "${this.plan.container}" runs on ${this.plan.to}`, this.plan.to);
    return migratedResult(s, this.meta('manual'), downtime);
  }

  /** A failure in the state reached: carry out planRollback's decision and say what it led to. */
  async fail(e: unknown): Promise<unknown> {
    const failed = this.current;
    const rb = planRollback(this.state);
    const plan = this.plan;
    switch (rb.direction) {
      case 'none':
        await removeDirs(rb.removeDirs, this.ctx.nodeOf);
        await this.closeJournal(`failed, nothing was changed: ${e instanceof Error ? e.message : String(e)}`, null);
        return e; // nothing was changed: the error stands
      case 'back': {
        const out = await this.timed('rollback', () => rollBack(rb, { inventory: this.opts.inventory, nodeOf: this.ctx.nodeOf }));
        // where it runs is known: the entry closes; otherwise `conmig recover` finishes it later
        if (out.runningOn !== null) await this.closeJournal(out.summary, out.runningOn);
        else await this.journal?.leaveOpen(out.summary);
        return rolledBackError(e, failed, out, plan);
      }
      case 'forward':
        await this.timed('cleanup', () => cleanUp(rb.cleanUp, this.ctx.nodeOf));
        await this.closeJournal(`the migration had completed: "${plan.container}" runs on ${plan.to}`, plan.to);
        return new ConmigError(isConmigError(e) ? e.code : 'MIGRATION_FAILED', `${e instanceof Error ? e.message : String(e)}; the migration had completed: "${plan.container}" runs on ${plan.to}`, {
          context: { container: plan.container, phase: failed, runningOn: plan.to },
          cause: e,
        });
    }
  }

  /** Stop the prober, close the node-to-node channel if one is open, and our connections. */
  async release(): Promise<void> {
    if (this.prober) await this.prober.stop();
    const s = this.state;
    if (s.kind !== 'planned') await this.ctx.src.closeChannel(s.channel, this.to).catch(() => undefined);
    if (this.ownPool) await this.pool.closeAll();
  }
}

function rolledBackError(e: unknown, failed: MigrationPhase, rb: RollbackOutcome, plan: MigrationPlan): ConmigError {
  const runningOn = rb.runningOn ?? 'unknown';
  if (isConmigError(e) && e.code === 'INTERRUPTED') {
    return new ConmigError('INTERRUPTED', `interrupted during ${failed}; ${rb.summary}`, {
      context: { container: plan.container, phase: failed, runningOn, rollback: rb.details },
    });
  }
  const cause = e instanceof Error ? e.message : String(e);
  return new ConmigError('MIGRATION_FAILED', `migration of "${plan.container}" from ${plan.from} to ${plan.to} failed during ${failed}: ${cause}; ${rb.summary}`, {
    context: {
      container: plan.container,
      phase: failed,
      runningOn,
      rollback: rb.details,
      ...(isConmigError(e) ? { node: e.context.node, stderr: e.context.stderr, criuLog: e.context.criuLog, command: e.context.command } : {}),
    },
    cause: e,
  });
}
