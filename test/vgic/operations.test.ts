import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HCR } from '../../src/gic/cpuif.ts';
import type { GuestStep } from '../../src/gic/guest.ts';
import { LR_ACTIVE, LR_INVALID, LR_PENDING, LR_PENDING_ACTIVE } from '../../src/gic/lr.ts';
import { peek } from '../../src/kernel/access.ts';
import { head, ListHead } from '../../src/kernel/list.ts';
import { type KObj, LIST_POISON1, LIST_POISON2 } from '../../src/kernel/mem.ts';
import { GUEST_SETUP } from '../../src/scenario/catalogue/common.ts';
import { type ScenarioSpec, scenario } from '../../src/scenario/schema.ts';
import { vgic_v3_deactivate } from '../../src/vgic/deactivate.ts';
import { dumpState } from '../../src/vgic/dump.ts';
import { kvm_vgic_flush_hwstate, vgic_v3_compute_lr } from '../../src/vgic/flush.ts';
import { vgic_fold_state, vgic_v3_fold_lr } from '../../src/vgic/fold.ts';
import { vgic_its_inject_msi } from '../../src/vgic/its.ts';
import { kvm_arm_resume_guest, kvm_make_all_cpus_request, kvm_vcpu_kick } from '../../src/vgic/kick.ts';
import { EVENTFD_CTX, F, IRQ, MODE, REQ, VCPU } from '../../src/vgic/layout.ts';
import { vgic_flush_pending_lpis } from '../../src/vgic/lpi.ts';
import { type DistWrite, vgic_mmio_write } from '../../src/vgic/mmio.ts';
import { newEventfd } from '../../src/vgic/notify.ts';
import { kvm_vgic_vcpu_pending_irq } from '../../src/vgic/pending.ts';
import { kvm_vgic_process_async_update, vgic_prune_ap_list } from '../../src/vgic/prune.ts';
import { kvm_vgic_inject_irq } from '../../src/vgic/queue.ts';
import {
  vgic_get_lpi,
  vgic_put_irq,
  vgic_put_irq_norelease,
  vgic_release_deleted_lpis,
} from '../../src/vgic/refs.ts';
import { summarize_ap_list, vgic_sort_ap_list } from '../../src/vgic/sort.ts';
import type { Vcpu } from '../../src/vgic/vm.ts';
import {
  AP_NEXT,
  AP_PREV,
  activeSpis,
  apList,
  clearRequests,
  type Env,
  type EnvOptions,
  flags,
  has,
  its,
  lpi,
  lr,
  onVcpu,
  oracleLocked,
  place,
  poke,
  priv,
  queueIrq,
  refcount,
  requests,
  setActiveSpis,
  setBits,
  setDistEnabled,
  setupIts,
  spi,
  underIrqLock,
  vcpuField,
  withVm,
} from './ops-util.ts';
import { check, runDefault } from './util.ts';

/**
 * assert.ok with a message always given: without one, Node rebuilds the message by re-parsing the
 * test's source, which can spin for minutes on this file's transpiled layout.
 */
function ok(value: unknown, message = 'expected a truthy value'): void {
  assert.ok(value, message);
}

/** Runs `body` in a fresh VM (V3 and 2 vCPUs unless told) and asserts that no report fired. */
function clean<R>(opts: EnvOptions, body: (env: Env) => R): R {
  const r = withVm(opts, body);
  assert.deepEqual(r.titles, [], 'no sanitizer or WARN report');
  return r.value;
}

function oracleOf(env: Env, irq: ReturnType<typeof spi>): Vcpu | null {
  return env.call(env.host, oracleLocked(env.host, env.vm, irq));
}

function inject(env: Env, v: Vcpu | null, intid: number, level: boolean, owner: unknown = null): number {
  return env.call(env.host, kvm_vgic_inject_irq(env.host, env.vm, v, intid, level, owner));
}

function flush(env: Env, i: number): void {
  const t = env.task(i);
  env.call(
    t,
    onVcpu(t, env.vcpu(i), () => kvm_vgic_flush_hwstate(t, env.vm, env.vcpu(i))),
  );
}

function prune(env: Env, i: number): void {
  const t = env.task(i);
  env.call(
    t,
    onVcpu(t, env.vcpu(i), () => vgic_prune_ap_list(t, env.vm, env.vcpu(i))),
  );
}

function mmio(env: Env, i: number, w: DistWrite, guest = false): void {
  const t = guest ? env.task(i) : env.host;
  env.call(t, vgic_mmio_write(t, env.vm, env.vcpu(i), w, guest));
}

const EDGE_PENDING = F.ENABLED | F.PENDING_LATCH;

// -------------------------------------------------------------------------------------------------

