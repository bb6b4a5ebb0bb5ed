// The page's only way to the center: the same /v1 API as any client, with the user's token
// in the Authorization header. The token lives in this tab's sessionStorage, nowhere else.
//
// Under an agreement that names its members' roots (GET /v1/me: `signing`), every write
// (POST, PUT, PATCH, DELETE) also carries its act, signed in this browser by the user's own
// device key (acts.js): the request line exactly as passed to fetch and the very object sent
// as the JSON body. useSigner() sets who signs; without it nothing is signed (an agreement
// without roots: the token alone acts).

import { actHeaders } from "./acts.js";

const KEY = "accord.token";
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Who signs the writes: {device, origin, member, user, now} (now: a function giving the
 * center's clock as a Date, for the act's instant), or null to sign nothing. */
let signer = null;

export function useSigner(value) {
  signer = value;
}

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

/** Send a request to the API; resolve to the Response, its body not read yet. A write is
 * signed (useSigner) unless `sign` is false (an offer of this device's key: the bearer
 * token alone), and carries an Idempotency-Key unless `idempotent` is false (an answer
 * holding a new token, which the center never keeps to replay: /v1/users). */
async function send(method, path, body, signal, sign = true, idempotent = true) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token()}` };
  const init = { method, headers, signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body); // the bytes sent are the object signed below
  }
  if (idempotent && (method === "POST" || method === "PUT")) headers["Idempotency-Key"] = newKey();
  if (sign && signer && WRITES.has(method)) {
    const { device, origin, member, user, now } = signer;
    Object.assign(headers, await actHeaders(device, { origin, member, user, method, path, body, at: now() }));
  }
  return fetch(path, init);
}

/** The JSON body of an API answer (null for none); rejects with ApiError for an error. */
async function read(response, quiet404 = false) {
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

/** Call the API; resolve to the JSON body (null for 204); reject with ApiError. A write is
 * signed when a signer is set (useSigner), unless `sign` is false. */
export async function api(method, path, body, { signal, quiet404 = false, sign = true, idempotent = true } = {}) {
  return read(await send(method, path, body, signal, sign, idempotent), quiet404);
}

/** The address of the next page an answer's Link header names (rel="next"), or null. */
function nextLink(response) {
  const link = response.headers.get("Link") || "";
  const found = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  return found && found[1].startsWith("/v1/") ? found[1] : null;
}

/**
 * Every declaration in force the user may see, from GET /v1/world (GeoJSON features, `PAGE`
 * at a time), asked for at once. `position` resolves, as soon as the first answer's headers
 * have arrived, to the events position it names (Accord-Events-After: every change it may
 * not show is announced by a later event; null without one); it rejects if the request
 * fails. `each(onPage)` hands each page, as {id, kind, owner, disclosure, feature}, to
 * `onPage` (which may return a promise: the next page waits for it). Each next page is asked
 * for as soon as the answer before it has named it (its Link header), before that answer's
 * body is read: the server writes it while the page reads and draws this one.
 */
export function inForce() {
  const get = (path) => send("GET", path).then((response) => {
    const next = response.ok ? nextLink(response) : null;
    const following = next ? get(next) : null;
    if (following) following.catch(() => {}); // answered when its turn comes
    const body = read(response);
    body.catch(() => {}); // likewise
    const position = Number.parseInt(response.headers.get("Accord-Events-After") || "", 10);
    return { body, following, position: response.ok && position >= 0 ? position : null };
  });
  const first = get(`/v1/world?${new URLSearchParams({ limit: String(PAGE) })}`);
  first.catch(() => {});
  return {
    position: first.then((answer) => answer.position),
    async each(onPage) {
      let pending = first;
      while (pending) {
        const { body, following } = await pending;
        const page = await body;
        performance.mark("accord:pageParsed");
        pending = following;
        await onPage(page.features.map((feature) => {
          const p = feature.properties;
          return { id: p.id, kind: p.kind, owner: p.declared_by, disclosure: p.disclosure, feature };
        }));
      }
    },
  };
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
