/** The local namespace testbed (re-exports only). */
export { testbedUp, precheck, type UpOptions, type UpResult } from './up.ts';
export { cleanTestbed, type CleanReport } from './clean.ts';
export { testbedStatus, measureRelay, type TestbedStatus, type NodeStatus } from './status.ts';
export { bundleConfigForNode, makeBundleConfig, type ImageSpec } from './bundle.ts';
export { relayControl, type RelayRequest, type RelayReply, type RelayRoute } from './relay.ts';
export { httpGet, httpGetJson, waitHttp } from './http.ts';
export { loadTopology, planTopology, starTopology, type Topology, type TopologyPlan } from './topology.ts';
export { cpuCheck, measureJobs, startSynthetic, type CpuCheckRow, type JobSample } from './cpu-check.ts';
export { detectCgroupsAt, nodeCgroupParent, containerCgroupsPath, type CgroupDriver } from './cgroup.ts';
export * from './layout.ts';
