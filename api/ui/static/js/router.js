// The router: the route table (api/ui/routes.json; the server answers its page URLs with the shell
// and puts the table in it) maps each page URL to a page module's render function. Links inside
// the app change the URL with history.pushState, so pages are bookmarkable. Pages import
// `navigate` from here; this module imports no page (app.js hands it a loader), so no cycle.
import { h, notice } from "./ui.js";
import { token } from "./api.js";

// "/jobs/<int:item_id>" (the server's syntax) matches "/jobs/7" and "/jobs/7/", capturing 7.
function pattern(path) {
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/<int:\w+>/g, "(\\d+)");
  return new RegExp(`^${source}${path === "/" ? "" : "/?"}$`);
}

const ROUTES = JSON.parse(document.getElementById("routes").textContent)
  .map((route) => ({ ...route, pattern: pattern(route.path) }));

const main = document.getElementById("app");
let loadPage = null;
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
  const route = ROUTES.find(({ pattern: p }) => p.test(path));
  // A page without a navigation entry of its own (a detail page) lights the entry it belongs under.
  const lit = route && (route.under || route.path);
  document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === lit));
  document.getElementById("signin").textContent = token.get() ? "Settings" : "Sign in";
  const view = h("div", { class: "page" });
  main.replaceChildren(view);
  if (!route) { view.append(h("h1", {}, "Not found"), notice(`No page at ${path}.`, "error")); return; }
  const args = path.match(route.pattern).slice(1).map(Number);
  try {
    const page = await loadPage(route.page);
    await page[route.render](view, context(new URLSearchParams(location.search)), ...args);
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

// Start routing: `load(page)` resolves to the module pages/<page>.js of a route's `page`.
export function start(load) {
  loadPage = load;
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
  render();
}
