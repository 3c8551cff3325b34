// Ingest: Strike processes (create / edit with live validation), ingests by status and the
// per-Strike throughput chart.
import { get, getAll } from "../api.js";
import { h, link, badge, when, table, chart, jsonForm, pager, bytes, toast } from "../ui.js";

const INGEST_STATUSES = ["TRANSFERRING", "TRANSFERRED", "DEFERRED", "INGESTING", "INGESTED", "ERRORED", "DUPLICATE"];

export async function render(view, ctx) {
  const status = ctx.query.get("status") || "";
  const page = Number(ctx.query.get("page") || 1);
  const [summaries, ingests, rates] = await Promise.all([
    getAll("/strikes/"), get("/ingests/", { status, page, page_size: 50, order: "-id" }), get("/ingests/status/", { started: "P1D" }),
  ]);
  // The list leaves out each Strike's configuration; its details have it.
  const strikes = await Promise.all(summaries.map((strike) => get(`/strikes/${strike.id}/`)));
  const rows = rates.results || [];
  const labels = (rows[0]?.values || []).map((v) => new Date(v.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  view.append(h("h1", {}, "Ingest"),
    h("h2", {}, "Strike processes"),
    table([
      { title: "Strike", cell: (s) => s.title || s.name }, { title: "Name", cell: (s) => s.name },
      { title: "Job", cell: (s) => s.job ? [link(`/jobs/${s.job.id}`, `#${s.job.id}`), " ", badge(s.job.status)] : "—" },
      { title: "Mount", cell: (s) => s.configuration?.mount || "" },
      { title: "Last modified", cell: (s) => when(s.last_modified) },
      { title: "Edit", cell: (s) => jsonForm({ title: "configuration", method: "PATCH", path: `/strikes/${s.id}/`,
        template: { title: s.title, description: s.description, configuration: s.configuration },
        done: () => { toast(`Strike ${s.name} saved`); ctx.reload(); }, submit: "Save" }) },
    ], strikes, { empty: "No Strike yet." }),
    jsonForm({ title: "New Strike (POST /api/strike/create/)", path: "/strike/create/",
      template: { name: "notes", configuration: { version: "1.0", mount: "/tmp/scale-incoming", transfer_suffix: "_tmp",
        files_to_ingest: [{ filename_regex: ".*[.]txt$", data_types: ["note"], workspace_path: "notes", workspace_name: "raw" }] } },
      done: () => { toast("Strike created"); ctx.reload(); } }),
    h("section", { class: "card" }, h("h2", {}, "Files ingested per hour by Strike, last 24 hours"),
      rows.length ? chart({ type: "line", data: { labels, datasets: rows.map((r) => ({ label: r.strike.name, data: r.values.map((v) => v.files) })) },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } }).box : h("p", { class: "muted" }, "Nothing to chart yet.")),
    h("h2", {}, "Ingests"),
    h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
      h("label", {}, "Status", h("select", { onchange: (e) => ctx.setQuery({ status: e.target.value }) },
        ["", ...INGEST_STATUSES].map((s) => h("option", { value: s, selected: s === status || null }, s || "any"))))),
    table([
      { title: "Ingest", cell: (i) => `#${i.id}` }, { title: "File", cell: (i) => i.file_name },
      { title: "Status", cell: (i) => badge(i.status) }, { title: "Strike", cell: (i) => i.strike?.name || "" },
      { title: "Size", num: true, cell: (i) => bytes(i.file_size) },
      { title: "Source file", cell: (i) => i.source_file ? link(`/sources?file_name=${encodeURIComponent(i.source_file.file_name)}`, `#${i.source_file.id}`) : "—" },
      { title: "Last change", cell: (i) => when(i.last_modified) },
    ], ingests.results, { empty: "No ingests." }),
    pager(ingests, page, (p) => ctx.setQuery({ status, page: p })));
  // Refresh when the Strikes or ingests change, unless an editor is open (it would be lost).
  const seen = JSON.stringify([summaries, ingests.results]);
  ctx.every(5000, async () => {
    if (view.querySelector("details[open]")) return;
    const now = JSON.stringify([await getAll("/strikes/"), (await get("/ingests/", { status, page, page_size: 50, order: "-id" })).results]);
    if (now !== seen) ctx.reload();
  });
}
