/**
 * The migration journal: on the controller, one JSON file per migration in
 * flight holding its state (state.ts) as the controller enters it, written
 * to a temporary file, fsynced, renamed over the entry and the folder
 * fsynced, before the step the state announces runs (ctx.enter in run.ts).
 * A controller killed at any point leaves the last state it was about to act
 * from; `conmig recover` (recover.ts) reads it back, looks at the nodes and
 * ends the migration. A finished migration's entry is moved to closed/.
 *
 *   <dir>/<id>.json          open entries (one per migration not yet ended)
 *   <dir>/<id>.lock          a recovery working on the entry (its pid)
 *   <dir>/closed/<id>.json   ended migrations, with their outcome (the newest 200 kept)
 *
 * The folder: --journal, else CONMIG_JOURNAL_DIR, else /var/lib/conmig/journal
 * for root, else $XDG_STATE_HOME/conmig/journal (~/.local/state/conmig/journal).
 */
import { hostname, homedir } from 'node:os';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ConmigError } from '../../model/errors.ts';
import type { Inventory } from '../inventory.ts';
import type { MigrationState } from './state.ts';

export const JOURNAL_VERSION = 1;
const CLOSED_KEPT = 200;

/** Who wrote an entry: a recovery leaves entries of a live owner alone. */
export interface JournalOwner {
  pid: number;
  /** The process's start time (clock ticks since boot, /proc/PID/stat field 22): tells a reused pid apart. */
  startTicks: string | null;
  host: string;
}

export interface JournalEntry {
  version: typeof JOURNAL_VERSION;
  id: string;
  owner: JournalOwner;
  /** The two nodes as the controller reached them (name -> user@address:port): an entry is recovered only with an inventory that agrees. */
  nodes: Record<string, string>;
  startedAt: string;
  updatedAt: string;
  /** The state the controller entered last (what it was about to do). */
  state: MigrationState;
  /** Every state entered, with its time. */
  history: Array<{ kind: MigrationState['kind']; at: string }>;
  /** Set when the entry is closed. */
  outcome?: { at: string; by: 'migration' | 'recovery'; summary: string; runningOn: string | null };
  /** Why the last attempt to end it failed (the entry stays open). */
  lastError?: string;
}

export function defaultJournalDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONMIG_JOURNAL_DIR) return path.resolve(env.CONMIG_JOURNAL_DIR);
  if (process.getuid?.() === 0) return '/var/lib/conmig/journal';
  const state = env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
  return path.join(state, 'conmig', 'journal');
}

export function nodeKey(inv: Inventory, name: string): string | undefined {
  const n = inv.nodes.find((x) => x.name === name);
  return n ? `${n.user}@${n.address}:${n.sshPort}` : undefined;
}

function startTicksOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export function selfOwner(): JournalOwner {
  return { pid: process.pid, startTicks: startTicksOf(process.pid), host: hostname() };
}

/** Whether the process that wrote an entry still runs (another host's: assumed so, it cannot be checked). */
export function ownerAlive(o: JournalOwner): boolean {
  if (o.host !== hostname()) return true;
  if (o.pid === process.pid) return o.startTicks === startTicksOf(process.pid);
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = startTicksOf(o.pid);
  return o.startTicks === null || now === null || now === o.startTicks;
}

/** Write `text` to `file` durably: a temporary file, fsync, rename, fsync of the folder. */
async function writeDurably(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(path.dirname(file));
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    /* some filesystems refuse fsync on a directory: the rename is as durable as they allow */
  } finally {
    await d.close();
  }
}

function journalError(dir: string, what: string, e: unknown): ConmigError {
  return new ConmigError('MIGRATION_FAILED', `cannot ${what} the migration journal in ${dir}: ${(e as Error).message} (set CONMIG_JOURNAL_DIR or --journal to a writable folder)`, {
    context: { journal: dir },
    cause: e,
  });
}

/** One migration's entry, written by the migration itself. */
export class MigrationJournal {
  private entry: JournalEntry;
  private readonly file: string;

  private constructor(
    readonly dir: string,
    entry: JournalEntry,
  ) {
    this.entry = entry;
    this.file = path.join(dir, `${entry.id}.json`);
  }

