/**
 * Two (or more) nodes in memory behind the MigrationNode interface: which
 * containers run where, which files exist, and a fault that fires at one
 * chosen call (the n-th call of a step on a node). Enough to run the real
 * migration sequence (src/live/migrate/) without root, CRIU or SSH.
 */
import { ConmigError } from '../../src/model/errors.ts';
import type { CriuProbe } from '../../src/live/criu-probe.ts';
import type { InventoryNode } from '../../src/live/inventory.ts';
import type { MigrationNode, PushRequest, StepOutcome, TransferChannel } from '../../src/live/migrate/node.ts';
import type { RuncState } from '../../src/live/migrate/commands.ts';

export type Step = Exclude<keyof MigrationNode, 'name'>;

/** before: the node dies before the step does anything; after: it does it, then dies; fails: it fails and changes nothing. */
export type FaultKind = 'unreachable-before' | 'unreachable-after' | 'fails';

export interface Fault {
  node: string;
  step: Step;
  /** 1 = the first call of `step` on `node`. */
  nth: number;
  kind: FaultKind;
}

export interface Call {
  node: string;
  step: Step;
  nth: number;
}

export const CONFIG = JSON.stringify({ root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'network', path: '/run/netns/x' }] } });

export class FakeCluster {
  readonly containers = new Map<string, Map<string, RuncState>>();
  readonly files = new Map<string, Set<string>>();
  readonly down = new Set<string>();
  readonly calls: Call[] = [];
  fault: Fault | null = null;
  /** Set when the fault fired. */
  fired: Call | null = null;

  constructor(names: string[]) {
    for (const n of names) {
      this.containers.set(n, new Map());
      this.files.set(n, new Set());
    }
  }

  run(node: string, id: string, bundle: string): void {
    this.containers.get(node)!.set(id, { id, pid: 42, status: 'running', bundle });
    this.files.get(node)!.add(`${bundle}/config.json`).add(`${bundle}/rootfs`);
  }

  runningOn(id: string): string[] {
    return [...this.containers].filter(([, cs]) => cs.get(id)?.status === 'running').map(([n]) => n);
  }

  presentOn(id: string): string[] {
    return [...this.containers].filter(([, cs]) => cs.has(id)).map(([n]) => n);
  }

  filesUnder(node: string, dir: string): string[] {
    return [...this.files.get(node)!].filter((f) => f === dir || f.startsWith(`${dir}/`));
  }

  heal(): void {
    this.down.clear();
    this.fault = null;
  }

  node(name: string): MigrationNode {
    return new FakeNode(this, name);
  }

  /** Around every step: record it, and fire the fault if this is its call. */
  async step<T>(node: string, step: Step, effect: () => T, failed: () => T): Promise<T> {
    if (this.down.has(node)) throw unreachable(node);
    const nth = this.calls.filter((c) => c.node === node && c.step === step).length + 1;
    const call = { node, step, nth };
    this.calls.push(call);
    await Promise.resolve();
    const f = this.fault;
    if (!f || f.node !== node || f.step !== step || f.nth !== nth) return effect();
    this.fired = call;
    if (f.kind === 'fails') return failed();
    if (f.kind === 'unreachable-after') effect();
    this.down.add(node);
    throw unreachable(node);
  }
}

function unreachable(node: string): ConmigError {
  return new ConmigError('NODE_UNREACHABLE', `${node} is unreachable (fake)`, { context: { node } });
}

function commandFailed(node: string, what: string): never {
  throw new ConmigError('COMMAND_FAILED', `${what} failed on ${node} (exit 1)`, { context: { node, stderr: 'fake failure' } });
}

const NO: StepOutcome = { ok: false, stderr: 'fake failure', log: 'Error (fake): failed' };
const OK: StepOutcome = { ok: true };

class FakeNode implements MigrationNode {
  constructor(
    private readonly c: FakeCluster,
    readonly name: string,
  ) {}

  private get cs(): Map<string, RuncState> {
    return this.c.containers.get(this.name)!;
  }

  private get fs(): Set<string> {
    return this.c.files.get(this.name)!;
  }

  private rm(dir: string): void {
    for (const f of this.c.filesUnder(this.name, dir)) this.fs.delete(f);
  }

  private check<T>(step: Step, effect: () => T): Promise<T> {
    return this.c.step(this.name, step, effect, () => commandFailed(this.name, step));
  }

  reach(): Promise<void> {
    return this.check('reach', () => undefined);
  }

  containerState(id: string): Promise<RuncState | null> {
    return this.check('containerState', () => this.cs.get(id) ?? null);
  }

