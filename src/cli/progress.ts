import type { ExploreStats } from '../explore/explorer.ts';

/**
 * A one-line progress bar on stderr for explorations longer than about a second, only when stderr is
 * a terminal (never in pipes, CI or --quiet).
 */
export class Progress {
  private readonly start = Date.now();
  private shown = false;
  private last = 0;
  constructor(
    private readonly enabled: boolean,
    private readonly violations: () => number,
  ) {}

  update(s: ExploreStats): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.start < 1000 || now - this.last < 200) return;
    this.last = now;
    this.shown = true;
    const rate = Math.round(s.executions / Math.max(0.001, (now - this.start) / 1000));
    process.stderr.write(
      `\r\x1b[Kexploring: ${s.executions.toLocaleString('en-US')} executions, ${rate.toLocaleString('en-US')}/s, ${this.violations()} violations`,
    );
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}
