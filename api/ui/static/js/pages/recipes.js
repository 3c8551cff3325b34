// Recipes and recipe types: the DAG of a definition drawn by cytoscape (dagre layout); on a
// recipe each node is coloured by its job's status and links to the job.
import { get, getAll } from "../api.js";
import { h, link, badge, when, table, props, json, jsonForm, pager } from "../ui.js";
import { navigate } from "../router.js";

const COLOURS = { PENDING: "#8a94a6", BLOCKED: "#8a94a6", QUEUED: "#b7791f", RUNNING: "#2b6cb0",
  FAILED: "#c0342b", COMPLETED: "#1f8a4c", CANCELED: "#555555" };

// `jobs`: job name -> job summary (a recipe) or absent (a recipe type).
export function dagGraph(definition, jobs = {}) {
  const box = h("div", { class: "graph", id: "dag" });
  const elements = [];
  for (const node of definition.jobs || []) {
    const job = jobs[node.name];
    elements.push({ data: { id: node.name, label: job ? `${node.name}\n${job.status}` : `${node.name}\n${node.job_type.name} ${node.job_type.version}`,
      colour: job ? COLOURS[job.status] || "#8a94a6" : "#2457c5", href: job ? `/jobs/${job.id}` : null, status: job?.status || "" } });
    for (const dep of node.dependencies || []) elements.push({ data: { source: dep.name, target: node.name } });
  }
  // cytoscape needs the box in the document to measure it; draw once it is attached.
  requestAnimationFrame(() => {
    const cy = window.cytoscape({
      container: box, elements, autoungrabify: true, userZoomingEnabled: false, maxZoom: 1.3,
      layout: { name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 70 },
      style: [
        { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "text-valign": "center", color: "#fff",
          "background-color": "data(colour)", shape: "round-rectangle", width: 150, height: 48, "font-size": 12 } },
        { selector: "edge", style: { "curve-style": "bezier", "target-arrow-shape": "triangle", width: 2,
          "line-color": "#9aa4b5", "target-arrow-color": "#9aa4b5" } },
      ],
    });
    cy.on("tap", "node", (event) => { const href = event.target.data("href"); if (href) navigate(href); });
    box.cy = cy;
  });
  return box;
}

export async function renderList(view, ctx) {
  const page = Number(ctx.query.get("page") || 1);
  const typeId = ctx.query.get("type_id") || "";
  const [recipes, types] = await Promise.all([get("/recipes/", { type_id: typeId, page, page_size: 50, order: "-id" }), getAll("/recipe-types/")]);
  view.append(h("h1", {}, "Recipes"),
    h("h2", {}, "Recipe types"),
    table([
      { title: "Recipe type", cell: (t) => link(`/recipe-types/${t.id}`, `${t.title || t.name} ${t.version}`) },
      { title: "Name", cell: (t) => t.name }, { title: "Description", cell: (t) => t.description || "" },
      { title: "Created", cell: (t) => when(t.created) },
    ], types, { empty: "No recipe types yet." }),
      jsonForm({ title: "New recipe type (POST /api/recipe-types/)", path: "/recipe-types/", validate: "/recipe-types/validation/",
        template: { name: "greet-loudly", version: "1.0", definition: { version: "1.0", input_data: [{ name: "message", type: "property" }],
          jobs: [{ name: "make", job_type: { name: "make-greeting", version: "1.0" }, recipe_inputs: [{ recipe_input: "message", job_input: "message" }] }] } },
        done: (rt) => navigate(`/recipe-types/${rt.id}`) }),
    h("h2", {}, typeId ? `Recipes of recipe type ${typeId} ` : "Recipes", typeId ? link("/recipes", "(all)") : ""),
    table([
      { title: "Recipe", cell: (r) => link(`/recipes/${r.id}`, `#${r.id}`) },
      { title: "Recipe type", cell: (r) => link(`/recipe-types/${r.recipe_type.id}`, `${r.recipe_type.name} ${r.recipe_type.version}`) },
      { title: "Trigger", cell: (r) => r.event?.type || "" },
      { title: "Created", cell: (r) => when(r.created) },
      { title: "Completed", cell: (r) => r.completed ? when(r.completed) : badge("RUNNING") },
    ], recipes.results, { empty: "No recipes yet." }),
    pager(recipes, page, (p) => ctx.setQuery({ type_id: typeId, page: p })));
}

