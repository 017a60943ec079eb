/**
 * The folder a command writes its results to, checked before any work:
 *
 * - it must be a folder, or a path whose nearest existing parent is a
 *   writable folder (not a file, not /dev/null, not under /proc, /sys or
 *   /dev, where writes hang or vanish);
 * - what an earlier run wrote there (run folders, the report, run.json,
 *   seeds.*) is removed before this run writes; files of others stay. A run
 *   that would not rewrite every earlier run folder (another policy, other
 *   seeds) is refused unless asked (`--force`), so folders of two runs never
 *   sit side by side with nothing to tell them apart;
 * - run.json records which run wrote the folder (scenario name and hash,
 *   seed, policies and their folders, conmig version), so a reader or
 *   `compare` can tell runs apart. It sits beside the run folders, not in
 *   summary.json, so the summaries (and the golden files) stay as they were.
 */
import { constants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { access, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ConmigError } from '../model/errors.ts';
import { writeFileAtomic } from './write.ts';

export const RUN_FILE = 'run.json';

export interface RunIdentity {
  format: 'conmig-run/1';
  conmigVersion: string;
  mode: 'sim' | 'live';
  scenario: { name: string; hash: string; file: string };
  seed: number;
  /** Policy labels and the folder (inside this one) each wrote. */
  policies: Array<{ name: string; dir: string }>;
}

const VIRTUAL = ['/proc', '/sys', '/dev'];

function kindOf(p: string): string {
  const st = statSync(p);
  if (st.isFile()) return 'a file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a folder';
}

/** Refuse, with a USAGE error naming `option`, a path results cannot be written to. */
export async function checkOutputDir(dir: string, option: string): Promise<void> {
  const fail = (why: string): never => {
    throw new ConmigError('USAGE', `${option} ${dir}: ${why}`, { context: { option } });
  };
  let existing = path.resolve(dir);
  while (!existsSync(existing)) {
    const up = path.dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  const real = realpathSync(existing);
  for (const v of VIRTUAL) {
    if (real === v || real.startsWith(`${v}/`)) fail(`is in ${v}, a virtual file system, not a folder for results`);
  }
  if (!statSync(real).isDirectory()) {
    fail(existing === path.resolve(dir) ? `exists and is ${kindOf(real)}, not a folder` : `${existing} is ${kindOf(real)}, not a folder`);
  }
  try {
    await access(real, constants.W_OK | constants.X_OK);
  } catch {
    fail(existing === path.resolve(dir) ? 'is not writable' : `cannot be created: ${existing} is not writable`);
  }
}

/** What conmig writes in an output folder: the entries --force may remove. */
async function conmigEntries(dir: string): Promise<string[]> {
  const out: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const p = path.join(dir, name);
    if ([RUN_FILE, 'report.html', 'charts', 'seeds.json', 'seeds.csv', 'seeds.html'].includes(name)) out.push(p);
    else if (existsSync(path.join(p, 'summary.json')) || (/^seed-\d+$/.test(name) && statSync(p).isDirectory())) out.push(p);
  }
  return out;
}

function describePrevious(dir: string): string {
  try {
    const id = JSON.parse(readFileSync(path.join(dir, RUN_FILE), 'utf8')) as Partial<RunIdentity>;
    return ` (scenario ${id.scenario?.name} ${id.scenario?.hash}, seed ${id.seed}, policies ${id.policies?.map((p) => p.name).join(', ')})`;
  } catch {
    return '';
  }
}

/**
 * Check `dir` (checkOutputDir) and make it this run's. What an earlier run
 * wrote there is removed first; without `force` only when this run rewrites
 * every run folder it left (`owns`: the folder names this run writes), so
 * re-running a command replaces its results, while a run that would leave
 * another run's folders beside its own is refused, naming them.
 */
export async function claimOutputDir(dir: string, opts: { option: string; owns: readonly string[]; force?: boolean }): Promise<void> {
  await checkOutputDir(dir, opts.option);
  const previous = await conmigEntries(dir);
  if (previous.length === 0) return;
  const owned = new Set(opts.owns);
  const FILES = new Set([RUN_FILE, 'report.html', 'charts', 'seeds.json', 'seeds.csv', 'seeds.html']);
  const leftover = previous.map((p) => path.basename(p)).filter((n) => !FILES.has(n) && !owned.has(n));
  if (leftover.length > 0 && !opts.force) {
    throw new ConmigError(
      'USAGE',
      `${opts.option} ${dir} holds results of an earlier run${describePrevious(dir)} that this run would not replace (${leftover.join(', ')}): give --force to remove them, or another ${opts.option}`,
      { context: { option: opts.option } },
    );
  }
  for (const p of previous) await rm(p, { recursive: true, force: true });
}

let version: string | undefined;
/** conmig's version, from its package.json. */
export function conmigVersion(): string {
  if (version === undefined) {
    try {
      // In the bundled sweep worker, import.meta.url is the bundle's: its bundler sets the package entry (src/sweep/entry.ts).
      const entry = process.env.CONMIG_PACKAGE_ENTRY;
      const file = entry ? new URL('../package.json', entry) : new URL('../../package.json', import.meta.url);
      version = String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

export async function writeRunIdentity(dir: string, id: Omit<RunIdentity, 'format' | 'conmigVersion'>): Promise<void> {
  const full: RunIdentity = { format: 'conmig-run/1', conmigVersion: conmigVersion(), ...id };
  await writeFileAtomic(path.join(dir, RUN_FILE), JSON.stringify(full, null, 2) + '\n');
}

export async function readRunIdentity(dir: string): Promise<RunIdentity | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, RUN_FILE), 'utf8')) as RunIdentity;
  } catch {
    return undefined;
  }
}
