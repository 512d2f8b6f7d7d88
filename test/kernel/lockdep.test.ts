import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Session } from '../../src/explore/execution.ts';
import { choose, POINT } from '../../src/explore/ops.ts';
import {
  initLock,
  lockdep_assert_held,
  mutex_lock,
  mutex_unlock,
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_lock_nested,
  raw_spin_trylock,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
  spin_lock,
  spin_unlock,
} from '../../src/kernel/locks.ts';
import { rcu_read_lock, rcu_read_unlock } from '../../src/kernel/rcu.ts';
import { FN, runOnce, T, testFn, vcpu } from './util.ts';

const FLUSH = testFn('vgic_flush_lr_state', 'arch/arm64/kvm/vgic/vgic.c', 0x19);
const QUEUE = testFn('vgic_queue_irq_unlock', 'arch/arm64/kvm/vgic/vgic.c', 0x1f);

describe('lockdep', () => {
  it('a lock held by trylock orders the locks taken after it, released out of order, without a crash', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'obj', {}, null, false);
      const a = initLock(k, 'raw', o, T.field('irq_lock'), 'lock_a', '&a');
      const b = initLock(k, 'raw', o, T.field('lock2'), 'lock_b', '&b');
      const c = initLock(k, 'raw', o, T.field('refcount'), 'lock_c', '&c');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        t.at('s1');
        const got = yield raw_spin_trylock(t, a);
        assert.equal(got, true);
        yield raw_spin_lock(t, b);
        yield raw_spin_lock(t, c);
        raw_spin_unlock(t, b);
        raw_spin_unlock(t, c);
        raw_spin_unlock(t, a);
      });
    });
    assert.deepEqual(
      r.violations.map((v) => v.title),
      [],
    );
  });

  it('Invalid wait context: spinlock_t under raw_spinlock_t, in the kernel layout', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'vcpu', {}, null, false);
      const ap = initLock(k, 'raw', o, T.field('irq_lock'), 'vgic_cpu_init', '&vgic_cpu->ap_list_lock');
      const wq = initLock(k, 'spin', o, T.field('lock2'), 'eventfd_ctx', '&ctx->wqh');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        t.at('s1');
        const f = yield raw_spin_lock_irqsave(t, ap);
        t.at('s2');
        yield spin_lock(t, wq);
        spin_unlock(t, wq);
        raw_spin_unlock_irqrestore(t, ap, f);
      });
    });
    const lines = r.texts[0].split('\n');
    assert.deepEqual(lines.slice(0, 7), [
      '',
      '=============================',
      '[ BUG: Invalid wait context ]',
      '6.19.0-vgiclab-v3 #1 Not tainted',
      '-----------------------------',
      'CPU 0/KVM/1000 is trying to lock:',
      lines[6],
    ]);
    assert.match(lines[6], /^ffff0000[0-9a-f]{8} \(&ctx->wqh\)\{\.\.\.\.\}-\{3:3\}, at: test_fn\+0x2\/0x10$/);
    assert.equal(lines[7], 'other info that might help us debug this:');
    assert.equal(lines[8], 'context-{5:5}');
    assert.equal(lines[9], '1 lock held by CPU 0/KVM/1000:');
    assert.match(
      lines[10],
      /^ #0: [0-9a-f]{16} \(&vgic_cpu->ap_list_lock\)\{\.\.\.\.\}-\{2:2\}, at: test_fn\+0x1\/0x10$/,
    );
    assert.equal(lines[11], 'stack backtrace:');
    assert.equal(lines.at(-3), ' test_fn+0x2/0x10');
    assert.equal(lines.at(-1), ' kvm_vcpu_ioctl+0x0/0x3');
  });

  it('accumulates dependencies across executions: the inversion is reported where no deadlock is possible', () => {
    const session = new Session();
    const program = (k: import('../../src/kernel/kernel.ts').Kernel) => {
      const o = k.alloc(T, 'locks', {}, null, false);
      const irq = initLock(k, 'raw', o, T.field('irq_lock'), 'vgic_dist_init', '&irq->irq_lock');
      const ap = initLock(k, 'raw', o, T.field('lock2'), 'vgic_cpu_init', '&vgic_cpu->ap_list_lock');
      k.spawn(vcpu(1), function* (t) {
        t.enter(FN);
        const order: number = (yield choose(2, 'order')) as number;
        if (order === 0) {
          t.enter(FLUSH);
          t.at('s7');
          yield raw_spin_lock(t, ap);
          yield raw_spin_lock(t, irq);
          raw_spin_unlock(t, irq);
          raw_spin_unlock(t, ap);
        } else {
          t.enter(QUEUE);
          t.at('s3');
          yield raw_spin_lock(t, irq);
          t.at('s4');
          yield raw_spin_lock(t, ap);
          raw_spin_unlock(t, ap);
          raw_spin_unlock(t, irq);
        }
      });
    };
    const first = runOnce(program, { session, decisions: [0], index: 3 });
    assert.deepEqual(first.violations, []);
    const second = runOnce(program, { session, decisions: [1], index: 41 });
    assert.equal(second.exec.outcome, 'violation');
    assert.equal(second.violations.length, 1, 'lockdep only: this single-threaded execution cannot deadlock');
    const text = second.texts[0];
    assert.equal(
      second.violations[0].title,
      'WARNING: possible circular locking dependency detected in vgic_queue_irq_unlock',
    );
    assert.ok(text.includes('CPU 1/KVM/1001 is trying to acquire lock:'));
    assert.ok(text.includes('(&vgic_cpu->ap_list_lock){+.+.}-{2:2}, at: vgic_queue_irq_unlock+0x4/0x1f'));
    assert.ok(
      text.includes(
        '-> #1 (&irq->irq_lock){+.+.}-{2:2}:\n       vgic_flush_lr_state+0x7/0x19\n       test_fn+0x0/0x10',
      ),
    );
    assert.ok(text.includes('       (edge recorded in execution 3)'));
    assert.ok(
      text.includes(
        '  lock(&irq->irq_lock);\n                               lock(&vgic_cpu->ap_list_lock);\n                               lock(&irq->irq_lock);\n  lock(&vgic_cpu->ap_list_lock);',
      ),
    );
  });

  it('nested annotation: two instances of one class with subclass 1 are fine, without it recursion is reported', () => {
    const run = (nested: boolean) =>
      runOnce((k) => {
        const a = k.alloc(T, 'vcpu0', {}, null, false);
        const b = k.alloc(T, 'vcpu1', {}, null, false);
        const la = initLock(k, 'raw', a, T.field('irq_lock'), 'vgic_cpu_init', '&vgic_cpu->ap_list_lock');
        const lb = initLock(k, 'raw', b, T.field('irq_lock'), 'vgic_cpu_init', '&vgic_cpu->ap_list_lock');
        k.spawn(vcpu(0), function* (t) {
          t.enter(FN);
          yield raw_spin_lock(t, la);
          yield nested ? raw_spin_lock_nested(t, lb, 1) : raw_spin_lock(t, lb);
          raw_spin_unlock(t, lb);
          raw_spin_unlock(t, la);
        });
      });
    assert.deepEqual(run(true).violations, []);
    const bad = run(false);
    assert.equal(bad.violations[0].title, 'WARNING: possible recursive locking detected');
    assert.ok(bad.texts[0].includes(' May be due to missing lock nesting notation'));
  });

  it('rcu_read_lock allows spinlock_t inside; a mutex inside it is invalid', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'x', {}, null, false);
      const s = initLock(k, 'spin', o, T.field('irq_lock'), 'xa', '&xa->xa_lock');
      const m = initLock(k, 'mutex', o, T.field('mtx'), 'its_cmd', '&its->cmd_lock');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        rcu_read_lock(t);
        yield spin_lock(t, s);
        spin_unlock(t, s);
        yield mutex_lock(t, m);
        mutex_unlock(t, m);
        rcu_read_unlock(t);
      });
    });
    assert.deepEqual(
      r.violations.map((v) => v.title),
      ['BUG: sleeping function called from invalid context in test_fn', '[ BUG: Invalid wait context ]'],
    );
    assert.ok(r.texts[1].includes('(rcu_read_lock){.+.+}-{1:3}'));
  });

  it('bad unlock balance and lockdep_assert_held', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'x', {}, null, false);
      const l = initLock(k, 'raw', o, T.field('irq_lock'), 'site', '&irq->irq_lock');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        t.at('s3');
        lockdep_assert_held(t, l);
        raw_spin_unlock(t, l);
      });
    });
    assert.equal(r.violations.length, 2);
    assert.match(
      r.texts[0],
      /WARNING: CPU: 0 PID: 1000 at arch\/arm64\/kvm\/vgic\/vgic.c:741 test_fn\+0x3\/0x10/,
    );
    assert.ok(r.texts[1].includes('WARNING: bad unlock balance detected!'));
    assert.ok(r.texts[1].includes('CPU 0/KVM/1000 is trying to release lock (&irq->irq_lock) at:'));
    assert.ok(r.texts[1].includes('but there are no more locks to release!'));
  });

  it('inconsistent hardirq usage', () => {
    const r = runOnce((k) => {
      const o = k.alloc(T, 'x', {}, null, false);
      const l = initLock(k, 'raw', o, T.field('irq_lock'), 'site', '&vgic_cpu->ap_list_lock');
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        t.irqEnter();
        yield raw_spin_lock(t, l);
        raw_spin_unlock(t, l);
        t.irqExit();
        yield raw_spin_lock(t, l);
        raw_spin_unlock(t, l);
      });
    });
    assert.equal(r.violations[0].title, 'WARNING: inconsistent lock state in test_fn');
    assert.ok(r.texts[0].includes('inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.'));
    assert.ok(r.texts[0].includes('CPU 0/KVM/1000 [HC0[0]:SC0[0]:HE1:SE1] takes:'));
  });
});
