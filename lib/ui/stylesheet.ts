/**
 * The one stylesheet of the dashboard and the portal, served by their controllers at `<path>/assets/ui.css` (the CSP
 * allows no inline style). System fonts, no web fonts or CDN; light and dark follow the system; readable at 360 px.
 */
export const UI_STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f7f8fa; --panel: #fff; --text: #1b1f24; --muted: #5f6b7a; --line: #e3e6eb;
  --accent: #4f46e5; --accent-text: #fff; --ok: #177245; --ok-bg: #e3f5eb; --bad: #b42318; --bad-bg: #fdecea;
  --warn: #8a5a00; --warn-bg: #fff4d6; --info: #1d4ed8; --info-bg: #e6eefc; --code-bg: #f1f3f6;
  --radius: 8px; --focus: 0 0 0 3px rgba(79, 70, 229, .35);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1217; --panel: #171b22; --text: #e6e9ee; --muted: #9aa4b2; --line: #2a303a; --code-bg: #1f242d;
    --ok: #5fd39a; --ok-bg: #12301f; --bad: #ff8a80; --bad-bg: #3a1614; --warn: #f5c451; --warn-bg: #3a2c0b;
    --info: #8fb4ff; --info-bg: #14233f;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
summary:focus-visible { outline: none; box-shadow: var(--focus); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: var(--panel); padding: 6px 10px; z-index: 2; }
header.top { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; padding: 10px 20px;
  background: var(--panel); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 650; letter-spacing: .2px; }
header.top nav { display: flex; gap: 4px; flex-wrap: wrap; }
header.top nav a { padding: 6px 10px; border-radius: 6px; text-decoration: none; color: var(--muted); }
header.top nav a[aria-current="page"] { background: var(--info-bg); color: var(--info); }
main { max-width: 1180px; margin: 0 auto; padding: 20px; }
h1 { font-size: 20px; margin: 4px 0 16px; }
h2 { font-size: 16px; margin: 24px 0 10px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px;
  margin-bottom: 16px; }
.grid { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); }
.stat { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 12px 14px; }
.stat .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .4px; }
.stat .value { font-size: 22px; font-weight: 650; }
.table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .4px; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--code-bg); padding: 10px 12px; border-radius: 6px; overflow: auto; max-height: 420px;
  white-space: pre-wrap; word-break: break-word; margin: 6px 0; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  background: var(--code-bg); color: var(--muted); white-space: nowrap; }
.pill.ok { background: var(--ok-bg); color: var(--ok); }
.pill.bad { background: var(--bad-bg); color: var(--bad); }
.pill.warn { background: var(--warn-bg); color: var(--warn); }
.pill.info { background: var(--info-bg); color: var(--info); }
.muted { color: var(--muted); }
.notice { padding: 10px 14px; border-radius: var(--radius); margin-bottom: 16px; border: 1px solid var(--line); }
.notice.ok { background: var(--ok-bg); color: var(--ok); }
.notice.bad { background: var(--bad-bg); color: var(--bad); }
.notice.warn { background: var(--warn-bg); color: var(--warn); }
form.inline { display: inline; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 12px; }
label { display: block; font-size: 12px; color: var(--muted); margin-bottom: 2px; }
input, select, textarea { font: inherit; color: var(--text); background: var(--panel); border: 1px solid var(--line);
  border-radius: 6px; padding: 6px 8px; max-width: 100%; }
textarea { width: 100%; min-height: 90px; }
.field { margin-bottom: 12px; }
button, .button { font: inherit; font-weight: 600; border: 1px solid var(--line); background: var(--panel);
  color: var(--text); border-radius: 6px; padding: 6px 12px; cursor: pointer; text-decoration: none;
  display: inline-block; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger { color: var(--bad); }
.actions { display: flex; gap: 6px; flex-wrap: wrap; }
.pager { display: flex; gap: 8px; justify-content: flex-end; margin-top: 10px; }
.chart { display: flex; align-items: flex-end; gap: 2px; height: 80px; padding-top: 6px; }
.chart .bar { flex: 1; display: flex; flex-direction: column-reverse; min-width: 3px; }
.chart .bar span { display: block; }
.chart .ok { background: var(--ok); }
.chart .bad { background: var(--bad); }
.chart .warn { background: var(--warn); }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; word-break: break-all; }
details > summary { cursor: pointer; }
@media (max-width: 640px) {
  main { padding: 12px; }
  th, td { padding: 6px 8px; }
  .hide-narrow { display: none; }
}
`;
