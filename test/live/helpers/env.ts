/**
 * What every live test file needs first: a shell helper, and whether this
 * machine can run live tests at all (root and the tools of
 * scripts/setup-live.sh). Locally a file skips with a printed reason; under
 * CI=true a missing tool is an error, never a silent skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function sh(cmd: string): { code: number; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

const TOOLS = ['ip', 'tc', 'nsenter', 'runc', 'criu', 'ssh-keygen', 'busybox', 'gcc'];

/** Why live tests cannot run here, or '' when they can. */
export function liveUnavailableReason(): string {
  if (process.getuid?.() !== 0) return 'not root';
  const missing = TOOLS.filter((t) => sh(`command -v ${t}`).code !== 0).concat(existsSync('/usr/sbin/sshd') ? [] : ['sshd']);
  return missing.length > 0 ? `missing ${missing.join(', ')} (run bash scripts/setup-live.sh)` : '';
}

/** True when the file's live tests must skip (printed); throws under CI instead of skipping. */
export function skipLive(file: string, what: string): boolean {
  const reason = liveUnavailableReason();
  if (reason === '') return false;
  if (process.env.CI) throw new Error(`${file}: ${what} cannot run in CI: ${reason}`);
  console.log(`[${file}] skipping ${what}: ${reason}`);
  return true;
}
