/**
 * Entry of the relay process (started by `conmig testbed up` inside cm-users):
 *   node dist/live/testbed/relay-main.js <relay.json> <control.sock>
 *   (node --import tsx src/live/testbed/relay-main.ts ... from the sources)
 * relay.json: { "listenHost": "10.77.0.2", "routes": [RelayRoute...] }.
 * Stops on SIGTERM/SIGINT (closing its listeners lets the process end).
 */
import { readFileSync, rmSync } from 'node:fs';
import { Relay, serveControl, type RelayRoute } from './relay.ts';

async function main(configFile: string | undefined, sockPath: string | undefined): Promise<void> {
  if (!configFile || !sockPath) {
    process.stderr.write('usage: relay-main.ts <relay.json> <control.sock>\n');
    process.exitCode = 2;
    return;
  }
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as { listenHost: string; routes: RelayRoute[] };
  const relay = new Relay(cfg.listenHost);
  for (const r of cfg.routes) await relay.add(r);
  rmSync(sockPath, { force: true });
  const control = await serveControl(relay, sockPath);
  process.stdout.write(`relay: ${cfg.routes.length} routes on ${cfg.listenHost}, control ${sockPath}\n`);
  const stop = (): void => {
    relay.close();
    control.close();
    rmSync(sockPath, { force: true });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

await main(process.argv[2], process.argv[3]);
