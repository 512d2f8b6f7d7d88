/**
 * What one step touched: ids of instrumented locations read and written (a lock operation is a write to
 * the lock). DPOR decides dependence from footprints alone. The 32-bit masks make the common
 * "independent" answer cheap.
 */
export class Footprint {
  r: number[] = [];
  w: number[] = [];
  rm = 0;
  wm = 0;
  /** The lock the step takes (its location: the step writes it), blocking or by a trylock; -1: none. */
  taken = -1;
  /**
   * For a blocking acquisition, what its lock's release writes (Lock.releaseId); -1 otherwise. The
   * acquisition comes after the last release without conflicting with it: happens-before orders the
   * release before the acquisition, so the accesses of two critical sections are never taken for a
   * race (reversing them would need the lock while it is held); the acquisitions race instead, and
   * reversing them reverses whole critical sections. A trylock has none: it reads the release (it can
   * run before it, and fails).
   */
  after = -1;

  private lastR = -1;
  private lastW = -1;

  read(id: number): void {
    if (id === this.lastR) return;
    this.lastR = id;
    this.r.push(id);
    this.rm |= 1 << (id & 31);
  }

  write(id: number): void {
    if (id === this.lastW) return;
    this.lastW = id;
    this.w.push(id);
    this.wm |= 1 << (id & 31);
  }
}

/** Records the acquisition of the lock at `lock`; `release` for a blocking one (Footprint.after). */
export function acquired(fp: Footprint, lock: number, release: number): void {
  fp.write(lock);
  fp.taken = lock;
  fp.after = release;
}

function intersects(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    for (let j = 0; j < b.length; j++) if (b[j] === x) return true;
  }
  return false;
}

/** Two steps conflict when one writes a location the other reads or writes. */
export function dependent(a: Footprint, b: Footprint): boolean {
  if ((a.wm & (b.rm | b.wm)) === 0 && (b.wm & a.rm) === 0) return false;
  return intersects(a.w, b.w) || intersects(a.w, b.r) || intersects(a.r, b.w);
}

/**
 * Whether step `d` releases the lock that the later step `i` blocks to acquire, and `d` did not take it
 * itself: the lock is held where `d` runs, so `i` cannot run before it, whatever else they conflict on.
 * (Before a step that takes and releases the lock, `i` can run: that is the race of the acquisitions.)
 */
export function unlocksFor(d: Footprint, i: Footprint): boolean {
  return i.after >= 0 && d.taken !== i.taken && d.w.includes(i.after);
}

/**
 * Whether the order of two steps is fixed: they conflict, or one releases the lock the other blocks to
 * acquire.
 */
export function ordered(a: Footprint, b: Footprint): boolean {
  return (
    dependent(a, b) || (b.after >= 0 && a.w.includes(b.after)) || (a.after >= 0 && b.w.includes(a.after))
  );
}