export async function renderDetail(view, ctx, id) {
  const recipe = await get(`/recipes/${id}/`);
  const jobs = Object.fromEntries(recipe.jobs.map((j) => [j.job_name, j.job]));
  view.append(h("h1", {}, `Recipe ${recipe.id}: ${recipe.recipe_type.name} ${recipe.recipe_type.version}`),
    props([["Recipe type", link(`/recipe-types/${recipe.recipe_type.id}`, recipe.recipe_type.title || recipe.recipe_type.name)],
      ["Revision", recipe.recipe_type_rev.revision_num], ["Created", when(recipe.created)],
      ["Completed", recipe.completed ? when(recipe.completed) : "not yet"], ["Trigger", recipe.event?.type]]),
    h("h2", {}, "Graph"), h("p", { class: "muted small" }, "Click a job to open it."),
    dagGraph(recipe.recipe_type_rev.definition, jobs),
    h("h2", {}, "Jobs"),
    table([
      { title: "Name", cell: (j) => j.job_name }, { title: "Job", cell: (j) => link(`/jobs/${j.job.id}`, `#${j.job.id}`) },
      { title: "Job type", cell: (j) => `${j.job.job_type.name} ${j.job.job_type.version}` },
      { title: "Status", cell: (j) => badge(j.job.status) },
    ], recipe.jobs),
    h("h2", {}, "Input files"),
    table([{ title: "File", cell: (f) => h("a", { href: f.url, "data-external": true }, f.file_name) },
      { title: "Media type", cell: (f) => f.media_type }], recipe.input_files || [], { empty: "No input files." }),
    h("details", {}, h("summary", {}, "Recipe data (JSON)"), json(recipe.data)));
  if (!recipe.completed) ctx.every(3000, async () => {
    const now = await get(`/recipes/${id}/`);
    if (now.last_modified !== recipe.last_modified) ctx.reload();
  });
}

export async function renderType(view, ctx, id) {
  const [type, revisions] = await Promise.all([get(`/recipe-types/${id}/`), getAll(`/recipe-types/${id}/revisions/`).catch(() => [])]);
  view.append(h("h1", {}, `Recipe type: ${type.title || type.name} ${type.version}`),
    props([["Name", type.name], ["Description", type.description], ["Revision", type.revision_num],
      ["Created", when(type.created)], ["Last modified", when(type.last_modified)],
      ["Recipes", link(`/recipes?type_id=${type.id}`, "its recipes")]]),
    jsonForm({ title: "Queue a recipe of this type (POST /api/queue/new-recipe/)", path: "/queue/new-recipe/", submit: "Queue",
      template: { recipe_type_id: type.id, recipe_data: { version: "1.0",
        input_data: (type.definition.input_data || []).map((i) => ({ name: i.name, [i.type === "property" ? "value" : "file_id"]: i.type === "property" ? "" : 0 })),
        workspace_id: 1 } },
      done: (recipe) => navigate(`/recipes/${recipe.id}`) }),
    h("h2", {}, "Graph"), dagGraph(type.definition),
    h("div", { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Definition"), json(type.definition)),
      h("section", { class: "card" }, h("h2", {}, "Trigger rule"), type.trigger_rule ? json(type.trigger_rule) : h("p", { class: "muted" }, "None."),
        h("h2", {}, "Revisions"),
        table([{ title: "Revision", cell: (r) => r.revision_num }, { title: "Created", cell: (r) => when(r.created) },
          { title: "Definition", cell: (r) => h("details", {}, h("summary", {}, "show"), json(r.definition)) }], revisions))));
}