  /** Create the entry with the migration's first state (nothing is touched yet). */
  static async open(dir: string, id: string, inv: Inventory, state: MigrationState): Promise<MigrationJournal> {
    try {
      await mkdir(path.join(dir, 'closed'), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw journalError(dir, 'create', e);
    }
    const now = new Date().toISOString();
    const nodes: Record<string, string> = {};
    for (const n of [state.plan.from, state.plan.to]) nodes[n] = nodeKey(inv, n) ?? '?';
    const j = new MigrationJournal(dir, { version: JOURNAL_VERSION, id, owner: selfOwner(), nodes, startedAt: now, updatedAt: now, state, history: [{ kind: state.kind, at: now }] });
    await j.flush();
    return j;
  }

  get id(): string {
    return this.entry.id;
  }

  /** The migration enters `s`: on disk before the step that follows runs. */
  async record(s: MigrationState): Promise<void> {
    const at = new Date().toISOString();
    this.entry = { ...this.entry, state: s, updatedAt: at, history: [...this.entry.history, { kind: s.kind, at }] };
    await this.flush();
  }

  /** The migration ended (migrated, rolled back, refused): the entry moves to closed/. */
  async close(summary: string, runningOn: string | null): Promise<void> {
    await closeEntry(this.dir, { ...this.entry, outcome: { at: new Date().toISOString(), by: 'migration', summary, runningOn } });
  }

  /** The migration failed and could not say where the container runs: the entry stays open for `conmig recover`. */
  async leaveOpen(error: string): Promise<void> {
    this.entry = { ...this.entry, lastError: error, updatedAt: new Date().toISOString() };
    await this.flush().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    try {
      await writeDurably(this.file, JSON.stringify(this.entry, null, 1) + '\n');
    } catch (e) {
      throw journalError(this.dir, 'write', e);
    }
  }
}

export async function closeEntry(dir: string, entry: JournalEntry): Promise<void> {
  const closed = path.join(dir, 'closed');
  await mkdir(closed, { recursive: true, mode: 0o700 });
  await writeDurably(path.join(closed, `${entry.id}.json`), JSON.stringify(entry, null, 1) + '\n');
  await unlink(path.join(dir, `${entry.id}.json`)).catch(() => undefined);
  await syncDir(dir);
  await pruneClosed(closed);
}

async function pruneClosed(closed: string): Promise<void> {
  const files = (await readdir(closed)).filter((f) => f.endsWith('.json')).sort();
  // ids start with the container name, then a UTC stamp: sort by the stamp
  const byStamp = files.map((f) => ({ f, stamp: f.match(/-(\d{14})-\d+\.json$/)?.[1] ?? '' })).sort((a, b) => a.stamp.localeCompare(b.stamp));
  for (const { f } of byStamp.slice(0, Math.max(0, byStamp.length - CLOSED_KEPT))) await unlink(path.join(closed, f)).catch(() => undefined);
}

/** Rewrite an open entry (a recovery noting why it could not end it yet). */
export async function rewriteEntry(dir: string, entry: JournalEntry): Promise<void> {
  await writeDurably(path.join(dir, `${entry.id}.json`), JSON.stringify(entry, null, 1) + '\n');
}

export interface OpenEntry {
  file: string;
  entry: JournalEntry | null;
  /** Why the file could not be read (a torn or foreign file). */
  problem?: string;
}

/** Every open entry in `dir` (none if the folder does not exist). */
export async function listOpenEntries(dir: string): Promise<OpenEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw journalError(dir, 'read', e);
  }
  const out: OpenEntry[] = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
    const file = path.join(dir, n);
    try {
      const entry = JSON.parse(await readFile(file, 'utf8')) as JournalEntry;
      if (entry.version !== JOURNAL_VERSION || typeof entry.id !== 'string' || !entry.state?.plan) {
        out.push({ file, entry: null, problem: `not a conmig journal entry of version ${JOURNAL_VERSION}` });
      } else out.push({ file, entry });
    } catch (e) {
      out.push({ file, entry: null, problem: (e as Error).message });
    }
  }
  return out;
}

/**
 * Take an entry for recovery (one recovery at a time per entry): a lock file
 * created exclusively, taken over if its owner is dead. Returns the release, or
 * null if a live process holds it.
 */
export async function claimEntry(dir: string, id: string): Promise<(() => Promise<void>) | null> {
  const lock = path.join(dir, `${id}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(JSON.stringify(selfOwner()));
      await fh.close();
      return async () => {
        await unlink(lock).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw journalError(dir, 'lock', e);
      let holder: JournalOwner | null = null;
      try {
        holder = JSON.parse(await readFile(lock, 'utf8')) as JournalOwner;
      } catch {
        holder = null; // torn: its writer died while writing
      }
      if (holder && ownerAlive(holder)) return null;
      await unlink(lock).catch(() => undefined);
    }
  }
  return null;
}
