namespace TaskTempest.Dashboard;

// The page (index.html), kept as a C# constant rather than a manifest resource: reading a resource goes through the
// assembly's reflection API, and the package has none. Edit it here; it is served as it stands.
internal static partial class DashboardAssets
{
    private const string IndexHtml = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TaskTempest dashboard</title>
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
  <h1 id="title">TaskTempest</h1>
  <nav>
    <button data-tab="overview" class="active">Overview</button>
    <button data-tab="running">Running</button>
    <button data-tab="failures">Failures</button>
    <button data-tab="scheduled">Scheduled</button>
    <button data-tab="dead">Dead letters</button>
    <button data-tab="find">Find a job</button>
  </nav>
  <span id="status" class="status">connecting…</span>
</header>
<main>
  <section id="tab-overview" class="tab">
    <div class="cards">
      <div class="card"><div class="label">Ready</div><div class="value" id="stat-ready">–</div></div>
      <div class="card"><div class="label">Scheduled</div><div class="value" id="stat-scheduled">–</div></div>
      <div class="card"><div class="label">Retrying</div><div class="value" id="stat-retrying">–</div></div>
      <div class="card"><div class="label">In flight</div><div class="value" id="stat-running">–</div></div>
      <div class="card"><div class="label">Dead</div><div class="value" id="stat-dead">–</div></div>
      <div class="card"><div class="label">Queue depth</div><div class="value" id="stat-depth">–</div></div>
      <div class="card"><div class="label">Processed here</div><div class="value" id="stat-processed">–</div></div>
      <div class="card"><div class="label">Failed here</div><div class="value" id="stat-failed">–</div></div>
    </div>
    <h2>Jobs per second <span class="hint" id="rate-now"></span></h2>
    <svg id="chart" viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="jobs per second"></svg>
    <div class="legend"><span class="ok">■ succeeded</span> <span class="bad">■ failed</span> <span class="depth">— queue depth</span> <span id="chart-scale"></span></div>
    <h2>Workers</h2>
    <table><thead><tr><th>Engine</th><th>Host</th><th>Pid</th><th>Slots</th><th>Running</th><th>Started</th><th>Last heartbeat</th></tr></thead>
      <tbody id="workers"></tbody></table>
  </section>
  <section id="tab-running" class="tab" hidden>
    <table><thead><tr><th>Id</th><th>Task</th><th>Started</th><th>Duration</th><th>Attempt</th><th>Worker</th><th>Lease until</th></tr></thead>
      <tbody id="running"></tbody></table>
  </section>
  <section id="tab-failures" class="tab" hidden>
    <table><thead><tr><th>When</th><th>Id</th><th>Task</th><th>Attempt</th><th>Status</th><th>Error</th></tr></thead>
      <tbody id="failures"></tbody></table>
  </section>
  <section id="tab-scheduled" class="tab" hidden>
    <h2>Scheduled and retrying</h2>
    <table><thead><tr><th>Id</th><th>Task</th><th>State</th><th>Run at</th><th>Attempt</th><th>Last error</th><th>Arguments</th><th></th></tr></thead>
      <tbody id="scheduled"></tbody></table>
    <h2>Recurring schedules</h2>
    <table><thead><tr><th>Name</th><th>Cron</th><th>Time zone</th><th>Task</th><th>Last tick</th><th>Next run</th><th>Last job</th></tr></thead>
      <tbody id="schedules"></tbody></table>
  </section>
  <section id="tab-dead" class="tab" hidden>
    <div class="toolbar">
      <button id="requeue-all" class="action">Requeue all</button>
      <button id="delete-all" class="action danger">Delete all</button>
      <span id="action-result" class="hint"></span>
    </div>
    <table><thead><tr><th>Id</th><th>Task</th><th>Dead at</th><th>Reason</th><th>Attempt</th><th>Arguments</th><th></th></tr></thead>
      <tbody id="dead"></tbody></table>
  </section>
  <section id="tab-find" class="tab" hidden>
    <form id="find-form"><input id="find-id" placeholder="job id" autocomplete="off"> <button type="submit">Find</button></form>
    <dl id="find-result"></dl>
  </section>
</main>
</body>
</html>
""";
}