describe('vgic_target_oracle', () => {
  it('active and queued: irq.vcpu, even when routed elsewhere and with the distributor disabled', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, F.ACTIVE);
      poke(irq, IRQ.vcpu, env.vcpu(1));
      poke(irq, IRQ.target, env.vcpu(0));
      setDistEnabled(env.vm, false);
      assert.equal(oracleOf(env, irq), env.vcpu(1));
    });
  });

  it('active and on no list: target_vcpu', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, F.ACTIVE);
      poke(irq, IRQ.target, env.vcpu(1));
      assert.equal(oracleOf(env, irq), env.vcpu(1));
    });
  });

  it('enabled and pending (edge latch, level line, level latch): target_vcpu', () => {
    clean({}, (env) => {
      const edge = spi(env.vm, 32);
      setBits(edge, EDGE_PENDING);
      poke(edge, IRQ.target, env.vcpu(1));
      assert.equal(oracleOf(env, edge), env.vcpu(1));
      const line = spi(env.vm, 33);
      setBits(line, F.CONFIG_LEVEL | F.ENABLED | F.LINE_LEVEL);
      assert.equal(oracleOf(env, line), env.vcpu(0));
      const soft = spi(env.vm, 34);
      setBits(soft, F.CONFIG_LEVEL | F.ENABLED | F.PENDING_LATCH);
      assert.equal(oracleOf(env, soft), env.vcpu(0));
    });
  });

  it('enabled and pending with the distributor disabled: NULL', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, EDGE_PENDING);
      setDistEnabled(env.vm, false);
      assert.equal(oracleOf(env, irq), null);
    });
  });

  it('enabled and pending but routed to nobody: NULL', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, EDGE_PENDING);
      poke(irq, IRQ.target, null);
      assert.equal(oracleOf(env, irq), null);
    });
  });

  it('otherwise NULL: pending but disabled, enabled but idle, edge with only line_level', () => {
    clean({}, (env) => {
      const disabled = spi(env.vm, 32);
      setBits(disabled, F.PENDING_LATCH);
      assert.equal(oracleOf(env, disabled), null);
      const idle = spi(env.vm, 33);
      setBits(idle, F.ENABLED);
      assert.equal(oracleOf(env, idle), null);
      const edgeLine = spi(env.vm, 34);
      setBits(edgeLine, F.ENABLED | F.LINE_LEVEL);
      assert.equal(oracleOf(env, edgeLine), null, 'is_pending of an edge IRQ is pending_latch only');
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('kvm_vgic_inject_irq', () => {
  it('level: valid only on a change of the line; raising queues, repeating is ignored, lowering dequeues nothing', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, F.CONFIG_LEVEL | F.ENABLED);
      assert.equal(inject(env, null, 32, true), 0);
      ok(has(irq, F.LINE_LEVEL));
      assert.deepEqual(apList(env.vcpu(0)), [32]);
      clearRequests(env.vm);
      assert.equal(inject(env, null, 32, true), 0);
      assert.equal(
        requests(env.vcpu(0)),
        0,
        'no change of the line: the injection is dropped before queueing',
      );
      assert.deepEqual(apList(env.vcpu(0)), [32]);
      assert.equal(inject(env, null, 32, false), 0);
      ok(!has(irq, F.LINE_LEVEL));
      assert.deepEqual(apList(env.vcpu(0)), [32], 'stays queued until prune');
      assert.equal(requests(env.vcpu(0)), 0, 'no longer deliverable: no request');
    });
  });

  it('edge: only level=1 is valid and sets pending_latch', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 33);
      setBits(irq, F.ENABLED);
      assert.equal(inject(env, null, 33, false), 0);
      ok(!has(irq, F.PENDING_LATCH));
      assert.deepEqual(apList(env.vcpu(0)), []);
      assert.equal(requests(env.vcpu(0)) | requests(env.vcpu(1)), 0);
      assert.equal(inject(env, null, 33, true), 0);
      ok(has(irq, F.PENDING_LATCH));
      assert.deepEqual(apList(env.vcpu(0)), [33]);
    });
  });

  it('an injection whose owner differs from irq.owner is ignored', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const timer = priv(v0, 27);
      const owner = { name: 'arch timer' };
      poke(timer, IRQ.owner, owner);
      setBits(timer, F.ENABLED);
      assert.equal(inject(env, v0, 27, true, null), 0);
      ok(!has(timer, F.LINE_LEVEL), 'userspace (owner NULL) cannot drive an owned line');
      assert.deepEqual(apList(v0), []);
      assert.equal(inject(env, v0, 27, true, owner), 0);
      ok(has(timer, F.LINE_LEVEL));
      assert.deepEqual(apList(v0), [27]);
    });
  });

  it('a private INTID without a vCPU, or an unmapped LPI: -EINVAL', () => {
    clean({}, (env) => {
      assert.equal(inject(env, null, 5, true), -22);
      assert.equal(inject(env, null, 20, true), -22);
      assert.equal(inject(env, null, 8192, true), -22);
      assert.equal(inject(env, env.vcpu(0), 8192, true), -22);
    });
  });

  it('the IRQ ends on its target AP list with vcpu set, IRQ_PENDING requested and the blocked target woken', () => {
    clean({}, (env) => {
      const v1 = env.vcpu(1);
      const ppi = priv(v1, 20);
      setBits(ppi, F.ENABLED);
      poke(v1.obj, VCPU.blocked, 1);
      assert.equal(inject(env, v1, 20, true), 0);
      assert.deepEqual(apList(v1), [20]);
      assert.equal(vcpuField(ppi), v1);
      ok(requests(v1) & REQ.IRQ_PENDING);
      assert.equal(peek(v1.obj, VCPU.blocked), 0, 'kick: a blocked vCPU is woken');
      assert.deepEqual(apList(env.vcpu(0)), []);
      assert.equal(requests(env.vcpu(0)), 0);
    });
  });

  it('an SPI routed to a vCPU in guest mode on another CPU: request and IPI (EXITING_GUEST_MODE)', () => {
    clean({}, (env) => {
      const v1 = env.vcpu(1);
      const irq = spi(env.vm, 40);
      setBits(irq, F.ENABLED);
      poke(irq, IRQ.target, v1);
      setActiveSpis(env.vm, 1); // not the first SPI in flight: the plain REQ + KICK path
      poke(v1.obj, VCPU.mode, MODE.IN_GUEST);
      assert.equal(inject(env, null, 40, true), 0);
      assert.deepEqual(apList(v1), [40]);
      assert.equal(vcpuField(irq), v1);
      ok(requests(v1) & REQ.IRQ_PENDING);
      assert.equal(peek(v1.obj, VCPU.mode), MODE.EXITING);
      assert.equal(peek(v1.obj, VCPU.ipi), 1);
      assert.equal(requests(env.vcpu(0)), 0);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_queue_irq_unlock', () => {
  it('already on an AP list: only REQ(IRQ_PENDING) and KICK, no second link', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const sgi = priv(v0, 3);
      setBits(sgi, F.PENDING_LATCH);
      assert.equal(env.call(env.host, queueIrq(env.host, env.vm, sgi)), true);
      assert.deepEqual(apList(v0), [3]);
      clearRequests(env.vm);
      poke(v0.obj, VCPU.mode, MODE.IN_GUEST);
      assert.equal(env.call(env.host, queueIrq(env.host, env.vm, sgi)), false);
      assert.deepEqual(apList(v0), [3]);
      assert.equal(vcpuField(sgi), v0);
      assert.equal(requests(v0), REQ.IRQ_PENDING);
      assert.equal(peek(v0.obj, VCPU.mode), MODE.EXITING, 'kicked out of guest mode');
      assert.equal(peek(v0.obj, VCPU.ipi), 1);
    });
  });

  it('oracle NULL: nothing is linked, requested or counted', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, F.PENDING_LATCH); // not enabled
      assert.equal(env.call(env.host, queueIrq(env.host, env.vm, irq)), false);
      assert.deepEqual(apList(env.vcpu(0)), []);
      assert.equal(vcpuField(irq), null);
      assert.equal(requests(env.vcpu(0)) | requests(env.vcpu(1)), 0);
      assert.equal(activeSpis(env.vm), 0);
    });
  });

  it('new entries go to the tail of the target list', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      for (const intid of [2, 1]) {
        setBits(priv(v0, intid), F.PENDING_LATCH);
        env.call(env.host, queueIrq(env.host, env.vm, priv(v0, intid)));
      }
      setBits(spi(env.vm, 34), EDGE_PENDING);
      env.call(env.host, queueIrq(env.host, env.vm, spi(env.vm, 34)));
      assert.deepEqual(apList(v0), [2, 1, 34]);
    });
  });

  it('SPIs: active_spis counts every queueing once; only the first SPI in flight makes every vCPU get IRQ_PENDING', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      const a = spi(env.vm, 32);
      setBits(a, EDGE_PENDING);
      env.call(env.host, queueIrq(env.host, env.vm, a));
      assert.equal(activeSpis(env.vm), 1);
      ok(requests(v0) & REQ.IRQ_PENDING);
      ok(requests(v1) & REQ.IRQ_PENDING, 'broadcast to a vCPU the SPI does not target');
      clearRequests(env.vm);
      env.call(env.host, queueIrq(env.host, env.vm, a)); // already queued
      assert.equal(activeSpis(env.vm), 1, 'the already-queued path does not count');
      const b = spi(env.vm, 33);
      setBits(b, EDGE_PENDING);
      poke(b, IRQ.target, v1);
      clearRequests(env.vm);
      env.call(env.host, queueIrq(env.host, env.vm, b));
      assert.equal(activeSpis(env.vm), 2);
      assert.equal(requests(v0), 0, 'not the first SPI: no broadcast');
      assert.equal(requests(v1), REQ.IRQ_PENDING);
    });
  });

  it('the broadcast of the first SPI IPIs every vCPU that is in guest mode', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      poke(v1.obj, VCPU.mode, MODE.IN_GUEST);
      const a = spi(env.vm, 32);
      setBits(a, EDGE_PENDING);
      env.call(env.host, queueIrq(env.host, env.vm, a));
      assert.equal(peek(v1.obj, VCPU.mode), MODE.EXITING);
      assert.equal(peek(v1.obj, VCPU.ipi), 1);
      assert.equal(peek(v0.obj, VCPU.ipi), 0, 'vCPU 0 was outside guest mode');
    });
  });

  it('active_spis is not touched by SGIs/PPIs, on a host without TDIR, or before the rework (V0)', () => {
    clean({}, (env) => {
      setBits(priv(env.vcpu(0), 4), F.PENDING_LATCH);
      env.call(env.host, queueIrq(env.host, env.vm, priv(env.vcpu(0), 4)));
      setBits(priv(env.vcpu(0), 21), EDGE_PENDING);
      env.call(env.host, queueIrq(env.host, env.vm, priv(env.vcpu(0), 21)));
      assert.equal(activeSpis(env.vm), 0);
      assert.equal(requests(env.vcpu(1)), 0);
    });
    for (const opts of [{ vm: { hostTdir: false } }, { design: 'V0' }] as EnvOptions[]) {
      clean(opts, (env) => {
        setBits(spi(env.vm, 32), EDGE_PENDING);
        env.call(env.host, queueIrq(env.host, env.vm, spi(env.vm, 32)));
        assert.deepEqual(apList(env.vcpu(0)), [32]);
        assert.equal(activeSpis(env.vm), 0);
        assert.equal(requests(env.vcpu(1)), 0, 'no broadcast');
      });
    }
  });

  it('LPIs: queueing takes the AP list reference (refcount + 1), once', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      its(env, [{ cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 }]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(refcount(l), 1, 'the ITE reference');
      setBits(l, F.PENDING_LATCH);
      assert.equal(env.call(env.host, queueIrq(env.host, env.vm, l)), true);
      assert.equal(refcount(l), 2);
      assert.deepEqual(apList(env.vcpu(0)), [8192]);
      assert.equal(env.call(env.host, queueIrq(env.host, env.vm, l)), false);
      assert.equal(refcount(l), 2, 'no reference for the already-queued path');
      assert.equal(activeSpis(env.vm), 0);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('summarize_ap_list', () => {
  it('counts only deliverable entries: pending-only, active (incl. active+pending), SGIs', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      place(env, priv(v0, 1), v0);
      place(env, priv(v0, 2), v0, { flags: F.ENABLED | F.ACTIVE });
      place(env, spi(env.vm, 32), v0);
      place(env, spi(env.vm, 33), v0, { flags: F.ENABLED | F.ACTIVE | F.PENDING_LATCH });
      place(env, spi(env.vm, 34), v0, { target: v1 }); // pending for vCPU 1
      place(env, priv(v0, 20), v0, { flags: F.CONFIG_LEVEL | F.ENABLED }); // idle
      place(env, priv(v0, 5), v0, { flags: F.PENDING_LATCH }); // SGI disabled: not deliverable
      const t = env.task(0);
      const s = env.call(
        t,
        onVcpu(t, v0, () => summarize_ap_list(t, env.vm, v0), true),
      );
      assert.deepEqual(s, { nrPend: 2, nrAct: 2, nrSgi: 2 });
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_sort_ap_list / vgic_irq_cmp', () => {
  function sorted(env: Env, i: number): number[] {
    const t = env.task(i);
    const v = env.vcpu(i);
    env.call(
      t,
      onVcpu(t, v, () => vgic_sort_ap_list(t, env.vm, v), true),
    );
    return apList(v);
  }

  it('deliverable before not, group enabled before disabled, pending-only before active, then priority, then hw', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      v0.cpuif.vmcr.eng0 = false;
      v0.cpuif.vmcr.eng1 = true;
      const s = (n: number) => spi(env.vm, n);
      place(env, s(32), v0, { priority: 0x00, target: v1 }); // pending for vCPU 1
      place(env, s(33), v0, { priority: 0x00, group: 0 }); // group 0 is disabled
      place(env, s(34), v0, { priority: 0x10, flags: F.ENABLED | F.ACTIVE });
      place(env, s(35), v0, { priority: 0x20 });
      place(env, s(36), v0, { priority: 0x20, flags: EDGE_PENDING | F.HW, hwintid: 96 });
      place(env, s(37), v0, { priority: 0x10 });
      place(env, s(38), v0, { priority: 0x08, flags: EDGE_PENDING | F.ACTIVE });
      place(env, s(39), v0, { priority: 0x00, flags: F.ENABLED }); // idle: not deliverable
      assert.deepEqual(apList(v0), [32, 33, 34, 35, 36, 37, 38, 39]);
      assert.deepEqual(sorted(env, 0), [37, 36, 35, 38, 34, 33, 32, 39]);
    });
  });

  it('equal keys keep their order (stable)', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng1 = true;
      for (const n of [40, 41, 42]) place(env, spi(env.vm, n), v0, { priority: 0x40 });
      place(env, spi(env.vm, 43), v0, { priority: 0x20 });
      place(env, spi(env.vm, 44), v0, { priority: 0x40 });
      assert.deepEqual(sorted(env, 0), [43, 40, 41, 42, 44]);
    });
  });

  it('V0: active IRQs sort first and keep their order; priority orders only enabled pending IRQs', () => {
    clean({ design: 'V0' }, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng1 = true;
      place(env, spi(env.vm, 32), v0, { priority: 0x10 });
      place(env, spi(env.vm, 33), v0, { priority: 0x20, flags: F.ENABLED | F.ACTIVE });
      place(env, spi(env.vm, 34), v0, { priority: 0x30, flags: F.ENABLED });
      place(env, spi(env.vm, 35), v0, { priority: 0x08, flags: F.ENABLED | F.ACTIVE });
      place(env, spi(env.vm, 36), v0, { priority: 0x00 });
      assert.deepEqual(sorted(env, 0), [33, 35, 36, 32, 34]);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_v3_compute_lr', () => {
  function compute(env: Env, irq: ReturnType<typeof spi>) {
    return env.call(
      env.host,
      underIrqLock(env.host, irq, () => vgic_v3_compute_lr(env.host, irq)),
    );
  }

  it('edge: pending -> P, active -> A, active+pending -> P+A; no EOI bit; group and priority copied', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      poke(irq, IRQ.priority, 0x48);
      setBits(irq, EDGE_PENDING);
      assert.deepEqual(compute(env, irq), lr({ vintid: 32, state: LR_PENDING, group: 1, priority: 0x48 }));
      setBits(irq, F.ACTIVE, F.PENDING_LATCH);
      assert.equal(compute(env, irq).state, LR_ACTIVE);
      setBits(irq, F.PENDING_LATCH);
      const both = compute(env, irq);
      assert.equal(both.state, LR_PENDING_ACTIVE);
      assert.equal(both.eoi, false);
      poke(irq, IRQ.group, 0);
      assert.equal(compute(env, irq).group, 0);
    });
  });

  it('level (not HW): EOI bit set; never pending+active', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 33);
      setBits(irq, F.CONFIG_LEVEL | F.ENABLED | F.LINE_LEVEL);
      const p = compute(env, irq);
      assert.equal(p.state, LR_PENDING);
      assert.equal(p.eoi, true);
      setBits(irq, F.ACTIVE);
      const a = compute(env, irq);
      assert.equal(a.state, LR_ACTIVE, 'active + line high is presented as active only');
      assert.equal(a.eoi, true);
      setBits(irq, F.PENDING_LATCH);
      assert.equal(compute(env, irq).state, LR_ACTIVE);
      setBits(irq, 0, F.ACTIVE | F.LINE_LEVEL | F.PENDING_LATCH);
      const idle = compute(env, irq);
      assert.equal(idle.state, LR_INVALID);
      assert.equal(idle.eoi, true);
    });
  });

  it('HW: HW bit and pINTID, no EOI bit, never pending+active', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 34);
      poke(irq, IRQ.hwintid, 77);
      setBits(irq, F.HW | F.CONFIG_LEVEL | F.ENABLED | F.LINE_LEVEL | F.ACTIVE);
      const a = compute(env, irq);
      assert.deepEqual([a.state, a.hw, a.pintid, a.eoi], [LR_ACTIVE, true, 77, false]);
      setBits(irq, 0, F.CONFIG_LEVEL);
      setBits(irq, F.PENDING_LATCH);
      assert.equal(compute(env, irq).state, LR_ACTIVE, 'an active HW edge IRQ is not presented pending');
      setBits(irq, 0, F.ACTIVE);
      assert.equal(compute(env, irq).state, LR_PENDING);
    });
  });

  it('an IRQ already on an LR (on_lr) is a WARN', () => {
    const r = withVm({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, EDGE_PENDING | F.ON_LR);
      compute(env, irq);
    });
    assert.deepEqual(r.titles, ['WARNING in vgic_v3_compute_lr: IRQ already on an LR']);
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_flush_lr_state / vgic_v3_populate_lr', () => {
  it('populate: edge pending moves into the LR (pending_latch cleared), level keeps its state, HW level drops line_level; on_lr set', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng1 = true;
      const edge = spi(env.vm, 32);
      place(env, edge, v0, { priority: 0x10 });
      const level = priv(v0, 20);
      place(env, level, v0, { priority: 0x20, flags: F.CONFIG_LEVEL | F.ENABLED | F.LINE_LEVEL });
      const hw = spi(env.vm, 33);
      place(env, hw, v0, {
        priority: 0x30,
        flags: F.HW | F.CONFIG_LEVEL | F.ENABLED | F.LINE_LEVEL,
        hwintid: 80,
      });
      const pa = spi(env.vm, 34);
      place(env, pa, v0, { priority: 0x40, flags: EDGE_PENDING | F.ACTIVE });
      flush(env, 0);
      assert.equal(v0.usedLrs, 4);
      assert.deepEqual(
        v0.lrShadow.map((x) => [x.vintid, x.state, x.eoi, x.hw]),
        [
          [32, LR_PENDING, false, false],
          [20, LR_PENDING, true, false],
          [33, LR_PENDING, false, true],
          [34, LR_PENDING_ACTIVE, false, false],
        ],
      );
      ok(!has(edge, F.PENDING_LATCH), 'the edge pending state moved into the LR');
      ok(!has(pa, F.PENDING_LATCH));
      ok(has(pa, F.ACTIVE));
      ok(has(level, F.LINE_LEVEL), 'a non-HW level IRQ keeps its line level');
      ok(!has(hw, F.LINE_LEVEL), 'a mapped level IRQ only observes rising edges');
      for (const irq of [edge, level, hw, pa]) ok(has(irq, F.ON_LR));
      assert.equal(env.vm.lastLrIrq[0], pa);
    });
  });

  it('only nLR entries are populated; the rest keep their pending state; used_lrs and last_lr_irq follow', () => {
    clean({ vm: { nrLr: 2 } }, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng1 = true;
      place(env, spi(env.vm, 32), v0, { priority: 0x30 });
      place(env, spi(env.vm, 33), v0, { priority: 0x10 });
      place(env, spi(env.vm, 34), v0, { priority: 0x20 });
      flush(env, 0);
      assert.equal(v0.usedLrs, 2);
      assert.deepEqual(
        v0.lrShadow.map((x) => x.vintid),
        [33, 34],
        'overflowing: sorted by priority first',
      );
      assert.equal(env.vm.lastLrIrq[0], spi(env.vm, 34));
      ok(has(spi(env.vm, 32), F.PENDING_LATCH), 'did not fit: still pending in the vgic_irq');
      ok(!has(spi(env.vm, 32), F.ON_LR));
      assert.deepEqual(apList(v0), [33, 34, 32]);
    });
  });

  it('V1: the entries that did not fit are cut onto the overflow list; both lists are read once each', () => {
    clean({ design: 'V1', vm: { nrLr: 2 } }, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng1 = true;
      for (const intid of [32, 33, 34, 35]) place(env, spi(env.vm, intid), v0, { priority: intid });
      flush(env, 0);
      assert.deepEqual(apList(v0), [32, 33]);
      const ids = (os: KObj[]) => os.map((o) => peek(o, IRQ.intid));
      assert.deepEqual(
        ids(v0.queuedIrqs()),
        [32, 33, 34, 35],
        'the overflow tail still links to the AP list head',
      );
      const dump = dumpState(env.vm).vcpus[0];
      assert.deepEqual(dump.overflowList?.entries.length, 2);
      assert.match(dump.overflowList?.broken ?? '', /reaches vcpu 0\.ap_list_head/);
    });
  });

  it('no sort when everything fits; undeliverable entries are skipped; last_lr_irq is the last populated IRQ; unused LRs are cleared', () => {
    clean({ vm: { nrLr: 4 } }, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      v0.cpuif.vmcr.eng1 = true;
      place(env, spi(env.vm, 32), v0, { priority: 0x30 });
      place(env, spi(env.vm, 33), v0, { priority: 0x10 });
      place(env, spi(env.vm, 34), v0, { priority: 0x00, target: v1 });
      place(env, spi(env.vm, 35), v0, { priority: 0x00, flags: F.ENABLED }); // idle
      v0.lrShadow[3] = lr({ vintid: 99, state: LR_PENDING });
      flush(env, 0);
      assert.equal(v0.usedLrs, 2);
      assert.deepEqual(
        v0.lrShadow.map((x) => [x.vintid, x.state]),
        [
          [32, LR_PENDING],
          [33, LR_PENDING],
          [0, LR_INVALID],
          [0, LR_INVALID],
        ],
      );
      assert.deepEqual(apList(v0), [32, 33, 34, 35], 'not overflowing: the list is not sorted');
      assert.equal(env.vm.lastLrIrq[0], spi(env.vm, 33));
      ok(has(spi(env.vm, 34), F.PENDING_LATCH) && !has(spi(env.vm, 34), F.ON_LR));
    });
  });

  it('an empty list still flushes: used_lrs 0, last_lr_irq NULL', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      env.vm.lastLrIrq[0] = spi(env.vm, 40);
      v0.usedLrs = 3;
      flush(env, 0);
      assert.equal(v0.usedLrs, 0);
      assert.equal(env.vm.lastLrIrq[0], null);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_v3_configure_hcr, observed in vgic_hcr after a flush', () => {
  const GRP = HCR.VGrp0EIE | HCR.VGrp1DIE; // group 0 disabled, group 1 enabled in the VMCR

  function hcrAfter(opts: EnvOptions, fill: (env: Env, v0: Vcpu) => void, spis = 0): number {
    return clean(opts, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng0 = false;
      v0.cpuif.vmcr.eng1 = true;
      fill(env, v0);
      setActiveSpis(env.vm, spis);
      v0.eoicountShadow = 7;
      flush(env, 0);
      assert.equal(v0.eoicountShadow, 0, 'rebuilt from scratch: the saved EOIcount is zeroed');
      return v0.hcrShadow;
    });
  }

  const ppi = (env: Env, v: Vcpu, intid: number, f = EDGE_PENDING) =>
    place(env, priv(v, intid), v, { flags: f });

  it('nothing outside the LRs: En, group traps, vSGIEOICount (no SGI), no TDIR', () => {
    assert.equal(
      hcrAfter({}, () => {}),
      HCR.En | GRP | HCR.vSGIEOICount,
    );
    assert.equal(
      hcrAfter({ vm: { nrLr: 2 } }, (env, v) => {
        ppi(env, v, 20);
        ppi(env, v, 21, F.ENABLED | F.ACTIVE);
      }),
      HCR.En | GRP | HCR.vSGIEOICount,
    );
  });

  it('pending IRQs outside the LRs: UIE and NPIE, not LRENPIE or TDIR', () => {
    assert.equal(
      hcrAfter({ vm: { nrLr: 2 } }, (env, v) => {
        for (const n of [20, 21, 22]) ppi(env, v, n);
      }),
      HCR.En | HCR.UIE | HCR.NPIE | GRP | HCR.vSGIEOICount,
    );
  });

  it('active IRQs outside the LRs: UIE, LRENPIE and TDIR, not NPIE', () => {
    assert.equal(
      hcrAfter({ vm: { nrLr: 2 } }, (env, v) => {
        ppi(env, v, 20);
        ppi(env, v, 21, F.ENABLED | F.ACTIVE);
        ppi(env, v, 22, F.ENABLED | F.ACTIVE);
      }),
      HCR.En | HCR.UIE | HCR.LRENPIE | HCR.TDIR | GRP | HCR.vSGIEOICount,
    );
  });

  it('undeliverable entries do not count towards the overflow', () => {
    assert.equal(
      hcrAfter({ vm: { nrLr: 2 } }, (env, v) => {
        ppi(env, v, 20);
        ppi(env, v, 21);
        ppi(env, v, 22, F.ENABLED); // idle
        place(env, spi(env.vm, 32), v, { target: env.vcpu(1) });
      }),
      HCR.En | GRP | HCR.vSGIEOICount,
    );
  });

  it('an SGI on the list clears vSGIEOICount', () => {
    assert.equal(
      hcrAfter({}, (env, v) => ppi(env, v, 1, F.PENDING_LATCH | F.ENABLED)),
      HCR.En | GRP,
    );
  });

  it('TDIR while any SPI is in flight (active_spis != 0), and always on a host without TDIR', () => {
    assert.equal(
      hcrAfter({}, () => {}, 1),
      HCR.En | GRP | HCR.vSGIEOICount | HCR.TDIR,
    );
    assert.equal(
      hcrAfter({ vm: { hostTdir: false } }, () => {}),
      HCR.En | GRP | HCR.vSGIEOICount | HCR.TDIR,
    );
  });

  it('group traps follow the VMCR: DIE for an enabled group, EIE for a disabled one', () => {
    const h = clean({}, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng0 = true;
      v0.cpuif.vmcr.eng1 = false;
      flush(env, 0);
      return v0.hcrShadow;
    });
    assert.equal(h, HCR.En | HCR.VGrp0DIE | HCR.VGrp1EIE | HCR.vSGIEOICount);
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_v3_fold_lr', () => {
  function fold(env: Env, i: number, val: ReturnType<typeof lr>): void {
    const t = env.task(i);
    env.call(
      t,
      onVcpu(t, env.vcpu(i), () => vgic_v3_fold_lr(t, env.vm, env.vcpu(i), val)),
    );
  }

  it('active cleared in the LR: deactivated; a level SPI with EOI notifies the resampler and decrements active_spis', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, F.CONFIG_LEVEL | F.ENABLED | F.ACTIVE | F.LINE_LEVEL | F.ON_LR);
      setActiveSpis(env.vm, 2);
      const fd = newEventfd(env.vm, 'resamplefd');
      env.vm.resamplers.push({ pin: 0, resamplefd: fd });
      fold(env, 0, lr({ vintid: 32, state: LR_INVALID, eoi: true }));
      ok(!has(irq, F.ACTIVE));
      ok(!has(irq, F.ON_LR));
      assert.equal(activeSpis(env.vm), 1);
      assert.equal(peek(fd, EVENTFD_CTX.field('count')), 1, 'kvm_notify_acked_irq signalled the resamplefd');
      ok(!has(irq, F.LINE_LEVEL), 'the resampler lowered the line');
    });
  });

  it('V0: every EOI maintenance of a level SPI notifies, even one that was not active in the vgic_irq', () => {
    clean({ design: 'V0' }, (env) => {
      const irq = spi(env.vm, 32);
      // Acked and EOId within one run: the vgic_irq never saw it active.
      setBits(irq, F.CONFIG_LEVEL | F.ENABLED | F.LINE_LEVEL);
      setActiveSpis(env.vm, 2);
      const fd = newEventfd(env.vm, 'resamplefd');
      env.vm.resamplers.push({ pin: 0, resamplefd: fd });
      fold(env, 0, lr({ vintid: 32, state: LR_INVALID, eoi: true }));
      assert.equal(peek(fd, EVENTFD_CTX.field('count')), 1, 'kvm_notify_acked_irq signalled the resamplefd');
      assert.equal(activeSpis(env.vm), 2, 'V0 has no active_spis accounting');
    });
  });

  it('an edge SPI deactivated: no notification, active_spis unchanged', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 33);
      setBits(irq, F.ENABLED | F.ACTIVE | F.ON_LR);
      setActiveSpis(env.vm, 2);
      fold(env, 0, lr({ vintid: 33, state: LR_INVALID }));
      ok(!has(irq, F.ACTIVE));
      assert.equal(activeSpis(env.vm), 2);
    });
  });

  it('active kept in the LR stays active; no decrement', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, F.CONFIG_LEVEL | F.ENABLED | F.ACTIVE | F.ON_LR);
      setActiveSpis(env.vm, 1);
      fold(env, 0, lr({ vintid: 32, state: LR_ACTIVE, eoi: true }));
      ok(has(irq, F.ACTIVE));
      assert.equal(activeSpis(env.vm), 1);
    });
  });

  it('edge: PENDING in the LR comes back as pending_latch; an invalid LR does not clear a re-pended latch', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 34);
      setBits(irq, F.ENABLED | F.ON_LR);
      fold(env, 0, lr({ vintid: 34, state: LR_PENDING }));
      ok(has(irq, F.PENDING_LATCH));
      ok(!has(irq, F.ON_LR));
      setBits(irq, F.ON_LR);
      fold(env, 0, lr({ vintid: 34, state: LR_INVALID }));
      ok(has(irq, F.PENDING_LATCH), 'edge: only the level rule clears the latch');
    });
  });

  it('level: an invalid LR clears pending_latch (line_level untouched); a pending LR leaves it', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const irq = priv(v0, 22);
      setBits(irq, F.CONFIG_LEVEL | F.ENABLED | F.PENDING_LATCH | F.LINE_LEVEL | F.ON_LR);
      fold(env, 0, lr({ vintid: 22, state: LR_PENDING, eoi: true }));
      ok(has(irq, F.PENDING_LATCH));
      setBits(irq, F.ON_LR);
      fold(env, 0, lr({ vintid: 22, state: LR_INVALID, eoi: true }));
      ok(!has(irq, F.PENDING_LATCH));
      ok(has(irq, F.LINE_LEVEL));
    });
  });

  it('LPI: the active state in the LR is dropped; the lookup reference is returned', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      its(env, [{ cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 }]);
      const l = lpi(env.vm, 8192)!;
      setBits(l, F.ON_LR);
      fold(env, 0, lr({ vintid: 8192, state: LR_ACTIVE }));
      ok(!has(l, F.ACTIVE));
      ok(!has(l, F.ON_LR));
      fold(env, 0, lr({ vintid: 8192, state: LR_PENDING_ACTIVE }));
      ok(!has(l, F.ACTIVE));
      ok(has(l, F.PENDING_LATCH));
      assert.equal(refcount(l), 1);
    });
  });

  it('V0: an LPI keeps the active state its LR reports', () => {
    clean({ design: 'V0', vm: { its: true } }, (env) => {
      setupIts(env);
      its(env, [{ cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 }]);
      const l = lpi(env.vm, 8192)!;
      fold(env, 0, lr({ vintid: 8192, state: LR_ACTIVE }));
      ok(has(l, F.ACTIVE));
    });
  });

  it('an LPI unmapped in the meantime: nothing happens', () => {
    clean({ vm: { its: true } }, (env) => {
      fold(env, 0, lr({ vintid: 8200, state: LR_INVALID }));
      assert.equal(lpi(env.vm, 8200), null);
    });
  });

  it('through vgic_fold_state after a flush: the edge LR still pending restores pending_latch, on_lr cleared, used_lrs 0', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eng1 = true;
      const irq = spi(env.vm, 32);
      place(env, irq, v0);
      flush(env, 0);
      ok(!has(irq, F.PENDING_LATCH) && has(irq, F.ON_LR));
      const t = env.task(0);
      env.call(
        t,
        onVcpu(t, v0, () => vgic_fold_state(t, env.vm, v0)),
      );
      ok(has(irq, F.PENDING_LATCH));
      ok(!has(irq, F.ON_LR));
      assert.equal(v0.usedLrs, 0);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_prune_ap_list', () => {
  it('idle entries are deleted (vcpu NULL); re-routed pending IRQs migrate with a request; deliverable and active ones stay', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      const idle = spi(env.vm, 32);
      place(env, idle, v0, { flags: F.ENABLED });
      const moved = spi(env.vm, 33);
      place(env, moved, v0, { target: v1 });
      place(env, spi(env.vm, 34), v0);
      const active = spi(env.vm, 35);
      place(env, active, v0, { flags: F.ENABLED | F.ACTIVE, target: v1 });
      clearRequests(env.vm);
      poke(v1.obj, VCPU.blocked, 1);
      prune(env, 0);
      assert.deepEqual(apList(v0), [34, 35]);
      assert.deepEqual(apList(v1), [33]);
      assert.equal(vcpuField(idle), null);
      assert.equal(peek(idle, AP_NEXT), LIST_POISON1, 'list_del poisons the entry');
      assert.equal(vcpuField(moved), v1);
      assert.equal(vcpuField(active), v0, 'an active IRQ never moves');
      assert.equal(requests(v1), REQ.IRQ_PENDING);
      assert.equal(peek(v1.obj, VCPU.blocked), 0, 'the new target is kicked');
      assert.equal(requests(v0), 0);
    });
  });

  it('a disabled (ICENABLER) but still pending entry is dropped unless active', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      place(env, spi(env.vm, 32), v0, { flags: F.PENDING_LATCH });
      place(env, spi(env.vm, 33), v0, { flags: F.PENDING_LATCH | F.ACTIVE });
      prune(env, 0);
      assert.deepEqual(apList(v0), [33]);
    });
  });

  it('an idle LPI: the AP list reference is dropped (PUT_NR)', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      its(env, [
        { cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 },
        { cmd: 'INT', device: 0, event: 0 },
      ]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(refcount(l), 3);
      setBits(l, 0, F.PENDING_LATCH);
      prune(env, 0);
      assert.deepEqual(apList(env.vcpu(0)), []);
      assert.equal(refcount(l), 2);
      ok(!has(l, F.PENDING_RELEASE));
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_flush_pending_lpis', () => {
  function setup(env: Env): void {
    setupIts(env);
    const v0 = env.vcpu(0);
    place(env, spi(env.vm, 32), v0);
    its(env, [
      { cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 },
      { cmd: 'MAPTI', device: 0, event: 1, intid: 8193, collection: 0 },
    ]);
    place(env, lpi(env.vm, 8192)!, v0);
    place(env, priv(v0, 1), v0);
    place(env, lpi(env.vm, 8193)!, v0);
    assert.deepEqual(apList(v0), [32, 8192, 1, 8193]);
  }

  it('V3: only LPIs are unlinked (list_del poisons both links), vcpu NULL, pending cleared, refcount - 1; callable from any thread', () => {
    clean({ vm: { its: true } }, (env) => {
      setup(env);
      const v0 = env.vcpu(0);
      const [a, b] = [lpi(env.vm, 8192)!, lpi(env.vm, 8193)!];
      assert.deepEqual([refcount(a), refcount(b)], [2, 2]);
      env.call(env.task(1), vgic_flush_pending_lpis(env.task(1), env.vm, v0));
      assert.deepEqual(apList(v0), [32, 1]);
      for (const l of [a, b]) {
        assert.equal(vcpuField(l), null);
        ok(!has(l, F.PENDING_LATCH), 'FLUSH_LPIS_CLEARS_PENDING');
        assert.equal(refcount(l), 1, 'only the ITE reference is left');
        assert.equal(peek(l, AP_NEXT), LIST_POISON1);
        assert.equal(peek(l, AP_PREV), LIST_POISON2);
      }
      assert.equal(vcpuField(spi(env.vm, 32)), v0);
    });
  });

  it('V4a: list_del_rcu poisons only prev; next stays a valid pointer into the list', () => {
    clean({ design: 'V4a', vm: { its: true } }, (env) => {
      setup(env);
      const v0 = env.vcpu(0);
      const a = lpi(env.vm, 8192)!;
      const b = lpi(env.vm, 8193)!;
      env.call(env.host, vgic_flush_pending_lpis(env.host, env.vm, v0));
      assert.deepEqual(apList(v0), [32, 1]);
      assert.equal(peek(a, AP_PREV), LIST_POISON2);
      const next = peek(a, AP_NEXT);
      ok(next instanceof ListHead);
      assert.equal(next, head(priv(v0, 1), 'ap_list'), 'next still points at the old successor');
      assert.equal(peek(b, AP_NEXT), v0.apHead, "the tail's next still points at the list head");
      assert.equal(peek(b, AP_PREV), LIST_POISON2);
      assert.deepEqual([refcount(a), refcount(b)], [1, 1]);
      assert.equal(vcpuField(a), null);
    });
  });

  it('the last reference: pending_release, erased from lpi_xa, freed after a grace period', () => {
    const r = withVm({ vm: { its: true } }, (env) => {
      setup(env);
      its(env, [{ cmd: 'DISCARD', device: 0, event: 0 }]);
      const a = lpi(env.vm, 8192)!;
      assert.equal(refcount(a), 1, 'only the AP list holds it');
      env.call(env.host, vgic_flush_pending_lpis(env.host, env.vm, env.vcpu(0)));
      assert.equal(refcount(a), 0);
      assert.equal(lpi(env.vm, 8192), null, 'release_deleted_lpis erased it');
      assert.equal(a.freed, false, 'kfree_rcu: not before a grace period');
      return a;
    });
    assert.deepEqual(r.titles, []);
    assert.equal(r.value.freed, true);
  });

  it('GICR_CTLR.EnableLPIs 1 -> 0 (any vCPU, guest MMIO) flushes the redistributor vCPU and ends with ctlr 0', () => {
    clean({ vm: { its: true } }, (env) => {
      setup(env);
      mmio(env, 1, { reg: 'GICR_CTLR', vcpu: 0, enableLpis: false }, true);
      assert.deepEqual(apList(env.vcpu(0)), [32, 1]);
      assert.equal(peek(env.vcpu(0).obj, VCPU.ctlr), 0);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('LPI references and release', () => {
  function mapped(env: Env, intids: number[]): void {
    setupIts(env);
    its(
      env,
      intids.map((intid, event) => ({ cmd: 'MAPTI' as const, device: 0, event, intid, collection: 0 })),
    );
  }

  it('PUT of the last reference erases the LPI from lpi_xa and frees it with kfree_rcu after a grace period', () => {
    const r = withVm({ vm: { its: true } }, (env) => {
      mapped(env, [8192]);
      const l = lpi(env.vm, 8192)!;
      env.call(env.host, vgic_put_irq(env.host, env.vm, l));
      assert.equal(refcount(l), 0);
      assert.equal(lpi(env.vm, 8192), null);
      assert.equal(l.freed, false, 'not freed before the grace period');
      assert.equal(l.aux[0]?.fn.name, 'kvfree_call_rcu');
      return l;
    });
    assert.deepEqual(r.titles, []);
    assert.equal(r.value.freed, true, 'freed by the RCU callback');
  });

  it('before v6.9 (-rcuFreedLpis): lookups under the raw lpi_list_lock, the last PUT frees at once', () => {
    const r = withVm({ design: 'V3-rcuFreedLpis', vm: { its: true } }, (env) => {
      mapped(env, [8192]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(env.vm.lpiXa.lock.kind, 'raw');
      assert.equal(env.vm.lpiXa.lock.cls.name, '&dist->lpi_list_lock');
      assert.equal(env.call(env.host, vgic_get_lpi(env.host, env.vm, 8192)), l);
      assert.equal(refcount(l), 2);
      env.call(env.host, vgic_put_irq(env.host, env.vm, l));
      env.call(env.host, vgic_put_irq(env.host, env.vm, l));
      assert.equal(lpi(env.vm, 8192), null);
      assert.equal(l.freed, true, 'kfree: no grace period');
      assert.equal(env.call(env.host, vgic_get_lpi(env.host, env.vm, 8192)), null);
    });
    assert.deepEqual(r.titles, []);
  });

  it('PUT of a reference that is not the last: refcount - 1, still mapped', () => {
    const r = withVm({ vm: { its: true } }, (env) => {
      mapped(env, [8192, 8192]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(refcount(l), 2, 'the second MAPTI reused the live object');
      env.call(env.host, vgic_put_irq(env.host, env.vm, l));
      assert.equal(refcount(l), 1);
      assert.equal(lpi(env.vm, 8192), l);
      return l;
    });
    assert.deepEqual(r.titles, []);
    assert.equal(r.value.freed, false);
  });

  it('PUT_NR of the last reference sets pending_release; vgic_release_deleted_lpis erases and frees only such LPIs', () => {
    const r = withVm({ vm: { its: true } }, (env) => {
      mapped(env, [8192, 8193]);
      const [a, b] = [lpi(env.vm, 8192)!, lpi(env.vm, 8193)!];
      assert.equal(env.call(env.host, vgic_put_irq_norelease(env.host, env.vm, a)), true);
      ok(has(a, F.PENDING_RELEASE));
      assert.equal(lpi(env.vm, 8192), a, 'PUT_NR does not erase');
      assert.equal(a.freed, false);
      env.call(env.host, vgic_release_deleted_lpis(env.host, env.vm));
      assert.equal(lpi(env.vm, 8192), null);
      assert.equal(lpi(env.vm, 8193), b, 'an LPI without pending_release stays');
      assert.equal(a.freed, false);
      return [a, b];
    });
    assert.deepEqual(r.titles, []);
    assert.equal(r.value[0].freed, true);
    assert.equal(r.value[1].freed, false);
  });

  it('PUT_NR of a reference that is not the last: false, no pending_release', () => {
    clean({ vm: { its: true } }, (env) => {
      mapped(env, [8192, 8192]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(env.call(env.host, vgic_put_irq_norelease(env.host, env.vm, l)), false);
      assert.equal(refcount(l), 1);
      ok(!has(l, F.PENDING_RELEASE));
    });
  });

  it('a lookup (RCU + TRYGET) fails once the refcount is 0, and takes a reference otherwise', () => {
    clean({ vm: { its: true } }, (env) => {
      mapped(env, [8192]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(env.call(env.host, vgic_get_lpi(env.host, env.vm, 8192)), l);
      assert.equal(refcount(l), 2);
      env.call(env.host, vgic_put_irq_norelease(env.host, env.vm, l));
      env.call(env.host, vgic_put_irq_norelease(env.host, env.vm, l));
      assert.equal(refcount(l), 0);
      assert.equal(env.call(env.host, vgic_get_lpi(env.host, env.vm, 8192)), null);
      assert.equal(refcount(l), 0);
    });
  });

  it('reference operations on SGIs, PPIs and SPIs are no-ops', () => {
    const r = withVm({}, (env) => {
      const s = spi(env.vm, 32);
      env.call(env.host, vgic_put_irq(env.host, env.vm, s));
      assert.equal(env.call(env.host, vgic_put_irq_norelease(env.host, env.vm, s)), false);
      assert.equal(refcount(s), 0);
      return s;
    });
    assert.deepEqual(r.titles, []);
    assert.equal(r.value.freed, false);
  });
});

// -------------------------------------------------------------------------------------------------

describe('ITS commands', () => {
  it('MAPTI allocates (refcount 1, edge, group 1, target = collection vCPU, property byte) or reuses the live LPI', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      env.vm.lpiProps.set(8192, { priority: 0x53, enabled: true });
      its(env, [{ cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 1 }]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(refcount(l), 1);
      assert.equal(peek(l, IRQ.target), env.vcpu(1));
      assert.equal(peek(l, IRQ.priority), 0x50, 'property byte & 0xfc');
      assert.equal(peek(l, IRQ.group), 1);
      assert.equal(flags(l), F.ENABLED, 'edge, enabled, not pending');
      assert.equal(vcpuField(l), null, 'not pending: not queued');
      its(env, [{ cmd: 'MAPTI', device: 0, event: 1, intid: 8192, collection: 1 }]);
      assert.equal(lpi(env.vm, 8192), l);
      assert.equal(refcount(l), 2);
    });
  });

  it('INT pends and queues the LPI on its target and caches the translation (+1 reference)', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      const v1 = env.vcpu(1);
      its(env, [{ cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 1 }]);
      const l = lpi(env.vm, 8192)!;
      clearRequests(env.vm);
      its(env, [{ cmd: 'INT', device: 0, event: 0 }]);
      ok(has(l, F.PENDING_LATCH));
      assert.deepEqual(apList(v1), [8192]);
      assert.equal(vcpuField(l), v1);
      assert.equal(requests(v1), REQ.IRQ_PENDING);
      assert.equal(requests(env.vcpu(0)), 0);
      assert.deepEqual(
        env.vm.its!.cache.peekEntries().map(([k, o]) => [k, o]),
        [[0, l]],
      );
      assert.equal(refcount(l), 3, 'ITE + translation cache + AP list');
      its(env, [{ cmd: 'INT', device: 0, event: 0 }]);
      assert.equal(refcount(l), 3, 'already cached and queued');
    });
  });

  it('INT does nothing when LPIs are disabled on the target redistributor', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      its(env, [{ cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 1 }]);
      poke(env.vcpu(1).obj, VCPU.ctlr, 0);
      its(env, [{ cmd: 'INT', device: 0, event: 0 }]);
      const l = lpi(env.vm, 8192)!;
      ok(!has(l, F.PENDING_LATCH));
      assert.equal(refcount(l), 1);
      assert.deepEqual(env.vm.its!.cache.peekEntries(), []);
    });
  });

  it('DISCARD drops the ITE and cache references; the LPI stays queued and pending; freed once pruned', () => {
    const r = withVm({ vm: { its: true } }, (env) => {
      setupIts(env);
      const v0 = env.vcpu(0);
      its(env, [
        { cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 },
        { cmd: 'INT', device: 0, event: 0 },
        { cmd: 'DISCARD', device: 0, event: 0 },
      ]);
      const l = lpi(env.vm, 8192)!;
      ok(l, 'still in lpi_xa');
      assert.equal(env.vm.its!.ite(0, 0), undefined);
      assert.deepEqual(env.vm.its!.cache.peekEntries(), []);
      assert.equal(refcount(l), 1, 'only the AP list reference');
      assert.deepEqual(apList(v0), [8192]);
      ok(has(l, F.PENDING_LATCH), 'KVM does not clear the pending state');
      // The guest acknowledges and completes it: no longer pending, so the next prune drops it.
      setBits(l, 0, F.PENDING_LATCH);
      prune(env, 0);
      assert.deepEqual(apList(v0), []);
      assert.equal(refcount(l), 0);
      assert.equal(lpi(env.vm, 8192), null);
      assert.equal(l.freed, false);
      return l;
    });
    assert.deepEqual(r.titles, []);
    assert.equal(r.value.freed, true);
  });

  it('MOVI retargets without requeue or kick; the old owner migrates the pending LPI at its next prune', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      its(env, [
        { cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 },
        { cmd: 'INT', device: 0, event: 0 },
      ]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(refcount(l), 3);
      clearRequests(env.vm);
      poke(v1.obj, VCPU.blocked, 1);
      its(env, [{ cmd: 'MOVI', device: 0, event: 0, collection: 1 }]);
      assert.equal(peek(l, IRQ.target), v1);
      assert.equal(vcpuField(l), v0, 'still on the old list');
      assert.deepEqual(apList(v0), [8192]);
      assert.deepEqual(apList(v1), []);
      assert.equal(requests(v1), 0, 'no kick');
      assert.equal(peek(v1.obj, VCPU.blocked), 1);
      assert.equal(refcount(l), 2, 'the cache was invalidated');
      prune(env, 0);
      assert.deepEqual(apList(v0), []);
      assert.deepEqual(apList(v1), [8192]);
      assert.equal(vcpuField(l), v1);
      assert.equal(refcount(l), 2, 'the AP list reference moves with the LPI');
      assert.equal(requests(v1), REQ.IRQ_PENDING);
    });
  });

  it('the cached MSI path pends and queues through the cache and returns its lookup reference', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      its(env, [
        { cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 },
        { cmd: 'INT', device: 0, event: 0 },
      ]);
      const l = lpi(env.vm, 8192)!;
      setBits(l, 0, F.PENDING_LATCH);
      prune(env, 0);
      assert.equal(refcount(l), 2);
      assert.equal(env.call(env.host, vgic_its_inject_msi(env.host, env.vm, 0, 0)), true);
      ok(has(l, F.PENDING_LATCH));
      assert.deepEqual(apList(env.vcpu(0)), [8192]);
      assert.equal(refcount(l), 3);
    });
  });

  it('an MSI that misses the cache takes the slow path under its_lock: resolve, cache, pend, queue', () => {
    clean({ vm: { its: true } }, (env) => {
      setupIts(env);
      its(env, [{ cmd: 'MAPTI', device: 0, event: 0, intid: 8192, collection: 0 }]);
      const l = lpi(env.vm, 8192)!;
      assert.equal(refcount(l), 1, 'the ITE only: nothing cached yet');
      assert.equal(env.call(env.host, vgic_its_inject_msi(env.host, env.vm, 0, 0)), true);
      ok(has(l, F.PENDING_LATCH));
      assert.deepEqual(apList(env.vcpu(0)), [8192]);
      assert.equal(refcount(l), 3, 'ITE, the new cache entry and the AP list');
      assert.equal(env.vm.its!.cache.peekEntries().length, 1);
      // No translation: not delivered, nothing changes.
      assert.equal(env.call(env.host, vgic_its_inject_msi(env.host, env.vm, 0, 9)), false);
      assert.equal(env.vm.its!.cache.peekEntries().length, 1);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('distributor/redistributor MMIO', () => {
  it('ISENABLER enables and queues a pending IRQ', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      setBits(irq, F.PENDING_LATCH);
      mmio(env, 0, { reg: 'ISENABLER', intid: 32 });
      ok(has(irq, F.ENABLED));
      assert.deepEqual(apList(env.vcpu(0)), [32]);
      ok(requests(env.vcpu(0)) & REQ.IRQ_PENDING);
    });
  });

  it('ICENABLER disables without dequeueing or kicking (prune drops it later)', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const irq = spi(env.vm, 32);
      place(env, irq, v0);
      clearRequests(env.vm);
      mmio(env, 0, { reg: 'ICENABLER', intid: 32 });
      ok(!has(irq, F.ENABLED));
      assert.deepEqual(apList(v0), [32]);
      assert.equal(vcpuField(irq), v0);
      assert.equal(requests(v0), 0);
      assert.equal(oracleOf(env, irq), null);
      prune(env, 0);
      assert.deepEqual(apList(v0), []);
    });
  });

  it('IPRIORITYR keeps the top 5 bits; no requeue, no kick', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 32);
      place(env, irq, env.vcpu(0));
      clearRequests(env.vm);
      mmio(env, 0, { reg: 'IPRIORITYR', intid: 32, value: 0xff });
      assert.equal(peek(irq, IRQ.priority), 0xf8);
      mmio(env, 0, { reg: 'IPRIORITYR', intid: 32, value: 0x17 });
      assert.equal(peek(irq, IRQ.priority), 0x10);
      assert.equal(requests(env.vcpu(0)), 0);
      assert.deepEqual(apList(env.vcpu(0)), [32]);
    });
  });

  it('GICD_CTLR: disabling makes the oracle NULL for pending IRQs; re-enabling kicks vCPUs with deliverable work', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const irq = spi(env.vm, 32);
      place(env, irq, v0, { priority: 0x10 });
      poke(v0.obj, VCPU.vmcr, 0xf8); // PMR
      mmio(env, 0, { reg: 'GICD_CTLR', enabled: false });
      assert.equal(oracleOf(env, irq), null);
      const t = env.task(0);
      assert.equal(env.call(t, kvm_vgic_vcpu_pending_irq(t, env.vm, v0)), false);
      clearRequests(env.vm);
      poke(v0.obj, VCPU.blocked, 1);
      mmio(env, 0, { reg: 'GICD_CTLR', enabled: true });
      assert.equal(oracleOf(env, irq), v0);
      assert.equal(requests(v0), REQ.IRQ_PENDING);
      assert.equal(peek(v0.obj, VCPU.blocked), 0);
      assert.equal(requests(env.vcpu(1)), 0, 'nothing deliverable for vCPU 1');
    });
  });

  it('ISPENDR pends and queues; ICPENDR clears pending_latch without dequeueing', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const irq = spi(env.vm, 32);
      setBits(irq, F.ENABLED);
      mmio(env, 0, { reg: 'ISPENDR', intid: 32 });
      ok(has(irq, F.PENDING_LATCH));
      assert.deepEqual(apList(v0), [32]);
      mmio(env, 0, { reg: 'ICPENDR', intid: 32 });
      ok(!has(irq, F.PENDING_LATCH));
      assert.deepEqual(apList(v0), [32]);
    });
  });

  it('IROUTER retargets without requeue or kick', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      const irq = spi(env.vm, 32);
      place(env, irq, v0);
      clearRequests(env.vm);
      mmio(env, 0, { reg: 'IROUTER', intid: 32, vcpu: 1 });
      assert.equal(peek(irq, IRQ.target), v1);
      assert.deepEqual(apList(v0), [32]);
      assert.deepEqual(apList(v1), []);
      assert.equal(requests(v1), 0);
      mmio(env, 0, { reg: 'IROUTER', intid: 32, vcpu: null });
      assert.equal(peek(irq, IRQ.target), null);
    });
  });

  it('ISACTIVER (userspace) makes the IRQ active and queues it on its target', () => {
    clean({}, (env) => {
      const irq = spi(env.vm, 33);
      poke(irq, IRQ.target, env.vcpu(1));
      mmio(env, 0, { reg: 'ISACTIVER', intid: 33 });
      ok(has(irq, F.ACTIVE));
      assert.deepEqual(apList(env.vcpu(1)), [33]);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vgic_v3_deactivate: the DIR trap', () => {
  function dir(env: Env, i: number, intid: number): void {
    const t = env.task(i);
    env.call(t, vgic_v3_deactivate(t, env.vm, env.vcpu(i), intid));
  }

  it('an active IRQ in no LR is deactivated through a pseudo-LR; VGIC_PROCESS_UPDATE goes to the owner, whose prune drops it', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      v1.cpuif.vmcr.eoimode = 1;
      const irq = spi(env.vm, 32);
      place(env, irq, v0, { flags: F.ENABLED | F.ACTIVE });
      clearRequests(env.vm);
      dir(env, 1, 32); // SPIs can be deactivated from any vCPU
      ok(!has(irq, F.ACTIVE));
      assert.equal(requests(v0), REQ.VGIC_PROCESS_UPDATE);
      assert.equal(requests(v1), 0);
      assert.deepEqual(apList(v0), [32], 'pruned only when the owner processes the request');
      const t0 = env.task(0);
      env.call(t0, kvm_vgic_process_async_update(t0, env.vm, v0));
      assert.deepEqual(apList(v0), []);
      assert.equal(vcpuField(irq), null);
    });
  });

  it('the pseudo-LR keeps a pending edge IRQ pending; a HW IRQ is deactivated physically', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eoimode = 1;
      const irq = spi(env.vm, 32);
      place(env, irq, v0, { flags: EDGE_PENDING | F.ACTIVE });
      const hw = spi(env.vm, 33);
      place(env, hw, v0, { flags: F.ENABLED | F.ACTIVE | F.HW | F.CONFIG_LEVEL, hwintid: 70 });
      env.vm.physActive.add(70);
      dir(env, 0, 32);
      ok(!has(irq, F.ACTIVE));
      ok(has(irq, F.PENDING_LATCH));
      dir(env, 0, 33);
      ok(!has(hw, F.ACTIVE));
      ok(!env.vm.physActive.has(70));
    });
  });

  it('a level SPI: the pseudo-LR signals the EOI (active_spis decremented)', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      v0.cpuif.vmcr.eoimode = 1;
      const irq = spi(env.vm, 32);
      place(env, irq, v0, { flags: F.CONFIG_LEVEL | F.ENABLED | F.ACTIVE });
      setActiveSpis(env.vm, 1);
      dir(env, 0, 32);
      ok(!has(irq, F.ACTIVE));
      assert.equal(activeSpis(env.vm), 0);
    });
  });

  it('ignored with EOImode 0, and for an active IRQ that is queued nowhere', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const irq = spi(env.vm, 32);
      place(env, irq, v0, { flags: F.ENABLED | F.ACTIVE });
      clearRequests(env.vm);
      dir(env, 0, 32);
      ok(has(irq, F.ACTIVE), 'EOImode 0: not a deactivation');
      v0.cpuif.vmcr.eoimode = 1;
      const loose = spi(env.vm, 40);
      setBits(loose, F.ENABLED | F.ACTIVE);
      dir(env, 0, 40);
      ok(has(loose, F.ACTIVE), 'irq.vcpu NULL: nothing to do');
      assert.equal(requests(v0) | requests(env.vcpu(1)), 0);
    });
  });

  it('an IRQ on some LR (on_lr): the ICACTIVER path halts the guest and deactivates it', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      v1.cpuif.vmcr.eoimode = 1;
      const irq = spi(env.vm, 32);
      place(env, irq, v0, { flags: F.ENABLED | F.ACTIVE | F.ON_LR });
      clearRequests(env.vm);
      dir(env, 1, 32);
      ok(!has(irq, F.ACTIVE));
      ok(requests(v0) & REQ.SLEEP, 'kvm_arm_halt_guest');
      ok(requests(v1) & REQ.SLEEP);
      assert.equal(peek(v0.obj, VCPU.pause), 0, 'resumed');
    });
  });

  it('an IRQ on some LR (on_lr): after the ICACTIVER path, REQ(irq.vcpu, VGIC_PROCESS_UPDATE) (step 8)', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      v1.cpuif.vmcr.eoimode = 1;
      place(env, spi(env.vm, 32), v0, { flags: F.ENABLED | F.ACTIVE | F.ON_LR });
      clearRequests(env.vm);
      dir(env, 1, 32);
      assert.equal(requests(v0) & REQ.VGIC_PROCESS_UPDATE, REQ.VGIC_PROCESS_UPDATE);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('kvm_vcpu_kick / kvm_make_all_cpus_request', () => {
  function kick(env: Env, v: Vcpu, from = env.host): void {
    kvm_vcpu_kick(from, v);
  }

  it('a blocked vCPU is woken and nothing else happens', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      poke(v0.obj, VCPU.blocked, 1);
      poke(v0.obj, VCPU.mode, MODE.IN_GUEST);
      env.run(env.host, () => kick(env, v0));
      assert.equal(peek(v0.obj, VCPU.blocked), 0);
      assert.equal(peek(v0.obj, VCPU.mode), MODE.IN_GUEST);
      assert.equal(peek(v0.obj, VCPU.ipi), 0);
    });
  });

  it('a vCPU in guest mode on another CPU: EXITING_GUEST_MODE and a reschedule IPI; on its own CPU: no IPI; outside guest mode: nothing', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      poke(v0.obj, VCPU.mode, MODE.IN_GUEST);
      poke(v1.obj, VCPU.mode, MODE.IN_GUEST);
      env.run(env.host, () => kick(env, v0));
      env.run(env.task(1), () => kick(env, v1, env.task(1)));
      assert.deepEqual([peek(v0.obj, VCPU.mode), peek(v0.obj, VCPU.ipi)], [MODE.EXITING, 1]);
      assert.deepEqual([peek(v1.obj, VCPU.mode), peek(v1.obj, VCPU.ipi)], [MODE.EXITING, 0]);
      poke(v0.obj, VCPU.mode, MODE.OUTSIDE);
      poke(v0.obj, VCPU.ipi, 0);
      env.run(env.host, () => kick(env, v0));
      assert.deepEqual([peek(v0.obj, VCPU.mode), peek(v0.obj, VCPU.ipi)], [MODE.OUTSIDE, 0]);
    });
  });

  it('make_all_cpus_request without WAIT: request everywhere, IPI only those in guest mode', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      poke(v1.obj, VCPU.mode, MODE.IN_GUEST);
      env.call(env.host, kvm_make_all_cpus_request(env.host, env.vm, REQ.IRQ_PENDING));
      assert.deepEqual([requests(v0), requests(v1)], [REQ.IRQ_PENDING, REQ.IRQ_PENDING]);
      assert.deepEqual([peek(v0.obj, VCPU.ipi), peek(v1.obj, VCPU.ipi)], [0, 1]);
      assert.equal(peek(v1.obj, VCPU.mode), MODE.EXITING);
    });
  });

  it('kvm_arm_resume_guest clears pause and wakes a blocked vCPU, but never flips a running one to EXITING', () => {
    clean({}, (env) => {
      const [v0, v1] = [env.vcpu(0), env.vcpu(1)];
      for (const v of [v0, v1]) poke(v.obj, VCPU.pause, 1);
      poke(v0.obj, VCPU.blocked, 1);
      poke(v1.obj, VCPU.mode, MODE.IN_GUEST);
      env.run(env.host, () => kvm_arm_resume_guest(env.host, env.vm));
      assert.deepEqual([peek(v0.obj, VCPU.pause), peek(v1.obj, VCPU.pause)], [0, 0]);
      assert.equal(peek(v0.obj, VCPU.blocked), 0);
      assert.deepEqual([peek(v1.obj, VCPU.mode), peek(v1.obj, VCPU.ipi)], [MODE.IN_GUEST, 0]);
    });
  });

  it('the first SPI in flight (broadcast path) still wakes its target blocked in WFI (an injector always wakes a blocked target)', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      poke(v0.obj, VCPU.blocked, 1);
      setBits(spi(env.vm, 32), F.ENABLED);
      inject(env, null, 32, true);
      assert.equal(activeSpis(env.vm), 1, 'the broadcast path');
      assert.deepEqual([requests(v0), requests(env.vcpu(1))], [REQ.IRQ_PENDING, REQ.IRQ_PENDING]);
      assert.equal(peek(v0.obj, VCPU.blocked), 0);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('kvm_vgic_vcpu_pending_irq (§3.18, WFI)', () => {
  it('true iff some entry is pending, enabled, not active and above the PMR; false with the distributor disabled', () => {
    clean({}, (env) => {
      const v0 = env.vcpu(0);
      const t = env.task(0);
      const pending = () => env.call(t, kvm_vgic_vcpu_pending_irq(t, env.vm, v0));
      poke(v0.obj, VCPU.vmcr, 0x80);
      place(env, spi(env.vm, 32), v0, { priority: 0x80 }); // masked by the PMR
      place(env, spi(env.vm, 33), v0, { priority: 0x10, flags: EDGE_PENDING | F.ACTIVE });
      assert.equal(pending(), false);
      place(env, spi(env.vm, 34), v0, { priority: 0x78 });
      assert.equal(pending(), true);
      setDistEnabled(env.vm, false);
      assert.equal(pending(), false);
    });
  });
});

// -------------------------------------------------------------------------------------------------

describe('vCPU run loop, whole scenarios', () => {
  function wfiScenario(send: GuestStep[], intid: number): ScenarioSpec {
    return scenario({
      name: `wfi-wakeup-${intid}`,
      description: `vCPU 1 sends INTID ${intid} to vCPU 0, which waits in WFI`,
      vm: { vcpus: 2, nrLr: 4 },
      interrupts: [{ intid: 32, priority: 0x20, enabled: true, target: 0 }],
      prologue: [{ vcpu: 0, guest: GUEST_SETUP }],
      actors: [
        { vcpu: 0, guest: [{ op: 'poll', expect: intid }, { op: 'eoi' }] },
        { vcpu: 1, guest: send },
      ],
      expect: { acks: { 0: [intid] }, final: [{ intid, active: false, pending: false }] },
    });
  }

  const sgi = wfiScenario([{ op: 'sgi', intid: 1, targets: [0] }], 1);
  const spiPend = wfiScenario([{ op: 'mmio', write: { reg: 'ISPENDR', intid: 32 } }], 32);

  it('vCPU 1 sends an SGI to vCPU 0 idle in WFI: the kick wakes it and it acknowledges (default schedule)', () => {
    const r = runDefault(sgi, 'V3');
    assert.deepEqual(r.titles, []);
    const w = r.worlds[0];
    assert.deepEqual(w.guests.get(0)!.log.acks, [1]);
    const ev = w.vm.events.map((e) => `${e.vcpu}:${e.text}`);
    const blocked = ev.indexOf('0:exit: trap (wfi)');
    const sent = ev.indexOf('1:exit: trap (sgi)');
    const acked = ev.indexOf('0:ack 1');
    ok(blocked >= 0 && blocked < sent && sent < acked, ev.join(' | '));
  });

  it('vCPU 1 sends an SGI to vCPU 0 in WFI: acknowledged in every interleaving (exhaustive DPOR)', () => {
    const r = check(sgi, 'V3');
    ok(r.result.stats.exhaustive);
    assert.deepEqual(r.titles, []);
    for (const w of r.worlds) assert.deepEqual(w.guests.get(0)!.log.acks, [1]);
  });

  it('vCPU 1 pends an SPI (ISPENDR, the first SPI in flight) for vCPU 0 idle in WFI: vCPU 0 wakes and acknowledges (§3.18 (c), liveness)', () => {
    const r = runDefault(spiPend, 'V3');
    assert.deepEqual(r.titles, []);
    assert.deepEqual(r.worlds[0].guests.get(0)!.log.acks, [32]);
    const ev = r.worlds[0].vm.events.map((e) => `${e.vcpu}:${e.text}`);
    const [idle, sent] = [ev.indexOf('0:exit: trap (wfi)'), ev.indexOf('1:exit: trap (mmio_write)')];
    ok(idle >= 0 && idle < sent, `vCPU 0 was idle in WFI first: ${ev.join(' | ')}`);
    const all = check(spiPend, 'V3');
    ok(all.result.stats.exhaustive, 'exhaustive');
    assert.deepEqual(all.titles, []);
    for (const w of all.worlds) assert.deepEqual(w.guests.get(0)!.log.acks, [32]);
  });

  it('an injection while vCPU 0 is in guest mode kicks it out (exit: IRQ) and it acknowledges after re-entry', () => {
    const spec = scenario({
      name: 'kick-in-guest',
      description: 'a PPI raised by the VMM while vCPU 0 runs its guest',
      vm: { vcpus: 1, nrLr: 4 },
      interrupts: [{ intid: 20, priority: 0x20, enabled: true, target: 0 }],
      prologue: [{ vcpu: 0, guest: GUEST_SETUP }],
      actors: [
        { vcpu: 0, guest: [{ op: 'poll', expect: 20 }, { op: 'eoi' }] },
        { host: 'qemu-system-aar', actions: [{ call: 'irq_line', intid: 20, level: true }] },
      ],
      expect: { acks: { 0: [20] } },
    });
    const r = check(spec, 'V3');
    ok(r.result.stats.exhaustive);
    assert.deepEqual(r.titles, []);
    let kicked = 0;
    for (const w of r.worlds) {
      const ev = w.vm.events.map((e) => `${e.vcpu}:${e.text}`);
      assert.deepEqual(w.guests.get(0)!.log.acks, [20]);
      const k = ev.indexOf('0:exit: IRQ (kick)');
      if (k < 0) continue;
      kicked++;
      assert.equal(ev[k - 1], '0:entry: 0 LRs', 'kicked while in guest mode before the PPI was in an LR');
      assert.equal(ev[k + 1], '0:entry: 1 LRs', 'the next entry presents it');
      ok(ev.indexOf('0:ack 20') > k);
    }
    ok(kicked > 0, 'some interleaving injects while vCPU 0 is in guest mode');
  });
});
