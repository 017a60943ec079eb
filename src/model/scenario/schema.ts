/**
 * The scenario file format: a zod schema of the YAML as written (before
 * defaults and generators are resolved). Structural checks live here;
 * cross-field checks (ids, references, capacity) live in resolve.ts.
 *
 * Every field carries a description: `npm run schema` publishes this schema
 * as scenarios/schema.json so editors can complete and explain fields.
 * Error messages are set per field as "expected ..." so that a problem reads
 * `file:line: path: expected a positive integer, got -3`.
 */
import { z } from 'zod';
import { KNOWN_KEYS_PREFIX } from './problems.ts';

// ---------------------------------------------------------------------------
// Field helpers: one message for every check of a field (the sweep file's
// schema, src/sweep/schema.ts, is built from them too)
// ---------------------------------------------------------------------------

type NumberKind = 'positive' | 'nonnegative' | 'any' | 'fraction';

export function num(description: string, kind: NumberKind = 'positive', integer = false) {
  const noun = integer ? 'integer' : 'number';
  const expected =
    kind === 'positive'
      ? `expected a positive ${noun}`
      : kind === 'nonnegative'
        ? `expected a ${noun} >= 0`
        : kind === 'fraction'
          ? `expected a ${noun} between 0 and 1`
          : `expected a finite ${noun}`;
  const e = { error: expected };
  let s = z.number(e);
  if (integer) s = s.int(e);
  if (kind === 'positive') s = s.positive(e);
  if (kind === 'nonnegative') s = s.nonnegative(e);
  if (kind === 'fraction') s = s.min(0, e).max(1, e);
  return s.describe(description);
}

