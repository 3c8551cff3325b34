// Job types: the list with status counts and pause/resume; a job type's details with its
// interface, error mapping, trigger rule and per-day charts.
import { get, getAll, send } from "../api.js";
import { h, link, badge, when, table, props, action, chart, json, jsonForm, jobTypeName } from "../ui.js";
import { navigate } from "../router.js";

const COUNTED = ["RUNNING", "QUEUED", "FAILED", "COMPLETED", "CANCELED"];

function pauseButton(jobType, ctx) {
  return jobType.is_paused
    ? action("Resume", async () => { await send("PATCH", `/job-types/${jobType.id}/`, { is_paused: false }); ctx.reload(); })
    : action("Pause", async () => { await send("PATCH", `/job-types/${jobType.id}/`, { is_paused: true }); ctx.reload(); }, { kind: "secondary" });
}

export async function renderList(view, ctx) {
  const [types, status] = await Promise.all([getAll("/job-types/"), getAll("/job-types/status/")]);
  const counts = Object.fromEntries(status.map((s) => [s.job_type.id, s.job_counts]));
  const sum = (id, st) => (counts[id] || []).filter((c) => c.status === st).reduce((n, c) => n + c.count, 0);
  view.append(h("h1", {}, "Job types"),
    h("p", { class: "muted small" }, "Counts are of the last 3 hours (the reference's job type status)."),
    table([
      { title: "Job type", cell: (t) => link(`/job-types/${t.id}`, jobTypeName(t)) },
      { title: "Name", cell: (t) => t.name }, { title: "Category", cell: (t) => t.category || "" },
      ...COUNTED.map((st) => ({ title: st.toLowerCase(), num: true, cell: (t) => link(`/jobs?job_type_id=${t.id}&status=${st}`, sum(t.id, st)) })),
      { title: "State", cell: (t) => t.is_paused ? badge("PAUSED") : t.is_active ? "active" : "archived" },
      { title: "", cell: (t) => t.is_system ? "" : pauseButton(t, ctx) },
    ], types.filter((t) => t.is_active || t.is_paused), { empty: "No job types yet." }),
      jsonForm({ title: "New job type (POST /api/job-types/)", path: "/job-types/", validate: "/job-types/validation/",
        template: { name: "make-greeting", version: "1.0", interface: { version: "1.0", command: "/tmp/scale-algorithms/make-greeting",
          command_arguments: "${message} ${job_output_dir}", input_data: [{ name: "message", type: "property" }],
          output_data: [{ name: "greeting", type: "file", media_type: "text/plain" }] } },
        done: (jt) => navigate(`/job-types/${jt.id}`) }));
}

function perDay(jobs) {
  const days = {};
  for (const job of jobs) {
    if (!job.ended) continue;
    const day = job.ended.slice(0, 10);
    days[day] ||= { COMPLETED: 0, FAILED: 0, seconds: [] };
    if (job.status in days[day]) days[day][job.status]++;
    if (job.status === "COMPLETED" && job.started) days[day].seconds.push((new Date(job.ended) - new Date(job.started)) / 1000);
  }
  return Object.entries(days).sort(([a], [b]) => a.localeCompare(b));
}

export async function renderDetail(view, ctx, id) {
  const [jobType, revisions, jobs] = await Promise.all([
    get(`/job-types/${id}/`), getAll(`/job-types/${id}/revisions/`, { order: "-revision_num" }),
    getAll("/jobs/", { job_type_id: id, status: ["COMPLETED", "FAILED"], started: "P30D" }),
  ]);
  view.append(h("h1", {}, jobTypeName(jobType), " ", jobType.is_paused ? badge("PAUSED") : ""),
    h("div", { class: "actions" }, jobType.is_system ? "" : pauseButton(jobType, ctx),
      link(`/jobs?job_type_id=${id}`, "Its jobs ›")),
    jobType.is_system ? "" : jsonForm({ title: "Queue a job of this type (POST /api/queue/new-job/)", path: "/queue/new-job/", submit: "Queue",
      template: { job_type_id: jobType.id, job_data: { version: "1.0",
        input_data: (jobType.interface.input_data || []).map((i) => ({ name: i.name, [i.type === "property" ? "value" : "file_id"]: i.type === "property" ? "" : 0 })),
        output_data: (jobType.interface.output_data || []).map((o) => ({ name: o.name, workspace_id: 1 })) } },
      done: (job) => navigate(`/jobs/${job.id}`) }));
  const days = perDay(jobs);
  const labels = days.map(([day]) => day);
  view.append(h("div", { class: "grid" },
    h("section", { class: "card" }, h("h2", {}, "Job type"), props([
      ["Name", jobType.name], ["Version", jobType.version], ["Title", jobType.title], ["Description", jobType.description],
      ["Category", jobType.category], ["Revision", jobType.revision_num], ["Priority", jobType.priority],
      ["Timeout", `${jobType.timeout} s`], ["Max tries", jobType.max_tries], ["Max scheduled", jobType.max_scheduled ?? "no limit"],
      ["Resources", `${jobType.cpus_required} CPU, ${jobType.mem_required} MiB`],
      ["Docker image", jobType.docker_image || "none (runs as a process)"],
      ["Created", when(jobType.created)], ["Last modified", when(jobType.last_modified)], ["Paused", when(jobType.paused)],
    ])),
    h("section", { class: "card" }, h("h2", {}, "Completed vs failed per day (30 days)"),
      chart({ type: "bar", data: { labels, datasets: [
        { label: "completed", data: days.map(([, d]) => d.COMPLETED), backgroundColor: "#1f8a4c" },
        { label: "failed", data: days.map(([, d]) => d.FAILED), backgroundColor: "#c0342b" }] },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } } }).box,
      h("h2", {}, "Mean duration of completed jobs per day (s)"),
      chart({ type: "line", data: { labels, datasets: [{ label: "seconds",
        data: days.map(([, d]) => d.seconds.length ? d.seconds.reduce((a, b) => a + b, 0) / d.seconds.length : null) }] },
      options: { scales: { y: { beginAtZero: true } } } }).box)));
  view.append(h("div", { class: "grid" },
    h("section", { class: "card" }, h("h2", {}, "Interface"), json(jobType.interface)),
    h("section", { class: "card" }, h("h2", {}, "Error mapping"), json(jobType.error_mapping),
      table([{ title: "Error", cell: (e) => e.name }, { title: "Category", cell: (e) => e.category }, { title: "Description", cell: (e) => e.description || "" }],
        jobType.errors || [], { empty: "No errors mapped." }),
      h("h2", {}, "Trigger rule"), jobType.trigger_rule ? json(jobType.trigger_rule) : h("p", { class: "muted" }, "None."))),
    h("h2", {}, "Revisions"),
    table([
      { title: "Revision", cell: (r) => r.revision_num }, { title: "Created", cell: (r) => when(r.created) },
      { title: "Command", cell: (r) => `${r.interface.command} ${r.interface.command_arguments || ""}` },
      { title: "Interface", cell: (r) => h("details", {}, h("summary", {}, "show"), json(r.interface)) },
    ], revisions));
}
