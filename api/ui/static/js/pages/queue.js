// Queue: queued jobs by type and priority, the longest queued, and the requeue / new job forms.
import { get, getAll, send } from "../api.js";
import { h, link, badge, whyQueued, when, duration, table, action, jsonForm, jobTypeName, toast } from "../ui.js";

// What each `queued_reasons` code of GET /queue/status/ means.
const REASONS = {
  SCHEDULER_PAUSED: "the scheduler is paused", JOB_TYPE_PAUSED: "the job type is paused",
  NO_NODE: "no online, unpaused node", TOO_LARGE: "larger than every online node: can never fit",
  MAX_SCHEDULED: "the job type runs its max_scheduled already", WAITING: "waiting for free resources",
};

export async function render(view, ctx) {
  const [status, queued, jobTypes] = await Promise.all([
    get("/queue/status/"), get("/jobs/", { status: "QUEUED", order: ["priority", "queued"], page_size: 100 }), getAll("/job-types/"),
  ]);
  const requeue = h("form", { class: "filters card", id: "requeue-form", onsubmit: (e) => e.preventDefault() },
    h("label", {}, "Job status", h("select", { name: "status" }, ["FAILED", "CANCELED"].map((s) => h("option", { value: s }, s)))),
    h("label", {}, "Job type", h("select", { name: "job_type_id" }, h("option", { value: "" }, "any"),
      jobTypes.map((t) => h("option", { value: t.id }, jobTypeName(t))))),
    h("label", {}, "Changed within", h("select", { name: "started" }, [["PT1H", "last hour"], ["PT24H", "last 24 hours"], ["P7D", "last 7 days"]]
      .map(([v, t]) => h("option", { value: v }, t)))),
    h("label", {}, "New priority (optional)", h("input", { name: "priority", type: "number", size: 6 })),
    action("Requeue matching jobs", async () => {
      const data = new FormData(requeue);
      const body = { status: data.get("status"), started: data.get("started") };
      if (data.get("job_type_id")) body.job_type_ids = [Number(data.get("job_type_id"))];
      if (data.get("priority")) body.priority = Number(data.get("priority"));
      const answer = await send("POST", "/queue/requeue-jobs/", body);
      toast(`Requeued ${answer.count} job(s).`);
      ctx.reload();
    }));
  const firstType = jobTypes.find((t) => !t.is_system);
  view.append(h("h1", {}, "Queue"),
    h("h2", {}, "By job type"),
    table([
      { title: "Job type", cell: (q) => `${q.job_type_name} ${q.job_type_version}` },
      { title: "Queued", num: true, cell: (q) => q.count },
      { title: "Highest priority", num: true, cell: (q) => q.highest_priority },
      { title: "Longest queued", cell: (q) => [when(q.longest_queued), h("span", { class: "muted small" }, ` (${duration(q.longest_queued)})`)] },
      { title: "Why queued", cell: (q) => Object.entries(q.queued_reasons || {}).map(([code, n]) =>
        h("span", { class: `badge s-${code === "TOO_LARGE" ? "NEVER-FITS" : "QUEUED"}`, title: REASONS[code] || code }, `${n} ${code}`)).flatMap((b) => [b, " "]) },
      { title: "", cell: (q) => q.is_job_type_paused ? badge("PAUSED") : "" },
    ], status.queue_status, { empty: "The queue is empty." }),
    h("h2", {}, "Queued jobs, most urgent first"),
    table([
      { title: "Job", cell: (j) => link(`/jobs/${j.id}`, `#${j.id}`) },
      { title: "Job type", cell: (j) => jobTypeName(j.job_type) },
      { title: "Priority", num: true, cell: (j) => j.priority },
      { title: "Queued for", cell: (j) => duration(j.queued) },
      { title: "Why queued", cell: (j) => whyQueued(j) },
    ], queued.results, { empty: "No job is queued." }),
    h("h2", {}, "Requeue"), requeue,
    h("h2", {}, "Queue a new job or recipe"),
    jsonForm({ title: "New job (POST /api/queue/new-job/)", path: "/queue/new-job/",
      template: { job_type_id: firstType?.id ?? 1, job_data: { version: "1.0", input_data: [], output_data: [] } },
      done: (job) => toast(`Queued job ${job.id}`) }),
    jsonForm({ title: "New recipe (POST /api/queue/new-recipe/)", path: "/queue/new-recipe/",
      template: { recipe_type_id: 1, recipe_data: { version: "1.0", input_data: [], workspace_id: 1 } },
      done: (recipe) => toast(`Queued recipe ${recipe.id}`) }));
  ctx.every(5000, async () => {
    const now = await get("/queue/status/");
    if (JSON.stringify(now) !== JSON.stringify(status)) ctx.reload();
  });
}
