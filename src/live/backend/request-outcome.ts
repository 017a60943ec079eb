/**
 * What an emulated user's request came to. Its own module because both the
 * users (who produce it) and the live state (which files it) need the type,
 * and users.ts already imports the state.
 */
export interface RequestOutcome {
  u: number;
  c: number;
  /** Node index of the last attempt. */
  n: number;
  sentScenUs: number;
  completionScenUs: number;
  status: 'served' | 'failed';
  responseMs: number;
  networkMs: number;
  serviceMs: number;
  queueMs: number;
  waitMs: number;
  attempts: number;
}
