// Workspaces, errors, metrics and settings (sign-in, configuration import / export).
import { get, getAll, send, token } from "../api.js";
import { h, badge, when, table, jsonForm, json, bytes, chart, notice, toast, action } from "../ui.js";
import { navigate } from "../router.js";

export async function renderWorkspaces(view, ctx) {
  const workspaces = await getAll("/workspaces/");
  view.append(h("h1", {}, "Workspaces"),
    table([
      { title: "Workspace", cell: (w) => w.title || w.name }, { title: "Name", cell: (w) => w.name },
      { title: "Active", cell: (w) => w.is_active ? "yes" : "no" },
      { title: "Used / total", cell: (w) => `${bytes(w.used_size)} / ${bytes(w.total_size)}` },
      { title: "Base URL", cell: (w) => w.base_url || "" }, { title: "Created", cell: (w) => when(w.created) },
      { title: "Edit", cell: (w) => jsonForm({ title: "settings", method: "PATCH", path: `/workspaces/${w.id}/`, submit: "Save",
        template: { title: w.title, description: w.description, base_url: w.base_url, is_active: w.is_active },
        done: () => { toast(`Workspace ${w.name} saved`); ctx.reload(); } }) },
    ], workspaces, { empty: "No workspace yet." }),
    jsonForm({ title: "New workspace (POST /api/workspaces/)", path: "/workspaces/",
      template: { name: "products", title: "Products", json_config: { version: "1.0", broker: { type: "host", host_path: "/tmp/scale-products" } } },
      done: () => { toast("Workspace created"); ctx.reload(); } }));
}

export async function renderErrors(view, ctx) {
  const errors = await getAll("/errors/");
  view.append(h("h1", {}, "Errors"),
    table([
      { title: "Error", cell: (e) => e.title || e.name }, { title: "Name", cell: (e) => e.name },
      { title: "Category", cell: (e) => badge(e.category) }, { title: "Description", cell: (e) => e.description || "" },
    ], errors, { empty: "No errors defined." }),
    jsonForm({ title: "New error (POST /api/errors/)", path: "/errors/",
      template: { name: "bad-text", title: "Bad Text", description: "The text could not be read", category: "DATA" },
      done: () => { toast("Error created"); ctx.reload(); } }));
}

// The reference's plot-data API: the daily rollups of one metrics type, a chart per column.
export async function renderMetrics(view, ctx) {
  view.append(h("h1", {}, "Metrics"));
  const types = await getAll("/metrics/");
  const chosen = ctx.query.get("name") || (types.find((t) => t.name === "job-types") || types[0]).name;
  const today = new Date().toISOString().slice(0, 10);
  view.append(h("form", { class: "filters" }, h("label", {}, "Metrics type",
    h("select", { onchange: (e) => ctx.setQuery({ name: e.target.value }) },
      types.map((t) => h("option", { value: t.name, selected: t.name === chosen || null }, t.title || t.name)))),
    action("Recompute today", async () => {
      await send("POST", "/metrics/compute/", { day: today });
      ctx.reload();
    }, { kind: "secondary", done: `Recomputed ${today}` })));
  const plot = await getAll(`/metrics/${chosen}/plot-data/`, { started: "P30D" });
  if (!plot.some((series) => series.values.length)) {
    view.append(notice("No rollups in the last 30 days yet: the clock computes them every hour " +
      "(or recompute a day here, with `scale metrics compute --day`, or POST /api/metrics/compute/)."));
  }
  view.append(h("div", { class: "grid" }, plot.map((series) => h("section", { class: "card" },
    h("h2", {}, series.column.title || series.column.name), h("p", { class: "muted small" }, series.column.description || ""),
    chart({ type: "line", data: { labels: series.values.map((v) => v.date),
      datasets: [{ label: series.column.units || "", data: series.values.map((v) => v.value) }] },
    options: { scales: { y: { beginAtZero: true } } } }).box))));
}

// A token is checked with a write the API refuses for its body: PATCH /scheduler/ with no
// fields answers 400 to a valid token and 401 to a bad one, and changes nothing.
async function checkToken() {
  try { await send("PATCH", "/scheduler/", {}); } catch (error) {
    if (error.status === 401) throw new Error("the API refused this token");
    if (error.status === 400) return;
    throw error;
  }
}

export async function renderSettings(view) {
  const input = h("input", { type: "password", name: "token", size: 40, autocomplete: "off", placeholder: "the token in HOME/admin-token" });
  const signIn = h("form", { class: "filters", id: "signin-form", onsubmit: async (event) => {
    event.preventDefault();
    token.set(input.value.trim());
    try { await checkToken(); toast("Signed in"); navigate("/settings"); } catch (error) { token.set(""); toast(error.message, "error"); }
  } }, h("label", {}, "API token", input), h("button", { type: "submit" }, "Sign in"));
  const signedIn = Boolean(token.get());
  view.append(h("h1", {}, "Settings"),
    h("section", { class: "card" }, h("h2", {}, "Sign-in"),
      signedIn
        ? [h("p", {}, "Signed in: changes are sent with your token (kept in this browser's localStorage)."),
          h("button", { type: "button", class: "secondary", onclick: () => { token.set(""); navigate("/settings"); } }, "Sign out")]
        : [h("p", { class: "muted" }, "Without a token the UI is read-only. `scale up` writes the admin token to HOME/admin-token; `scale token create NAME` makes another."), signIn]),
    h("section", { class: "card" }, h("h2", {}, "Export the configuration"),
      h("p", {}, "Recipe types, job types and errors (system ones left out) as one JSON document."),
      h("a", { href: "/api/configuration/download/", "data-external": true, download: "configuration.json" }, "Download configuration.json")),
    h("section", { class: "card" }, h("h2", {}, "Import a configuration"),
      h("p", { class: "muted small" }, "All or nothing; workspaces named by trigger rules must exist first. Pick a file, or paste below."),
      h("input", { type: "file", accept: "application/json,.json", onchange: async (event) => {
        const text = await event.target.files[0].text();
        const area = view.querySelector("#import textarea");
        area.value = JSON.stringify({ import: JSON.parse(text) }, null, 2);
        area.dispatchEvent(new Event("input"));
        view.querySelector("#import").open = true;
      } }),
      Object.assign(jsonForm({ title: "Import document", path: "/configuration/", validate: "/configuration/validation/", submit: "Import",
        template: { import: { version: "1.0", recipe_types: [], job_types: [], errors: [] } },
        done: (answer) => toast(`Imported${answer?.warnings?.length ? ` with ${answer.warnings.length} warning(s)` : ""}`) }), { id: "import" })),
    h("section", { class: "card" }, h("h2", {}, "API"), h("p", {}, "Everything here uses the public REST API: ",
      h("a", { href: "/api/docs", "data-external": true }, "Swagger UI"), ", ", h("a", { href: "/api/", "data-external": true }, "/api/"), ".")),
    h("details", {}, h("summary", {}, "Scheduler status (JSON)"), json(await get("/status/"))));
}
