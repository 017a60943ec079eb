/** Mobility for both backends: trajectories as contiguous linear legs, trace replay, exact handovers. */
export type { Leg, LegSource, TraceData, TraceFormat, TracePoint, TraceStore } from './types.ts';
export { positionAt } from './legs.ts';
export { createLegSource, type LegSourceContext } from './source.ts';
export { ApIndex, handoversAlongLeg, type Handover } from './handover.ts';
export {
  EARTH_RADIUS_M,
  cabName,
  parseCabspottingFixes,
  parseCsvTrace,
  projectCabs,
  resolveTraceUser,
  traceSource,
  type GeoFix,
} from './trace.ts';
export { createMemoryTraceStore, createTraceStore, loadTraceFile } from './trace-io.ts';
