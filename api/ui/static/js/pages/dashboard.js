// Dashboard: scheduler and node health, queue depth, running jobs, recent failures, load and ingest.
import { get, getAll } from "../api.js";
import { h, link, badge, when, table, chart, jobTypeName, notice } from "../ui.js";

// The load chart: GET /api/load/, the samples the clock takes every minute (a minute with no
// pending, queued or running job has no sample).
const LOAD_RANGE = "PT6H";

function health(status, scheduler) {
  const s = status.scheduler || {};
  return h("div", { class: "kpis" },
    h("div", { class: "kpi", id: "kpi-scheduler" }, "Scheduler",
      h("b", {}, s.is_online ? (scheduler.is_paused ? "paused" : "online") : "offline"),
      h("span", { class: "muted small" }, s.hostname || "")),
    h("div", { class: "kpi", id: "kpi-queue-depth" }, "Queue depth", h("b", {}, status.queue_depth ?? "—")),
    h("div", { class: "kpi" }, "CPUs scheduled / total",
      h("b", {}, `${status.resources?.scheduled?.cpus ?? 0} / ${status.resources?.total?.cpus ?? 0}`)),
    h("div", { class: "kpi" }, "Memory scheduled / total (MiB)",
      h("b", {}, `${Math.round(status.resources?.scheduled?.mem ?? 0)} / ${Math.round(status.resources?.total?.mem ?? 0)}`)));
}

function failuresByCategory(failed) {
  const byCategory = {};
  for (const job of failed) {
    const category = job.error?.category || "UNKNOWN";
    byCategory[category] ||= { category, count: 0, latest: null };
    byCategory[category].count++;
    if (!byCategory[category].latest || job.last_modified > byCategory[category].latest.last_modified) byCategory[category].latest = job;
  }
  return Object.values(byCategory).sort((a, b) => b.count - a.count);
}

export async function render(view, ctx) {
  view.append(h("h1", {}, "Dashboard"));
  const body = h("div");
  view.append(body);
  let load = null;
  let ingestChart = null;

  async function refresh() {
    const [status, scheduler, nodes, queue, running, failed, ingest] = await Promise.all([
      get("/status/"), get("/scheduler/"), get("/nodes/status/"), get("/queue/status/"),
      get("/job-types/running/"), get("/jobs/", { status: "FAILED", started: "PT24H", page_size: 1000 }),
      get("/ingests/status/", { started: "PT24H" }),
    ]);
    const samples = await getAll("/load/", { started: LOAD_RANGE });
    const panels = h("div", { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Nodes"),
        table([
          { title: "Node", cell: (n) => n.node.hostname },
          { title: "Status", cell: (n) => badge(n.node.is_paused ? "PAUSED" : n.is_online ? "ONLINE" : "OFFLINE") },
          { title: "Running", num: true, cell: (n) => n.job_exes_running.length },
        ], nodes.results || [], { empty: "No node has reported yet." }), link("/nodes", "All nodes ›")),
      h("section", { class: "card" }, h("h2", {}, "Queue depth by job type"),
        table([
          { title: "Job type", cell: (q) => `${q.job_type_name} ${q.job_type_version}` },
          { title: "Queued", num: true, cell: (q) => q.count },
          { title: "Longest queued", cell: (q) => when(q.longest_queued) },
          { title: "", cell: (q) => q.is_job_type_paused ? badge("PAUSED") : "" },
        ], queue.queue_status, { empty: "The queue is empty." }), link("/queue", "Queue ›")),
      h("section", { class: "card" }, h("h2", {}, "Running jobs"),
        table([
          { title: "Job type", cell: (r) => link(`/job-types/${r.job_type.id}`, jobTypeName(r.job_type)) },
          { title: "Running", num: true, cell: (r) => link(`/jobs?status=RUNNING&job_type_id=${r.job_type.id}`, r.count) },
          { title: "Longest running", cell: (r) => when(r.longest_running) },
        ], running.results || [], { empty: "Nothing is running." })),
      h("section", { class: "card" }, h("h2", {}, "Failures in the last 24 hours by error category"),
        table([
          { title: "Category", cell: (f) => link(`/jobs?status=FAILED&started=PT24H`, f.category) },
          { title: "Jobs", num: true, cell: (f) => f.count },
          { title: "Latest", cell: (f) => [link(`/jobs/${f.latest.id}`, `job ${f.latest.id}`), " ", f.latest.error?.title || f.latest.error?.name || ""] },
        ], failuresByCategory(failed.results), { empty: "No job failed in the last 24 hours." })),
    );
    const loadData = {
      labels: samples.map((s) => new Date(s.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
      datasets: ["pending", "queued", "running"].map((key) => ({ label: key, data: samples.map((s) => s[`${key}_count`]), tension: 0.2 })),
    };
    const ingestRows = ingest.results || [];
    const slots = ingestRows[0]?.values || [];
    const ingestData = {
      labels: slots.map((v) => new Date(v.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
      datasets: ingestRows.map((row) => ({ label: row.strike.name, data: row.values.map((v) => v.files) })),
    };
    if (!load) {
      load = chart({ type: "line", data: loadData, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
      ingestChart = chart({ type: "bar", data: ingestData, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    } else {
      load.instance.data = loadData; load.instance.update();
      ingestChart.instance.data = ingestData; ingestChart.instance.update();
    }
    const charts = h("div", { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Load: pending / queued / running"),
        h("p", { class: "muted small" }, "The last 6 hours, sampled every minute by the clock (GET /api/load/)."), load.box),
      h("section", { class: "card" }, h("h2", {}, "Ingest rate: files ingested per hour, last 24 hours"),
        ingestRows.length ? ingestChart.box : h("p", { class: "muted" }, "No Strike yet."), link("/ingest", "Ingest ›")));
    body.replaceChildren(health(status, scheduler), panels, charts,
      h("p", { class: "muted small" }, "Refreshes every 5 seconds. Last: ", new Date().toLocaleTimeString()));
  }

  try { await refresh(); } catch (error) { body.replaceChildren(notice(error.message, "error")); }
  ctx.every(5000, () => refresh().catch((error) => body.prepend(notice(error.message, "error"))));
}
