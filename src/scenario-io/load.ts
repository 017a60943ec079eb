/**
 * Loading a scenario file: read it, then parse/validate/resolve it with
 * parse.ts; checks that referenced files (traces, policy modules) exist.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { machineMemoryBudgetBytes, MAX_SCENARIO_BYTES, readLimitedText } from './read-limited.ts';
import type { Scenario } from '../model/types.ts';
import type { ScenarioOverrides } from '../model/scenario/resolve.ts';
import { checkScenarioText, invalidScenario, parseScenarioText, type ParseOutcome } from './parse.ts';

export { parseScenarioText, checkScenarioText } from './parse.ts';

/** `cwd`: the folder a relative `file` is relative to (the CLI's; default the process's). */
export interface LoadOptions {
  cwd?: string;
  /** Raise (or lower) the estimated-events limit of a run (limits.ts). */
  maxEvents?: number;
}

async function readScenarioFile(file: string, cwd = process.cwd()): Promise<{ text: string; abs: string; label: string }> {
  const abs = path.resolve(cwd, file);
  // Label problems with the path as the user typed it (relative paths stay short).
  const text = readLimitedText(abs, file, 'scenario file', MAX_SCENARIO_BYTES, 'SCENARIO_NOT_FOUND');
  return { text, abs, label: file };
}

function ioOptions(abs: string, overrides?: ScenarioOverrides, maxEvents?: number) {
  const dir = path.dirname(abs);
  return {
    file: abs,
    resolvePath: (relative: string) => path.resolve(dir, relative),
    fileExists: (resolved: string) => existsSync(resolved),
    overrides,
    memoryBudgetBytes: machineMemoryBudgetBytes(),
    maxEvents,
  };
}

/** Load, validate and resolve a scenario file. Throws SCENARIO_NOT_FOUND or SCENARIO_INVALID. */
export async function loadScenario(file: string, overrides?: ScenarioOverrides, opts: LoadOptions = {}): Promise<Scenario> {
  const { text, abs, label } = await readScenarioFile(file, opts.cwd);
  return parseScenarioText(text, label, ioOptions(abs, overrides, opts.maxEvents));
}

/** Like loadScenario, but returns the problems instead of throwing SCENARIO_INVALID. */
export async function checkScenarioFile(file: string, overrides?: ScenarioOverrides, opts: LoadOptions = {}): Promise<ParseOutcome> {
  const { text, abs, label } = await readScenarioFile(file, opts.cwd);
  return checkScenarioText(text, label, ioOptions(abs, overrides, opts.maxEvents));
}

export { invalidScenario };
