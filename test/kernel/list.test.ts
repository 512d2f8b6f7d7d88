import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POINT } from '../../src/explore/ops.ts';
import { peek } from '../../src/kernel/access.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import {
  head,
  initListHead,
  type ListHead,
  list_add,
  list_add_tail,
  list_cut_position,
  list_del,
  list_del_init,
  list_del_rcu,
  list_entries,
  list_sort,
  list_splice_tail_init,
  listFields,
} from '../../src/kernel/list.ts';
import type { KObj } from '../../src/kernel/mem.ts';
import { hex, LIST_POISON1, LIST_POISON2, StructType } from '../../src/kernel/mem.ts';
import { FN, runOnce, T, vcpu } from './util.ts';

function setupList(k: Kernel, n: number) {
  const owner = k.alloc(T, 'owner', {}, null, false);
  const h = head(owner, 'head');
  initListHead(h);
  const items: KObj[] = [];
  for (let i = 0; i < n; i++) {
    const o = k.alloc(T, `item ${i}`, { val: i });
    initListHead(head(o, 'ap_list'));
    items.push(o);
  }
  return { h, items, node: (i: number) => head(items[i], 'ap_list') };
}

function vals(_k: Kernel, entries: unknown[]): number[] {
  return entries.map((e) => peek((e as ListHead).obj, T.field('val')));
}

describe('list_head', () => {
  it('add, add_tail and del keep the circular links and poison deleted entries', () => {
    let out: number[] = [];
    runOnce((k) => {
      const { h, node } = setupList(k, 3);
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        list_add_tail(t, node(0), h);
        list_add_tail(t, node(1), h);
        list_add(t, node(2), h);
        out = vals(k, list_entries(t, h));
        list_del(t, node(0));
        assert.equal(peek(node(0).obj, node(0).next), LIST_POISON1);
        assert.equal(peek(node(0).obj, node(0).prev), LIST_POISON2);
        assert.deepEqual(vals(k, list_entries(t, h)), [2, 1]);
        list_del_rcu(t, node(1));
        assert.equal(peek(node(1).obj, node(1).next), h, 'list_del_rcu keeps next');
        assert.equal(peek(node(1).obj, node(1).prev), LIST_POISON2);
        list_del_init(t, node(2));
        assert.equal(peek(node(2).obj, node(2).next), node(2));
        assert.deepEqual(list_entries(t, h), []);
      });
    });
    assert.deepEqual(out, [2, 0, 1]);
  });

  it('a second list_del reports LIST_POISON1 and skips the operation', () => {
    const r = runOnce((k) => {
      const { h, node } = setupList(k, 2);
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        list_add_tail(t, node(0), h);
        list_add_tail(t, node(1), h);
        list_del(t, node(0));
        list_del(t, node(0));
        assert.deepEqual(vals(k, list_entries(t, h)), [1], 'the list is untouched by the failed delete');
      });
    });
    assert.equal(r.violations.length, 1);
    const v = r.violations[0];
    assert.equal(v.title, 'list_del corruption in test_fn');
    const lines = r.texts[0].split('\n');
    assert.equal(lines[0], ' non-paged memory');
    assert.equal(lines[1], '------------[ cut here ]------------');
    assert.match(
      lines[2],
      /^list_del corruption, ffff0000[0-9a-f]{8}->next is LIST_POISON1 \(dead000000000100\)$/,
    );
    assert.equal(
      lines[3],
      'WARNING: CPU: 0 PID: 1000 at lib/list_debug.c:56 __list_del_entry_valid_or_report+0x3/0x7',
    );
    assert.ok(lines.includes(' test_fn+0x0/0x10'));
    assert.equal(lines.at(-1), '---[ end trace 0000000000000000 ]---');
  });

  it('double add and corrupted neighbours are reported with the kernel messages', () => {
    const r = runOnce((k) => {
      const { h, node } = setupList(k, 2);
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        list_add_tail(t, node(0), h);
        list_add_tail(t, node(0), h);
      });
    });
    assert.match(
      r.texts[0],
      /list_add double add: new=ffff0000[0-9a-f]{8}, prev=ffff0000[0-9a-f]{8}, next=ffff0000[0-9a-f]{8}\./,
    );
    assert.equal(r.violations[0].title, 'list_add double add in test_fn');
  });

  it('mem_dump_obj prints the slab object size, as KASAN does, not the struct size', () => {
    // 160 bytes, like vgic_irq: the object lives in kmalloc-256.
    const IRQ = new StructType('irq_like', 160, [{ name: 'val' }, ...listFields('ap_list', 72)]);
    let named = '';
    const r = runOnce((k) => {
      const owner = k.alloc(T, 'owner', {}, null, false);
      const h = head(owner, 'head');
      initListHead(h);
      const [a, b] = [0, 1].map((i) => head(k.alloc(IRQ, `irq ${i}`), 'ap_list'));
      named = hex(b.obj.addr);
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        list_add_tail(t, a, h);
        list_add_tail(t, b, h);
        // A stray write breaks b->prev, so deleting a fails the next->prev check, which names b.
        b.obj.loc(b.prev).value = h;
        list_del(t, a);
      });
    });
    assert.equal(r.violations[0].title, 'list_del corruption in test_fn');
    assert.equal(r.texts[0].split('\n')[0], ` slab kmalloc-256 start ${named} pointer offset 72 size 256`);
  });

  it('cut_position and splice_tail_init move sublists', () => {
    runOnce((k) => {
      const { h, node } = setupList(k, 4);
      const other = k.alloc(T, 'other', {}, null, false);
      const o = head(other, 'head');
      initListHead(o);
      k.spawn(vcpu(0), function* (t) {
        t.enter(FN);
        yield POINT;
        for (let i = 0; i < 4; i++) list_add_tail(t, node(i), h);
        list_cut_position(t, o, h, node(1));
        assert.deepEqual(vals(k, list_entries(t, o)), [0, 1]);
        assert.deepEqual(vals(k, list_entries(t, h)), [2, 3]);
        list_splice_tail_init(t, o, h);
        assert.deepEqual(vals(k, list_entries(t, h)), [2, 3, 0, 1]);
        assert.deepEqual(list_entries(t, o), []);
        list_sort(t, h, (a, b) => peek(a.obj, T.field<number>('val')) - peek(b.obj, T.field<number>('val')));
        assert.deepEqual(vals(k, list_entries(t, h)), [0, 1, 2, 3]);
      });
    });
  });

  it('LIST_CHECKS=hardened faults on a poisoned entry instead of reporting', () => {
    const r = runOnce(
      (k) => {
        const { h, node } = setupList(k, 1);
        k.spawn(vcpu(0), function* (t) {
          t.enter(FN);
          yield POINT;
          list_add_tail(t, node(0), h);
          list_del(t, node(0));
          list_del(t, node(0));
        });
      },
      { config: { switches: { LIST_CHECKS: 'hardened' } } },
    );
    assert.equal(r.exec.outcome, 'violation');
    assert.match(r.texts[0], /^Unable to handle kernel paging request at virtual address dead000000000122/);
  });
});
