/** Seed lists as `--seeds` and a sweep file's `seeds:` write them. */
import { ConmigError } from '../model/errors.ts';

/** "1..30", "1,2,7", "3..5,9" or "5" -> seeds, in order, without duplicates. */
export function parseSeedList(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const range = /^(\d+)\.\.(\d+)$/.exec(part);
    if (range) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      if (hi < lo || hi - lo > 10_000) throw new ConmigError('USAGE', `--seeds: bad range "${part}" (expected lo..hi with lo <= hi)`);
      for (let s = lo; s <= hi; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) {
      seeds.push(Number(part));
    } else {
      throw new ConmigError('USAGE', `--seeds: expected a list like 1..30 or 1,2,7, got "${text}"`);
    }
  }
  const unique = [...new Set(seeds)];
  if (unique.length === 0) throw new ConmigError('USAGE', '--seeds: no seeds given');
  return unique;
}
