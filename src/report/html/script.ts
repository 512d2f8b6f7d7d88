/**
 * The report's script, inline (the page loads nothing). It reads the page's JSON and only ever
 * writes text (textContent), never markup: names from a scenario cannot become code.
 *
 * Every trace (`.trace[data-t]`) has one row per step (`tr.step[data-s]`); runs of steps that only took
 * and released locks, or only ran guest code, are hidden behind a `tr.fold[data-g]` button. Selecting a
 * step (click, or ↑/↓ and j/k once a step has the focus) fills the panel with what the step read and
 * wrote, the locks held once it was done, and the state as of that step against the step before.
 */
export const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('vgic-data').textContent);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function list(items, none) {
    if (items.length === 0) return el('p', 'none', none);
    var ul = el('ul');
    items.forEach(function (t) { ul.appendChild(el('li', '', t)); });
    return ul;
  }

  function setGroup(trace, g, open) {
    trace.querySelectorAll('tr.step[data-g="' + g + '"]').forEach(function (r) { r.hidden = !open; });
    var b = trace.querySelector('tr.fold[data-g="' + g + '"] button');
    if (b) {
      b.setAttribute('aria-expanded', String(open));
      b.textContent = (open ? '\\u25be ' : '\\u25b8 ') + b.getAttribute('data-label');
    }
  }

  /**
   * The state lines of a step against those before it, by a longest common subsequence: unchanged
   * lines as text, removed ones in del, added ones in ins (a changed line: del, then ins).
   */
  function stateDiff(before, now) {
    var n = before.length, m = now.length, i, j;
    var lcs = [];
    for (i = 0; i <= n; i++) lcs.push(new Array(m + 1).fill(0));
    for (i = n - 1; i >= 0; i--)
      for (j = m - 1; j >= 0; j--)
        lcs[i][j] = before[i] === now[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    var pre = el('pre', 'state');
    i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && before[i] === now[j]) { pre.appendChild(document.createTextNode(now[j] + '\\n')); i++; j++; }
      else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) pre.appendChild(el('del', '', before[i++]));
      else pre.appendChild(el('ins', '', now[j++]));
    }
    return pre;
  }

  function setUp(trace) {
    var t = data.traces[Number(trace.getAttribute('data-t'))];
    var panel = trace.querySelector('.panel');
    var rows = Array.prototype.slice.call(trace.querySelectorAll('tr.step'));
    var current = -1;

    function show(s) {
      var row = t.rows[s], d = t.detail ? t.detail.steps[s] : null;
      panel.textContent = '';
      panel.appendChild(el('h3', '', 'Step ' + s + ' on ' + row.thread));
      var nav = el('div', 'nav');
      var prev = el('button', 'prev', '\\u2191 step before'), next = el('button', 'next', 'step after \\u2193');
      prev.disabled = s === 0; next.disabled = s === t.rows.length - 1;
      prev.addEventListener('click', function () { select(s - 1, true); });
      next.addEventListener('click', function () { select(s + 1, true); });
      nav.appendChild(prev); nav.appendChild(next);
      panel.appendChild(nav);
      panel.appendChild(el('p', 'at', row.at || row.op));
      if (row.op) panel.appendChild(el('p', 'op', 'scheduling point: ' + row.op));
      row.notes.forEach(function (n) { panel.appendChild(el('p', 'note', n)); });
      row.fired.forEach(function (f) { panel.appendChild(el('p', 'fired', '\\u2190 ' + f)); });
      if (!d) { panel.appendChild(el('p', 'none', 'No step details in this report.')); return; }
      panel.appendChild(el('h3', '', 'Read'));
      panel.appendChild(list(d.reads, 'nothing'));
      panel.appendChild(el('h3', '', 'Written'));
      panel.appendChild(list(d.writes, 'nothing'));
      panel.appendChild(el('h3', '', 'Locks held once the step is done'));
      panel.appendChild(list(d.held.map(function (h) { return h.thread + ': ' + h.locks.join(', '); }), 'none'));
      var before = s === 0 ? t.detail.start : t.detail.steps[s - 1].state;
      var h = el('h3', 'state-head', 'State as of step ' + s);
      if (before !== d.state) h.appendChild(el('span', 'dim', ' (changes against step ' + (s - 1) + ' marked)'));
      else h.appendChild(el('span', 'dim', ' (as after step ' + (s - 1) + ')'));
      panel.appendChild(h);
      panel.appendChild(stateDiff(t.detail.states[before], t.detail.states[d.state]));
    }

    function select(s, focus) {
      if (s < 0 || s >= rows.length) return;
      if (current >= 0) rows[current].classList.remove('sel');
      var r = rows[s];
      var g = r.getAttribute('data-g');
      if (g !== null && r.hidden) setGroup(trace, g, true);
      r.classList.add('sel');
      r.setAttribute('aria-selected', 'true');
      if (current >= 0 && current !== s) rows[current].removeAttribute('aria-selected');
      current = s;
      trace.setAttribute('data-selected', String(s));
      show(s);
      if (focus) r.focus();
    }

    rows.forEach(function (r, i) {
      r.addEventListener('click', function () { select(i, false); });
    });
    trace.addEventListener('keydown', function (e) {
      if (e.target.tagName === 'BUTTON' && e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
      var d = e.key === 'ArrowDown' || e.key === 'j' ? 1 : e.key === 'ArrowUp' || e.key === 'k' ? -1 : 0;
      if (d !== 0 && current >= 0) { e.preventDefault(); select(current + d, true); }
    });
    trace.querySelectorAll('tr.fold button').forEach(function (b) {
      b.addEventListener('click', function () {
        setGroup(trace, b.closest('tr').getAttribute('data-g'), b.getAttribute('aria-expanded') !== 'true');
      });
    });
    var all = trace.querySelector('input.every-step');
    if (all) all.addEventListener('change', function () {
      trace.querySelectorAll('tr.fold').forEach(function (f) { setGroup(trace, f.getAttribute('data-g'), all.checked); });
    });
    select(t.firing >= 0 ? t.firing : 0, false);
  }

  document.querySelectorAll('.trace[data-t]').forEach(setUp);
  document.querySelectorAll('button.copy').forEach(function (b) {
    b.addEventListener('click', function () {
      var code = b.parentNode.querySelector('code');
      var sel = window.getSelection(), range = document.createRange();
      range.selectNodeContents(code);
      sel.removeAllRanges();
      sel.addRange(range);
      var done = function () { b.textContent = 'copied'; };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(code.textContent).then(done, function () { b.textContent = 'selected: press Ctrl+C'; });
      else b.textContent = 'selected: press Ctrl+C';
    });
  });
})();
`;
