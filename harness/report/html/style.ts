/** One stylesheet inlined in every page: the report is a single self-contained file per page. */
export const STYLE = `
:root { --passed:#2e9d4f; --failed:#d23a3a; --error:#e08a00; --skipped:#9aa0a6; --interrupted:#6b5bd2; --ink:#1f2328; --muted:#656d76; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 24px 32px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted { color: var(--muted); } code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
.totals span { display: inline-block; margin-right: 14px; font-weight: 600; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: baseline; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
table.heat td.cell { width: 92px; height: 44px; text-align: center; color: #fff; font-weight: 600; padding: 2px; }
table.heat td.cell a { color: #fff; text-decoration: none; display: block; line-height: 40px; }
table.heat td.empty { background: #f6f8fa; }
.o-passed { background: var(--passed); } .o-failed { background: var(--failed); } .o-error { background: var(--error); } .o-skipped { background: var(--skipped); } .o-interrupted { background: var(--interrupted); }
.t-passed { color: var(--passed); } .t-failed { color: var(--failed); } .t-error { color: var(--error); } .t-skipped { color: var(--skipped); } .t-interrupted { color: var(--interrupted); }
.flag-on { background: #e6f4ea; text-align: center; } .flag-off { background: #fce8e6; text-align: center; } .notable { font-weight: 700; }
pre.log { background: #0d1117; color: #e6edf3; padding: 10px; max-height: 480px; overflow: auto; white-space: pre-wrap; }
.log .s-console { color: #8b949e; } .log .s-app { color: #e6edf3; } .log .s-harness { color: #79c0ff; }
.kv td:first-child { color: var(--muted); white-space: nowrap; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
`;
