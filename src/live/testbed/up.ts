/**
 * `conmig testbed up`: realise a topology (pure data, topology.ts) as network
 * namespaces on a bridge, shaped links, a CPU cgroup parent per node
 * (cgroup.ts; limited with --cpu-per-node / cpuPerNode, holding the node's
 * sshd and containers), one sshd per node, the latency relay,
 * workload images on every node and (by default) the plate service on node1;
 * then write the inventory. On any failure everything built so far is torn
 * down (clean.ts) and the first error is rethrown.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ConmigError } from '../../model/errors.ts';
import { writeInventory, type Inventory, type InventoryInput } from '../inventory.ts';
import { CGROUP_TOP, createHostGroup, createNodeCgroup, detectCgroupsAt, effectivePeriodUs, servicesProcsFile, type CgroupDriver } from './cgroup.ts';
import { cleanTestbed, STATE_MARKER } from './clean.ts';
import { haveTool, tryRun } from './exec.ts';
import { waitHttp } from './http.ts';
import { ensureImages, installImage, IMAGES, REPO_ROOT, runContainer, writeBundle } from './images.ts';
import {
  BRIDGE, DEFAULT_IMAGES_DIR, DEFAULT_STATE_DIR, USERS_ADDR, USERS_NETNS, nodeAddr, nodeNetns, nodePaths, relayPort, statePaths,
} from './layout.ts';
import { createBridge, createNodeNamespace, createUsersNamespace, listNamespaces, shapeNode } from './net.ts';
import { relayControl, type RelayRoute } from './relay.ts';
import { siblingModuleArgs } from '../../run/self.ts';
import { Teardown } from '../teardown.ts';
import { genKey, knownHostsLine, sshdConfig, startSshd, waitTcp, writeSecret } from './ssh.ts';
import { loadTopology, planTopology, starTopology, type TopologyPlan } from './topology.ts';

export interface UpOptions {
  nodes?: number;
  bandwidthMbps?: number;
  latencyMs?: number;
  /** CPU cores of every node (cgroup CPU bandwidth limit); absent: unlimited. */
  cpuPerNode?: number;
  /** Topology YAML (overrides nodes/bandwidth/latency/cpuPerNode). */
  configFile?: string;
  stateDir?: string;
  imagesDir?: string;
  /** Start the plate service on the first node (default true). */
  workload?: boolean;
  /** Progress lines (the CLI prints them). */
  log?: (line: string) => void;
}

export interface UpResult {
  stateDir: string;
  inventoryFile: string;
  inventory: Inventory;
  plan: TopologyPlan;
  elapsedMs: number;
}

const REQUIRED_TOOLS = ['ip', 'tc', 'nsenter', 'ssh-keygen', 'ssh', '/usr/sbin/sshd', 'runc', 'criu', 'gcc', 'busybox'];

export async function precheck(): Promise<void> {
  if (process.getuid?.() !== 0) throw new ConmigError('SETUP_MISSING', 'the local testbed needs root (namespaces, veths, tc)');
  const missing: string[] = [];
  for (const t of REQUIRED_TOOLS) if (!(await haveTool(t))) missing.push(t);
  if (missing.length > 0) {
    throw new ConmigError('SETUP_MISSING', `missing tools: ${missing.join(', ')}; run \`bash scripts/setup-live.sh\``, {
      context: { missing },
    });
  }
  const left = await listNamespaces();
  const bridge = (await tryRun('ip', ['link', 'show', BRIDGE])).code === 0;
  if (left.length > 0 || bridge) {
    throw new ConmigError('TESTBED_FAILED', 'a testbed (or its leftovers) is already on this machine; run `conmig testbed down` (or `clean`) first', {
      context: { namespaces: left.join(', '), bridge: bridge ? BRIDGE : undefined },
    });
  }
}