  probeCriu(): Promise<CriuProbe> {
    return this.check('probeCriu', () => ({
      node: this.name, criuVersion: 'Version: 4.2.1', kernel: '6.18-fake', checkOk: true, checkOutput: 'Looks good.',
      memDirtyTrack: true, uffd: true, uffdNoncoop: true, failures: {},
    }));
  }

  readConfig(): Promise<string> {
    return this.check('readConfig', () => CONFIG);
  }

  measure(): Promise<{ rssBytes: number; rootfsBytes: number; manifest: string }> {
    return this.check('measure', () => ({ rssBytes: 2 ** 20, rootfsBytes: 2 ** 21, manifest: 'm' }));
  }

  treeHash(dir: string): Promise<string> {
    return this.check('treeHash', () => (this.fs.has(dir) ? 'h' : 'none'));
  }

  checkpointSpace(): Promise<number> {
    return this.check('checkpointSpace', () => 2 ** 30);
  }

  exists(path: string): Promise<boolean> {
    return this.check('exists', () => this.fs.has(path));
  }

  writeCriuConfig(): Promise<void> {
    return this.check('writeCriuConfig', () => undefined);
  }

  openChannel(): Promise<{ ok: boolean; stderr: string }> {
    return this.c.step<{ ok: boolean; stderr: string }>(this.name, 'openChannel', () => ({ ok: true, stderr: '' }), () => ({ ok: false, stderr: 'Permission denied (fake)' }));
  }

  closeChannel(): Promise<void> {
    return this.check('closeChannel', () => undefined);
  }

  predump(id: string, dir: string, round: number): Promise<void> {
    return this.check('predump', () => void this.fs.add(`${dir}/pre${round}`));
  }

  pushDir(_ch: TransferChannel, to: InventoryNode, _srcDir: string, dstDir: string, entry: string): Promise<void> {
    return this.check('pushDir', () => {
      if (this.c.down.has(to.name)) commandFailed(this.name, `pushing to ${to.name}`);
      this.c.files.get(to.name)!.add(`${dstDir}/${entry}`);
    });
  }

  checkpoint(id: string, dir: string): Promise<StepOutcome> {
    return this.c.step(
      this.name,
      'checkpoint',
      () => {
        this.cs.delete(id); // runc checkpoint ends the container
        this.fs.add(`${dir}/img`);
        return OK;
      },
      () => NO,
    );
  }

  pushCheckpoint(_ch: TransferChannel, to: InventoryNode, q: PushRequest): Promise<{ imageBytes: number; rootfsBytes: number; rootfsCached: boolean }> {
    return this.check('pushCheckpoint', () => {
      if (this.c.down.has(to.name)) commandFailed(this.name, `pushing the checkpoint to ${to.name}`);
      if (!this.fs.has(`${q.srcDir}/img`)) commandFailed(this.name, 'du');
      this.c.files.get(to.name)!.add(`${q.dstDir}/img`).add(`${q.dstBundle}/config.json`).add(`${q.dstBundle}/rootfs`);
      return { imageBytes: 100_000, rootfsBytes: 2 ** 21, rootfsCached: q.rootfsCached };
    });
  }

  dirBytes(dirs: string[]): Promise<number> {
    return this.check('dirBytes', () => dirs.length * 1000);
  }

  restore(id: string, dir: string, bundle: string): Promise<StepOutcome> {
    return this.c.step(
      this.name,
      'restore',
      () => {
        if (this.cs.has(id) || !this.fs.has(`${dir}/img`)) return NO;
        this.cs.set(id, { id, pid: 43, status: 'running', bundle });
        return OK;
      },
      () => {
        this.cs.set(id, { id, pid: 0, status: 'stopped', bundle }); // half restored
        return NO;
      },
    );
  }

  // post-copy: CRIU holds the source's copy frozen (`paused`) while `<dir>/serving` is there

  lazyCheckpoint(id: string, dir: string): Promise<StepOutcome & { port?: number }> {
    return this.c.step<StepOutcome & { port?: number }>(
      this.name,
      'lazyCheckpoint',
      () => {
        const st = this.cs.get(id);
        if (st) this.cs.set(id, { ...st, status: 'paused' });
        this.fs.add(`${dir}/img`).add(`${dir}/serving`);
        return { ok: true, port: 27100 };
      },
      () => NO,
    );
  }

