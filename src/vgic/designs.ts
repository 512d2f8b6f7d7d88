/**
 * Designs (docs/model.md, Designs): where and how the EOIcount replay walks, and what protects it. A
 * design is data; the vGIC code branches on these fields at the few places where designs differ.
 */
/** Published fixes that a design preset turns on or off (docs/model.md, Glossary: fix switches). */
export interface FixSwitches {
  PRUNE_REF_ACROSS_MIGRATION: boolean;
  PRUNE_CHECK_STILL_OURS: boolean;
  FLUSH_LPIS_CLEARS_PENDING: boolean;
  CACHE_INVALIDATE_PUTS_ERASED_ONLY: boolean;
  /** On in V5 only; a design expression can turn any of them on or off. */
  LPI_RELEASE_UNDER_XA_LOCK: boolean;
  MOVALL_FILTER_SOURCE: boolean;
  HALT_ON_LPI_DISABLE: boolean;
  OUTSIDE_GUEST_MODE_AFTER_SYNC: boolean;
  PAUSE_IS_COUNTER: boolean;
}

/** A design as the table below writes it. */
export interface DesignFields {
  readonly id: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  /** Kernel commit or mailing-list reference. */
  readonly reference: string;
  /** Kernel version printed in reports. */
  readonly version: string;
  /** Where the EOIcount replay walks: none (V0), the overflow list (V1), the head (V2), after last_lr_irq (V3+). */
  readonly walk: 'none' | 'overflow' | 'head' | 'tail';
  /**
   * The Nov 2025 LR-overflow rework (V1 and later): pending-before-active sort with undeliverable IRQs at
   * the end, LRENPIE/NPIE/TDIR configuration, active_spis, on_lr. V0 has none of it: active IRQs sort
   * first and are never pushed out of the LRs.
   */
  readonly lrOverflow: boolean;
  /** Per-pCPU last_lr_irq is kept (V3 and later). */
  readonly lastLrIrq: boolean;
  /**
   * last_lr_irq is set only when entries are left outside the LRs, and the LR fold runs whether it is
   * set or not (V5).
   */
  readonly lastLrOnOverflowOnly: boolean;
  /** Fold holds ap_list_lock for the LR fold and the walk (V4b). */
  readonly foldLocked: boolean;
  /** last_lr_irq holds a reference from flush to fold (V4b). */
  readonly pinLastLr: boolean;
  /** vgic_flush_pending_lpis unlinks with list_del_rcu (V4a). */
  readonly flushLpisDelRcu: boolean;
  /** kvm_notify_acked_irq deferred past the ap_list_lock unlock through an eoi_spis bitmap (V4b). */
  readonly deferNotify: boolean;
  /**
   * The LPI lifetime of v6.9 and later (every design of the table): LPIs live in the `lpi_xa` xarray,
   * are looked up under RCU and freed with kfree_rcu. Off, the lifetime of v4.8 to v6.8 that the
   * stable backports of the 2026 fixes run on: lookups and the final put under the raw
   * `lpi_list_lock`, and kfree at once (docs/designs.md, "LPI lifetime").
   */
  readonly rcuFreedLpis: boolean;
  readonly fixes: Readonly<FixSwitches>;
}

/** A field or fix switch a design expression or design file set (src/vgic/design-expr.ts). */
export interface DesignChange {
  readonly name: string;
  readonly on: boolean;
}

/**
 * A design the model runs: one of the table, or one derived from it (a design expression, a design
 * file). `id` is what reports, tokens and JSON print; `base` the table design it starts from.
 */
export interface Design extends DesignFields {
  readonly base: DesignId;
  readonly changes: readonly DesignChange[];
  /** A design read from a design file or module: its path and content hash (tokens name the file). */
  readonly file?: { readonly path: string; readonly hash: string };
  /** A design module's replacements of kernel functions, by name (src/vgic/replace.ts). */
  readonly replace?: Readonly<Record<string, unknown>>;
}