async function startRelay(stateDir: string, routes: RelayRoute[], cgroupProcs?: string): Promise<number> {
  const sp = statePaths(stateDir);
  await writeFile(sp.relayJson, JSON.stringify({ listenHost: USERS_ADDR, routes }, null, 2) + '\n');
  const out = openSync(sp.relayLog, 'a');
  // relay-main.js from dist/, or relay-main.ts through tsx when this runs from the sources.
  const child = spawn('nsenter', [`--net=/run/netns/${USERS_NETNS}`, process.execPath,
    ...siblingModuleArgs(import.meta.url, 'relay-main'), sp.relayJson, sp.relaySock], {
    cwd: REPO_ROOT, detached: true, stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  const pid = child.pid;
  if (!pid) throw new ConmigError('TESTBED_FAILED', 'could not start the latency relay', { context: { log: sp.relayLog } });
  await writeFile(sp.relayPid, `${pid}\n`);
  // nsenter execs node (no fork for a network namespace): the pid is the relay's
  if (cgroupProcs) await writeFile(cgroupProcs, `${pid}\n`);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await relayControl(sp.relaySock, { op: 'get' }, 1000);
      return pid;
    } catch (e) {
      if (Date.now() > deadline) {
        throw new ConmigError('TESTBED_FAILED', 'the latency relay did not come up', { context: { log: sp.relayLog }, cause: e });
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

export async function testbedUp(opts: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((): void => {});
  const stateDir = resolve(opts.stateDir ?? DEFAULT_STATE_DIR);
  const imagesDir = resolve(opts.imagesDir ?? DEFAULT_IMAGES_DIR);
  const topo = opts.configFile
    ? await loadTopology(opts.configFile)
    : starTopology(opts.nodes ?? 3, opts.bandwidthMbps ?? 1000, opts.latencyMs ?? 0, opts.cpuPerNode);
  const plan = planTopology(topo, opts.configFile);
  await precheck();
  const cgroups = detectCgroupsAt('/');
  if (cgroups.version === 0 && plan.nodes.some((n) => n.cpus !== undefined)) {
    throw new ConmigError('SETUP_MISSING', `a CPU limit per node needs the cgroup cpu controller: ${cgroups.reason}`, {
      context: { nodes: plan.nodes.filter((n) => n.cpus !== undefined).map((n) => n.name).join(', ') },
    });
  }
  if (existsSync(stateDir) && !existsSync(join(stateDir, STATE_MARKER))) {
    throw new ConmigError('USAGE', `state dir ${stateDir} exists and is not a conmig testbed dir; choose another --state`);
  }
  try {
    return await build(stateDir, imagesDir, plan, cgroups.version === 0 ? null : cgroups, opts.workload ?? true, log, t0);
  } catch (e) {
    log('up failed: tearing down what was built');
    const teardown = new Teardown();
    await teardown.attempt('clean', async () => {
      for (const err of (await cleanTestbed(stateDir)).errors) if (!err.includes('marker')) teardown.errors.push(err);
    });
    for (const err of teardown.errors) log(`teardown: ${err}`);
    throw e;
  }
}

async function build(stateDir: string, imagesDir: string, plan: TopologyPlan, cgroups: CgroupDriver | null, workload: boolean,
  log: (l: string) => void, t0: number): Promise<UpResult> {
  const sp = statePaths(stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(join(stateDir, STATE_MARKER), `conmig-testbed ${new Date().toISOString()}\n`);
  await mkdir(sp.sshDir, { recursive: true, mode: 0o700 });
  await mkdir(sp.logsDir, { recursive: true });

  log(`images: ${imagesDir}`);
  await ensureImages(imagesDir);

  log(`network: bridge ${BRIDGE}, ${USERS_NETNS}, ${plan.nodes.length} nodes (${plan.shape})`);
  await createBridge();
  await createUsersNamespace();
  for (const n of plan.nodes) {
    await createNodeNamespace(n);
    await shapeNode(n, plan.nodes);
  }

  // every node gets a cgroup parent (limited or not) where cgroups allow, so its containers are always found there
  const parents = new Map<string, string>();
  let hostProcs: string | undefined;
  if (cgroups) {
    const limits = plan.nodes.map((n) => `${n.name} ${n.cpus === undefined ? 'unlimited' : `${n.cpus} CPU`}`).join(', ');
    log(`cpu: cgroup v${cgroups.version} parents /${CGROUP_TOP}/<node>, period ${plan.cpuPeriodUs} us: ${limits}`);
    for (const n of plan.nodes) parents.set(n.name, await createNodeCgroup(cgroups, n.name, n.cpus, plan.cpuPeriodUs));
    // the relay and the nodes' sshd (when not limited) serve every node: unlimited, but at the testbed's reserved weight
    hostProcs = await createHostGroup(cgroups);
    const promised = plan.nodes.reduce((a, n) => a + (n.cpus ?? 0), 0);
    if (promised > availableParallelism() - 0.5) {
      log(`cpu: WARNING: the limits add up to ${promised} cores on a ${availableParallelism()}-core machine that also runs the relay, ` +
        'the users and the controller: a node is only guaranteed its limit while the busy nodes together fit (docs/testbed.md)');
    }
  } else {
    log('cpu: no cgroup cpu controller here; nodes are not CPU-limited');
  }

  log('ssh: keys and one sshd per node');
  const controllerPub = await genKey(sp.controllerKey, 'conmig-controller');
  const authorized = [controllerPub];
  const known: string[] = [];
  for (const n of plan.nodes) {
    const p = nodePaths(stateDir, n.name);
    for (const d of [p.sshdDir, p.transferDir]) await mkdir(d, { recursive: true, mode: 0o700 });
    for (const d of [p.runcRoot, p.imagesDir, p.bundlesDir, p.checkpointsDir]) await mkdir(d, { recursive: true });
    await genKey(p.hostKey, `conmig-host-${n.name}`);
    authorized.push(await genKey(p.transferKey, `conmig-transfer-${n.name}`));
    known.push(await knownHostsLine(p, n.name, nodeAddr(n.index)));
  }
  await writeSecret(sp.authorizedKeys, authorized.join('\n') + '\n');
  await writeFile(sp.knownHosts, known.join('\n') + '\n');
  for (const n of plan.nodes) {
    const p = nodePaths(stateDir, n.name);
    await writeFile(p.transferKnownHosts, known.join('\n') + '\n');
    await writeFile(p.sshdConfig, sshdConfig(p, sp.authorizedKeys));
    const parent = parents.get(n.name);
    const procs = plan.limitNodeServices && cgroups && parent ? servicesProcsFile(cgroups, parent) : hostProcs;
    await startSshd(p, nodeNetns(n.name), nodeAddr(n.index), n.name, procs);
  }
  for (const n of plan.nodes) await waitTcp(nodeAddr(n.index), 22, 10_000, n.name);

  log('images: installing on every node');
  for (const n of plan.nodes) {
    const p = nodePaths(stateDir, n.name);
    for (const img of IMAGES) await installImage(imagesDir, img, p.imagesDir, nodeNetns(n.name), n.name);
  }

  const first = plan.nodes[0];
  const routes: RelayRoute[] = plan.nodes.map((n) => ({
    listenPort: relayPort(n.index), node: n.name, targetHost: nodeAddr(n.index), targetPort: 8080, delayMs: plan.latencyMs,
  }));
  log(`relay: ${USERS_NETNS} ${USERS_ADDR}:${routes[0].listenPort}.. (+${plan.latencyMs} ms RTT)`);
  await startRelay(stateDir, routes, hostProcs);

  const containers: InventoryInput['containers'] = [];
  if (plan.containers) {
    for (const c of plan.containers) {
      const n = plan.nodes.find((x) => x.name === c.node) ?? first;
      const p = nodePaths(stateDir, n.name);
      log(`workload: ${c.name} (${c.image}) on ${n.name} :${c.port}`);
      const bundle = await writeBundle(p.imagesDir, c.image, p.bundlesDir, c.name, nodeNetns(n.name), c.args, parents.get(n.name));
      await runContainer(p.runcRoot, bundle, c.name, join(p.workDir, 'logs', 'runc.log'), n.name);
      await waitHttp(nodeAddr(n.index), c.port, '/health', 10_000);
      containers.push({ name: c.name, node: n.name, image: c.image, port: c.port });
    }
  } else if (workload) {
    const p = nodePaths(stateDir, first.name);
    log(`workload: plate on ${first.name}`);
    const bundle = await writeBundle(p.imagesDir, 'plate', p.bundlesDir, 'plate', nodeNetns(first.name), undefined, parents.get(first.name));
    await runContainer(p.runcRoot, bundle, 'plate', join(p.workDir, 'logs', 'runc.log'), first.name);
    await waitHttp(nodeAddr(first.index), 8080, '/health', 10_000);
    containers.push({ name: 'plate', node: first.name, image: 'plate', port: 8080 });
  }

  const inv: InventoryInput = {
    version: 1,
    kind: 'local',
    controller: { sshKey: sp.controllerKey, knownHosts: sp.knownHosts },
    nodes: plan.nodes.map((n) => {
      const p = nodePaths(stateDir, n.name);
      return {
        name: n.name, address: nodeAddr(n.index), sshPort: 22, user: 'root', netns: nodeNetns(n.name), workDir: p.workDir,
        runcRoot: p.runcRoot, criuPath: '/usr/local/bin/criu', imagesDir: p.imagesDir, bundlesDir: p.bundlesDir,
        transfer: { key: p.transferKey, knownHosts: p.transferKnownHosts }, bandwidthMbps: n.linkMbps,
        ...(cgroups && parents.has(n.name) ? { cpu: {
          cgroupParent: parents.get(n.name) ?? '', ...(n.cpus === undefined ? {} : { cores: n.cpus }),
          periodUs: effectivePeriodUs(n.cpus, plan.cpuPeriodUs), cgroupVersion: cgroups.version } } : {}),
      };
    }),
    containers,
    relay: { netns: USERS_NETNS, address: USERS_ADDR, controlSocket: sp.relaySock,
      routes: routes.map((r) => ({ listenPort: r.listenPort, node: r.node, targetPort: r.targetPort, delayMs: r.delayMs })) },
  };
  const inventory = await writeInventory(sp.inventory, inv);
  await writeFile(sp.testbedJson, JSON.stringify({ createdAt: new Date().toISOString(), stateDir, imagesDir, plan }, null, 2) + '\n');
  await chmod(stateDir, 0o700);
  return { stateDir, inventoryFile: sp.inventory, inventory, plan, elapsedMs: Date.now() - t0 };
}
