/** When two runs agree (its own module: the CLI shows the defaults without loading the statistics). */
export interface CompareTolerance {
  /** Largest |relative error| of a percentile that still agrees. */
  percentileRel: number;
  /** Largest mean |relative error| of paired downtimes that still agrees. */
  downtimeRel: number;
  /** Largest KS D that still agrees. */
  ksD: number;
}

export const DEFAULT_TOLERANCE: Readonly<CompareTolerance> = Object.freeze({ percentileRel: 0.1, downtimeRel: 0.15, ksD: 0.1 });
