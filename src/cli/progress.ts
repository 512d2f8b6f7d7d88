import type { ExploreStats } from '../explore/explorer.ts';
import { grouped, plural } from '../report/text.ts';
import { stderr } from './output.ts';
import { terminal } from './tty.ts';

/**
 * Progress on stderr. On a terminal: a one-line bar for explorations longer than about a second
 * (never in pipes, CI or --quiet). With --progress: plain lines whatever stderr is, the first as soon
 * as the exploration starts, so that a script can wait for it before it sends Ctrl-C.
 */
export class Progress {
  private readonly start = Date.now();
  private shown = false;
  private last = 0;
  constructor(
    private readonly mode: 'off' | 'bar' | 'lines',
    private readonly violations: () => number,
  ) {}

  /** The readiness line (lines mode): the work runs and Ctrl-C now stops it with a report. */
  begin(what: string, verb = 'exploring'): void {
    if (this.mode === 'lines') stderr(`vgic-lab: ${verb} ${what} (Ctrl-C stops and reports what was done)\n`);
  }

  /**
   * Where a long piece of work stands (`cell 3 of 294: happy-sgi on V3`): the bar on a terminal, the
   * readiness line of `what` in lines mode.
   */
  stage(text: string, what: string): void {
    if (this.mode === 'lines') this.begin(what);
    if (this.mode !== 'bar') return;
    this.shown = true;
    // One line: a line that wrapped would not be overwritten by the next.
    stderr(`\r\x1b[K${text.slice(0, terminal().columns - 1)}`);
  }

  /** A line that says which phase the work is in (lines mode). */
  say(text: string): void {
    if (this.mode === 'lines') stderr(`vgic-lab: ${text}\n`);
  }

  update(s: ExploreStats): void {
    if (this.mode === 'off') return;
    const now = Date.now();
    if (now - this.start < 1000 || now - this.last < (this.mode === 'bar' ? 200 : 1000)) return;
    this.last = now;
    const rate = Math.round(s.executions / Math.max(0.001, (now - this.start) / 1000));
    const text = `exploring: ${plural(s.executions, 'execution')}, ${grouped(rate)}/s, ${plural(this.violations(), 'finding')}`;
    if (this.mode === 'lines') {
      stderr(`vgic-lab: ${text}\n`);
      return;
    }
    this.shown = true;
    stderr(`\r\x1b[K${text}`);
  }

  clear(): void {
    if (this.shown) stderr('\r\x1b[K');
  }
}

/** The progress mode of a command's options. */
export function progressMode(o: {
  quiet?: boolean;
  json?: boolean;
  progress?: boolean;
}): 'off' | 'bar' | 'lines' {
  if (o.progress) return 'lines';
  return !o.quiet && !o.json && terminal().stderr ? 'bar' : 'off';
}
