/** Pairing migrations of two runs: the k-th successful migration of a container with the k-th of the same container. */
import type { MigrationRecord } from '../model/results.ts';
import type { MigrationPair } from './compare-types.ts';

/** Pair the k-th ok migration of each container in `ref` with the k-th in `other`. */
export function pairMigrations(
  ref: readonly MigrationRecord[],
  other: readonly MigrationRecord[],
): { pairs: MigrationPair[]; unpairedReference: number; unpairedOther: number } {
  const byContainer = (recs: readonly MigrationRecord[]): Map<string, MigrationRecord[]> => {
    const m = new Map<string, MigrationRecord[]>();
    for (const r of [...recs].filter((r) => r.status === 'ok').sort((a, b) => a.startS - b.startS || a.id - b.id)) {
      const list = m.get(r.containerId) ?? [];
      list.push(r);
      m.set(r.containerId, list);
    }
    return m;
  };
  const pick = (r: MigrationRecord): MigrationPair['reference'] => ({
    id: r.id,
    from: r.from,
    to: r.to,
    mode: r.mode,
    downtimeMs: r.downtimeMs,
    totalMs: r.totalMs,
    bytes: r.bytes,
  });
  const a = byContainer(ref);
  const b = byContainer(other);
  const pairs: MigrationPair[] = [];
  let unpairedReference = 0;
  let unpairedOther = 0;
  const containers = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const c of containers) {
    const la = a.get(c) ?? [];
    const lb = b.get(c) ?? [];
    const n = Math.min(la.length, lb.length);
    for (let k = 0; k < n; k++) {
      pairs.push({
        containerId: c,
        k,
        reference: pick(la[k]),
        other: pick(lb[k]),
        routeDiffers: la[k].from !== lb[k].from || la[k].to !== lb[k].to,
      });
    }
    unpairedReference += la.length - n;
    unpairedOther += lb.length - n;
  }
  return { pairs, unpairedReference, unpairedOther };
}
