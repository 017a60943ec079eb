/**
 * Awaiting a call that must fail with conmig's one error type.
 */
import { expect } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';

/** The ConmigError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function expectConmigError(p: Promise<unknown>, what = 'the call'): Promise<ConmigError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConmigError);
    return e as ConmigError;
  }
  throw new Error(`expected ${what} to fail`);
}
