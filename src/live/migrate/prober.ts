/**
 * Client-side downtime prober: the controller process sends an HTTP GET to
 * the service every `intervalMs` at the source address, and from the moment
 * the migrator says so (`switchTo`) at the destination address as well;
 * downtime = last success before the longest gap to the first success after
 * it. It runs in the controller's network namespace (the root namespace on the
 * local testbed, reaching the nodes over the bridge cm-br0 exactly as users
 * in cm-users would, minus the relay's emulated delay).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DowntimeMeasurement } from './result.ts';

interface Sample {
  tMs: number;
  ok: boolean;
  addr: string;
}

export class DowntimeProber {
  private readonly port: number;
  private readonly path: string;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private targets: string[];
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inflight = 0;
  /** When the destination was added (its restore began): a moment inside the downtime. */
  private switchMs: number | null = null;
  private startMs: number | null = null;

  constructor(opts: { address: string; port: number; path: string; intervalMs?: number; timeoutMs?: number }) {
    this.targets = [opts.address];
    this.port = opts.port;
    this.path = opts.path;
    this.intervalMs = opts.intervalMs ?? 10;
    this.timeoutMs = opts.timeoutMs ?? 250;
  }

  start(): void {
    if (this.timer) return;
    this.startMs = performance.now();
    this.timer = setInterval(() => {
      for (const a of this.targets) this.probeOnce(a);
    }, this.intervalMs);
  }

  /** Also probe `address` from now on (the destination, once its restore began). */
  addTarget(address: string): void {
    if (!this.targets.includes(address)) this.targets.push(address);
    this.switchMs ??= performance.now();
  }

  private probeOnce(addr: string): void {
    if (this.inflight > 64) return; // never pile up sockets while the service is frozen
    this.inflight++;
    const t0 = performance.now();
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      this.inflight--;
      this.samples.push({ tMs: t0, ok, addr });
    };
    const req = http.get({ host: addr, port: this.port, path: this.path, agent: false, timeout: this.timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode === 200));
      res.on('error', () => finish(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => finish(false));
  }

  /** Stop and compute the downtime over all targets (a success at any address counts). */
  async stop(): Promise<DowntimeMeasurement> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = performance.now() + this.timeoutMs + 100;
    while (this.inflight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.measure();
  }

  measure(): DowntimeMeasurement {
    const s = [...this.samples].sort((a, b) => a.tMs - b.tMs);
    const oks = s.filter((x) => x.ok);
    let best = { gap: 0, before: null as Sample | null, after: null as Sample | null };
    const sw = this.switchMs;
    if (sw !== null) {
      // The container is down at the switch (its restore began): the downtime is the gap around
      // that moment, not the longest gap (a single-threaded service busy with a long request
      // fails probes too, at the source before the freeze or at the destination after it).
      // No success before it: from the start of probing (an upper bound).
      const after = oks.find((x) => x.tMs >= sw) ?? null;
      const before = oks.filter((x) => x.tMs < sw).pop() ?? null;
      if (after) best = { gap: after.tMs - (before?.tMs ?? this.startMs ?? after.tMs), before, after };
    } else for (let i = 1; i < oks.length; i++) {
      const gap = oks[i].tMs - oks[i - 1].tMs;
      // a gap counts only if a probe failed inside it
      const failedInside = s.some((x) => !x.ok && x.tMs > oks[i - 1].tMs && x.tMs < oks[i].tMs);
      if (failedInside && gap > best.gap) best = { gap, before: oks[i - 1], after: oks[i] };
    }
    return {
      method: `controller -> ${this.targets.map((a) => `${a}:${this.port}${this.path}`).join(' then ')} every ${this.intervalMs} ms`,
      intervalMs: this.intervalMs,
      probes: s.length,
      failures: s.length - oks.length,
      downtimeMs: best.gap,
      lastBeforeGap: best.before?.addr ?? null,
      firstAfterGap: best.after?.addr ?? null,
    };
  }
}
