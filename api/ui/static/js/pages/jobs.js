// Jobs: a filterable, sortable, paginated list (filters in the URL) and a job's details with
// its executions, phase timeline, files, live logs and the cancel / requeue buttons.
import { get, getAll, getText, send } from "../api.js";
import { h, link, badge, whyQueued, when, duration, table, props, pager, action, chart, json, notice, jobTypeName, bytes } from "../ui.js";

export const JOB_STATUSES = ["PENDING", "BLOCKED", "QUEUED", "RUNNING", "FAILED", "COMPLETED", "CANCELED"];
const FILTERS = ["status", "job_type_id", "job_type_category", "started", "ended"];
const RANGES = [["", "any time"], ["PT1H", "last hour"], ["PT24H", "last 24 hours"], ["P7D", "last 7 days"], ["P30D", "last 30 days"]];

export async function renderList(view, ctx) {
  const q = ctx.query;
  const page = Number(q.get("page") || 1);
  const order = q.get("order") || "-last_modified";
  const params = Object.fromEntries(FILTERS.map((f) => [f, q.getAll(f)]));
  const [body, jobTypes] = await Promise.all([
    get("/jobs/", { ...params, order, page, page_size: 50 }),
    getAll("/job-types/"),
  ]);
  const categories = [...new Set(jobTypes.map((t) => t.category).filter(Boolean))].sort();
  const keep = (extra) => ctx.setQuery({ ...params, order, ...extra });

  const select = (name, options, value) => h("select", { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value || null }, text)));
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    keep({ ...Object.fromEntries(FILTERS.map((f) => [f, data.get(f) || ""])), page: 1 });
  } },
    h("label", {}, "Status", select("status", [["", "any"], ...JOB_STATUSES.map((s) => [s, s])], params.status[0] || "")),
    h("label", {}, "Job type", select("job_type_id", [["", "any"], ...jobTypes.map((t) => [String(t.id), jobTypeName(t)])], params.job_type_id[0] || "")),
    h("label", {}, "Category", select("job_type_category", [["", "any"], ...categories.map((c) => [c, c])], params.job_type_category[0] || "")),
    h("label", {}, "Changed", select("started", RANGES, params.started[0] || "")),
    h("label", {}, "Until (ISO time or duration)", h("input", { name: "ended", value: params.ended[0] || "", placeholder: "now", size: 14 })),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", class: "secondary", onclick: () => ctx.setQuery({}) }, "Clear"));

  view.append(h("h1", {}, "Jobs"), form,
    table([
      { title: "Job", sort: "id", cell: (j) => link(`/jobs/${j.id}`, `#${j.id}`) },
      { title: "Job type", sort: "job_type__name", cell: (j) => link(`/job-types/${j.job_type.id}`, jobTypeName(j.job_type)) },
      { title: "Status", sort: "status", cell: (j) => [badge(j.status), whyQueued(j)] },
      { title: "Error", cell: (j) => j.error ? `${j.error.title || j.error.name} (${j.error.category})` : "" },
      { title: "Priority", sort: "priority", num: true, cell: (j) => j.priority },
      { title: "Tries", sort: "num_exes", num: true, cell: (j) => j.num_exes },
      { title: "Created", sort: "created", cell: (j) => when(j.created) },
      { title: "Last change", sort: "last_modified", cell: (j) => when(j.last_modified) },
    ], body.results, { sort: order, onSort: (o) => keep({ order: o, page: 1 }), empty: "No job matches these filters." }),
    pager(body, page, (p) => keep({ page: p })));
}

function lastLines(text, n = 20) {
  const lines = (text || "").trimEnd().split("\n");
  return lines.slice(-n).join("\n");
}

// Floating bars on a time axis: each execution's phases from the API's timestamps.
function timeline(exes) {
  const phases = [["waiting for a node", "queued", "started"], ["pre-task", "pre_started", "pre_completed"],
    ["job", "job_started", "job_completed"], ["post-task", "post_started", "post_completed"]];
  const labels = exes.map((e) => `execution ${e.id}`);
  const t0 = Math.min(...exes.map((e) => new Date(e.queued || e.created).getTime()));
  const datasets = phases.map(([label, from, to]) => ({
    label,
    // A phase cut short (a failure) ends when its execution ended; one still going ends now.
    data: exes.map((e) => e[from] ? [(new Date(e[from]) - t0) / 1000, (new Date(e[to] || e.ended || Date.now()) - t0) / 1000] : null),
  }));
  return chart({ type: "bar", data: { labels, datasets },
    options: { indexAxis: "y", scales: { x: { title: { display: true, text: "seconds since first queued" } }, y: { stacked: true } } } }).box;
}

function logPanel(exe, ctx) {
  const stdout = h("pre", { class: "log", id: `stdout-${exe.id}` }, "");
  const stderr = h("pre", { class: "log", id: `stderr-${exe.id}` }, "");
  const state = h("p", { class: "muted small" });
  let follow = true;
  async function poll() {
    const logs = await get(`/job-executions/${exe.id}/logs/`);
    const atBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    for (const [el, text] of [[stdout, logs.stdout], [stderr, logs.stderr]]) {
      const stick = atBottom(el);
      const shown = text || (logs.is_finished ? "(empty)" : "");
      if (el.textContent !== shown) el.textContent = shown;
      if (stick) el.scrollTop = el.scrollHeight;
    }
    state.textContent = logs.is_finished ? `Execution ${exe.id} finished: ${logs.status}.` : `Execution ${exe.id} is ${logs.status}; following its log…`;
    return logs.is_finished;
  }
  const panel = h("section", { class: "card" }, h("h2", {}, `Logs of execution ${exe.id}`), state,
    h("h3", { class: "small" }, "stdout ", link(`/api/job-executions/${exe.id}/logs/stdout/`, "(raw)")), stdout,
    h("h3", { class: "small" }, "stderr ", link(`/api/job-executions/${exe.id}/logs/stderr/`, "(raw)")), stderr);
  panel.querySelectorAll("a").forEach((a) => a.setAttribute("data-external", ""));
  poll().then((finished) => {
    if (finished) return;
    ctx.every(1500, async () => {
      if (!follow) return;
      if (await poll()) { follow = false; ctx.reload(); }
    });
  }).catch((error) => panel.append(notice(error.message, "error")));
  return panel;
}

