"""One self-contained HTML report of a leaderboard (inline CSS, JS and SVG; nothing fetched).

It shows the leaderboard table (EX, verified and proved accuracy, the verified pairs by strength:
every size, up to k, below k, undecided), a slope chart of rank changes (rank by EX → rank by
verified accuracy), per-system bars stacked by strength (every size, up to k, below k, undecided,
then refuted: with EX as % of the questions, the whole bar being EX; without EX as counts), and a viewer
for each refuted pair: the question, gold and predicted SQL, the counterexample's tables and
both results. The page is built in the browser from the data embedded as JSON, so what a
browser renders is what the test checks (`tests/test_bench_report.py` uses headless Chromium).

Example:
    write_report(leaderboard, Path("/tmp/lb/report.html"))
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from benchmarks.evaluate import Leaderboard

MAX_REFUTED = 5000  # pairs embedded in the viewer (the run store has all of them)


def report_data(lb: Leaderboard) -> dict[str, Any]:
    refuted = []
    for r in lb.records:
        if r.outcome != "refuted" or r.counterexample is None:
            continue
        if len(refuted) >= MAX_REFUTED:
            break
        q = lb.questions.get(r.question, {})
        c = r.counterexample
        refuted.append({"system": r.system, "question": r.question, "db_id": r.db_id, "difficulty": r.difficulty,
                        "text": q.get("question", ""), "evidence": q.get("evidence", ""), "gold": r.gold_sql,
                        "pred": r.pred_sql, "reason": r.reason or "", "tables": c.get("tables", {}),
                        "gold_result": c.get("gold_result"), "pred_result": c.get("gen_result"),
                        "found_by": c.get("found_by", "")})
    return {"benchmark": lb.benchmark, "ex_available": lb.ex_available, "pairs": lb.pairs,
            "wall_seconds": lb.wall_seconds, "excluded": lb.excluded_questions,
            "config": {k: lb.config.get(k) for k in ("bound", "timeout", "effort", "ex_timeout",
                                                      "keep_distinct", "constraints")},
            "systems": [s.model_dump() for s in lb.systems], "refuted": refuted,
            "refuted_total": sum(1 for r in lb.records if r.outcome == "refuted")}


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px} .muted{color:#667}
table{border-collapse:collapse;font-variant-numeric:tabular-nums} th,td{padding:4px 8px;border-bottom:1px solid #e3e6ec}
th{background:#f4f6f9;text-align:right;cursor:pointer;white-space:nowrap} td{text-align:right}
th:first-child,td:first-child{text-align:left} tr:hover td{background:#fafbfd}
.up{color:#127a3b}.down{color:#b3261e} svg text{font-size:12px;fill:#1d2330}
pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;margin:4px 0} .pair{border:1px solid #dde;padding:8px 12px;border-radius:6px}
.cex table{margin:4px 12px 8px 0;display:inline-table;vertical-align:top;font-size:12px} .cex caption{text-align:left;font-weight:600}
select,input{font:inherit;padding:2px 4px} .null{color:#999;font-style:italic}
"""

