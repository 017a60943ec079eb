/**
 * Live mode entry point: run a scenario on real nodes from an inventory.
 * (Being implemented: until then it refuses with a clear message.)
 */
import { ConmigError } from '../model/errors.ts';
import type { Scenario } from '../model/types.ts';
import type { ScenarioRun } from '../run/run-scenario.ts';

export interface LiveRunOptions {
  outDir: string;
  /** Inventory file; default: the scenario's live.inventory. */
  inventory?: string;
  seed?: number;
  /** Called now and then with the fraction of scenario time done. */
  onProgress?: (policyIndex: number, policyName: string, fraction: number) => void;
}

export async function runLive(scenario: Scenario, _opts: LiveRunOptions): Promise<{ runs: ScenarioRun[]; reportPath?: string }> {
  throw new ConmigError('USAGE', 'live mode is not available yet: run without --live (and with mode: sim) to simulate', {
    context: { scenario: scenario.file },
  });
}
