/**
 * Workload images on the nodes: built once by workloads/build.sh into an image
 * cache (default /var/lib/conmig/images), then copied to every node (hard links
 * when on the same filesystem), like a pre-pulled image on each edge server.
 * Internal to src/live/testbed.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConmigError } from '../../model/errors.ts';
import { run, tryRun } from './exec.ts';
import { bundleConfigForNode, makeBundleConfig, type ImageSpec } from './bundle.ts';
import { containerCgroupsPath } from './cgroup.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const IMAGES = ['plate', 'synthetic'] as const;

export async function ensureImages(imagesDir: string): Promise<void> {
  const r = await tryRun('bash', [join(REPO_ROOT, 'workloads', 'build.sh'), imagesDir]);
  if (r.code !== 0) {
    throw new ConmigError('SETUP_MISSING', 'building the workload images failed (run `bash scripts/setup-live.sh`)', {
      context: { command: `bash workloads/build.sh ${imagesDir}`, stderr: r.stderr.trim().split('\n').slice(-6).join('\n') },
    });
  }
}

export async function readImageSpec(imagesDir: string, image: string): Promise<ImageSpec> {
  return JSON.parse(await readFile(join(imagesDir, image, 'image.json'), 'utf8')) as ImageSpec;
}

/** Put image `image` on a node: <nodeImagesDir>/<image>/{rootfs,image.json,config.json}. */
export async function installImage(
  imagesDir: string,
  image: string,
  nodeImagesDir: string,
  netns: string,
  node: string,
): Promise<ImageSpec> {
  const dst = join(nodeImagesDir, image);
  await mkdir(nodeImagesDir, { recursive: true });
  if (!existsSync(dst)) {
    const hard = await tryRun('cp', ['-al', join(imagesDir, image), dst]);
    if (hard.code !== 0) await run('cp', ['-a', join(imagesDir, image), dst], { node });
  }
  const spec = await readImageSpec(imagesDir, image);
  const cfg = makeBundleConfig({ image: spec, container: image, rootfsPath: join(dst, 'rootfs'), netnsPath: `/run/netns/${netns}` });
  await writeFile(join(dst, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  return spec;
}

/**
 * Write <bundlesDir>/<container>/config.json from the node's image config; with
 * `cgroupParent` the container's cgroup is `<cgroupParent>/<container>`.
 */
export async function writeBundle(nodeImagesDir: string, image: string, bundlesDir: string, container: string,
  netns: string, args?: string[], cgroupParent?: string): Promise<string> {
  const dir = join(bundlesDir, container);
  await mkdir(dir, { recursive: true });
  const base = JSON.parse(await readFile(join(nodeImagesDir, image, 'config.json'), 'utf8')) as {
    hostname: string; process: { args: string[] } };
  base.hostname = container;
  if (args) base.process.args = args;
  const cgroupsPath = cgroupParent === undefined ? undefined : containerCgroupsPath(cgroupParent, container);
  await writeFile(join(dir, 'config.json'), bundleConfigForNode(JSON.stringify(base), `/run/netns/${netns}`, { cgroupsPath }));
  return dir;
}

/** `runc run -d` with stdio on /dev/null (CRIU cannot dump host files as stdio); runc's log goes to logFile. */
export async function runContainer(runcRoot: string, bundleDir: string, id: string, logFile: string, node: string): Promise<void> {
  await mkdir(dirname(logFile), { recursive: true });
  const r = await tryRun('sh', ['-c', 'exec "$@" </dev/null >/dev/null 2>&1', 'sh',
    'runc', '--root', runcRoot, '--log', logFile, 'run', '-d', '--bundle', bundleDir, id]);
  if (r.code !== 0) {
    const log = existsSync(logFile) ? (await readFile(logFile, 'utf8')).trim().split('\n').slice(-4).join('\n') : '';
    throw new ConmigError('COMMAND_FAILED', `runc run ${id} failed on ${node}`, {
      context: { node, command: `runc --root ${runcRoot} run -d --bundle ${bundleDir} ${id}`, stderr: log },
    });
  }
}
