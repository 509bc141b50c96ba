namespace TaskTempest.Dashboard;

// Its script (app.js), kept as a C# constant rather than a manifest resource: reading a resource goes through the
// assembly's reflection API, and the package has none. Edit it here; it is served as it stands.
internal static partial class DashboardAssets
{
    private const string AppJs = """
// The TaskTempest dashboard. Plain JS, no build step. Every value from the server goes into the page through
// textContent (or an SVG attribute set to a number), never innerHTML: a job's data is shown as text, never run as markup.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let tab = "overview";
  let overview = null;
  let antiforgery = null;          // { headerName, token }, fetched once when actions are allowed
  let busy = false;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function fmtTime(s) { return s ? new Date(s).toLocaleTimeString() : ""; }
  function fmtDate(s) { return s ? new Date(s).toLocaleString() : ""; }
  function fmtSecs(n) { return n === undefined || n === null ? "" : n < 60 ? n.toFixed(1) + " s" : Math.floor(n / 60) + " min " + Math.round(n % 60) + " s"; }
  function num(v) { return v === undefined || v === null ? "–" : String(v); }
  // A payload the server hid has its type and length only; shown, its text.
  function describeError(e) {
    if (!e) return "";
    return e.message !== undefined ? e.type + ": " + e.message : e.type + " (message hidden, " + e.length + " characters)";
  }
  function describeArgs(p) {
    if (!p) return "";
    return p.arguments.map((a) => a.value !== undefined ? a.value : a.kind + " (" + a.length + ")").join(", ");
  }
  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      if (c instanceof Node) { const td = document.createElement("td"); td.appendChild(c); tr.appendChild(td); }
      else if (Array.isArray(c)) tr.appendChild(el("td", c[0], c[1]));
      else tr.appendChild(el("td", c));
    }
    return tr;
  }
  function fill(id, rows, empty, columns) {
    const body = $(id);
    body.replaceChildren();
    if (rows.length === 0) { const tr = document.createElement("tr"); const td = el("td", empty, "hint"); td.colSpan = columns; tr.appendChild(td); body.appendChild(tr); return; }
    for (const r of rows) body.appendChild(r);
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: { "Accept": "application/json" }, credentials: "same-origin" });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error) || ("HTTP " + response.status));
    return body;
  }
  async function act(path, button) {
    if (!antiforgery) antiforgery = await getJson("api/antiforgery");
    const headers = {};
    if (antiforgery.token) headers[antiforgery.headerName] = antiforgery.token;
    if (button) button.disabled = true;
    try {
      const response = await fetch("api/actions/" + path, { method: "POST", headers, credentials: "same-origin" });
      const body = await response.json().catch(() => null);
      $("action-result").textContent = response.ok ? ("done: " + body.count) : ("refused: " + ((body && (body.error || body.message)) || response.status));
    } finally {
      if (button) button.disabled = false;
      refresh();
    }
  }
  function actionButton(label, path, cls) {
    const b = el("button", label, "action" + (cls ? " " + cls : ""));
    b.disabled = !(overview && overview.actionsAllowed);
    b.addEventListener("click", () => act(path, b));
    return b;
  }

  function drawChart(series) {
    const svg = $("chart"), ns = "http://www.w3.org/2000/svg", w = 600, h = 160;
    svg.replaceChildren();
    const n = Math.max(series.length, 60);
    const max = Math.max(1, ...series.map((s) => s.succeeded + s.failed));
    const maxDepth = Math.max(1, ...series.map((s) => (s.waiting || 0) + (s.running || 0)));
    const bw = w / n, offset = n - series.length;
    series.forEach((s, i) => {
      const x = (offset + i) * bw;
      const ok = (s.succeeded / max) * (h - 14), bad = (s.failed / max) * (h - 14);
      for (const [height, y, color] of [[ok, h - ok, "#3fb950"], [bad, h - ok - bad, "#f85149"]]) {
        if (height <= 0) continue;
        const r = document.createElementNS(ns, "rect");
        r.setAttribute("x", String(x)); r.setAttribute("y", String(y));
        r.setAttribute("width", String(Math.max(1, bw - 1))); r.setAttribute("height", String(height));
        r.setAttribute("fill", color);
        svg.appendChild(r);
      }
    });
    const points = series.map((s, i) => ((offset + i) * bw + bw / 2).toFixed(1) + "," + (h - (((s.waiting || 0) + (s.running || 0)) / maxDepth) * (h - 14)).toFixed(1));
    if (points.length > 1) {
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", points.join(" ")); line.setAttribute("fill", "none");
      line.setAttribute("stroke", "#58a6ff"); line.setAttribute("stroke-width", "1.5");
      svg.appendChild(line);
    }
    // The scale as text beside the chart: inside the stretched SVG it would be distorted.
    $("chart-scale").textContent = "scale: " + max + " jobs/s, queue depth " + maxDepth + "; the last " + Math.round(series.length / 6) / 10 + " min";
  }

  function renderOverview(o) {
    $("title").textContent = o.title;
    document.title = o.title + " · TaskTempest";
    const c = o.counts;
    $("stat-ready").textContent = num(c.ready);
    $("stat-scheduled").textContent = num(c.scheduled);
    $("stat-retrying").textContent = num(c.retrying);
    $("stat-running").textContent = num(c.running);
    $("stat-dead").textContent = num(c.dead);
    $("stat-depth").textContent = c.ready === undefined ? "–" : String((c.ready || 0) + (c.scheduled || 0) + (c.retrying || 0));
    $("stat-processed").textContent = String(o.processed);
    $("stat-failed").textContent = String(o.processedFailed);
    const last = o.series.length ? o.series[o.series.length - 1] : null;
    $("rate-now").textContent = last ? "(now " + (last.succeeded + last.failed) + "/s)" : "";
    drawChart(o.series);
    fill("workers", o.workers.map((w) => row([w.engine, w.host, w.pid, w.slots, w.running, fmtDate(w.startedAt), fmtTime(w.lastHeartbeat) + " (" + w.heartbeatAgeSeconds + " s ago)"])), "no workers heartbeat to this queue", 7);
    for (const b of document.querySelectorAll("button.action")) b.disabled = !o.actionsAllowed;
    const status = $("status");
    status.textContent = o.countsError ? "the queue failed: " + o.countsError : "live · " + fmtTime(o.now) + (o.showPayloads ? " · payloads shown" : " · payloads hidden");
    status.className = o.countsError ? "status error" : "status";
  }

  async function renderTab() {
    if (tab === "running") {
      const page = await getJson("api/jobs?state=Running&limit=200");
      fill("running", page.items.map((j) => row([[j.id, "mono"], j.task, fmtTime(j.runningSince), fmtSecs(j.runningSeconds), j.attempt, j.worker || j.owner || "", fmtTime(j.leaseUntil)])), "nothing is running", 7);
    } else if (tab === "failures") {
      const failures = await getJson("api/failures?limit=100");
      fill("failures", failures.map((f) => row([fmtDate(f.failedAt), [f.id, "mono"], f.task, f.attempt, f.status, describeError(f.error)])), "no recent failures", 6);
    } else if (tab === "scheduled") {
      const [scheduled, retrying, schedules] = await Promise.all([getJson("api/jobs?state=Scheduled&limit=200"), getJson("api/jobs?state=Retrying&limit=200"), getJson("api/schedules")]);
      fill("scheduled", scheduled.items.concat(retrying.items).map((j) => row([[j.id, "mono"], j.task, j.state, fmtDate(j.runAt), j.attempt, describeError(j.lastError), describeArgs(j.payload), actionButton("Delete", "delete/" + encodeURIComponent(j.id), "danger")])), "nothing is scheduled or retrying", 8);
      fill("schedules", schedules.map((s) => row([s.name, [s.cron, "mono"], s.timeZone, s.task, fmtDate(s.lastTick), fmtDate(s.nextRun), [s.lastJobId || "", "mono"]])), "no recurring schedules", 7);
    } else if (tab === "dead") {
      const page = await getJson("api/jobs?state=Dead&limit=200");
      fill("dead", page.items.map((j) => {
        const buttons = document.createElement("span");
        buttons.appendChild(actionButton("Requeue", "requeue/" + encodeURIComponent(j.id)));
        buttons.appendChild(document.createTextNode(" "));
        buttons.appendChild(actionButton("Delete", "delete/" + encodeURIComponent(j.id), "danger"));
        const tr = row([[j.id, "mono"], j.task, fmtDate(j.deadAt), j.deadReason || "", j.attempt, describeArgs(j.payload), buttons]);
        tr.dataset.id = j.id;
        return tr;
      }), "no dead letters", 7);
    }
  }

  async function find(id) {
    const dl = $("find-result");
    dl.replaceChildren();
    try {
      const j = await getJson("api/jobs/" + encodeURIComponent(id));
      const pairs = [["Id", j.id], ["Task", j.task], ["State", j.state], ["Attempt", j.attempt], ["Failures", j.failures], ["Lease expiries", j.leaseExpiries],
        ["Queue", j.queue || "default"], ["Priority", j.priority], ["Run at", fmtDate(j.runAt)], ["Enqueued", fmtDate(j.enqueuedAt)],
        ["Worker", j.worker || j.owner || ""], ["Lease until", fmtDate(j.leaseUntil)], ["Dead reason", j.deadReason || ""], ["Last error", describeError(j.lastError)],
        ["Arguments", describeArgs(j.payload)], ["Message", j.payload ? (j.payload.message !== undefined ? j.payload.message : "hidden (" + j.payload.length + " characters)") : ""]];
      for (const [k, v] of pairs) { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v, k === "Message" || k === "Id" ? "mono" : "")); }
    } catch (e) {
      dl.appendChild(el("dt", "Not found")); dl.appendChild(el("dd", e.message));
    }
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      overview = await getJson("api/overview");
      renderOverview(overview);
      await renderTab();
    } catch (e) {
      const status = $("status"); status.textContent = "error: " + e.message; status.className = "status error";
    } finally {
      busy = false;
    }
  }

  for (const b of document.querySelectorAll("nav button")) {
    b.addEventListener("click", () => {
      tab = b.dataset.tab;
      for (const other of document.querySelectorAll("nav button")) other.classList.toggle("active", other === b);
      for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== "tab-" + tab;
      refresh();
    });
  }
  $("requeue-all").addEventListener("click", (e) => act("requeue-all", e.currentTarget));
  // Two steps rather than confirm(): a native dialog would block the page (and a headless browser driving it).
  const deleteAll = $("delete-all");
  let armed = false;
  deleteAll.addEventListener("click", () => {
    if (!armed) { armed = true; deleteAll.textContent = "Click again to delete all"; setTimeout(() => { armed = false; deleteAll.textContent = "Delete all"; }, 4000); return; }
    armed = false; deleteAll.textContent = "Delete all";
    act("delete-all-dead", deleteAll);
  });
  $("find-form").addEventListener("submit", (e) => { e.preventDefault(); find($("find-id").value.trim()); });

  refresh();
  setInterval(refresh, 1000); // live: one poll a second
})();
""";
}
