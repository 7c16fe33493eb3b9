/** One stylesheet inlined in every page: the report is a single self-contained file per page. */
export const STYLE = `
:root { --passed:#2e9d4f; --failed:#d23a3a; --error:#e08a00; --skipped:#9aa0a6; --interrupted:#6b5bd2; --incomplete:#1b8a99; --flaky:#c2185b; --notrun:#d0d7de; --ink:#1f2328; --muted:#656d76; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 20px 32px 48px; background: #fff; }
header { border-bottom: 1px solid var(--line); padding-bottom: 8px; margin-bottom: 12px; }
h1 { font-size: 22px; margin: 0 0 2px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 16px 0 6px; }
.env { color: var(--muted); margin: 0; font-size: 13px; }
.muted { color: var(--muted); } code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 13px; margin-right: 4px; }
.pill.o-notrun { color: var(--ink); }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
.scroll { overflow-x: auto; }
table.heat th { white-space: nowrap; } table.heat th.group { vertical-align: middle; } table.heat th.corner { color: var(--muted); font-weight: 400; }
table.heat td.cell { width: 96px; min-width: 96px; height: 46px; text-align: center; padding: 0; }
table.heat td.cell a { color: #fff; text-decoration: none; display: block; padding: 4px 2px; }
table.heat td.cell b { display: block; font-size: 16px; line-height: 18px; }
table.heat td.cell small { display: block; font-size: 11px; line-height: 14px; opacity: .95; }
table.heat.compact td.cell { width: 30px; min-width: 30px; height: 24px; } table.heat.compact td.cell a { padding: 2px 0; } table.heat.compact td.cell b { font-size: 13px; } table.heat.compact td.cell small { display: none; } table.heat.compact th { font-size: 12px; padding: 2px 6px; }
table.heat td.cell:hover { outline: 3px solid var(--ink); outline-offset: -3px; }
table.heat td.empty { background: repeating-linear-gradient(45deg, #f6f8fa, #f6f8fa 4px, #fff 4px, #fff 8px); }
.o-passed { background: var(--passed); } .o-failed { background: var(--failed); } .o-error { background: var(--error); } .o-skipped { background: var(--skipped); } .o-interrupted { background: var(--interrupted); } .o-incomplete { background: var(--incomplete); } .o-flaky { background: repeating-linear-gradient(45deg, var(--flaky), var(--flaky) 4px, var(--passed) 4px, var(--passed) 8px); } .o-notrun { background: var(--notrun); }
.t-passed { color: var(--passed); } .t-failed { color: var(--failed); font-weight: 600; } .t-error { color: var(--error); font-weight: 600; } .t-skipped { color: var(--skipped); } .t-interrupted { color: var(--interrupted); } .t-incomplete { color: var(--incomplete); font-weight: 600; } .t-flaky { color: var(--flaky); font-weight: 600; }
table.problems td:first-child { white-space: nowrap; }
tr.bad td { background: #fff5f5; }
.banner { color: #fff; padding: 10px 14px; border-radius: 6px; margin: 10px 0 14px; font-size: 15px; }
.banner .meaning { opacity: .85; font-size: 13px; }
.banner code { color: #fff; background: rgba(0,0,0,.15); padding: 0 4px; border-radius: 3px; }
.columns { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.flag-on { background: #e6f4ea; text-align: center; color: var(--passed); } .flag-off { background: #fce8e6; text-align: center; color: var(--failed); }
td.notable { font-weight: 700; background: #fff8c5; }
td.differs { background: #fff8c5; }
pre.log { background: #0d1117; color: #e6edf3; padding: 10px; max-height: 520px; overflow: auto; white-space: pre-wrap; }
.log .s-console { color: #8b949e; } .log .s-app { color: #e6edf3; } .log .s-harness { color: #79c0ff; } .log .s-heartbeat { color: #56d364; }
.kv td:first-child { color: var(--muted); white-space: nowrap; }
.kv td { max-width: 900px; word-break: break-word; }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0; } .sw { display: inline-block; width: 18px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
svg.timeline { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); } svg text.note { fill: var(--muted); }
details summary { cursor: pointer; color: var(--muted); margin: 4px 0; }
`;
