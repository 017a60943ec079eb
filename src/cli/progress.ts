/** The progress bar of `conmig run`. */
import cliProgress from 'cli-progress';
import type { CliContext, CliWriter } from './io.ts';

/** A progress bar per policy, for a person at a terminal only (never in CI logs). */
export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private current = -1;

  /** `stream` is a terminal when `enabled` (process.stderr from bin/conmig.js). */
  constructor(enabled: boolean, stream: CliWriter) {
    this.bar = enabled
      ? new cliProgress.SingleBar(
          {
            format: '{policy} [{bar}] {percentage}% | {eta_formatted} left',
            clearOnComplete: true,
            hideCursor: true,
            stream: stream as NodeJS.WritableStream,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  static wanted(flag: boolean | undefined, ctx: CliContext): boolean {
    return flag !== false && Boolean(ctx.io.stderr.isTTY) && !ctx.io.env.CI;
  }

  readonly update = (index: number, name: string, fraction: number): void => {
    if (!this.bar) return;
    if (index !== this.current) {
      if (this.current >= 0) this.bar.stop();
      this.bar.start(100, 0, { policy: name.padEnd(14) });
      this.current = index;
    }
    this.bar.update(Math.round(fraction * 100));
  };

  stop(): void {
    this.bar?.stop();
    this.current = -1;
  }
}

