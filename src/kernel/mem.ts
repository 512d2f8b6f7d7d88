import type { Frame } from './stack.ts';
import type { Task } from './task.ts';

/**
 * A field of a modelled structure: byte offset and size in the model's layout of the kernel struct.
 * `T` is the type of the value the model keeps there; accessors return it.
 */
export interface Field<T = unknown> {
  /** Never set: carries `T`, so that a Field<number> is not taken for a Field<Ptr>. */
  readonly valueType?: T;
  readonly name: string;
  readonly off: number;
  readonly size: number;
  readonly index: number;
  /** The design marks it as written without a lock on purpose (KCSAN ignores it unless strict). */
  readonly racy: boolean;
}

export interface FieldSpec {
  name: string;
  size?: number;
  off?: number;
  racy?: boolean;
}

/** The layout of a modelled kernel structure. Offsets follow declaration order unless given. */
export class StructType {
  readonly fields: Field[] = [];
  readonly byName = new Map<string, Field>();
  constructor(
    readonly name: string,
    readonly size: number,
    specs: FieldSpec[],
    /** Slab cache for `kmalloc`ed instances. */
    readonly cache = `kmalloc-${slabClass(size)}`,
  ) {
    let off = 0;
    for (const s of specs) {
      const f: Field = {
        name: s.name,
        off: s.off ?? off,
        size: s.size ?? 8,
        index: this.fields.length,
        racy: s.racy ?? false,
      };
      off = f.off + f.size;
      if (off > size) throw new Error(`struct ${name}: field ${s.name} ends at ${off}, past size ${size}`);
      this.fields.push(f);
      this.byName.set(f.name, f);
    }
  }

  /** The field `name`, typed with the value the model keeps in it. */
  field<T>(name: string): Field<T> {
    const f = this.byName.get(name);
    if (!f) throw new Error(`struct ${this.name} has no field ${name}`);
    return f as Field<T>;
  }
}

export function slabClass(size: number): number {
  let c = 8;
  while (c < size) c *= 2;
  return c;
}

/** Shadow of the last accesses to one location, for KCSAN. */
export interface AccessRecord {
  task: Task;
  clock: number;
  marked: boolean;
  write: boolean;
  stack: Frame | null;
  /** A write: the value it replaced and the value it stored (KCSAN's "value changed"). */
  before?: unknown;
  after?: unknown;
}

/** One instrumented memory location: a field of one object. */
export class Loc {
  value: unknown;
  lastWrite: AccessRecord | null = null;
  /** Latest read per task since the last write. */
  reads: AccessRecord[] | null = null;
  /** Clock published by a release store (smp_store_release), joined by an acquire load. */
  releaseVc: number[] | null = null;
  constructor(
    readonly id: number,
    readonly obj: KObj,
    readonly field: Field,
    value: unknown,
  ) {
    this.value = value;
  }

  get addr(): bigint {
    return this.obj.addr + BigInt(this.field.off);
  }
}

/** An allocated (or, as a tombstone, freed) modelled object. */
export class KObj {
  /**
   * One location per field, created at its first use: most fields of most objects (the private IRQs
   * of every vCPU) are never touched in an execution, and the world is rebuilt for each one.
   */
  readonly locs: (Loc | undefined)[] = [];
  freed = false;
  allocStack: Frame | null = null;
  allocPid = 0;
  freeStack: Frame | null = null;
  freePid = 0;
  /** kfree_rcu / call_rcu stacks, newest first (KASAN keeps two). */
  aux: Frame[] = [];
  constructor(
    readonly type: StructType,
    readonly addr: bigint,
    /** Whether the object is a slab object (KASAN tracks it) rather than static data. */
    readonly slab: boolean,
    /** A short label for reports and state dumps ("LPI 8195"). */
    public label: string,
    /** The id of the first field's location; field i has `firstLoc + i`. */
    readonly firstLoc = 0,
    /** Initial field values by name (0 when absent). */
    private readonly init: Readonly<Record<string, unknown>> = {},
  ) {}

  loc(f: Field): Loc {
    return this.locs[f.index] ?? this.materialise(f.index);
  }

  get(name: string): Loc {
    return this.loc(this.type.field(name));
  }

  private materialise(index: number): Loc {
    const f = this.type.fields[index];
    const loc = new Loc(this.firstLoc + index, this, f, f.name in this.init ? this.init[f.name] : 0);
    this.locs[index] = loc;
    return loc;
  }

  /** Bytes the allocation occupies: the slab cache's object size for slab objects. */
  get size(): number {
    return this.slab ? slabClass(this.type.size) : this.type.size;
  }

  get end(): bigint {
    return this.addr + BigInt(this.size);
  }
}

/** A pointer value that is not a live object: NULL, a LIST_POISON value, container_of of one. */
export class BadPtr {
  constructor(readonly addr: bigint) {}
  offset(delta: number): BadPtr {
    return new BadPtr(this.addr + BigInt(delta));
  }
}

export const NULL_PTR = new BadPtr(0n);
export const LIST_POISON1 = new BadPtr(0xdead000000000100n);
export const LIST_POISON2 = new BadPtr(0xdead000000000122n);

export function hex(a: bigint): string {
  return a.toString(16).padStart(16, '0');
}
