import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POINT } from '../../src/explore/ops.ts';
import { rd, readOnce, wr, writeOnce } from '../../src/kernel/access.ts';
import {
  initLock,
  mutex_lock,
  mutex_unlock,
  raw_spin_lock,
  raw_spin_unlock,
} from '../../src/kernel/locks.ts';
import { type KObj, NULL_PTR } from '../../src/kernel/mem.ts';
import { kfree_rcu, rcu_read_lock, rcu_read_unlock } from '../../src/kernel/rcu.ts';
import {
  REFCOUNT_SATURATED,
  refcount_dec,
  refcount_dec_and_test,
  refcount_inc,
  refcount_inc_not_zero,
  refcountPeek,
} from '../../src/kernel/refcount.ts';
import { kfree } from '../../src/kernel/slab.ts';
import { XArray } from '../../src/kernel/xarray.ts';
import { FN, runOnce, T, testFn, vcpu } from './util.ts';

const VAL = T.field('val');
const REF = T.field<number>('refcount');
const FOLD = testFn('vgic_v3_fold_lr_state', 'arch/arm64/kvm/vgic/vgic-v3.c', 0x11);
const FLUSH_LPIS = testFn('vgic_flush_pending_lpis', 'arch/arm64/kvm/vgic/vgic.c', 0xa);

describe('KASAN', () => {
  it('slab-use-after-free: layout, offsets, shadow and caret', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'lpi', { val: 1 });
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        kfree(t, o);
        t.enter(FOLD);
        t.at('s7');
        rd(t, o, T.field('ap_list.next'));
        assert.equal(r0(), 1, 'the access proceeds on the tombstone');
        function r0() {
          return rd(t, o, VAL);
        }
      });
    });
    assert.equal(r.violations.length, 1, 'one report per title and execution');
    const lines = r.texts[0].split('\n');
    assert.equal(lines[0], '='.repeat(66));
    assert.equal(lines[1], 'BUG: KASAN: slab-use-after-free in vgic_v3_fold_lr_state+0x7/0x11');
    assert.match(lines[2], /^Read of size 8 at addr ffff0000[0-9a-f]{8} by task CPU 0\/KVM\/1000$/);
    assert.equal(r.violations[0].title, 'BUG: KASAN: slab-use-after-free in vgic_v3_fold_lr_state');
    const text = r.texts[0];
    assert.ok(text.includes('Freed by task 1000:\n kfree+0x0/0x1\n test_fn+0x0/0x10'));
    assert.ok(text.includes(' which belongs to the cache kmalloc-256 of size 256'));
    assert.ok(text.includes('The buggy address is located 72 bytes inside of\n freed 256-byte region ['));
    const bad = lines.findIndex((l) => l.startsWith('>'));
    assert.match(lines[bad], /^>ffff0000[0-9a-f]{8}: fa( fb){15}$/);
    assert.equal(lines[bad + 1], `${' '.repeat(46)}^`);
    assert.match(lines[bad - 1], /^ ffff0000[0-9a-f]{8}: (fc ){15}fc$/);
    assert.equal(lines.at(-1), '='.repeat(66));
  });

  it('double-free names the second freeing caller', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'obj');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        kfree(t, o);
        kfree(t, o);
      });
    });
    assert.equal(r.violations[0].title, 'BUG: KASAN: double-free in test_fn');
    assert.match(r.texts[0], /Free of addr ffff0000[0-9a-f]{8} by task CPU 0\/KVM\/1000/);
  });

  it('a held lock in freed memory is "held lock freed!"', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'lpi');
      const l = initLock(k, 'raw', o, T.field('irq_lock'), 'vgic_add_lpi', '&irq->irq_lock');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield raw_spin_lock(t, l);
        kfree(t, o);
        raw_spin_unlock(t, l);
      });
    });
    assert.equal(r.violations[0].title, 'WARNING: held lock freed!');
  });
});

describe('faults', () => {
  it('NULL dereference is a fatal oops without the address-range line', () => {
    const r = runOnce((k) => {
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        rd(t, NULL_PTR, VAL);
      });
    });
    assert.equal(r.exec.outcome, 'violation');
    const lines = r.texts[0].split('\n');
    assert.equal(
      lines[0],
      'Unable to handle kernel NULL pointer dereference at virtual address 0000000000000004',
    );
    assert.equal(lines[2], '  ESR = 0x0000000096000004');
    assert.equal(lines[3], 'Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP');
    assert.ok(r.violations[0].fatal);
  });
});