_JS = r"""
const D = JSON.parse(document.getElementById('data').textContent);
const $ = (t, a = {}, kids = []) => { const e = document.createElement(t);
  for (const [k, v] of Object.entries(a)) { if (k === 'text') e.textContent = v; else e.setAttribute(k, v); }
  for (const k of kids) e.appendChild(k); return e; };
const S = (t, a = {}) => { const e = document.createElementNS('http://www.w3.org/2000/svg', t);
  for (const [k, v] of Object.entries(a)) { if (k === 'text') e.textContent = v; else e.setAttribute(k, v); } return e; };
const pct = v => v === null || v === undefined ? '–' : v.toFixed(1);
const cfg = D.config;
const STRENGTHS = [['every_size', 'every size', '#1b6e35'], ['up_to_k', 'up to k', '#5fae6b'],
  ['below_k', 'below k', '#e0a526'], ['undecided', 'undecided', '#9aa3b2'], ['strength_unknown', 'strength unknown', '#c9ced8']];
document.getElementById('meta').textContent = `${D.systems.length} systems, ${D.pairs} pairs` +
  (D.excluded ? `, ${D.excluded} questions without a database excluded` : '') +
  `; verifier bound ${cfg.bound}, ${cfg.timeout}s per pair` + (cfg.constraints ? `, constraints ${cfg.constraints}` : '') +
  (D.ex_available ? '' : '; no databases: EX unavailable, verification only') + `; wall ${D.wall_seconds}s`;

// leaderboard table
const cols = D.ex_available
  ? [['system','system'],['questions','n'],['ex_acc','EX %'],['verified_acc','verified %'],['proved_acc','proved %'],
     ['drop','drop pp'],['rank_ex','rank EX'],['rank_verified','rank verified'],...strengthCols(),['refuted','refuted'],
     ['refuted_by_database','wrong on DB'],['unknown','unknown'],['unsupported','unsupported'],['nondeterministic','nondet.'],
     ['error','error'],['timeout','timeout']]
  : [['system','system'],['questions','n'],['refuted','refuted'],['proved_acc','proved %'],...strengthCols(),
     ['rank_verified','rank (fewest refuted+error)'],
     ['unknown','unknown'],['unsupported','unsupported'],['nondeterministic','nondet.'],['error','error'],['timeout','timeout']];
// the verified pairs by strength; 'strength unknown' only when a store written before strengths has such rows
function shownStrengths() {
  return STRENGTHS.filter(([k]) => k !== 'strength_unknown' || D.systems.some(s => s.strength_unknown));
}
function strengthCols() { return shownStrengths().map(([k, h]) => [k, h]); }
let sortKey = D.ex_available ? 'rank_verified' : 'rank_verified', sortDir = 1;
function drawTable() {
  const rows = [...D.systems].sort((a, b) => { const x = a[sortKey], y = b[sortKey];
    return (typeof x === 'string' ? x.localeCompare(y) : (x ?? -1) - (y ?? -1)) * sortDir; });
  const t = $('table', {id: 'leaderboard'});
  t.appendChild($('thead', {}, [$('tr', {}, cols.map(([k, h]) => { const th = $('th', {text: h, title: 'sort'});
    th.onclick = () => { sortDir = sortKey === k ? -sortDir : 1; sortKey = k; drawTable(); }; return th; }))]));
  const tb = $('tbody');
  for (const s of rows) {
    tb.appendChild($('tr', {'data-system': s.system}, cols.map(([k]) => {
      let v = s[k]; if (['ex_acc','verified_acc','proved_acc','drop'].includes(k)) v = pct(v);
      const td = $('td', {text: v ?? '–'});
      if (k === 'rank_verified' && s.rank_ex) { const d = s.rank_ex - s.rank_verified;
        if (d) { td.appendChild($('span', {class: d > 0 ? 'up' : 'down', text: ` (${d > 0 ? '+' : ''}${d})`})); } }
      return td; })));
  }
  t.appendChild(tb);
  document.getElementById('table').replaceChildren(t);
}
drawTable();

// slope chart: rank by EX (left) -> rank by verified accuracy (right)
function drawSlope() {
  const host = document.getElementById('slope');
  if (!D.ex_available) { host.textContent = 'EX unavailable: no rank change to show.'; return; }
  const n = D.systems.length, h = 40 + 26 * n, w = 640, x1 = 200, x2 = 440;
  const y = r => 30 + (r - 1) * 26;
  // positions follow the sorted order, so tied ranks do not overlap; labels show the rank
  const byEx = [...D.systems].sort((a, b) => a.rank_ex - b.rank_ex || a.system.localeCompare(b.system));
  const byVer = [...D.systems].sort((a, b) => a.rank_verified - b.rank_verified || a.rank_ex - b.rank_ex || a.system.localeCompare(b.system));
  const posL = Object.fromEntries(byEx.map((s, i) => [s.system, i + 1]));
  const posR = Object.fromEntries(byVer.map((s, i) => [s.system, i + 1]));
  const svg = S('svg', {id: 'slope-chart', width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img'});
  svg.appendChild(S('text', {x: x1, y: 14, 'text-anchor': 'middle', text: 'rank by EX'}));
  svg.appendChild(S('text', {x: x2, y: 14, 'text-anchor': 'middle', text: 'rank by verified'}));
  for (const s of D.systems) {
    const d = s.rank_ex - s.rank_verified, color = d > 0 ? '#127a3b' : d < 0 ? '#b3261e' : '#8a93a6';
    const g = S('g', {class: 'slope', 'data-system': s.system});
    const yl = y(posL[s.system]), yr = y(posR[s.system]);
    g.appendChild(S('line', {x1, y1: yl, x2, y2: yr, stroke: color, 'stroke-width': 2}));
    g.appendChild(S('circle', {cx: x1, cy: yl, r: 4, fill: color}));
    g.appendChild(S('circle', {cx: x2, cy: yr, r: 4, fill: color}));
    g.appendChild(S('text', {x: x1 - 10, y: yl + 4, 'text-anchor': 'end', text: `${s.rank_ex}. ${s.system} ${pct(s.ex_acc)}`}));
    g.appendChild(S('text', {x: x2 + 10, y: yr + 4, text: `${s.rank_verified}. ${s.system} ${pct(s.verified_acc)}`}));
    svg.appendChild(g);
  }
  host.replaceChildren(svg);
}
drawSlope();

// per-system bars, stacked by strength: every size, up to k, below k, undecided (together the
// verified pairs), then refuted; with EX in % of the questions (the whole bar is EX), else counts
function drawBars() {
  const n = D.systems.length, rowH = 22, w = 860, left = 190, top = 30, h = top + 10 + rowH * n;
  const svg = S('svg', {id: 'bars-chart', width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img'});
  const segs = [...shownStrengths(), ['refuted', 'refuted', '#b3261e']];
  let lx = left;
  for (const [k, label, color] of segs) {  // legend
    svg.appendChild(S('rect', {x: lx, y: 6, width: 10, height: 10, fill: color}));
    svg.appendChild(S('text', {x: lx + 14, y: 15, text: label})); lx += 24 + 7 * label.length;
  }
  const max = D.ex_available ? 100 : Math.max(1, ...D.systems.map(s => s.questions));
  const sx = v => (w - left - 230) * v / max;
  const size = (s, k) => D.ex_available ? 100 * s[k] / Math.max(1, s.questions) : s[k];
  D.systems.forEach((s, i) => {
    const y0 = top + i * rowH, g = S('g', {class: 'bar', 'data-system': s.system});
    g.appendChild(S('text', {x: left - 8, y: y0 + 12, 'text-anchor': 'end', text: s.system}));
    let x = left;
    for (const [k, label, color] of segs) {
      const width = sx(size(s, k));
      if (width > 0) {
        const r = S('rect', {class: `bar-seg bar-${k}`, 'data-count': s[k], x, y: y0, width, height: 14, fill: color});
        r.appendChild(S('title', {text: `${label}: ${s[k]}`}));
        g.appendChild(r);
      }
      x += width;
    }
    g.appendChild(S('text', {x: x + 6, y: y0 + 12, text: D.ex_available
      ? `EX ${pct(s.ex_acc)} · verified ${pct(s.verified_acc)} · proved ${pct(s.proved_acc)}`
      : `${s.refuted} refuted · proved ${pct(s.proved_acc)}`}));
    svg.appendChild(g);
  });
  document.getElementById('bars').replaceChildren(svg);
}
drawBars();

// refuted pairs
function resultTable(caption, t) {
  const tab = $('table'); tab.appendChild($('caption', {text: caption}));
  if (!t) return tab;
  tab.appendChild($('tr', {}, t.columns.map(c => $('th', {text: c}))));
  for (const r of t.rows) tab.appendChild($('tr', {}, r.map(v => v === null ? $('td', {class: 'null', text: 'NULL'}) : $('td', {text: String(v)}))));
  if (!t.rows.length) tab.appendChild($('tr', {}, [$('td', {class: 'null', colspan: Math.max(1, t.columns.length), text: '(no rows)'})]));
  return tab;
}
const sel = document.getElementById('sys'), list = document.getElementById('pairs'), view = document.getElementById('pair');
for (const s of ['(all systems)', ...D.systems.map(s => s.system)]) sel.appendChild($('option', {text: s}));
function drawList() {
  const f = sel.value, items = D.refuted.map((p, i) => [p, i]).filter(([p]) => f === '(all systems)' || p.system === f);
  list.replaceChildren(...items.map(([p, i]) => $('option', {value: i, text: `${p.system} · #${p.question} · ${p.db_id} · ${p.text.slice(0, 70)}`})));
  document.getElementById('count').textContent = `${items.length} refuted pairs` + (D.refuted.length < D.refuted_total ? ` (first ${D.refuted.length} of ${D.refuted_total} embedded)` : '');
  if (items.length) { list.selectedIndex = 0; show(items[0][1]); } else view.replaceChildren();
}
function show(i) {
  const p = D.refuted[i];
  const cex = $('div', {class: 'cex'});
  for (const [name, t] of Object.entries(p.tables)) cex.appendChild(resultTable(`table ${name}`, t));
  const res = $('div', {class: 'cex'}, [resultTable('gold result', p.gold_result), resultTable('predicted result', p.pred_result)]);
  view.replaceChildren($('div', {class: 'pair'}, [
    $('h3', {text: `${p.system}, question ${p.question} (${p.db_id}, ${p.difficulty})`}), $('p', {text: p.text}),
    ...(p.evidence ? [$('p', {class: 'muted', text: 'evidence: ' + p.evidence})] : []),
    $('b', {text: 'gold'}), $('pre', {text: p.gold}), $('b', {text: 'prediction'}), $('pre', {text: p.pred}),
    $('b', {text: `counterexample database (found by ${p.found_by})`}), cex, $('b', {text: 'results on it'}), res]));
}
sel.onchange = drawList; list.onchange = () => show(+list.value);
drawList();
document.body.setAttribute('data-rendered', 'yes');
"""


