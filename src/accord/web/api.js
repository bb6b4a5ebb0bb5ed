// The page's only way to the center: the same /v1 API as any client, with the user's token
// in the Authorization header. The token lives in this tab's sessionStorage, nowhere else.

const KEY = "accord.token";

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
}

/** Call the API; resolve to the JSON body (null for 204); reject with ApiError. */
export async function api(method, path, body, { signal, quiet404 = false } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token()}` };
  const init = { method, headers, signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method === "POST" || method === "PUT") headers["Idempotency-Key"] = newKey();
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    if (response.status === 404 && quiet404) return null;
    const detail = (data && (data.detail || data.title)) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail, data);
  }
  return data;
}

/** Every declaration in force the user may see, from GET /v1/world (GeoJSON features,
 * `PAGE` at a time), as {id, kind, owner, disclosure, feature}; `onPage` gets each page as
 * it arrives (and may return a promise: the next page waits for it). The next page is asked for before this one is handed on, so the server
 * writes it while the page draws this one. */
export async function allInForce(onPage) {
  const get = (after) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (after) q.set("after", after);
    return api("GET", `/v1/world?${q}`);
  };
  let pending = get(null);
  while (pending) {
    const page = await pending;
    performance.mark("accord:pageParsed");
    pending = page.next ? get(page.next) : null;
    await onPage(page.features.map((feature) => {
      const p = feature.properties;
      return { id: p.id, kind: p.kind, owner: p.declared_by, disclosure: p.disclosure, feature };
    }));
  }
}

/** Features per page: a theatre's 10,000 in two requests. */
const PAGE = 5000;

/** Every page of GET /v1/operations (offset pages of up to 200). */
export async function allOperations() {
  const out = [];
  let offset = 0;
  for (;;) {
    const page = await api("GET", `/v1/operations?limit=200&offset=${offset}`);
    out.push(...page.items);
    if (page.next_offset == null) break;
    offset = page.next_offset;
  }
  return out;
}