describe('refcount_t', () => {
  it('saturates with the kernel warnings, once per site', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'obj', { refcount: 1 });
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        assert.equal(refcount_dec_and_test(t, o, REF), true);
        assert.equal(refcount_inc_not_zero(t, o, REF), false, 'inc_not_zero on 0 fails silently');
        refcount_inc(t, o, REF);
        assert.equal(refcountPeek(o, REF), REFCOUNT_SATURATED);
        assert.equal(refcount_dec_and_test(t, o, REF), false);
        assert.equal(refcountPeek(o, REF), REFCOUNT_SATURATED, 'stays saturated');
        refcount_inc(t, o, REF);
      });
    });
    assert.deepEqual(
      r.violations.map((v) => v.title),
      [
        'refcount_t: addition on 0; use-after-free in test_fn',
        'refcount_t: underflow; use-after-free in test_fn',
        'refcount_t: saturated; leaking memory in test_fn',
      ],
    );
    const first = r.texts[0].split('\n');
    assert.deepEqual(first.slice(0, 3), [
      '------------[ cut here ]------------',
      'refcount_t: addition on 0; use-after-free.',
      'WARNING: CPU: 0 PID: 1000 at lib/refcount.c:25 refcount_warn_saturate+0x3/0x6',
    ]);
    assert.ok(
      r.texts[1].includes('Tainted: G        W          6.19.0-vgiclab-v3 #1 PREEMPT\nTainted: [W]=WARN'),
    );
    assert.ok(
      r.texts[1].includes('WARNING: CPU: 0 PID: 1000 at lib/refcount.c:28 refcount_warn_saturate+0x4/0x6'),
    );
  });

  it('a plain decrement to zero leaks', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'obj', { refcount: 1 });
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        refcount_dec(t, o, REF);
      });
    });
    assert.equal(r.violations[0].title, 'refcount_t: decrement hit 0; leaking memory in test_fn');
  });

  it('WARN_FORMAT=comm prints the 6.19 first line', () => {
    const r = runOnce(
      (k) => {
        const o = k.alloc(T, 'obj', { refcount: 0 });
        k.spawn(vcpu(1), function* (t) {
          t.enter(FN);
          yield POINT;
          refcount_dec_and_test(t, o, REF);
        });
      },
      { config: { switches: { WARN_FORMAT: 'comm' } } },
    );
    assert.ok(
      r.texts[0].includes(
        'WARNING: lib/refcount.c:28 at refcount_warn_saturate+0x4/0x6, CPU#1: CPU 1/KVM/1001',
      ),
    );
  });
});

describe('KCSAN', () => {
  // vCPU 0 reads, vCPU 1 writes; `decisions` says who goes first.
  const readAndWrite = (decisions: number[]) =>
    runOnce(
      (k) => {
        const o = k.alloc(T, 'x', { val: 1 }, null, false);
        k.spawn(vcpu(0), function* (t) {
          t.enter(FOLD);
          yield POINT;
          rd(t, o, VAL);
        });
        k.spawn(vcpu(1), function* (t) {
          t.enter(FLUSH_LPIS);
          yield POINT;
          wr(t, o, VAL, 0x20);
        });
      },
      { decisions },
    );

  it('a write then a read: the write first, the value change the read saw, reported on the reader', () => {
    const r = readAndWrite([1, 0]);
    assert.equal(
      r.violations[0].title,
      'BUG: KCSAN: data-race in vgic_flush_pending_lpis / vgic_v3_fold_lr_state',
    );
    const lines = r.texts[0].split('\n');
    assert.match(lines[3], /^write to 0xffff0000[0-9a-f]{8} of 8 bytes by task 1001 on cpu 1:$/);
    assert.ok(lines.some((l) => /^read to 0xffff0000[0-9a-f]{8} of 8 bytes by task 1000 on cpu 0:$/.test(l)));
    assert.ok(r.texts[0].includes('value changed: 0x0000000000000001 -> 0x0000000000000020'));
    assert.ok(
      r.texts[0].includes(
        'Reported by Kernel Concurrency Sanitizer on:\nCPU: 0 UID: 0 PID: 1000 Comm: CPU 0/KVM',
      ),
    );
  });

  it('a read then a write: no "value changed" (the read saw the old value), reported on the writer', () => {
    const r = readAndWrite([0, 1]);
    assert.equal(
      r.violations[0].title,
      'BUG: KCSAN: data-race in vgic_flush_pending_lpis / vgic_v3_fold_lr_state',
    );
    const lines = r.texts[0].split('\n');
    assert.match(lines[3], /^read to 0xffff0000[0-9a-f]{8} of 8 bytes by task 1000 on cpu 0:$/);
    assert.ok(!r.texts[0].includes('value changed'), r.texts[0]);
    assert.ok(
      r.texts[0].includes(
        'Reported by Kernel Concurrency Sanitizer on:\nCPU: 1 UID: 0 PID: 1001 Comm: CPU 1/KVM',
      ),
    );
  });

  it('no report when a lock orders the accesses, or when both are marked', () => {
    for (const locked of [true, false]) {
      const r = runOnce((k) => {
        const o = k.alloc(T, 'x', {}, null, false);
        const l = initLock(k, 'mutex', o, T.field('mtx'), 'm', '&kvm->lock');
        for (let i = 0; i < 2; i++) {
          k.spawn(vcpu(i), function* (t) {
            t.enter(FN);
            if (locked) {
              yield mutex_lock(t, l);
              wr(t, o, VAL, i);
              mutex_unlock(t, l);
            } else {
              yield POINT;
              writeOnce(t, o, VAL, i);
              readOnce(t, o, VAL);
            }
          });
        }
      });
      assert.deepEqual(r.violations, []);
    }
  });
});

