import { scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/**
 * One scenario per fix switch (docs/model.md, Glossary: fix switches): the race that the fix closed,
 * small enough for exhaustive DPOR in a few seconds. test/vgic/switches.test.ts runs each on the design
 * pair that turns only that switch off and on, and docs/scenarios.md ("Fix switches") gives the pairs
 * and what each shows. Where another switch turned off would hide this one's bug, the description says
 * which switch the pair keeps on or off.
 */

/** LPI 8192: device 0, event 0, collection 0 (vCPU 0). */
const LPI = { intid: 8192, priority: 0xa0, lpi: { device: 0, event: 0, collection: 0 } };

/** vCPU 1's guest clears vCPU 0's GICR_CTLR.EnableLPIs: vgic_flush_pending_lpis(vCPU 0) on CPU 1. */
const CLEAR_LPIS_OF_0 = {
  vcpu: 1,
  guest: [{ op: 'mmio' as const, write: { reg: 'GICR_CTLR' as const, vcpu: 0, enableLpis: false } }],
};

/**
 * The LPI pending on vCPU 0's AP list and re-routed to vCPU 1 (MOVI updates the target only), so that
 * vCPU 0's next prune migrates it, dropping every lock in window WM.
 */
const MIGRATING = [
  { cmd: 'MAPC' as const, collection: 1, vcpu: 1 },
  { cmd: 'INT' as const, device: 0, event: 0 },
  { cmd: 'MOVI' as const, device: 0, event: 0, collection: 1 },
];

/**
 * PRUNE_REF_ACROSS_MIGRATION (CVE-2026-72288): the migration of switchPruneCheckStillOurs after a
 * DISCARD, so that the AP list holds the LPI's last reference and vgic_flush_pending_lpis frees it while
 * prune is in window WM with no reference of its own. On a kernel that frees LPIs at once (before v6.9,
 * `-rcuFreedLpis`) prune then locks a freed object; with kfree_rcu prune's IRQs-off stretch is an RCU
 * read side and the reference is redundant (test/vgic/switches.test.ts).
 */
export const switchPruneRefAcrossMigration = scenario({
  name: 'switch-prune-ref-across-migration',
  description:
    'PRUNE_REF_ACROSS_MIGRATION: prune migrates a discarded LPI (the AP list holds its last reference) while vgic_flush_pending_lpis on vCPU 1 unlinks and frees it in window WM',
  vm: { vcpus: 2, nrLr: 4, its: true },
  interrupts: [LPI],
  lpisEnabled: [0, 1],
  prologue: [{ host: { call: 'its', cmds: [...MIGRATING, { cmd: 'DISCARD', device: 0, event: 0 }] } }],
  actors: [{ vcpu: 0, guest: [{ op: 'igrpen', group: 1, enable: true }] }, CLEAR_LPIS_OF_0],
});

/**
 * PRUNE_CHECK_STILL_OURS (CVE-2026-72289): vCPU 0's prune migrates the LPI to vCPU 1; in window WM
 * vCPU 1 clears vCPU 0's EnableLPIs and vgic_flush_pending_lpis unlinks it (list_del poisons its links).
 * Prune re-takes the locks and, without the check that irq->vcpu is still vCPU 0, list_dels the entry a
 * second time (DEBUG_LIST: LIST_POISON1). FLUSH_LPIS_CLEARS_PENDING must be off on both sides: with it,
 * the unlinked LPI is no longer pending, vgic_target_oracle answers NULL and prune leaves it alone,
 * which hides the missing check.
 */
export const switchPruneCheckStillOurs = scenario({
  name: 'switch-prune-check-still-ours',
  description:
    'PRUNE_CHECK_STILL_OURS: vgic_flush_pending_lpis unlinks the LPI prune is migrating (window WM); run with FLUSH_LPIS_CLEARS_PENDING off, which would hide it',
  vm: { vcpus: 2, nrLr: 4, its: true },
  interrupts: [LPI],
  lpisEnabled: [0, 1],
  prologue: [{ host: { call: 'its', cmds: MIGRATING } }],
  actors: [{ vcpu: 0, guest: [{ op: 'igrpen', group: 1, enable: true }] }, CLEAR_LPIS_OF_0],
});

/**
 * FLUSH_LPIS_CLEARS_PENDING: the LPI is pending on vCPU 0's AP list (vCPU 0 never runs, so it is in no
 * LR) when vCPU 1 clears vCPU 0's EnableLPIs. Without the fix vgic_flush_pending_lpis unlinks it but
 * leaves its pending latch set: once EnableLPIs is set again, anything that queues it (INV, a new
 * MAPTI) delivers an interrupt the device raised before the disable (P-LPI-PENDING). Every schedule
 * shows it; the LR variant (the LPI folded back pending from vCPU 0's LR) is a different bug that no
 * switch fixes (lpi-disable-vs-eoicount-replay).
 */
export const switchFlushLpisClearsPending = scenario({
  name: 'switch-flush-lpis-clears-pending',
  description:
    'FLUSH_LPIS_CLEARS_PENDING: clearing EnableLPIs unlinks a pending LPI from the AP list; without the fix it stays pending on no AP list',
  vm: { vcpus: 2, nrLr: 4, its: true },
  interrupts: [LPI],
  lpisEnabled: [0],
  prologue: [{ host: { call: 'its', cmds: [{ cmd: 'INT', device: 0, event: 0 }] } }],
  actors: [CLEAR_LPIS_OF_0],
});

/**
 * CACHE_INVALIDATE_PUTS_ERASED_ONLY (CVE-2026-46316): the MSI cached its translation (a reference of
 * the cache's own) and left the LPI pending on vCPU 0's AP list. The VMM's DISCARD invalidates the
 * cache (under its_lock) while vCPU 0's guest clears its own EnableLPIs, which invalidates it too
 * (without its_lock). Both walks load the entry; one erases it; without the fix the other still puts
 * what it loaded: the cache's one reference is dropped twice, and the last put (the ITE's, the AP
 * list's) underflows.
 */
export const switchCacheInvalidatePutsErasedOnly = scenario({
  name: 'switch-cache-invalidate-puts-erased-only',
  description:
    "CACHE_INVALIDATE_PUTS_ERASED_ONLY: a DISCARD's translation-cache invalidation races the one of an EnableLPIs clear; without the fix both put the cache's reference",
  vm: { vcpus: 1, nrLr: 4, its: true },
  interrupts: [LPI],
  lpisEnabled: [0],
  prologue: [{ host: { call: 'msi', device: 0, event: 0 } }],
  actors: [
    { host: 'qemu-system-aar', actions: [{ call: 'its', cmds: [{ cmd: 'DISCARD', device: 0, event: 0 }] }] },
    { vcpu: 0, guest: [{ op: 'mmio', write: { reg: 'GICR_CTLR', vcpu: 0, enableLpis: false } }] },
  ],
});

/**
 * LPI_RELEASE_UNDER_XA_LOCK (CVE-2026-74568): after a DISCARD the AP list holds the LPI's last
 * reference. vCPU 0's guest clears its EnableLPIs: vgic_flush_pending_lpis drops that reference with
 * PUT_NR (the count reaches 0, the object stays in lpi_xa until vgic_release_deleted_lpis). Meanwhile
 * the VMM's MAPTI maps INTID 8192 again: vgic_add_lpi cannot take a reference on the dead object and
 * stores a new one in its slot. Without the fix the release walk then finds only the new object, and
 * the old one is never freed (P-REF). With the fix a zero count is the mark (no pending_release
 * flag): under xa_lock, vgic_add_lpi frees the dead object it replaces, or the release walk finds it
 * first.
 */
export const switchLpiReleaseUnderXaLock = scenario({
  name: 'switch-lpi-release-under-xa-lock',
  description:
    "LPI_RELEASE_UNDER_XA_LOCK: vgic_flush_pending_lpis' final PUT_NR of a discarded LPI races a MAPTI that maps its INTID again",
  vm: { vcpus: 1, nrLr: 4, its: true },
  interrupts: [LPI],
  lpisEnabled: [0],
  prologue: [
    {
      host: {
        call: 'its',
        cmds: [
          { cmd: 'INT', device: 0, event: 0 },
          { cmd: 'DISCARD', device: 0, event: 0 },
        ],
      },
    },
  ],
  actors: [
    {
      host: 'qemu-system-aar',
      actions: [{ call: 'its', cmds: [{ cmd: 'MAPTI', device: 0, event: 1, intid: 8192, collection: 0 }] }],
    },
    { vcpu: 0, guest: [{ op: 'mmio', write: { reg: 'GICR_CTLR', vcpu: 0, enableLpis: false } }] },
  ],
});

/**
 * MOVALL_FILTER_SOURCE: LPI 8194 is routed to vCPU 2. The VMM moves everything of redistributor 0 to
 * redistributor 1 (MOVALL), then raises the LPI (INT). Without the fix MOVALL retargets every LPI, so
 * the LPI goes to vCPU 1, where the guest never routed it, and vCPU 2 never takes it (the expectation).
 */
export const switchMovallFilterSource = scenario({
  name: 'switch-movall-filter-source',
  description:
    'MOVALL_FILTER_SOURCE: MOVALL from vCPU 0 to vCPU 1 must leave an LPI routed to vCPU 2 alone; without the fix vCPU 2 never takes it',
  vm: { vcpus: 3, nrLr: 4, its: true },
  interrupts: [{ intid: 8194, priority: 0xa0, lpi: { device: 0, event: 0, collection: 2 } }],
  lpisEnabled: [0, 1, 2],
  actors: [
    {
      host: 'qemu-system-aar',
      actions: [
        {
          call: 'its',
          cmds: [
            { cmd: 'MOVALL', from: 0, to: 1 },
            { cmd: 'INT', device: 0, event: 0 },
          ],
        },
      ],
    },
    { vcpu: 2, handler: 'simple', guest: [...GUEST_SETUP, { op: 'handle', count: 1 }] },
  ],
  expect: { acks: { 2: [8194] } },
});

/**
 * HALT_ON_LPI_DISABLE: the seed race reduced to its use-after-free (lpi-disable-vs-fold-without-eoi-
 * discarded with the LPI alone): after a DISCARD the LPI in vCPU 0's only used LR is last_lr_irq and
 * holds its last reference on the AP list. vCPU 1 clears vCPU 0's EnableLPIs while vCPU 0 is in the
 * guest (an RCU extended quiescent state): vgic_flush_pending_lpis frees it, and vCPU 0's fold loads
 * last_lr_irq->ap_list.next from freed memory (KASAN). With the halt, vCPU 0 is out of the guest and
 * has re-enabled IRQs (after its fold) before the flush, or is still in its IRQs-off stretch (an RCU
 * read side) and holds the grace period off. The KCSAN report of the unlocked walk remains either way:
 * the halt does not wait for a vCPU that already set OUTSIDE_GUEST_MODE.
 */
export const switchHaltOnLpiDisable = scenario({
  name: 'switch-halt-on-lpi-disable',
  description:
    "HALT_ON_LPI_DISABLE: the seed race's use-after-free with a discarded LPI alone in vCPU 0's LRs; the halt keeps the flush from freeing it while vCPU 0 runs the guest",
  vm: { vcpus: 2, nrLr: 4, its: true },
  interrupts: [LPI],
  lpisEnabled: [0],
  prologue: [
    // PMR stays 0: the LPI sits in an LR, never acknowledged.
    { vcpu: 0, guest: [{ op: 'igrpen', group: 1, enable: true }] },
    {
      host: {
        call: 'its',
        cmds: [
          { cmd: 'INT', device: 0, event: 0 },
          { cmd: 'DISCARD', device: 0, event: 0 },
        ],
      },
    },
  ],
  actors: [{ vcpu: 0, guest: [{ op: 'pmr', value: 0 }] }, CLEAR_LPIS_OF_0],
});

/** Two vCPUs with GUEST_SETUP done and SPI 32 routed to vCPU 0. */
const SPI_32 = { intid: 32, priority: 0x20, enabled: true, target: 0 };
const TWO_READY = [
  { vcpu: 0, guest: GUEST_SETUP },
  { vcpu: 1, guest: GUEST_SETUP },
];

/**
 * OUTSIDE_GUEST_MODE_AFTER_SYNC: vCPU 0 has acknowledged SPI 32 (active in its LR) when vCPU 1's guest
 * deactivates it with ICACTIVER, which halts the guest. The halt waits only for vCPUs not yet
 * OUTSIDE_GUEST_MODE; without the fix vCPU 0 publishes that mode right after its exit, before folding
 * its LRs, so the halter may write and resume before the fold, which then makes SPI 32 active again
 * (P-STATE-WRITE).
 */
export const switchOutsideGuestModeAfterSync = scenario({
  name: 'switch-outside-guest-mode-after-sync',
  description:
    "OUTSIDE_GUEST_MODE_AFTER_SYNC: a guest's ICACTIVER write halts the VM but does not wait for a vCPU that left guest mode and has not folded the LR it undoes",
  vm: { vcpus: 2, nrLr: 4 },
  interrupts: [SPI_32],
  prologue: [...TWO_READY, { host: { call: 'edge', intid: 32 } }],
  actors: [
    {
      vcpu: 0,
      guest: [
        { op: 'ack', expect: 32 },
        { op: 'pmr', value: 0xf8 },
      ],
    },
    { vcpu: 1, guest: [{ op: 'mmio', write: { reg: 'ICACTIVER', intid: 32 } }] },
  ],
});

/**
 * PAUSE_IS_COUNTER: two halters at once. vCPU 0's guest deactivates SPI 32 with ICACTIVER (a halt
 * under config_lock); vCPU 1's guest clears vCPU 0's EnableLPIs, which halts too with
 * HALT_ON_LPI_DISABLE (on for both designs: without it there is only one halter). With pause a flag,
 * the first resume unpauses every vCPU although the other halt is still in force (P-HALT); as a
 * count, the vCPUs stay paused until the last resume.
 */
export const switchPauseIsCounter = scenario({
  name: 'switch-pause-is-counter',
  description:
    'PAUSE_IS_COUNTER: an ICACTIVER halt and an EnableLPIs-clear halt (HALT_ON_LPI_DISABLE on) overlap; with pause a flag the first resume ends both',
  vm: { vcpus: 2, nrLr: 4, its: true },
  interrupts: [SPI_32],
  lpisEnabled: [0],
  prologue: TWO_READY,
  actors: [
    {
      vcpu: 0,
      guest: [
        { op: 'mmio', write: { reg: 'ICACTIVER', intid: 32 } },
        { op: 'pmr', value: 0xf8 },
      ],
    },
    {
      vcpu: 1,
      guest: [
        { op: 'mmio', write: { reg: 'GICR_CTLR', vcpu: 0, enableLpis: false } },
        { op: 'pmr', value: 0xf8 },
      ],
    },
  ],
});

/** The fix-switch scenarios, in the order of FixSwitches. */
export const SWITCH_SCENARIOS = [
  switchPruneRefAcrossMigration,
  switchPruneCheckStillOurs,
  switchFlushLpisClearsPending,
  switchCacheInvalidatePutsErasedOnly,
  switchLpiReleaseUnderXaLock,
  switchMovallFilterSource,
  switchHaltOnLpiDisable,
  switchOutsideGuestModeAfterSync,
  switchPauseIsCounter,
];
