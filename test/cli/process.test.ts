/**
 * The command as a process (bin/conmig.js): what the shell sees, one test per
 * exit-status class. Everything else about the commands is tested in-process.
 */
import { describe, expect, it } from 'vitest';
import { conmigProcess } from '../helpers/cli.ts';

describe('bin/conmig.js', () => {
  it('success: exit 0, the answer on stdout', () => {
    const r = conmigProcess(['validate', 'scenarios/shareon-geni.yaml']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('ok: shareon-geni: 5 nodes, 1 users, 1 containers, policies: never, threshold');
  });

  it('bad input: exit 2, one conmig: line per problem on stderr, no stack trace', () => {
    const r = conmigProcess(['run', 'scenarios/no-such-scenario.yaml', '--no-progress']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('conmig: scenario file not found: scenarios/no-such-scenario.yaml');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stdout).toBe('');
  });

  it('a usage error from the parser: exit 1 with the help', () => {
    const r = conmigProcess(['no-such-command']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: unknown command 'no-such-command'");
    expect(r.stderr).toContain('Usage: conmig');
  });
});
