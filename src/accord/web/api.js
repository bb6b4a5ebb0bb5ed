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

/** Every page of GET /v1/declarations (cursor pages of up to 500). */
export async function allDeclarations() {
  const out = [];
  let after = null;
  for (;;) {
    const q = new URLSearchParams({ limit: "500", status: "active" });
    if (after) q.set("after", after);
    const page = await api("GET", `/v1/declarations?${q}`);
    out.push(...page.items);
    if (!page.next) break;
    after = page.next;
  }
  return out;
}

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
