/**
 * Teardown steps that must all be tried: a failing step is recorded with
 * what it was and the next one still runs (as testbed/clean.ts sweeps), so
 * a teardown error is reported instead of dropped.
 */
export class Teardown {
  readonly errors: string[] = [];

  /** Run `step`; on failure record "`what`: message" and go on. */
  async attempt(what: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