describe('RCU', () => {
  it('kfree_rcu waits for readers; a reader section keeps the object alive; guest mode does not', () => {
    for (const guest of [false, true]) {
      let freedDuringSection = false;
      runOnce(
        (k) => {
          const o: KObj = k.alloc(T, 'obj');
          k.spawn(vcpu(0), function* (t) {
            t.enter(FN);
            if (guest) t.setGuest(true);
            else rcu_read_lock(t);
            yield POINT;
            yield POINT;
            freedDuringSection = o.freed;
            if (guest) t.setGuest(false);
            else rcu_read_unlock(t);
          });
          k.spawn(vcpu(1), function* (t) {
            t.enter(FN);
            yield POINT;
            kfree_rcu(t, o);
          });
        },
        // vCPU 0 enters its section, vCPU 1 queues the free, ksoftirqd runs as soon as it is allowed.
        { decisions: guest ? [0, 1, 2] : [0, 1] },
      );
      assert.equal(
        freedDuringSection,
        guest,
        guest ? 'guest mode ends the grace period' : 'the reader holds it',
      );
    }
  });

  it('xa_load takes rcu_read_lock itself; stores need xa_lock', () => {
    const r = runOnce((k) => {
      const xa = new XArray(k, 'lpi_xa');
      const o = k.alloc(T, 'lpi');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        xa.store(t, 8192, o);
        assert.equal(xa.load(t, 8192), o);
      });
    });
    assert.equal(r.violations.length, 1);
    assert.match(r.violations[0].title, /lockdep_assert_held\(&xa->xa_lock\)/);
  });
});

describe('deadlock', () => {
  it('a mutex cycle is reported as a hung task with the wait-for cycle', () => {
    const r = runOnce(
      (k) => {
        const o = k.alloc(T, 'x', {}, null, false);
        const a = initLock(k, 'mutex', o, T.field('mtx'), 'a', '&kvm->lock');
        const b = initLock(k, 'mutex', o, T.field('lock2'), 'b', '&its->cmd_lock');
        for (let i = 0; i < 2; i++) {
          k.spawn(vcpu(i), function* (t) {
            t.enter(FN);
            const [x, y] = i === 0 ? [a, b] : [b, a];
            yield mutex_lock(t, x);
            yield mutex_lock(t, y);
            mutex_unlock(t, y);
            mutex_unlock(t, x);
          });
        }
      },
      { decisions: [0, 1] },
    );
    assert.equal(r.exec.outcome, 'deadlock');
    const v = r.violations.find((x) => x.checker === 'deadlock')!;
    assert.equal(v.title, 'INFO: task hung in test_fn');
    const text = v.text();
    assert.ok(text.startsWith('INFO: task CPU 0/KVM:1000 blocked for more than 120 seconds.'));
    assert.ok(text.includes('Showing all locks held in the system:'));
    const extra = (v as unknown as { extra: string[] }).extra[0];
    assert.match(
      extra,
      /^vgic-lab: wait-for cycle: CPU 0\/KVM\/1000 \(cpu 0, IRQs on\) sleeps on &its->cmd_lock [0-9a-f]{16} held by CPU 1\/KVM\/1001 -> CPU 1\/KVM\/1001 \(cpu 1, IRQs on\) sleeps on &kvm->lock [0-9a-f]{16} held by CPU 0\/KVM\/1000$/,
    );
  });
});
