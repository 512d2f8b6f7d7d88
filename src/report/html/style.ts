/** The report's styles (inline: the page loads nothing). */
export const STYLE = `
:root { --fg: #1d2021; --dim: #6b6b6b; --line: #d8d8d8; --bad: #b3261e; --bad-bg: #fde7e4; --ok: #1b6e2d;
  --ok-bg: #e3f4e6; --warn: #8a5a00; --warn-bg: #fff4d6; --sel: #dbe8ff; --mono: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1600px; padding: 1rem 1.5rem 4rem; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 .4rem; border-top: 1px solid var(--line); padding-top: 1rem; }
h3 { font-size: .95rem; margin: .9rem 0 .3rem; }
code, pre, .lanes, .panel { font-family: var(--mono); font-size: 12.5px; }
pre { background: #f6f6f4; border: 1px solid var(--line); padding: .6rem .8rem; overflow-x: auto; margin: .3rem 0; }
pre.kernel { background: #fffaf9; border-color: #f1c9c4; }
.verdict { font-weight: 600; }
.dim, .config { color: var(--dim); }
nav ol { margin: .3rem 0; padding-left: 1.5rem; }
.replay { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; }
.replay code { background: #f6f6f4; border: 1px solid var(--line); padding: .2rem .4rem; overflow-x: auto; white-space: nowrap; flex: 1; }
button { font: inherit; cursor: pointer; }
.trace { display: grid; grid-template-columns: minmax(0, 1fr) minmax(22rem, 34%); gap: 1rem; align-items: start; margin-top: .5rem; }
.tools { margin: .3rem 0; color: var(--dim); }
.lanes { width: 100%; border-collapse: collapse; table-layout: fixed; }
.lanes th, .lanes td { border-bottom: 1px solid #eee; padding: .15rem .4rem; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
.lanes thead th { position: sticky; top: 0; background: #fff; border-bottom: 2px solid var(--line); z-index: 1; }
.lanes th.n { width: 3.2rem; color: var(--dim); font-weight: normal; text-align: right; }
.lanes td.c + td.c, .lanes td + td { border-left: 1px solid #f0f0f0; }
tr.step { cursor: pointer; }
tr.step:hover { background: #f5f8ff; }
tr.step.sel { background: var(--sel); outline: 2px solid #6d95e8; outline-offset: -2px; }
tr.firing { background: var(--bad-bg); }
tr.firing th.n::before { content: ">> "; color: var(--bad); font-weight: 700; }
.at { font-weight: 600; }
.op { color: var(--dim); }
.note { color: #333; }
.fired { color: var(--bad); font-weight: 700; }
tr.fold td button { border: 0; background: none; color: var(--dim); padding: 0; text-align: left; }
tr.fold td button:hover { color: var(--fg); text-decoration: underline; }
.panel { position: sticky; top: .5rem; max-height: calc(100vh - 1rem); overflow: auto; border: 1px solid var(--line); padding: .5rem .8rem; background: #fcfcfb; }
.panel h3:first-child { margin-top: 0; }
.panel p { margin: .15rem 0; }
.panel ul { margin: 0; padding-left: 1.1rem; }
.panel .none { color: var(--dim); }
.panel pre { white-space: pre-wrap; font-size: 12px; }
.panel .nav { display: flex; gap: .4rem; margin: .3rem 0; }
ins, del { text-decoration: none; display: block; }
ins { background: var(--ok-bg); }
del { background: var(--bad-bg); text-decoration: line-through; color: #7a3b36; }
table.matrix { border-collapse: collapse; margin: .5rem 0; font-family: var(--mono); font-size: 12.5px; }
table.matrix th, table.matrix td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; }
table.matrix td.clean { background: var(--ok-bg); color: var(--ok); }
table.matrix td.none-found { background: var(--warn-bg); color: var(--warn); }
table.matrix td.not-a-design { color: var(--dim); }
table.matrix td.finding { background: var(--bad-bg); }
table.matrix td.finding a { color: var(--bad); font-weight: 600; }
ul.legend { list-style: none; padding-left: 0; font-family: var(--mono); font-size: 12.5px; }
ul.legend b { display: inline-block; min-width: 3.5rem; }
`;
