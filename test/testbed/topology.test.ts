/** Workload containers in a testbed topology file: defaults, command lines, and refusals naming the field. */
import { describe, expect, it } from 'vitest';
import { isConmigError } from '../../src/model/errors.ts';
import { loadTopology, planTopology, starTopology } from '../../src/live/testbed/topology.ts';

describe('topology containers', () => {
  it('plans each container with its port and command line; the shipped validation testbed loads', async () => {
    const plan = planTopology({ ...starTopology(2, 1000, 0), containers: [
      { name: 's1', node: 'node1', image: 'synthetic', port: 8101, memoryMiB: 8, service: 'exp:20', seed: 3 },
      { name: 'plate', node: 'node2', image: 'plate' },
    ] });
    expect(plan.containers).toEqual([
      { name: 's1', node: 'node1', image: 'synthetic', port: 8101, args: ['/bin/synthetic', '8101', '8', '0', 'exp:20', '3'] },
      { name: 'plate', node: 'node2', image: 'plate', port: 8080, args: ['/bin/plate-server', '8080', '/plates', '/usr/bin/tesseract'] },
    ]);
    expect(planTopology(starTopology(1, 1000, 0)).containers).toBeUndefined();
    // the node's sshd stays outside its CPU limit unless asked
    expect(planTopology(starTopology(1, 1000, 0)).limitNodeServices).toBe(false);
    expect(planTopology({ ...starTopology(1, 1000, 0), limitNodeServices: true }).limitNodeServices).toBe(true);
    const shipped = planTopology(await loadTopology('scenarios/validate-live.testbed.yaml'));
    expect(shipped.nodes.map((n) => n.cpus)).toEqual([0.3, 0.3, 0.3, 0.3]);
    expect(new Set(shipped.containers?.map((c) => c.port)).size).toBe(8);
  });

  it('refuses shared ports, unknown nodes and synthetic-only fields on plate, naming each', () => {
    try {
      planTopology({ ...starTopology(1, 1000, 0), containers: [
        { name: 'a', node: 'node1', image: 'synthetic', port: 9000 },
        { name: 'b', node: 'node7', image: 'synthetic', port: 9000 },
        { name: 'c', node: 'node1', image: 'plate', service: 'exp:5' },
      ] }, 't.yaml');
      expect.unreachable();
    } catch (e) {
      const got = isConmigError(e) ? e.problems.map((p) => `${p.path}: ${p.message}`) : [];
      expect(got).toEqual([
        'containers[1].node: unknown node "node7"',
        "containers[1].port: port 9000 is also a's: containers may meet on one node, so each needs its own port",
        'containers[2]: memoryMiB, service and seed are for image synthetic',
      ]);
    }
  });
});