def render_html(lb: Leaderboard) -> str:
    data = json.dumps(report_data(lb), default=str).replace("</", "<\\/")
    title = html.escape(f"sqlwitness leaderboard: {lb.benchmark}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body>
<h1>{title}</h1><div id="meta" class="muted"></div>
<p class="muted">EX: execution accuracy on the dev database (official metric). Verified: EX-accepted and not refuted
by a counterexample database that fits the schema (every counterexample was executed and the metric rejects it).
Proved: EX-accepted and proved equivalent at least up to the requested bound k (for every size, or up to k rows per
table), so proved &le; the truth &le; verified. The verified pairs by strength: every size, up to k, below k (the proof
stopped at a smaller k: time ran out, the solver gave up, models resting on ties were not confirmed), undecided
(unknown, unsupported, nondeterministic, error, timeout).</p>
<h2>Leaderboard</h2><div id="table"></div>
<h2>Rank changes</h2><div id="slope"></div>
<h2>Per system</h2><div id="bars"></div>
<h2>Refuted pairs</h2>
<div><label>system <select id="sys"></select></label> <span id="count" class="muted"></span></div>
<select id="pairs" size="8" style="width:100%;margin:6px 0"></select>
<div id="pair"></div>
<script type="application/json" id="data">{data}</script>
<script>{_JS}</script>
</body></html>
"""


def write_report(lb: Leaderboard, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(lb), encoding="utf-8")
    return path


__all__ = ["write_report", "render_html", "report_data"]
