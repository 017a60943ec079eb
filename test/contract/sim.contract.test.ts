/** The ControlPort contract against the simulator: its own controlPort, the engine advanced between checks. */
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import { parseScenarioText } from '../../src/scenario-io/load.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { describeBackendContract, type CompletedRequest } from './backend-contract.ts';

const YAML = `
name: contract-sim
durationS: 600
controlIntervalS: 1
metricsWindowS: 5
reportIntervalS: 10
qosThresholdMs: 100
latency: { kind: linear, edgeConstantsMs: { node1: 10, node2: 60, node3: 110 }, msPerM: 1 }
topology:
  areaM: { width: 120, height: 10 }
  nodes:
    - { id: node1, x: 10, y: 0, cpuCores: 2, memoryMiB: 4096 }
    - { id: node2, x: 60, y: 0, cpuCores: 2, memoryMiB: 4096 }
    - { id: node3, x: 110, y: 0, cpuCores: 2, memoryMiB: 64 }
  links:
    - { a: node1, b: node2, latencyMs: 1, bandwidthMbps: 1000 }
    - { a: node2, b: node3, latencyMs: 1, bandwidthMbps: 1000 }
users:
  - id: car
    mobility: { kind: straight-path, from: { x: 0, y: 0 }, to: { x: 120, y: 0 }, speedMps: 1, atEnd: stop }
    requests: { ratePerS: 20, requestKiB: 1, responseKiB: 1, timeoutMs: 10000 }
containers:
  - { id: plate, node: node1, users: [car], memoryMiB: 124, imageMiB: 83, dirtyRateMiBps: 1, serviceTime: { kind: deterministic, valueMs: 50 } }
migration: { mode: cold }
policies: [never]
`;

describeBackendContract(
  'simulator',
  async () => {
    const scenario = parseScenarioText(YAML, 'contract-sim.yaml');
    const completed: CompletedRequest[] = [];
    // The request sink sees a request when it reaches its node, with its response already known.
    const sim = new Simulator(scenario, createBuiltinPolicy({ name: 'never', params: {} }), 1, {
      requestSink: (r) =>
        completed.push({
          containerId: r.containerId,
          doneUs: Math.round(r.sentS * 1e6 + r.responseMs * 1000),
          responseMs: r.responseMs,
          networkMs: r.networkMs,
          migrationWaitMs: r.migrationWaitMs,
        }),
    });
    sim.start();
    const advance = async (ms: number): Promise<void> => {
      sim.engine.run(sim.engine.now + Math.round(ms * 1000));
      sim.observed.closeIntervals(sim.engine.now);
      sim.view.refresh(sim.engine.now);
    };
    return {
      port: sim.controlPort,
      advance,
      fullNodeId: 'node3',
      migrationBudgetMs: 120_000,
      pollMs: 500,
      // 20 requests/s and a ~1.2 s cold migration of 124 MiB: requests are held every time.
      requests: { completed: () => completed, metricsWindowMs: scenario.metricsWindowS * 1000, holdsDuringMigration: true },
      close: async () => {},
    };
  },
  { sendsRequests: true },
);
