/**
 * `conmig migrate --container ID --from NODE --to NODE [--mode cold|precopy|postcopy]
 *                 [--inventory FILE] [--json]`
 *
 * One real migration between two inventory nodes (see docs/migrate.md).
 * Ctrl-C during a migration does not exit at once: the current phase finishes
 * or is rolled back, then the command ends with INTERRUPTED.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { ConmigError } from '../model/errors.ts';
import type { CliContext } from './io.ts';
import type { MigrationMode } from '../model/types.ts';
import { bytesToMiB } from '../model/units.ts';
import { DEFAULT_STATE_DIR } from '../live/testbed/layout.ts';
import type { LiveMigrationResult } from '../live/migrate/result.ts';
import { journalDirOf } from './recover.ts';

interface MigrateFlags {
  container: string;
  from: string;
  to: string;
  mode: string;
  inventory: string;
  json?: boolean;
  probe?: boolean;
  diskless?: boolean;
  health: string;
  dryRun?: boolean;
  journal?: string;
  /** false with --no-agent */
  agent?: boolean;
}

const MODES: readonly MigrationMode[] = ['cold', 'precopy', 'postcopy'];

export function parseMode(text: string): MigrationMode {
  if ((MODES as readonly string[]).includes(text)) return text as MigrationMode;
  throw new ConmigError('USAGE', `--mode: expected one of ${MODES.join(', ')}, got "${text}"`);
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

export function formatMigration(r: LiveMigrationResult): string {
  if (r.dryRun) {
    return [
      `pre-flight passed: ${r.containerId} can move ${r.from} -> ${r.to} (${r.mode}); nothing was changed`,
      `  needs about ${bytesToMiB(r.dryRun.estimatedBytes).toFixed(1)} MiB at ${r.to} (free ${bytesToMiB(r.dryRun.destinationFreeBytes).toFixed(0)} MiB); rootfs ${r.rootfsCached ? 'already there (identical)' : 'will be sent'}`,
      `  ${Object.entries(r.environment).map(([k, v]) => `${k}: ${v}`).join(', ')}`,
    ].join('\n');
  }
  const lines = [
    `migrated ${r.containerId} ${r.from} -> ${r.to} (${r.mode}) in ${fmtMs(r.totalMs)}; downtime ${fmtMs(r.downtimeMs)}` +
      (r.downtime ? ` (client probes: ${r.downtime.failures}/${r.downtime.probes} failed)` : ' (no probe: phases summed)'),
    `  bytes ${bytesToMiB(r.bytes).toFixed(2)} MiB (checkpoint ${bytesToMiB(r.checkpointBytes).toFixed(2)} MiB, bundle ${bytesToMiB(r.bundleBytes).toFixed(2)} MiB${r.rootfsCached ? ', rootfs cached at destination' : ''})`,
  ];
  for (const p of r.phases) lines.push(`  ${p.phase.padEnd(10)} ${fmtMs(p.wallMs).padStart(9)}${p.note ? `  ${p.note}` : ''}`);
  return lines.join('\n');
}

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('migrate a running container between two inventory nodes with CRIU (real checkpoint/restore)')
    .requiredOption('--container <id>', 'container name (runc id)')
    .requiredOption('--from <node>', 'source node (inventory name)')
    .requiredOption('--to <node>', 'destination node (inventory name)')
    .option('--mode <mode>', 'cold | precopy | postcopy', 'cold')
    .option('--inventory <file>', 'inventory file', path.join(DEFAULT_STATE_DIR, 'inventory.yaml'))
    .option('--health <path>', 'HTTP health path of the service', '/health')
    .option('--no-probe', 'do not measure client-side downtime')
    .option('--diskless', 'cold: stream the memory to the destination during the dump (CRIU page server) instead of dumping to the source\'s disk and pushing; faster for small containers, but the memory then exists only at the destination until the restore')
    .option('--dry-run', 'only run the pre-flight checks (changes nothing) and report')
    .option('--journal <dir>', 'journal folder (default: CONMIG_JOURNAL_DIR, else /var/lib/conmig/journal for root, else ~/.local/state/conmig/journal)')
    .option('--json', 'print the result as JSON')
    .option('--no-agent', 'no node agent: one SSH command per step (as CONMIG_AGENT=off; docs/migrate.md)')
    .action(async (o: MigrateFlags) => {
      const agent = o.agent === false ? ('off' as const) : undefined;
      const mode = parseMode(o.mode);
      const [{ loadInventory }, { migrateContainer }, { recoverBeforeMigrating }] = await Promise.all([
        import('../live/inventory.ts'),
        import('../live/migrate/migrator.ts'),
        import('../live/migrate/recover.ts'),
      ]);
      const inventory = await loadInventory(ctx.abs(o.inventory));
      const journalDir = await journalDirOf(ctx, o.journal);
      // first end what an earlier controller left half-way (conmig recover)
      await recoverBeforeMigrating({ inventory, journalDir, agent, log: (l) => ctx.err(`conmig recover: ${l}`) }, [o.container]);
      const ctl = new AbortController();
      const onSigint = (): void => {
        if (!ctl.signal.aborted) {
          ctx.err('\nconmig: interrupt: finishing or rolling back the current phase (the container is never left half-way)...');
          ctl.abort();
        } else ctx.err('conmig: still finishing the current phase; please wait');
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      try {
        const r = await migrateContainer({
          inventory,
          container: o.container,
          from: o.from,
          to: o.to,
          mode,
          signal: ctl.signal,
          probe: o.probe !== false,
          diskless: o.diskless === true,
          healthPath: o.health,
          dryRun: o.dryRun === true,
          journalDir,
          agent,
          onPhase: o.json
            ? undefined
            : (phase, state) => {
                if (state === 'start' && ctx.io.stderr.isTTY) ctx.err(`  ${phase}...`);
              },
        });
        ctx.out(o.json ? JSON.stringify(r, null, 2) : formatMigration(r));
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    });
}
