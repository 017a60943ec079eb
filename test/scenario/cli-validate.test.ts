import { describe, expect, it } from 'vitest';
import { conmig } from '../helpers/cli.ts';

describe('conmig validate', () => {
  it('a bad scenario: exit 2, one line per problem on stderr, no stack trace', async () => {
    const r = await conmig(['validate', 'test/fixtures/bad-scenarios/types.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('conmig: scenario test/fixtures/bad-scenarios/types.yaml is invalid (5 problems)');
    expect(r.stderr).toContain('test/fixtures/bad-scenarios/types.yaml:7: topology.nodes[2].cpuCores: expected a positive integer, got -3');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stdout).toBe('');
  });

  it('a good scenario: the summary line on stdout, exit 0; --json for machines', async () => {
    const r = await conmig(['validate', 'scenarios/shareon-geni.yaml']);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('ok: shareon-geni: 5 nodes, 1 users, 1 containers, policies: never, threshold');
    const j = await conmig(['validate', '--json', 'scenarios/overload.yaml']);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, name: 'overload', nodes: 4, users: 12, containers: 12 });
  });

  it('relative paths are relative to the command\'s folder, and messages keep them as typed', async () => {
    const r = await conmig(['validate', 'types.yaml'], { cwd: 'test/fixtures/bad-scenarios' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('conmig: scenario types.yaml is invalid (5 problems)');
  });
});
