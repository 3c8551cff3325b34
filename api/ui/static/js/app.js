// The router: each page URL (the server answers every one with this shell) maps to a page
// module; links inside the app change the URL with history.pushState, so pages are bookmarkable.
import { h, notice } from "./ui.js";
import { token } from "./api.js";
import * as dashboard from "./pages/dashboard.js";
import * as jobs from "./pages/jobs.js";
import * as jobTypes from "./pages/job_types.js";
import * as recipes from "./pages/recipes.js";
import * as queue from "./pages/queue.js";
import * as ingest from "./pages/ingest.js";
import * as files from "./pages/files.js";
import * as nodes from "./pages/nodes.js";
import * as admin from "./pages/admin.js";

const ROUTES = [
  [/^\/$/, dashboard.render, "/"],
  [/^\/jobs\/?$/, jobs.renderList, "/jobs"],
  [/^\/jobs\/(\d+)\/?$/, jobs.renderDetail, "/jobs"],
  [/^\/job-types\/?$/, jobTypes.renderList, "/job-types"],
  [/^\/job-types\/(\d+)\/?$/, jobTypes.renderDetail, "/job-types"],
  [/^\/recipes\/?$/, recipes.renderList, "/recipes"],
  [/^\/recipes\/(\d+)\/?$/, recipes.renderDetail, "/recipes"],
  [/^\/recipe-types\/(\d+)\/?$/, recipes.renderType, "/recipes"],
  [/^\/queue\/?$/, queue.render, "/queue"],
  [/^\/ingest\/?$/, ingest.render, "/ingest"],
  [/^\/sources\/?$/, files.renderSources, "/sources"],
  [/^\/products\/?$/, files.renderProducts, "/products"],
  [/^\/nodes\/?$/, nodes.render, "/nodes"],
  [/^\/workspaces\/?$/, admin.renderWorkspaces, "/workspaces"],
  [/^\/errors\/?$/, admin.renderErrors, "/errors"],
  [/^\/metrics\/?$/, admin.renderMetrics, "/metrics"],
  [/^\/settings\/?$/, admin.renderSettings, "/settings"],
];

const main = document.getElementById("app");
let cleanups = [];

// Pages call ctx.every(ms, fn) for self-refresh; leaving the page stops the timers.
function context(query) {
  return {
    query,
    setQuery(params) {
      const url = new URL(location.href);
      url.search = "";
      for (const [k, v] of Object.entries(params)) for (const x of [].concat(v)) if (x !== undefined && x !== null && x !== "") url.searchParams.append(k, x);
      history.replaceState(null, "", url.pathname + url.search);
      render();
    },
    every(ms, fn) { const id = setInterval(fn, ms); cleanups.push(() => clearInterval(id)); },
    onLeave(fn) { cleanups.push(fn); },
    reload() { render(); },
  };
}

async function render() {
  cleanups.forEach((fn) => fn());
  cleanups = [];
  const path = location.pathname;
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", route && a.getAttribute("href") === route[2]));
  document.getElementById("signin").textContent = token.get() ? "Settings" : "Sign in";
  const view = h("div", { class: "page" });
  main.replaceChildren(view);
  if (!route) { view.append(h("h1", {}, "Not found"), notice(`No page at ${path}.`, "error")); return; }
  const [, renderPage] = route;
  const args = path.match(route[0]).slice(1).map(Number);
  try {
    await renderPage(view, context(new URLSearchParams(location.search)), ...args);
  } catch (error) {
    if (!view.querySelector("h1")) view.prepend(h("h1", {}, "This page could not be shown"));
    view.append(notice(`Could not load this page: ${error.message}`, "error"));
  }
  document.title = `${view.querySelector("h1")?.textContent || "Scale"} · Scale`;
}

export function navigate(href) {
  history.pushState(null, "", href);
  render();
  window.scrollTo(0, 0);
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a");
  if (!a || a.hasAttribute("data-external") || a.target || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/ui/")) return;
  event.preventDefault();
  document.querySelector("header nav").classList.remove("open");
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", render);
document.querySelector("header .menu").addEventListener("click", (event) => {
  const open = document.querySelector("header nav").classList.toggle("open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
render();
