// Source files and products: search by name, job type and time; download links; the provenance
// chain both ways (a source's jobs and products; a product's job and that job's inputs).
import { get, getAll, download as save } from "../api.js";
import { h, link, when, table, pager, bytes, notice, toast, jobTypeName } from "../ui.js";

const RANGES = [["", "any time"], ["PT1H", "last hour"], ["PT24H", "last 24 hours"], ["P7D", "last 7 days"], ["P30D", "last 30 days"]];

function searchForm(ctx, fields) {
  return h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    ctx.setQuery(Object.fromEntries(new FormData(event.currentTarget)));
  } }, fields, h("button", { type: "submit" }, "Search"),
  h("button", { type: "button", class: "secondary", onclick: () => ctx.setQuery({}) }, "Clear"));
}

const rangeSelect = (value) => h("label", {}, "Changed", h("select", { name: "started" },
  RANGES.map(([v, t]) => h("option", { value: v, selected: v === value || null }, t))));

const download = (file, path) => h("a", { href: `/api${path}`, "data-external": true, onclick: (event) => {
  event.preventDefault();
  save(path, file.file_name).catch((error) => toast(`Cannot download ${file.file_name}: ${error.message}`, "error"));
} }, "download");

export async function renderSources(view, ctx) {
  const q = ctx.query;
  const page = Number(q.get("page") || 1);
  const params = { file_name: q.get("file_name") || "", started: q.get("started") || "" };
  const body = await get("/sources/", { ...params, page, page_size: 50 });
  const detail = h("div", { id: "provenance" });
  async function showChain(source) {
    const d = await get(`/sources/${source.id}/`);
    detail.replaceChildren(h("section", { class: "card" }, h("h2", {}, `Provenance of ${d.file_name}`),
      h("p", {}, "Ingests: ", d.ingests.map((i) => `#${i.id} ${i.status} `)),
      h("h3", {}, "Jobs that read it"),
      table([{ title: "Job", cell: (j) => link(`/jobs/${j.id}`, `#${j.id}`) }, { title: "Job type", cell: (j) => jobTypeName(j.job_type) },
        { title: "Status", cell: (j) => j.status }], d.jobs, { empty: "No job has read it yet." }),
      h("h3", {}, "Products made from it"),
      table([{ title: "Product", cell: (p) => p.file_name }, { title: "Made by", cell: (p) => p.job ? link(`/jobs/${p.job.id}`, `job #${p.job.id}`) : "—" },
        { title: "", cell: (p) => download(p, `/products/${p.id}/download/`) }], d.products, { empty: "No products yet." })));
    detail.scrollIntoView({ behavior: "smooth" });
  }
  view.append(h("h1", {}, "Source files"),
    searchForm(ctx, [h("label", {}, "File name (exact)", h("input", { name: "file_name", value: params.file_name })), rangeSelect(params.started)]),
    table([
      { title: "Source", cell: (s) => `#${s.id}` },
      { title: "File", cell: (s) => h("a", { href: "#", onclick: (e) => { e.preventDefault(); showChain(s).catch((err) => detail.replaceChildren(notice(err.message, "error"))); } }, s.file_name) },
      { title: "Media type", cell: (s) => s.media_type }, { title: "Data type", cell: (s) => (s.data_type || []).join?.(", ") ?? s.data_type ?? "" },
      { title: "Size", num: true, cell: (s) => bytes(s.file_size) }, { title: "Workspace", cell: (s) => s.workspace?.name },
      { title: "Created", cell: (s) => when(s.created) },
      { title: "", cell: (s) => s.url ? h("a", { href: s.url, "data-external": true }, "open") : "" },
    ], body.results, { empty: "No source files match." }),
    pager(body, page, (p) => ctx.setQuery({ ...params, page: p })), detail);
}

export async function renderProducts(view, ctx) {
  const q = ctx.query;
  const page = Number(q.get("page") || 1);
  const params = { file_name: q.get("file_name") || "", job_type_id: q.get("job_type_id") || "", started: q.get("started") || "" };
  const [body, jobTypes] = await Promise.all([get("/products/", { ...params, page, page_size: 50 }), getAll("/job-types/")]);
  view.append(h("h1", {}, "Products"),
    searchForm(ctx, [
      h("label", {}, "File name (exact)", h("input", { name: "file_name", value: params.file_name })),
      h("label", {}, "Made by", h("select", { name: "job_type_id" }, h("option", { value: "" }, "any job type"),
        jobTypes.map((t) => h("option", { value: t.id, selected: String(t.id) === params.job_type_id || null }, jobTypeName(t))))),
      rangeSelect(params.started)]),
    table([
      { title: "Product", cell: (p) => `#${p.id}` }, { title: "File", cell: (p) => p.file_name },
      { title: "Media type", cell: (p) => p.media_type }, { title: "Size", num: true, cell: (p) => bytes(p.file_size) },
      { title: "Made by", cell: (p) => p.job ? [link(`/jobs/${p.job.id}`, `job #${p.job.id}`), " ", p.job_type ? jobTypeName(p.job_type) : ""] : "—" },
      { title: "Workspace", cell: (p) => p.workspace?.name }, { title: "Created", cell: (p) => when(p.created) },
      { title: "", cell: (p) => download(p, `/products/${p.id}/download/`) },
    ], body.results, { empty: "No products match." }),
    h("p", { class: "muted small" }, "Provenance: a product links to the job that made it; the job's page lists its input files, whose source page lists every job and product descending from them."),
    pager(body, page, (p) => ctx.setQuery({ ...params, page: p })));
}
