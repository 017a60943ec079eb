/**
 * The node-side steps of a migration: everything the migrator asks of a node,
 * one method per step. ShellNode (shell-node.ts) runs each as one command over
 * the node's SSH connection; a node agent (issue 11) can implement the same
 * interface and run them locally on the node. Results are plain data.
 */
import type { CriuProbe } from '../criu-probe.ts';
import type { InventoryNode } from '../inventory.ts';
import type { RuncState } from './commands.ts';

export type { RuncState };

/** What `measure` finds: memory of the container's processes, size and fingerprint of its rootfs. */
export interface ContainerSize {
  rssBytes: number;
  rootfsBytes: number;
  /** Metadata fingerprint of the rootfs (commands.ts manifestCmd). */
  manifest: string;
}

export type StepOutcome = { ok: true } | { ok: false; stderr: string; log: string };

/** The node-to-node channel (an SSH ControlMaster on the source) the checkpoint goes through. */
export interface TransferChannel {
  /** Source node and destination node (inventory names). */
  from: string;
  to: string;
  /** Control socket on the source. */
  ctlSock: string;
}

/** What the source sends in `pushCheckpoint`, and where it goes on the destination. */
export interface PushRequest {
  /** Checkpoint dirs on source and destination (images in img/). */
  srcDir: string;
  dstDir: string;
  srcRootfs: string;
  /** Pre-flight's fingerprint of the rootfs: if it still matches and `rootfsCached`, the rootfs stays. */
  manifest: string;
  rootfsCached: boolean;
  dstBundle: string;
  /** config.json for the destination, with the cached rootfs or with the sent one. */
  configCached: string;
  configSent: string;
}

export interface PushResult {
  imageBytes: number;
  rootfsBytes: number;
  /** The rootfs was not sent (identical at the destination). */
  rootfsCached: boolean;
}

export interface MigrationNode {
  readonly name: string;
  /** Resolves once the node answers; throws NODE_UNREACHABLE or HOSTKEY_MISMATCH. */
  reach(): Promise<void>;
  containerState(id: string): Promise<RuncState | null>;
  probeCriu(): Promise<CriuProbe>;
  /** The container's config.json. */
  readConfig(bundle: string): Promise<string>;
  measure(id: string, rootfs: string): Promise<ContainerSize>;
  /** Content hash of a directory tree, `none` if absent. */
  treeHash(dir: string): Promise<string>;
  /** Free bytes where checkpoints go. */
  checkpointSpace(): Promise<number>;
  exists(path: string): Promise<boolean>;
  writeCriuConfig(): Promise<void>;

  /** Source: open the channel to `to` (false, with ssh's error, if it cannot). */
  openChannel(ch: TransferChannel, to: InventoryNode): Promise<{ ok: boolean; stderr: string }>;
  closeChannel(ch: TransferChannel, to: InventoryNode): Promise<void>;
  /** Source: pre-copy round `round` into `<dir>/pre<round>` while the container runs. */
  predump(id: string, dir: string, round: number): Promise<void>;
  /** Source: push `<srcDir>/<entry>` to `<dstDir>/<entry>` over the channel. */
  pushDir(ch: TransferChannel, to: InventoryNode, srcDir: string, dstDir: string, entry: string): Promise<void>;
  /** Source: the final dump into `<dir>/img`; the container stops. */
  checkpoint(id: string, dir: string, precopyRounds: number): Promise<StepOutcome>;
  /**
   * Source, before the freeze (optional): set up the push's node-to-node session now, so that
   * pushCheckpoint after the freeze only sends the bytes. False: not prepared (the push then
   * takes the ordinary path). A prepared push that is never used is ended by removeDir(srcDir).
   */
  preparePush?(ch: TransferChannel, to: InventoryNode, q: Pick<PushRequest, 'srcDir' | 'dstDir' | 'srcRootfs' | 'dstBundle'>): Promise<boolean>;
  /** Source: end a prepared push that will not be used (no-op if there is none). */
  abortPush?(srcDir: string): Promise<void>;
  /** Source: images, config.json and (if needed) rootfs to the destination, bundle put in place there. */
  pushCheckpoint(ch: TransferChannel, to: InventoryNode, req: PushRequest): Promise<PushResult>;
  /** Bytes of the given directories. */
  dirBytes(dirs: string[]): Promise<number>;
  /** Restore `id` from `<dir>/img` with `bundle`. */
  restore(id: string, dir: string, bundle: string): Promise<StepOutcome>;

  // ---- post-copy (CRIU lazy pages) ----
  /**
   * Source: the lazy dump, started in the background (CRIU keeps the memory and serves it from
   * a page server on `address`); resolves once everything but the memory is in `<dir>/img` and
   * the container is stopped. `port` is the page server's.
   */
  lazyCheckpoint(id: string, dir: string, address: string): Promise<StepOutcome & { port?: number }>;
  /** Destination: start the lazy-pages daemon (guarded: it kills the container if it fails) and restore with --lazy-pages. */
  lazyRestore(id: string, dir: string, bundle: string, srcAddress: string, port: number, opts?: { stockDaemon?: boolean }): Promise<StepOutcome>;
  /** Destination: wait until the lazy-pages daemon ended; ok only if every page arrived. */
  lazyWait(dir: string, timeoutMs: number): Promise<StepOutcome>;
  /** Source: wait until the lazy dump ended; its exit status (null: still running at the timeout) and the bytes it served. */
  lazyDumpWait(dir: string, timeoutMs: number): Promise<{ rc: number | null; lazyBytes: number }>;
  /** Source: end a lazy dump still serving pages (runc then resumes the container); no-op if it ended. */
  abortLazyDump(dir: string): Promise<void>;

  // ---- disk-less cold (CRIU page server on the destination) ----
  /** Destination: the bundle's config.json in place before the freeze. */
  prepareBundle(bundle: string, config: string): Promise<void>;
  /** Destination: a one-shot page server receiving the dump's memory into `<dir>/img`; its port. */
  startPageServer(dir: string, address: string): Promise<number>;
  /** Destination: stop a page server that did not get its dump. */
  stopPageServer(dir: string): Promise<void>;
  /** Source: the final dump with the memory streamed to the destination's page server; the container stops. */
  streamCheckpoint(id: string, dir: string, dstAddress: string, port: number): Promise<StepOutcome & { pageBytes?: number }>;
  /** Source, rollback of a disk-less dump: fetch `<remoteDir>/img` (the memory pages) from `from` into `<localDir>/img`. */
  pullPages(from: InventoryNode, localDir: string, remoteDir: string): Promise<void>;

  deleteContainer(id: string): Promise<void>;
  removeDir(dir: string, timeoutMs?: number): Promise<void>;
  /** Rollback at the destination: no container `id`, `dir` and `bundle` (if given) removed; true if no `id` is left. */
  clear(id: string, dir: string, bundle: string | null): Promise<boolean>;
  /** Cleanup at the source after a verified migration: its container state and checkpoint dir. */
  retire(id: string, dir: string): Promise<void>;
}

/** The node-side steps of one inventory node. */
export type NodeFactory = (name: string) => MigrationNode;
