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
