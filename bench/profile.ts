/**
 * A CPU profile of the code between start() and stop(), through node:inspector
 * (the V8 sampling profiler in this process), summarised as the functions with
 * the most self time: where the next bottleneck is.
 */
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  /** function name, file:line (relative to the repository) */
  fn: string;
  selfMs: number;
  /** Share of all samples (0..1). */
  share: number;
}

export class CpuProfiler {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await this.session.post('Profiler.start');
  }

  /** Stops profiling and returns the `top` functions by self time. */
  async stop(top = 5): Promise<SelfTime[]> {
    const { profile } = (await this.session.post('Profiler.stop')) as unknown as { profile: Profile };
    this.session.disconnect();
    return summarise(profile, top);
  }
}

export function summarise(profile: Profile, top: number): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  // Time of sample i is the delta to the next one (the last sample gets the mean).
  for (let i = 0; i < samples.length; i++) {
    const dt = i + 1 < deltas.length ? deltas[i + 1] : (profile.endTime - profile.startTime) / Math.max(1, samples.length);
    const n = byId.get(samples[i]);
    if (!n) continue;
    const key = label(n);
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, selfMs: us / 1000, share: total > 0 ? us / total : 0 }));
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const m = /\/((?:src|bench|node_modules)\/.*)$/.exec(f.url);
  const file = m ? m[1] : f.url;
  // Sources run through tsx arrive as one line: a line number would say nothing.
  return f.lineNumber > 0 ? `${name} ${file}:${f.lineNumber + 1}` : `${name} ${file}`;
}

interface SamplingHeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingHeapNode[];
}

export interface AllocSite {
  /** function name, file:line */
  fn: string;
  /** Bytes allocated there during the profile (sampled, garbage included). */
  bytes: number;
  share: number;
}

/**
 * Where the code between start() and stop() allocates, garbage included
 * (V8's sampling heap profiler keeping objects that minor and major GCs
 * collected): what makes the scavenges.
 */
export class AllocationProfiler {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('HeapProfiler.enable');
    await this.session.post('HeapProfiler.startSampling', {
      samplingInterval: 16384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }

  async stop(top = 5): Promise<AllocSite[]> {
    const { profile } = (await this.session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SamplingHeapNode } };
    this.session.disconnect();
    const bytes = new Map<string, number>();
    let total = 0;
    const walk = (n: SamplingHeapNode): void => {
      if (n.selfSize > 0) {
        const key = label({ id: 0, callFrame: n.callFrame });
        bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
        total += n.selfSize;
      }
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    return [...bytes.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, b]) => ({ fn, bytes: b, share: total > 0 ? b / total : 0 }));
  }
}
