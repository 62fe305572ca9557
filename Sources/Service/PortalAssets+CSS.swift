extension PortalAssets {
    /// The stylesheet (`GET /portal/app.css`).
    static let css = #"""
:root {
  --bg: #f5f6f8; --panel: #fff; --text: #1b1f24; --muted: #5b6470; --line: #d9dde3;
  --accent: #1d4ed8; --ok: #15803d; --ok-bg: #dcfce7; --bad: #b91c1c; --bad-bg: #fee2e2;
  --wait: #92400e; --wait-bg: #fef3c7; --off: #4b5563; --off-bg: #e5e7eb;
  --focus: #f59e0b;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  font-size: 15px; line-height: 1.45; color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; overflow-wrap: anywhere; }
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
h3 { font-size: .95rem; margin: 1.2rem 0 .5rem; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; }
.muted { color: var(--muted); }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: .5rem; z-index: 2; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }

.topbar { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; padding: .7rem 1.2rem; background: #0f172a; color: #fff; }
.brand { display: flex; align-items: center; gap: .5rem; }
.logo { width: 1.4rem; height: 1.4rem; border-radius: .3rem; background: var(--accent); display: inline-block; }
.session { margin: 0; flex: 1; color: #cbd5e1; font-size: .9rem; min-width: 12rem; }
.topbar .button { background: #1e293b; color: #fff; border-color: #334155; }

.notice { margin: .8rem 1.2rem 0; padding: .6rem .8rem; border-radius: .4rem; background: #e0e7ff; border: 1px solid #c7d2fe; }
.notice.error { background: var(--bad-bg); border-color: #fca5a5; color: #7f1d1d; }

main { padding: 1rem 1.2rem 2rem; }
.layout { display: grid; grid-template-columns: minmax(16rem, 22rem) minmax(0, 1fr); gap: 1rem; align-items: start; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: .6rem; padding: 1rem; min-width: 0; }
.signin { max-width: 40rem; margin: 2rem auto; }
.row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .5rem 0; }
label { font-weight: 600; }
input { font: inherit; padding: .4rem .5rem; border: 1px solid #9aa3af; border-radius: .35rem; min-width: 0; max-width: 100%; }

.button { font: inherit; font-size: .9rem; padding: .4rem .75rem; border-radius: .35rem; border: 1px solid #9aa3af; background: #fff; color: var(--text); cursor: pointer; }
.button:hover { background: #f1f5f9; }
.button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
.button[disabled] { opacity: .55; cursor: default; }
.button.filter[aria-pressed="true"] { background: #0f172a; color: #fff; border-color: #0f172a; }
.button.small { font-size: .82rem; padding: .25rem .55rem; }

.webhooks { list-style: none; margin: 0; padding: 0; display: grid; gap: .5rem; }
.webhook { width: 100%; text-align: left; display: grid; gap: .25rem; padding: .6rem .7rem; border: 1px solid var(--line); border-radius: .5rem; background: #fff; font: inherit; color: inherit; cursor: pointer; }
.webhook:hover { border-color: #94a3b8; }
.webhook[aria-current="true"] { border-color: var(--accent); box-shadow: inset 4px 0 0 var(--accent); }
.webhook .url { font-weight: 600; }
.facts { display: flex; flex-wrap: wrap; gap: .3rem .8rem; font-size: .85rem; color: var(--muted); }

.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; border: 1px solid transparent; }
.badge.succeeded, .badge.enabled { background: var(--ok-bg); color: var(--ok); border-color: #86efac; }
.badge.failed, .badge.failing { background: var(--bad-bg); color: var(--bad); border-color: #fca5a5; }
.badge.pending, .badge.paused { background: var(--wait-bg); color: var(--wait); border-color: #fcd34d; }
.badge.disabled { background: var(--off-bg); color: var(--off); border-color: #cbd5e1; }

.detail .url { font-size: 1.05rem; margin-bottom: .1rem; }
.detail #detail-description { margin: 0; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: .4rem; margin: .6rem 0; }
.summary div { background: #f8fafc; border: 1px solid var(--line); border-radius: .4rem; padding: .3rem .55rem; min-width: 0; }
.summary dt { font-size: .78rem; color: var(--muted); }
.summary dd { margin: 0; font-weight: 600; font-size: .9rem; }

.chart { margin: .5rem 0 0; }
.chart figcaption { font-weight: 600; font-size: .9rem; }
.chart-box { width: 100%; }
.chart-box svg { display: block; width: 100%; height: auto; }
.bar-ok { fill: #60a5fa; }
.bar-failed { fill: var(--bad); }
.axis { stroke: #94a3b8; stroke-width: 1; }
.grid { stroke: #e2e8f0; stroke-width: 1; }
.tick { fill: var(--muted); font-size: 11px; font-family: inherit; }
.legend { font-size: .82rem; color: var(--muted); margin: .2rem 0 0; }
.key { display: inline-block; width: .8rem; height: .8rem; border-radius: .15rem; vertical-align: -1px; margin-left: .4rem; }
.key-ok { background: #60a5fa; }
.key-failed { background: var(--bad); }

.actions { border-top: 1px solid var(--line); margin-top: 1rem; }
.confirm, .secret { border: 1px solid #fcd34d; background: #fffbeb; border-radius: .4rem; padding: .6rem .8rem; margin: .5rem 0; }
.secret-value { display: block; padding: .4rem; background: #fff; border: 1px dashed #d97706; word-break: break-all; user-select: all; }

.deliveries { width: 100%; border-collapse: collapse; font-size: .88rem; }
.deliveries th { text-align: left; font-size: .78rem; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: .35rem .4rem; }
.deliveries td { border-bottom: 1px solid #eef0f3; padding: .4rem; vertical-align: top; }
.deliveries tr.open > td { background: #f8fafc; }
.cell-actions { white-space: nowrap; text-align: right; }
.attempts { list-style: none; padding: 0; margin: .3rem 0; display: grid; gap: .5rem; }
.attempt { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .6rem; background: #fff; }
.attempt dl { display: grid; grid-template-columns: repeat(4, max-content minmax(0, 1fr)); gap: .15rem .7rem; margin: 0; }
.attempt dd.wide { grid-column: span 7; }
.attempt dt { color: var(--muted); }
.attempt dd { margin: 0; min-width: 0; }
.body { margin: .2rem 0 0; max-height: 16rem; overflow: auto; background: #0f172a; color: #e2e8f0; padding: .5rem; border-radius: .3rem; white-space: pre-wrap; word-break: break-all; font-size: .8rem; }
.pager { justify-content: space-between; }

@media (max-width: 760px) {
  :root { font-size: 15px; }
  main { padding: .6rem; }
  .topbar { padding: .6rem; }
  .layout { grid-template-columns: minmax(0, 1fr); }
  .deliveries thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .deliveries, .deliveries tbody, .deliveries tr, .deliveries td { display: block; width: 100%; }
  .deliveries tr { border: 1px solid var(--line); border-radius: .4rem; margin: 0 0 .5rem; padding: .3rem; }
  .deliveries td { border: 0; padding: .2rem .3rem; }
  .deliveries td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .78rem; }
  .cell-actions { text-align: left; }
  .attempt dl { grid-template-columns: max-content minmax(0, 1fr); }
  .attempt dd.wide { grid-column: auto; }
}
"""#
}