const NO_FIXES: FixSwitches = {
  PRUNE_REF_ACROSS_MIGRATION: false,
  PRUNE_CHECK_STILL_OURS: false,
  FLUSH_LPIS_CLEARS_PENDING: false,
  CACHE_INVALIDATE_PUTS_ERASED_ONLY: false,
  LPI_RELEASE_UNDER_XA_LOCK: false,
  MOVALL_FILTER_SOURCE: false,
  HALT_ON_LPI_DISABLE: false,
  OUTSIDE_GUEST_MODE_AFTER_SYNC: false,
  PAUSE_IS_COUNTER: false,
};

/** Mainline of June 2026: the CVE-2026-72288/72289 and 46316 fixes are in; the later ones are not. */
const MAINLINE_2026_FIXES: FixSwitches = {
  ...NO_FIXES,
  PRUNE_REF_ACROSS_MIGRATION: true,
  PRUNE_CHECK_STILL_OURS: true,
  FLUSH_LPIS_CLEARS_PENDING: true,
  CACHE_INVALIDATE_PUTS_ERASED_ONLY: true,
};

const base = {
  lrOverflow: true,
  lastLrIrq: true,
  lastLrOnOverflowOnly: false,
  foldLocked: false,
  pinLastLr: false,
  flushLpisDelRcu: false,
  deferNotify: false,
  rcuFreedLpis: true,
  version: '6.19.0',
};

const TABLE = [
  {
    ...base,
    id: 'V0',
    name: 'pre-overflow',
    aliases: ['pre-overflow', 'mainline-6.18', 'v6.18'],
    description:
      'before LR overflow handling: active IRQs sort first and stay in the LRs; no EOIcount replay',
    reference: 'mainline up to v6.18',
    version: '6.18.0',
    walk: 'none',
    lrOverflow: false,
    lastLrIrq: false,
    fixes: NO_FIXES,
  },
  {
    ...base,
    id: 'V1',
    name: 'overflow list',
    aliases: ['overflow-list'],
    description: 'EOIcount replay over an overflow list cut off the AP list at entry (never merged)',
    reference: '[PATCH 25/33] + [PATCH 26/33] "KVM: arm64: ... LR overflow", Marc Zyngier, 3 Nov 2025',
    // Posted on v6.18-rc4, the tree it would have been tested on.
    version: '6.18.0-rc4',
    walk: 'overflow',
    lastLrIrq: false,
    fixes: NO_FIXES,
  },
  {
    ...base,
    id: 'V2',
    name: 'head walk',
    aliases: ['head-walk', 'mainline-6.19'],
    description: 'EOIcount replay walks the whole AP list from its head, without a lock',
    reference: 'LR-overflow series v4, merged for v6.19 as 3cfd59f81e0f (GICv3) and 281c6c06e2a7 (GICv2)',
    walk: 'head',
    lastLrIrq: false,
    fixes: NO_FIXES,
  },
  {
    ...base,
    id: 'V3',
    name: 'tail walk',
    aliases: ['tail-walk', 'mainline', 'mainline-2026'],
    description:
      'EOIcount replay continues after last_lr_irq without a lock or a reference (mainline, June 2026)',
    reference: '"KVM: arm64: vgic: Pick EOIcount deactivations from AP-list tail", upstream 6da5e537f5af',
    // Merged in March 2026; the June 2026 mainline that the seed race was found in is v7.1.
    version: '7.1.0',
    walk: 'tail',
    fixes: MAINLINE_2026_FIXES,
  },
  {
    ...base,
    id: 'V4a',
    name: 'list_del_rcu',
    aliases: ['list-del-rcu'],
    description: 'as V3, but vgic_flush_pending_lpis unlinks with list_del_rcu (rejected in review)',
    reference:
      '"[PATCH] KVM: arm64: vgic: Use list_del_rcu() when flushing pending LPIs", Hyunwoo Kim, 4 Jun 2026',
    version: '7.1.0',
    walk: 'tail',
    flushLpisDelRcu: true,
    fixes: MAINLINE_2026_FIXES,
  },
  {
    ...base,
    id: 'V4b',
    name: 'locked fold',
    aliases: ['locked-fold'],
    description: 'fold holds ap_list_lock, last_lr_irq pinned by a reference, irqfd notification deferred',
    reference:
      'follow-up in the list_del_rcu thread, Hyunwoo Kim, 7 Jun 2026 (https://lore.kernel.org/r/aiXvwGD1hS6vwLEd@v4bel)',
    version: '7.1.0',
    walk: 'tail',
    foldLocked: true,
    pinLastLr: true,
    deferNotify: true,
    fixes: MAINLINE_2026_FIXES,
  },
  {
    ...base,
    id: 'V5',
    name: 'robust LPI disabling',
    aliases: ['robust-lpi-disable'],
    description:
      'tail walk without the lock, last_lr_irq pinned and NULL unless the LRs overflow; VM halted while LPIs are disabled',
    reference:
      '"KVM: arm64: Make LPI disabling robust (and more)" v2, Marc Zyngier, 29 Sep 2026; in part kvmarm-fixes-7.3-2 (e079ef0b, 19bc5d79, 751f4641)',
    version: '7.3.0',
    walk: 'tail',
    lastLrOnOverflowOnly: true,
    pinLastLr: true,
    fixes: {
      ...MAINLINE_2026_FIXES,
      LPI_RELEASE_UNDER_XA_LOCK: true,
      MOVALL_FILTER_SOURCE: true,
      HALT_ON_LPI_DISABLE: true,
      OUTSIDE_GUEST_MODE_AFTER_SYNC: true,
      PAUSE_IS_COUNTER: true,
    },
  },
] as const satisfies readonly DesignFields[];