export function str(description: string) {
  return z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' }).describe(description);
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export function id(description: string) {
  return z
    .string({ error: 'expected an id (letters, digits, _ . -)' })
    .regex(ID_PATTERN, { error: 'expected an id (letters, digits, _ . -, starting with a letter or digit)' })
    .describe(description);
}

/** A name that becomes a folder name (a scenario's, a policy label): an id of at most 64 characters. */
export const FOLDER_NAME_MAX = 64;
export function folderName(description: string) {
  const error = `expected a name usable as a folder name: 1-${FOLDER_NAME_MAX} letters, digits, _ . -, starting with a letter or digit`;
  return z.string({ error }).regex(ID_PATTERN, { error }).max(FOLDER_NAME_MAX, { error }).describe(description);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, description: string) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` }).describe(description);
}

export function bool(description: string) {
  return z.boolean({ error: 'expected true or false' }).describe(description);
}

/** A [lo, hi] range; lo <= hi is checked in resolve.ts so it gets a line. */
function range(description: string, kind: NumberKind = 'nonnegative') {
  const item = num('bound', kind);
  return z
    .tuple([item, item], { error: 'expected a range [lo, hi]' })
    .describe(`${description} A range [lo, hi], drawn uniformly.`);
}

export function list<T extends z.ZodType>(item: T, description: string) {
  return z.array(item, { error: 'expected a list' }).describe(description);
}

/**
 * A mapping with known keys only. An unknown key's issue carries the known
 * keys (after KNOWN_KEYS_PREFIX) so the message can suggest the closest one.
 */
export function obj<T extends z.ZodRawShape>(shape: T, description: string) {
  const known = Object.keys(shape).join(',');
  return z
    .strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? KNOWN_KEYS_PREFIX + known : 'expected a mapping') })
    .describe(description);
}

const PointSchema = obj({ x: num('x coordinate in metres.', 'nonnegative'), y: num('y coordinate in metres.', 'nonnegative') }, 'A point in metres, origin at the bottom-left corner of the area.');

// ---------------------------------------------------------------------------
// Latency
// ---------------------------------------------------------------------------

const LatencySchema = z
  .discriminatedUnion(
    'kind',
    [
      obj(
        {
          kind: z.literal('geometric').describe('Access latency grows with the distance to the access point; backhaul from link latencies.'),
          accessBaseMs: num('One-way access latency at distance 0, in ms.', 'nonnegative'),
          accessMsPerKm: num('Extra one-way access latency per km between user and access point.', 'nonnegative'),
        },
        'Geometric latency model.',
      ),
      obj(
        {
          kind: z.literal('linear').describe("ShareOn's linear model: latency to edge e is |C_e - xM * msPerM| ms."),
          edgeConstantsMs: z
            .record(z.string(), num('Constant C_e of this edge, in ms.', 'nonnegative'), { error: 'expected a mapping of node id to ms' })
            .describe('Constant C_e per node id, in ms; every node needs one.'),
          msPerM: num("Milliseconds of 'position' per metre of the user's x coordinate.", 'positive'),
        },
        'Linear latency model (ShareOn decision.py).',
      ),
    ],
    { error: 'expected a latency model with kind geometric or linear' },
  )
  .describe('Network latency model. Default: geometric, accessBaseMs 4, accessMsPerKm 2.');

// ---------------------------------------------------------------------------
// Topology
// ---------------------------------------------------------------------------

const CPU_PERIOD_DESC =
  'CFS bandwidth period in ms: the node is a cgroup CPU limit of cpuCores x speedFactor cores (a testbed node at `--cpu-per-node`): each core runs a job at the reference speed until its quota, speedFactor x period, is used in the period, then waits for the next (src/model/cpu-bandwidth.ts). Needs speedFactor <= 1. Default: none, every job runs at speedFactor.';

const NodeSchema = obj(
  {
    id: id('Node id.'),
    x: num('x position in metres.', 'nonnegative'),
    y: num('y position in metres.', 'nonnegative'),
    cpuCores: num('CPU cores of the node.', 'positive', true),
    memoryMiB: num('Memory for containers, in MiB.', 'positive'),
    backgroundLoad: num('Background CPU utilisation from other tenants, 0..1. Default 0.', 'fraction').optional(),
    speedFactor: num('Service times are divided by this (1 = reference CPU). Default 1.', 'positive').optional(),
    cpuPeriodMs: num(CPU_PERIOD_DESC, 'positive').optional(),
  },
  'An edge node that can host containers.',
);

const AccessPointSchema = obj(
  {
    id: id('Access point id.'),
    x: num('x position in metres.', 'nonnegative'),
    y: num('y position in metres.', 'nonnegative'),
    attachedTo: id('Node or switch the access point is wired to.'),
  },
  'A wireless access point.',
);

const LinkSchema = obj(
  {
    a: id('One end: a node or switch id.'),
    b: id('Other end: a node or switch id.'),
    latencyMs: num('One-way latency of the link in ms.', 'nonnegative'),
    bandwidthMbps: num('Bandwidth of the link in Mbit/s.', 'positive'),
  },
  'A backhaul link (undirected).',
);

const GridSchema = obj(
  {
    rows: num('Number of rows.', 'positive', true),
    cols: num('Number of columns.', 'positive', true),
    spacingM: num('Distance between neighbouring nodes in metres; the first node is at spacing/2.', 'positive'),
    node: obj(
      {
        cpuCores: num('CPU cores of every node.', 'positive', true),
        memoryMiB: num('Memory of every node in MiB.', 'positive'),
        backgroundLoad: num('Background CPU utilisation, 0..1. Default 0.', 'fraction').optional(),
        speedFactor: num('Speed factor of every node. Default 1.', 'positive').optional(),
        cpuPeriodMs: num(CPU_PERIOD_DESC, 'positive').optional(),
      },
      'Template of every grid node.',
    ),
    link: obj(
      {
        latencyMs: num('One-way latency of each link in ms.', 'nonnegative'),
        bandwidthMbps: num('Bandwidth of each link in Mbit/s.', 'positive'),
      },
      'Template of every link between 4-neighbours.',
    ),
  },
  'Grid generator: nodes n-<row>-<col> (row 0 at the bottom), one access point per node (ap-<node id>), links between 4-neighbours.',
);

const TopologySchema = obj(
  {
    areaM: obj(
      { width: num('Width in metres.'), height: num('Height in metres.') },
      'Area users move in. Default: the grid extent, or the largest node/AP coordinates.',
    ).optional(),
    nodes: list(NodeSchema, 'Edge nodes (or use grid).').optional(),
    switches: list(id('Switch id.'), 'Backhaul vertices that host no containers.').optional(),
    accessPoints: list(AccessPointSchema, 'Access points. Default: one per node (ap-<node id>), co-located and attached to it.').optional(),
    links: list(LinkSchema, 'Backhaul links.').optional(),
    grid: GridSchema.optional(),
  },
  'The edge network: explicit nodes/links, or a grid generator.',
);

// ---------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------

const MobilitySchema = z
  .discriminatedUnion(
    'kind',
    [
      obj({ kind: z.literal('static').describe('The user does not move.') }, 'Static user.'),
      obj(
        {
          kind: z.literal('random-waypoint').describe('Random waypoint in the area.'),
          speedMps: range('Speed in m/s.', 'positive'),
          pauseS: range('Pause at each waypoint in s.').optional(),
        },
        'Random waypoint mobility. pauseS default [0, 0].',
      ),
      obj(
        {
          kind: z.literal('manhattan').describe('Movement along the streets of a grid.'),
          blockM: num('Street spacing in metres.'),
          speedMps: range('Speed in m/s.', 'positive'),
          turnProbability: num('Probability of turning at an intersection. Default 0.5.', 'fraction').optional(),
          pauseS: range('Pause at intersections in s.').optional(),
        },
        'Manhattan grid mobility. pauseS default [0, 0].',
      ),
      obj(
        {
          kind: z.literal('straight-path').describe('Walk a straight line.'),
          from: PointSchema,
          to: PointSchema,
          speedMps: num('Speed in m/s.'),
          atEnd: oneOf(['stop', 'bounce'], 'At the end: stop, or walk back and forth. Default stop.').optional(),
        },
        'Straight path mobility; the user starts at `from` unless start is given.',
      ),
      obj(
        {
          kind: z.literal('trace').describe('Replay a recorded trace.'),
          file: str('Trace file, relative to the scenario file.'),
          format: oneOf(['csv', 'cabspotting'], 'Trace format. Default csv.').optional(),
        },
        'Trace-driven mobility.',
      ),
    ],
    { error: 'expected a mobility model with kind static, random-waypoint, manhattan, straight-path or trace' },
  )
  .describe('Mobility model. Default static.');

const RequestsSchema = obj(
  {
    ratePerS: num('Poisson request rate per user. Default 1.', 'nonnegative').optional(),
    requestKiB: num('Request payload in KiB. Default 50.', 'nonnegative').optional(),
    responseKiB: num('Response payload in KiB. Default 1.', 'nonnegative').optional(),
    timeoutMs: num('A request waiting longer than this fails. Default 10000.').optional(),
  },
  'Request workload of each user of the group.',
);

const UserGroupSchema = obj(
  {
    id: id('User id, or group id when count > 1 (users <id>-0 ... <id>-(count-1)).'),
    count: num('Number of users in the group. Default 1.', 'positive', true).optional(),
    start: z
      .union([z.literal('random').describe('Uniform in the area, drawn from the seed.'), PointSchema], {
        error: 'expected "random" or a point { x, y }',
      })
      .describe('Start position. Default random (straight-path: its from point).')
      .optional(),
    mobility: MobilitySchema.optional(),
    requests: RequestsSchema.optional(),
  },
  'A user, or a group of identical users.',
);

// ---------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------

const ServiceTimeSchema = z
  .discriminatedUnion(
    'kind',
    [
      obj({ kind: z.literal('alpr').describe("ShareOn's empirical ALPR service times.") }, 'ALPR service times.'),
      obj({ kind: z.literal('exponential'), meanMs: num('Mean in ms.') }, 'Exponential service time.'),
      obj({ kind: z.literal('deterministic'), valueMs: num('Service time in ms.') }, 'Fixed service time.'),
      obj(
        { kind: z.literal('lognormal'), meanMs: num('Mean in ms.'), sdMs: num('Standard deviation in ms.', 'nonnegative') },
        'Log-normal service time.',
      ),
      obj(
        {
          kind: z.literal('empirical'),
          samplesMs: z.array(num('Sample in ms.', 'nonnegative'), { error: 'expected a list of ms' }).min(1, { error: 'expected at least one sample' }).describe('Samples in ms, drawn uniformly.'),
          name: str('Where the samples came from.').optional(),
        },
        'Empirical service time.',
      ),
    ],
    { error: 'expected a service time with kind alpr, exponential, deterministic, lognormal or empirical' },
  )
  .describe('Service time per request on the reference CPU.');

const containerCommon = {
  memoryMiB: num('Memory of the container in MiB (checkpoint size).'),
  imageMiB: num('Root filesystem/image size in MiB. Default 0.', 'nonnegative').optional(),
  dirtyRateMiBps: num('Rate at which the process dirties memory, MiB/s. Default 0.', 'nonnegative').optional(),
  serviceTime: ServiceTimeSchema,
};

const ContainerSchema = obj(
  {
    id: id('Container id.'),
    node: id('Node the container starts on.'),
    users: list(id('User id or group id.'), 'Users served by this container (user ids or group ids).'),
    ...containerCommon,
  },
  'One container.',
);

const PlacementSchema = z
  .union(
    [
      oneOf(['nearest', 'random', 'round-robin'], 'nearest: nearest node with memory to spare; random: seeded; round-robin: in node order.'),
      obj({ node: id('Node id.') }, 'All on this node.'),
    ],
    { error: 'expected nearest, random, round-robin or { node: <id> }' },
  )
  .describe('Initial placement. Default nearest.');

const PerUserSchema = obj(
  {
    perUser: z.literal(true, { error: 'expected true' }).describe('One container per user.'),
    idPrefix: id('Containers are named <idPrefix>-<userId>. Default c.').optional(),
    groups: list(id('User id or group id.'), 'Users to serve. Default: every user not served by an explicit container.').optional(),
    placement: PlacementSchema.optional(),
    ...containerCommon,
  },
  'A per-user container template.',
);

const ContainerEntrySchema = z
  .union([ContainerSchema, PerUserSchema], { error: 'expected a container { id, node, users, ... } or a template { perUser: true, ... }' })
  .describe('A container, or a per-user template.');

// ---------------------------------------------------------------------------
// Migration, policies, output, live
// ---------------------------------------------------------------------------

const MigrationCostSchema = obj(
  {
    checkpointBaseMs: num('Fixed checkpoint time in ms.', 'nonnegative').optional(),
    checkpointMsPerMiB: num('Checkpoint time per MiB of memory.', 'nonnegative').optional(),
    restoreBaseMs: num('Fixed restore time in ms.', 'nonnegative').optional(),
    restoreMsPerMiB: num('Restore time per MiB of memory.', 'nonnegative').optional(),
    transferEfficiency: num('Goodput as a fraction of link bandwidth (0..1].', 'fraction').optional(),
    transferBaseMs: num('Fixed start-up of every transfer in ms (ssh, tar), on top of the path RTT. Default 0.', 'nonnegative').optional(),
    imageCached: bool('Image layers already present at every destination.').optional(),
    precopyStopMiB: num('Pre-copy: stop when the dirty set is below this.', 'nonnegative').optional(),
    precopyMaxRounds: num('Pre-copy: maximum iterative rounds.', 'positive', true).optional(),
    postcopyStateMiB: num('Post-copy: state moved during the stop.', 'nonnegative').optional(),
    postcopyFaultPenaltyMs: num('Post-copy: extra delay per request while pages are fetched.', 'nonnegative').optional(),
    coldTransport: oneOf(['disk', 'stream'], 'Cold: disk (dump, then copy) or stream (disk-less: pages sent while the dump runs). Default disk.').optional(),
    lazyPagesEfficiency: num('Post-copy: goodput of the background page fetch as a fraction of link bandwidth (0..1]. Default transferEfficiency.', 'fraction').optional(),
    restoreStallProbability: num('Probability that a restored container answers only restoreStallMs after its restore (drawn per migration). Default 0.', 'fraction').optional(),
    restoreStallMs: num('Length of that stall in ms (downtime). Default 0.', 'nonnegative').optional(),
  },
  'Partial override of the migration cost model constants.',
);

const MigrationSchema = obj(
  {
    mode: oneOf(['cold', 'precopy', 'postcopy'], 'Default migration mode. Default cold.').optional(),
    cost: MigrationCostSchema.optional(),
  },
  'Migration settings.',
);

const PolicyEntrySchema = z
  .union(
    [
      str('Built-in policy name: never, nearest, threshold, traffic-aware.'),
      obj(
        {
          name: folderName('Built-in policy name, or a label for a custom policy (its results folder).'),
          module: str('Custom policy module, relative to the scenario file.').optional(),
          params: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).describe('Policy parameters.').optional(),
        },
        'A policy with parameters.',
      ),
    ],
    { error: 'expected a policy name or { name, module?, params? }' },
  )
  .describe('A policy.');

const OutputSchema = obj(
  {
    requestTrace: bool('Write every request to requests.csv (large). Default false.').optional(),
    perUserSeries: z
      .union([z.literal('auto'), z.boolean()], { error: 'expected auto, true or false' })
      .describe('Write a latency series per user. Default auto: on when there are at most 100 users.')
      .optional(),
  },
  'What a run writes.',
);

const LiveSchema = obj(
  {
    inventory: str('Inventory file of the nodes, relative to the scenario file.'),
    timeScale: num('Scenario seconds per wall-clock second. Default 1.').optional(),
    onDowntime: oneOf(['retry', 'fail'], 'Requests during downtime: retry until timeout, or fail at once. Default retry.').optional(),
    containerNames: z
      .record(z.string(), str('Container name on the nodes.'), { error: 'expected a mapping of container id to name' })
      .describe('Container name on the nodes per container id. Default: the container id.')
      .optional(),
    requestPath: z
      .string({ error: 'expected an HTTP path' })
      .regex(/^\/[\x21-\x7e]*$/, { error: 'expected an HTTP path starting with /' })
      .describe('HTTP path the users request. Default /plate (the plate service); the synthetic service answers /work.')
      .optional(),
  },
  'Live mode settings (required when mode is live).',
);

// ---------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------

export const ScenarioFileSchema = obj(
  {
    name: folderName('Scenario name (the default results folder, results/<name>).'),
    description: z.string({ error: 'expected a string' }).describe('What the scenario is for.').optional(),
    mode: oneOf(['sim', 'live'], 'Run in the simulator or on real nodes. Default sim.').optional(),
    seed: num('Seed of all random streams. Default 1.', 'nonnegative', true).optional(),
    durationS: num('Scenario duration in seconds.'),
    warmupS: num('Metrics before this are not reported. Default 0.', 'nonnegative').optional(),
    controlIntervalS: num('Seconds between policy decisions. Default 1.').optional(),
    metricsWindowS: num('Width of the sliding metrics window the controller sees. Default 10.').optional(),
    reportIntervalS: num('Width of the result time-series buckets. Default 10.').optional(),
    qosThresholdMs: num('Response time above which a request violates QoS. Default 100.').optional(),
    latency: LatencySchema.optional(),
    topology: TopologySchema,
    users: list(UserGroupSchema, 'Users and user groups.'),
    containers: list(ContainerEntrySchema, 'Containers and per-user container templates.'),
    migration: MigrationSchema.optional(),
    policies: list(PolicyEntrySchema, 'Policies to run; with several, each runs on the same random streams.').optional(),
    policy: PolicyEntrySchema.optional().describe('Shorthand for a one-element policies list.'),
    output: OutputSchema.optional(),
    live: LiveSchema.optional(),
  },
  'A conmig scenario.',
);

export type ScenarioFile = z.output<typeof ScenarioFileSchema>;
export type ScenarioFileContainer = z.output<typeof ContainerSchema>;
export type ScenarioFilePerUser = z.output<typeof PerUserSchema>;
export type ScenarioFileUserGroup = z.output<typeof UserGroupSchema>;
export type ScenarioFilePolicy = z.output<typeof PolicyEntrySchema>;
export type ScenarioFileServiceTime = z.output<typeof ServiceTimeSchema>;
export type ScenarioFileMobility = z.output<typeof MobilitySchema>;
export type ScenarioFilePoint = z.output<typeof PointSchema>;

/** The published JSON Schema (draft 2020-12) of the scenario file, for editors. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ScenarioFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://conmig.dev/schema/scenario.json', title: 'conmig scenario' };
}

/** The exact text of scenarios/schema.json (written by scripts/write-schema.ts, checked by a test). */
export function scenarioJsonSchemaText(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}
