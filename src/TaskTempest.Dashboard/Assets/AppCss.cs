namespace TaskTempest.Dashboard;

// Its style (app.css), kept as a C# constant rather than a manifest resource: reading a resource goes through the
// assembly's reflection API, and the package has none. Edit it here; it is served as it stands.
internal static partial class DashboardAssets
{
    private const string AppCss = """
:root { --bg:#0f1720; --panel:#17212d; --text:#e6edf3; --muted:#8b9bb0; --ok:#3fb950; --bad:#f85149; --accent:#58a6ff; --line:#263445; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; align-items:center; gap:16px; padding:10px 16px; background:var(--panel); border-bottom:1px solid var(--line); flex-wrap:wrap; }
h1 { font-size:18px; margin:0; }
h2 { font-size:15px; margin:18px 0 8px; }
nav button, .toolbar button, td button, form button { background:#223043; color:var(--text); border:1px solid var(--line); border-radius:4px; padding:4px 10px; cursor:pointer; }
nav button.active { background:var(--accent); color:#000; }
button:disabled { opacity:.4; cursor:not-allowed; }
button.danger { border-color:var(--bad); }
.status { margin-left:auto; color:var(--muted); }
.status.error { color:var(--bad); }
main { padding:16px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(130px, 1fr)); gap:10px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:10px; }
.label { color:var(--muted); font-size:12px; }
.value { font-size:24px; font-variant-numeric:tabular-nums; }
svg#chart { width:100%; height:180px; background:var(--panel); border:1px solid var(--line); border-radius:6px; }
.legend { color:var(--muted); font-size:12px; margin-top:4px; }
.ok { color:var(--ok); } .bad { color:var(--bad); } .depth { color:var(--accent); }
table { width:100%; border-collapse:collapse; background:var(--panel); }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:normal; }
td.mono, .mono { font-family:ui-monospace, monospace; font-size:12px; word-break:break-all; }
.hint { color:var(--muted); font-size:12px; font-weight:normal; }
.toolbar { display:flex; gap:8px; align-items:center; margin-bottom:10px; }
dl { display:grid; grid-template-columns:max-content 1fr; gap:4px 12px; }
dt { color:var(--muted); }
input { background:var(--panel); color:var(--text); border:1px solid var(--line); padding:4px 8px; width:260px; }
""";
}
