/**
 * known_hosts matching for host-key verification (OpenSSH format): plain
 * patterns (`host`, `[host]:port`, comma lists, `*`/`?` wildcards, `!`
 * negation), hashed entries (`|1|salt|hmac-sha1`), and `@revoked` markers.
 * `@cert-authority` lines are ignored (no certificates here).
 */
import { createHmac } from 'node:crypto';

export interface KnownHostEntry {
  marker: '' | 'revoked';
  patterns: string;
  keyType: string;
  /** The public key blob (base64-decoded). */
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = '';
    if (f[0].startsWith('@')) {
      if (f[0] === '@revoked') marker = 'revoked';
      else continue;
      f.shift();
    }
    if (f.length < 3) continue;
    out.push({ marker, patterns: f[0], keyType: f[1], key: Buffer.from(f[2], 'base64') });
  }
  return out;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
    'i',
  );
  return re.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const mac = createHmac('sha1', Buffer.from(parts[2], 'base64')).update(name).digest('base64');
  return mac === parts[3];
}

export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.patterns.startsWith('|')) return hashedMatch(entry.patterns, name);
  let hit = false;
  for (const p of entry.patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) hit = true;
  }
  return hit;
}

export type HostKeyVerdict = 'ok' | 'unknown' | 'changed' | 'revoked';

/** Check a presented key against known_hosts for host:port. */
export function verifyHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = hostKeyName(host, port);
  const mine = entries.filter((e) => entryMatchesHost(e, name));
  if (mine.some((e) => e.marker === 'revoked' && e.key.equals(key))) return 'revoked';
  const trusted = mine.filter((e) => e.marker === '');
  if (trusted.some((e) => e.key.equals(key))) return 'ok';
  return trusted.length > 0 ? 'changed' : 'unknown';
}