/** The designs' ids, as the table above defines them. */
export type DesignId = (typeof TABLE)[number]['id'];

/**
 * What a design's fields must agree on, as the kernel code each describes would: the problems, or none.
 * The EOIcount replay exists only with the LR-overflow rework; a walk from the tail needs the per-CPU
 * `last_lr_irq` it starts from; pinning `last_lr_irq` with a reference, and deferring the irqfd
 * notification past the unlock, belong to the fold that holds `ap_list_lock`.
 */
export function designProblems(d: DesignFields): string[] {
  const out: string[] = [];
  if (d.walk !== 'none' && !d.lrOverflow)
    out.push(`an EOIcount replay (walk: ${d.walk}) needs the LR-overflow rework`);
  if (d.walk === 'none' && d.lrOverflow)
    out.push('the LR-overflow rework always replays EOIcount (walk cannot be none)');
  if (d.walk === 'tail' && !d.lastLrIrq) out.push('a walk from the tail needs last_lr_irq');
  if (d.lastLrIrq && d.walk !== 'tail')
    out.push(`last_lr_irq is kept only for a walk from the tail (walk: ${d.walk})`);
  if (d.pinLastLr && !d.lastLrIrq) out.push('pinning last_lr_irq needs last_lr_irq');
  if (d.lastLrOnOverflowOnly && !d.lastLrIrq) out.push('lastLrOnOverflowOnly needs last_lr_irq');
  if (d.deferNotify && !d.foldLocked)
    out.push('deferring the irqfd notification needs the fold that holds ap_list_lock');
  if (d.foldLocked && !d.lastLrIrq)
    out.push('the locked fold re-validates last_lr_irq, which the design does not keep');
  return out;
}

export const DESIGNS: readonly Design[] = TABLE.map((d) => {
  const problems = designProblems(d);
  if (problems.length > 0) throw new Error(`design ${d.id} is inconsistent: ${problems.join('; ')}`);
  return { ...d, base: d.id, changes: [] };
});

export function designById(idOrAlias: string): Design | undefined {
  const k = idOrAlias.toLowerCase();
  return DESIGNS.find((d) => d.id.toLowerCase() === k || d.aliases.includes(k));
}
