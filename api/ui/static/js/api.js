// The one way the UI talks to Scale: the public REST API under /api/.
const TOKEN_KEY = "scale.token";

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY) || "",
  set: (value) => value ? localStorage.setItem(TOKEN_KEY, value) : localStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function headers(extra = {}) {
  const h = { Accept: "application/json", ...extra };
  if (token.get()) h.Authorization = `Token ${token.get()}`;
  return h;
}

export function apiUrl(path, params) {
  const url = new URL(`/api${path}`, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    for (const v of [].concat(value)) if (v !== undefined && v !== null && v !== "") url.searchParams.append(key, v);
  }
  return url.pathname + url.search;
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    const message = (body && body.message) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

export async function get(path, params) {
  return answer(await fetch(apiUrl(path, params), { headers: headers() }));
}

export async function getText(path) {
  const response = await fetch(apiUrl(path), { headers: headers({ Accept: "text/plain" }) });
  if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`);
  return response.text();
}

export async function send(method, path, body) {
  return answer(await fetch(apiUrl(path), {
    method, headers: headers({ "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
}

// Save a file the API serves (workspace files need the token unless their workspace is public, so
// a plain link would not do): fetched with the token, then handed to the browser as a download.
export async function download(path, fileName) {
  const response = await fetch(apiUrl(path), { headers: headers({ Accept: "*/*" }) });
  if (!response.ok) await answer(response);
  const url = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: fileName });
  a.setAttribute("data-external", "");  // the browser's to follow, not the router's
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// Every page of a list endpoint (page_size is at most 1000).
export async function getAll(path, params = {}, limit = 5000) {
  const results = [];
  for (let page = 1; ; page++) {
    const body = await get(path, { ...params, page, page_size: 1000 });
    results.push(...body.results);
    if (!body.next || results.length >= limit) return results;
  }
}
