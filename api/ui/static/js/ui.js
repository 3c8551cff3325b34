// Small DOM helpers shared by the pages.
import { token, send } from "./api.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export const link = (href, text) => h("a", { href }, text);
export const badge = (status) => h("span", { class: `badge s-${status}` }, status || "—");

// Why a QUEUED job waits (the API's `queued_reason`), flagged when it can never fit on the nodes there are.
export function whyQueued(job) {
  if (!job.queued_reason) return "";
  return h("span", { class: "why-queued", "data-code": job.queued_reason_code },
    job.can_never_fit && [h("span", { class: "badge s-NEVER-FITS", title: "larger than every online node" }, "CAN NEVER FIT"), " "],
    job.queued_reason);
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return h("time", { datetime: iso, title: iso }, d.toLocaleString());
}

export function duration(startIso, endIso) {
  if (!startIso) return "—";
  const seconds = Math.max(0, ((endIso ? new Date(endIso) : new Date()) - new Date(startIso)) / 1000);
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export const jobTypeName = (jt) => jt ? `${jt.title || jt.name} ${jt.version}` : "—";

// A table: columns are {title, cell: row => node|text, sort?: "order field", num?: true}.
export function table(columns, rows, { sort, onSort, empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  const head = columns.map((c) => {
    const cls = [c.sort ? "sortable" : "", c.num ? "num" : "",
      c.sort && sort === c.sort ? "sorted-asc" : c.sort && sort === `-${c.sort}` ? "sorted-desc" : ""].join(" ").trim();
    return h("th", { class: cls || null, onclick: c.sort && onSort ? () => onSort(sort === c.sort ? `-${c.sort}` : c.sort) : null }, c.title);
  });
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, head)),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(row))))))));
}

export function props(pairs) {
  return h("dl", { class: "props" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

export const json = (value) => h("pre", { class: "json" }, JSON.stringify(value, null, 2));

export function notice(text, kind = "") { return h("div", { class: `notice ${kind}` }, text); }

export function toast(text, kind = "ok") {
  const el = h("div", { class: `notice toast ${kind}`, role: "status" }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), 4000);
}

// A write button: disabled without a token (read-only view), reports the API's answer.
export function action(text, run, { kind = "", done } = {}) {
  const signedIn = Boolean(token.get());
  return h("button", {
    type: "button", class: kind || null, disabled: !signedIn,
    title: signedIn ? null : "Sign in on the Settings page to change things",
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try { await run(); toast(done || `${text}: done`); } catch (error) { toast(`${text}: ${error.message}`, "error"); }
      finally { button.disabled = false; }
    },
  }, text);
}

export function pager(body, page, go) {
  const pages = Math.max(1, Math.ceil(body.count / (body.page_size || 100)));
  return h("div", { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: page <= 1 || null, onclick: () => go(page - 1) }, "‹ Previous"),
    h("span", {}, `page ${page} of ${pages} · ${body.count} in all`),
    h("button", { type: "button", class: "secondary", disabled: !body.next || null, onclick: () => go(page + 1) }, "Next ›"));
}

// A chart.js chart (the vendored UMD build puts `Chart` on window).
export function chart(config) {
  const canvas = h("canvas");
  const box = h("div", { class: "chart" }, canvas);
  const instance = new window.Chart(canvas, { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options || {}) } });
  return { box, instance };
}

// A JSON document editor that sends itself to the API. The text is checked as you type: first
// that it parses, then (when the API has one) against the validation endpoint, whose message
// names the field. `done(answer)` runs after a successful send.
export function jsonForm({ title, method = "POST", path, template, validate, done, submit = "Send" }) {
  const area = h("textarea", { spellcheck: "false", "aria-label": title });
  area.value = JSON.stringify(template, null, 2);
  const status = h("p", { class: "small muted" }, "");
  let timer = null;
  async function check() {
    let doc;
    try { doc = JSON.parse(area.value); } catch (error) {
      area.classList.add("invalid"); status.textContent = `Not JSON: ${error.message}`; return null;
    }
    area.classList.remove("invalid");
    status.textContent = "JSON is well formed.";
    if (validate && token.get()) {
      try {
        const answer = await send("POST", validate, doc);
        const warnings = answer?.warnings || [];
        status.textContent = warnings.length ? `Valid, with warnings: ${warnings.map((w) => w.details || w.message || JSON.stringify(w)).join("; ")}` : "Valid.";
      } catch (error) { area.classList.add("invalid"); status.textContent = error.message; }
    }
    return doc;
  }
  area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 400); });
  const form = h("details", { class: "card" }, h("summary", {}, title), area, status,
    action(submit, async () => {
      const doc = await check();
      if (doc === null) throw new Error("the text is not JSON");
      const answer = await send(method, path, doc);
      if (done) done(answer);
    }));
  return form;
}