  lazyRestore(id: string, dir: string, bundle: string): Promise<StepOutcome> {
    return this.c.step(
      this.name,
      'lazyRestore',
      () => {
        if (this.cs.has(id) || !this.fs.has(`${dir}/img`)) return NO;
        this.cs.set(id, { id, pid: 43, status: 'running', bundle });
        this.fs.add(`${dir}/fetching`);
        return OK;
      },
      () => NO,
    );
  }

  /** The daemon ends: ok, or (fault `fails`) the guard kills the partial copy and the source's page server sees the failure. */
  lazyWait(dir: string): Promise<StepOutcome> {
    return this.c.step(
      this.name,
      'lazyWait',
      () => {
        this.fs.delete(`${dir}/fetching`);
        // every page served: the source's CRIU ends its frozen copy by itself (no controller needed)
        for (const [n, files] of this.c.files) {
          const serving = [...files].find((f) => f.endsWith('/serving'));
          if (n === this.name || !serving) continue;
          files.delete(serving);
          this.c.containers.get(n)!.delete('counter');
        }
        return OK;
      },
      () => {
        this.fs.delete(`${dir}/fetching`);
        this.fs.add(`${dir}/fetch-failed`);
        this.cs.delete('counter');
        return NO;
      },
    );
  }

  /** The lazy dump ends: after a complete fetch CRIU ends the source's copy; after a failed one runc resumes it. */
  lazyDumpWait(dir: string): Promise<{ rc: number | null; lazyBytes: number }> {
    return this.check('lazyDumpWait', () => {
      if (!this.fs.has(`${dir}/serving`)) return { rc: 0, lazyBytes: 2 ** 20 };
      this.fs.delete(`${dir}/serving`);
      const failed = [...this.c.files.values()].some((f) => [...f].some((x) => x.endsWith('/fetch-failed')));
      if (failed) {
        const st = this.cs.get('counter');
        if (st) this.cs.set('counter', { ...st, status: 'running' });
        return { rc: 1, lazyBytes: 2 ** 20 };
      }
      this.cs.delete('counter');
      return { rc: 0, lazyBytes: 2 ** 20 };
    });
  }

  abortLazyDump(dir: string): Promise<void> {
    return this.check('abortLazyDump', () => {
      if (!this.fs.delete(`${dir}/serving`)) return;
      const st = this.cs.get('counter');
      if (st) this.cs.set('counter', { ...st, status: 'running' });
    });
  }

  prepareBundle(bundle: string): Promise<void> {
    return this.check('prepareBundle', () => void this.fs.add(`${bundle}/config.json`));
  }

  startPageServer(dir: string): Promise<number> {
    return this.check('startPageServer', () => {
      this.fs.add(`${dir}/pswork`);
      return 27900;
    });
  }

  stopPageServer(): Promise<void> {
    return this.check('stopPageServer', () => undefined);
  }

  /** The memory goes to the destination's `<dstDir>/img` (the fake's destination: the other node). */
  streamCheckpoint(id: string, dir: string): Promise<StepOutcome & { pageBytes?: number }> {
    return this.c.step<StepOutcome & { pageBytes?: number }>(
      this.name,
      'streamCheckpoint',
      () => {
        this.cs.delete(id);
        this.fs.add(`${dir}/img`);
        for (const [n, files] of this.c.files) {
          const ps = [...files].find((f) => f.endsWith('/pswork'));
          if (n !== this.name && ps) files.add(`${ps.slice(0, -'/pswork'.length)}/img`).add(`${ps.slice(0, -'/pswork'.length)}/pages`);
        }
        return { ok: true, pageBytes: 3 * 2 ** 20 };
      },
      () => NO,
    );
  }

  /** Fetching the pages back: only while the other node still has them. */
  pullPages(from: InventoryNode, localDir: string, remoteDir: string): Promise<void> {
    return this.check('pullPages', () => {
      if (this.c.down.has(from.name) || !this.c.files.get(from.name)!.has(`${remoteDir}/pages`)) commandFailed(this.name, `fetching pages from ${from.name}`);
      this.fs.add(`${localDir}/pages`);
    });
  }

  deleteContainer(id: string): Promise<void> {
    return this.check('deleteContainer', () => void this.cs.delete(id));
  }

  removeDir(dir: string): Promise<void> {
    return this.check('removeDir', () => this.rm(dir));
  }

  clear(id: string, dir: string, bundle: string | null): Promise<boolean> {
    return this.check('clear', () => {
      this.cs.delete(id);
      this.rm(dir);
      if (bundle) this.rm(bundle);
      return !this.cs.has(id);
    });
  }

  retire(id: string, dir: string): Promise<void> {
    return this.check('retire', () => {
      this.cs.delete(id);
      this.rm(dir);
    });
  }
}