export async function renderDetail(view, ctx, jobId) {
  const job = await get(`/jobs/${jobId}/`);
  const exes = [...job.job_exes].sort((a, b) => a.id - b.id);
  const latest = exes[exes.length - 1];

  const canCancel = ["PENDING", "BLOCKED", "QUEUED", "RUNNING"].includes(job.status);
  const canRequeue = ["FAILED", "CANCELED"].includes(job.status);
  view.append(h("h1", {}, `Job ${job.id}: `, jobTypeName(job.job_type), " ", badge(job.status)),
    h("div", { class: "actions" },
      canCancel && action("Cancel", async () => { await send("PATCH", `/jobs/${job.id}/`, { status: "CANCELED" }); ctx.reload(); }, { kind: "danger" }),
      canRequeue && action("Requeue", async () => { await send("POST", "/queue/requeue-jobs/", { job_ids: [job.id] }); ctx.reload(); })));

  if (job.status === "FAILED" && job.error) {
    const failure = h("section", { class: "card failure", id: "failure" }, h("h2", {}, "Why it failed"),
      props([["Error", `${job.error.title || job.error.name} (${job.error.name})`], ["Category", badge(job.error.category)],
        ["Description", job.error.description]]));
    if (latest) {
      getText(`/job-executions/${latest.id}/logs/stderr/`).then((text) => failure.append(
        h("h3", { class: "small" }, `Last lines of stderr (execution ${latest.id})`),
        h("pre", { class: "log", id: "stderr-tail" }, lastLines(text) || "(stderr is empty)"))).catch(() => {});
    }
    view.append(failure);
  }

  view.append(h("div", { class: "grid" },
    h("section", { class: "card" }, h("h2", {}, "Job"), props([
      ["Job type", link(`/job-types/${job.job_type.id}`, jobTypeName(job.job_type))],
      ["Revision", job.job_type_rev?.revision_num],
      ["Priority", job.priority], ["Tries", tries(job)], ["Timeout", `${job.timeout} s`],
      ["Resources", `${job.cpus_required} CPU, ${job.mem_required} MiB`],
      ["Created", when(job.created)], ["Queued", when(job.queued)], ["Started", when(job.started)], ["Ended", when(job.ended)],
      job.queued_reason && ["Why queued", whyQueued(job)],
      ["Trigger", job.event ? `${job.event.type} at ${new Date(job.event.occurred).toLocaleString()}` : "—"],
      ["Recipes", job.recipes.length ? job.recipes.map((r) => [link(`/recipes/${r.id}`, `${r.recipe_type.name} #${r.id}`), " "]) : "—"],
    ])),
    h("section", { class: "card" }, h("h2", {}, "Inputs"),
      table([{ title: "Name", cell: (i) => i.name }, { title: "Value", cell: (i) => fileOrValue(i.value) }], job.inputs || []),
      h("h2", {}, "Products"),
      table([
        { title: "File", cell: (p) => h("a", { href: p.url, "data-external": true }, p.file_name) },
        { title: "Media type", cell: (p) => p.media_type }, { title: "Size", cell: (p) => bytes(p.file_size) },
        { title: "Workspace", cell: (p) => p.workspace?.name },
      ], job.products || [], { empty: "No products yet." }))));

  view.append(h("h2", {}, "Executions"),
    table([
      { title: "Execution", cell: (e) => `#${e.id}` }, { title: "Status", cell: (e) => badge(e.status) },
      { title: "Node", cell: (e) => e.node ? `node ${e.node.id}` : "—" },
      { title: "Exit code", num: true, cell: (e) => e.job_exit_code ?? "—" },
      { title: "Error", cell: (e) => e.error ? `${e.error.name} (${e.error.category})` : "" },
      { title: "Started", cell: (e) => when(e.started) }, { title: "Duration", cell: (e) => duration(e.started, e.ended) },
    ], exes, { empty: "Not run yet." }));
  if (exes.length) view.append(h("section", { class: "card" }, h("h2", {}, "Timeline"), timeline(exes)));
  if (latest) view.append(logPanel(latest, ctx));
  view.append(h("details", {}, h("summary", {}, "Job data and results (JSON)"), json({ data: job.data, results: job.results })));
}

function fileOrValue(value) {
  if (value && typeof value === "object" && "file_name" in value) return h("a", { href: value.url, "data-external": true }, value.file_name);
  if (Array.isArray(value)) return value.map((v) => [fileOrValue(v), " "]);
  return typeof value === "object" ? JSON.stringify(value) : String(value ?? "—");
}

// "1 of 3" promises tries to come; a job that has ended will not be tried again (SYSTEM
// failures are retried while tries remain, so a FAILED job has none left or failed for good).
function tries(job) {
  if (job.status === "FAILED") {
    const category = job.error?.category;
    return category === "SYSTEM" ? `${job.num_exes} (no tries left)`
      : `${job.num_exes} (final: ${category || "this"} errors are not retried)`;
  }
  if (["COMPLETED", "CANCELED"].includes(job.status) || !job.max_tries) return `${job.num_exes}`;
  return `${job.num_exes} of ${job.max_tries}`;
}
