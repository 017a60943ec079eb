/**
 * Scenario texts several tests start from (a test that needs another shape writes its own).
 */

/** Two 2-core nodes, a few static-ish users of one per-user container: the smallest valid scenario with every interval set. */
export const TINY_SCENARIO = `name: tiny
durationS: 20
controlIntervalS: 1
metricsWindowS: 5
reportIntervalS: 5
topology:
  areaM: { width: 1000, height: 1000 }
  nodes:
    - { id: a, x: 100, y: 100, cpuCores: 2, memoryMiB: 4096 }
    - { id: b, x: 900, y: 900, cpuCores: 2, memoryMiB: 4096 }
  links:
    - { a: a, b: b, latencyMs: 2, bandwidthMbps: 1000 }
users:
  - id: u
    count: 3
    requests: { ratePerS: 2 }
containers:
  - perUser: true
    memoryMiB: 128
    serviceTime: { kind: exponential, meanMs: 20 }
policies: [nearest]
`;

/**
 * The calibration tests' scenario: two static users on n1, each with its own container of a
 * different size (`small`, `large`), so checkpoint/restore/transfer lines have two sizes.
 */
export function calibrationScenario(o: { name: string; durationS: number; smallMiB: number; largeMiB: number; mode: string; accessBaseMs?: number; accessMsPerKm?: number; header?: string }): string {
  return `${o.header ?? ''}name: ${o.name}
durationS: ${o.durationS}
latency: { kind: geometric, accessBaseMs: ${o.accessBaseMs ?? 0}, accessMsPerKm: ${o.accessMsPerKm ?? 0} }
topology:
  areaM: { width: 1000, height: 1000 }
  nodes:
    - { id: n1, x: 100, y: 500, cpuCores: 4, memoryMiB: 16384 }
    - { id: n2, x: 900, y: 500, cpuCores: 4, memoryMiB: 16384 }
  links:
    - { a: n1, b: n2, latencyMs: 2, bandwidthMbps: 1000 }
users:
  - id: u
    count: 2
    start: random
    mobility: { kind: static }
    requests: { ratePerS: 1, requestKiB: 1, responseKiB: 1, timeoutMs: 5000 }
containers:
  - { id: small, node: n1, users: [u-0], memoryMiB: ${o.smallMiB}, serviceTime: { kind: exponential, meanMs: 10 } }
  - { id: large, node: n1, users: [u-1], memoryMiB: ${o.largeMiB}, serviceTime: { kind: exponential, meanMs: 10 } }
migration:
  mode: ${o.mode}
policies: [never]
`;
}

/**
 * Two edges behind one switch, static users near edge1 each with its own container on edge1,
 * and the policies given as YAML list items: the custom-policy tests' scenario.
 */
export function twoEdgeScenario(o: { name: string; edge1Cores: number; edge2Cores: number; users: number; serviceMeanMs: number; policies: readonly string[]; controlIntervalS?: number }): string {
  return `name: ${o.name}
durationS: 20
${o.controlIntervalS === undefined ? '' : `controlIntervalS: ${o.controlIntervalS}\n`}topology:
  areaM: { width: 1000, height: 1000 }
  nodes:
    - { id: edge1, x: 250, y: 250, cpuCores: ${o.edge1Cores}, memoryMiB: 8192 }
    - { id: edge2, x: 750, y: 250, cpuCores: ${o.edge2Cores}, memoryMiB: 8192 }
  switches: [core]
  links:
    - { a: edge1, b: core, latencyMs: 1, bandwidthMbps: 1000 }
    - { a: edge2, b: core, latencyMs: 1, bandwidthMbps: 1000 }
users:
  - { id: u, count: ${o.users}, start: { x: 200, y: 200 }, mobility: { kind: static }, requests: { ratePerS: 2 } }
containers:
  - { perUser: true, idPrefix: svc, placement: { node: edge1 }, memoryMiB: 256, serviceTime: { kind: exponential, meanMs: ${o.serviceMeanMs} } }
policies:
${o.policies.map((p) => `  - ${p}`).join('\n')}
`;
}
