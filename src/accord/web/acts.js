// A party's act, signed in this browser with the user's own device key (Web Crypto Ed25519).
//
// The act is the object of src/accord/record/acts.py: nine members, all signed —
//   {"accord-act": 1, "action": "<METHOD> <path>", "at": "YYYY-MM-DDTHH:MM:SSZ",
//    "key": <key id>, "member", "nonce", "origin": <the log's origin>,
//    "seal": <the request's JSON body, sealed>, "user"}
// and its signature is Ed25519 over the UTF-8 of its RFC 8785 (JCS) canonical form. The body
// (an object, {} for none) is not signed in clear: the seal is the lower-case hex of
// SHA-256(salt || UTF-8 of JCS(body)), with a fresh salt of 32 random bytes (sealOf, newSalt),
// so that the record, which every party reads, holds the seal alone; the salt and the body
// are the act's opening, kept by the user and the center. The request carries only what the
// center cannot take from the caller's token, its own log and the request itself: the key
// id, the instant, the nonce, the salt and the signature (actHeaders).
//
// The device key is made here, its private half not extractable, and kept in this browser's
// IndexedDB (database "accord-keys"), one per log origin and user: the page can sign with it
// but no script can read it out.

const DB_NAME = "accord-keys";
const DB_STORE = "devices";
const ED25519 = { name: "Ed25519" };
const NONCE_BYTES = 16;
const SALT_BYTES = 32;
const SALT_LENGTH = Math.ceil((SALT_BYTES * 8) / 6); // 43 characters, no padding
const PATH_MAX = 1024;
const METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// ---- RFC 8785 (JCS) -------------------------------------------------------------------

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function jcsString(text) {
  // RFC 8785 §3.2.2.2: strings must be Unicode text (RFC 8259 §8.1), so a lone surrogate is
  // an error, never written as an escape. JSON.stringify (ES2019 and later) then escapes
  // exactly as JCS requires: \b \t \n \f \r \" \\ in short form, other controls below U+0020
  // as \u00xx in lower-case hex, and nothing else (not "/", DEL, U+2028/9 or non-ASCII).
  if (LONE_SURROGATE.test(text)) throw new TypeError("a string holds a lone surrogate (not Unicode text)");
  return JSON.stringify(text);
}

function jcsNumber(n) {
  // RFC 8785 §3.2.2.3: ECMAScript's Number::toString (String(n)), with -0 written 0 (as
  // String does); NaN and the infinities have no JSON form.
  if (!Number.isFinite(n)) throw new TypeError(`${n} is not a finite number: it has no JSON form`);
  return Object.is(n, -0) ? "0" : String(n);
}

function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function jcs(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return jcsNumber(value);
    case "string":
      return jcsString(value);
    case "object":
      break;
    default:
      throw new TypeError(`a ${typeof value} has no JSON form`);
  }
  if (Array.isArray(value)) {
    const items = [];
    for (let i = 0; i < value.length; i++) items.push(jcs(value[i])); // a hole is undefined: refused
    return `[${items.join(",")}]`;
  }
  if (!isPlainObject(value)) {
    throw new TypeError(`a ${value.constructor?.name ?? "object"} is not a JSON value`);
  }
  // RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names, which is what
  // the default sort compares; the names as values, before they are escaped.
  const names = Object.keys(value).sort();
  return `{${names.map((name) => `${jcsString(name)}:${jcs(value[name])}`).join(",")}}`;
}

/** The RFC 8785 (JCS) canonical form of a JSON value, as a string (its UTF-8 is what is signed).
 * Throws TypeError for what has no JSON form: NaN, ±Infinity, a lone surrogate, undefined, a
 * function, a BigInt, an object other than a plain object or array. */
export function canonicalize(value) {
  return jcs(value);
}

// ---- small encodings ------------------------------------------------------------------

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin); // RFC 4648 §4, with padding
}

function base64url(bytes) {
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""); // §5, no padding
}

function fromBase64url(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat(-text.length & 3));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** The key id of a raw 32-byte Ed25519 public key: lower-case hex of SHA-256(raw)[:8]
 * (accord.record.keys.PublicKey.key_id). */
export async function keyId(raw) {
  return hex((await sha256(raw)).subarray(0, 8));
}

/** What a user reads out to compare a key: SHA-256(raw)[:16] in hex, eight groups of four. */
export async function fingerprint(raw) {
  return hex((await sha256(raw)).subarray(0, 16)).match(/.{4}/g).join(" ");
}

/** A fresh nonce: 16 random bytes in base64url without padding (22 characters). */
export function newNonce() {
  return base64url(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
}

/** A fresh salt for an act's body: 32 random bytes in base64url without padding (43
 * characters). */
export function newSalt() {
  return base64url(crypto.getRandomValues(new Uint8Array(SALT_BYTES)));
}

/** The bytes of a salt: exactly 32 bytes in canonical base64url without padding (43
 * characters of A-Z a-z 0-9 - _, the unused bits of the last one zero, as
 * accord.record.acts.seal_of reads it), else a TypeError. */
function saltBytes(salt) {
  if (typeof salt !== "string" || salt.length !== SALT_LENGTH || !/^[A-Za-z0-9_-]+$/.test(salt)) {
    throw new TypeError(`a salt is ${SALT_BYTES} random bytes in base64url without padding (${SALT_LENGTH} characters of A-Z a-z 0-9 - _)`);
  }
  const raw = fromBase64url(salt);
  // RFC 4648 §3.5: one spelling for one salt.
  if (raw.length !== SALT_BYTES || base64url(raw) !== salt) {
    throw new TypeError("a salt is canonical base64url (its unused bits zero)");
  }
  return raw;
}

function bodyObject(body) {
  const content = body === undefined || body === null ? {} : body;
  if (typeof content !== "object" || Array.isArray(content) || !isPlainObject(content)) {
    throw new TypeError("an act's body is a JSON object");
  }
  return content;
}

/** The seal of a request's JSON body (an object; undefined or null is {}): the lower-case
 * hex of SHA-256 over the salt's 32 bytes followed by the UTF-8 of the body's JCS form
 * (accord.record.acts.seal_of). Throws TypeError for a body that is not a JSON object with a
 * JCS form, or a salt not in its form (newSalt). */
export async function sealOf(body, salt) {
  const content = new TextEncoder().encode(canonicalize(bodyObject(body)));
  const raw = saltBytes(salt);
  const bytes = new Uint8Array(raw.length + content.length);
  bytes.set(raw);
  bytes.set(content, raw.length);
  return hex(await sha256(bytes));
}

/** An instant as acts write it: UTC, "YYYY-MM-DDTHH:MM:SSZ", whole seconds (toISOString's
 * milliseconds are dropped, not rounded: the instant written is never in the future). A
 * string already in that form is returned as it is. */
export function instant(date = new Date()) {
  if (typeof date === "string") {
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(date)) throw new RangeError(`${date} is not "YYYY-MM-DDTHH:MM:SSZ"`);
    return date;
  }
  const text = date.toISOString();
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z$/.exec(text);
  if (!match) throw new RangeError(`${text} is outside the years 0000-9999`);
  return `${match[1]}Z`;
}

// ---- the device key, in IndexedDB -----------------------------------------------------

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, use) {
  const opening = indexedDB.open(DB_NAME, 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore(DB_STORE);
  const db = await done(opening);
  try {
    const tx = db.transaction(DB_STORE, mode);
    const finished = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("the key store's transaction was aborted"));
    });
    const [result] = await Promise.all([done(use(tx.objectStore(DB_STORE))), finished]);
    return result;
  } finally {
    db.close();
  }
}

function slot(origin, user) {
  if (typeof origin !== "string" || !origin || typeof user !== "string" || !user) {
    throw new TypeError("a device key belongs to a log origin and a user (non-empty strings)");
  }
  return `${origin}\n${user}`;
}

async function device(pair) {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, raw };
}

/** This browser's key for `user` on the log `origin`: {privateKey, publicKey, raw} (raw: the
 * 32-byte public key), or null if it has none. */
export async function loadDeviceKey(origin, user) {
  const pair = await withStore("readonly", (store) => store.get(slot(origin, user)));
  return pair ? device(pair) : null;
}

/** Make a new Ed25519 key for `user` on the log `origin` (its private half not extractable),
 * keep it in IndexedDB in place of any earlier one, and return it as loadDeviceKey does. */
export async function createDeviceKey(origin, user) {
  const key = slot(origin, user);
  const pair = await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"]);
  const kept = { privateKey: pair.privateKey, publicKey: pair.publicKey };
  await withStore("readwrite", (store) => store.put(kept, key));
  return device(kept);
}

/** Delete this browser's key for `user` on the log `origin` (nothing if it has none). */
export async function forgetDeviceKey(origin, user) {
  await withStore("readwrite", (store) => store.delete(slot(origin, user)));
}

// ---- the act --------------------------------------------------------------------------

function action(method, path) {
  if (!METHODS.has(method)) throw new TypeError(`${method} is not a method an act is made for (${[...METHODS].join(", ")})`);
  // The path exactly as sent, "?query" included: printable ASCII without spaces.
  if (typeof path !== "string" || !/^\/[\x21-\x7e]*$/.test(path) || path.length > PATH_MAX) {
    throw new TypeError(`an act's path starts with "/" and is at most ${PATH_MAX} printable ASCII characters without spaces`);
  }
  return `${method} ${path}`;
}

/** The nine-member object an act's signature is over, for a request `method path` with the
 * JSON body `body` ({} when the request has none), sealed with `salt` (required: with the
 * body, it is the act's opening, so the caller keeps it — actHeaders makes one); `at` (a
 * Date or the act's form of an instant, default now) and `nonce` (default newNonce()) are
 * the act's own. */
export async function actObject(device, { origin, member, user, method, path, body, at, nonce, salt }) {
  const line = action(method, path);
  const content = bodyObject(body);
  return {
    "accord-act": 1,
    action: line,
    at: instant(at ?? new Date()),
    key: await keyId(device.raw),
    member,
    nonce: nonce ?? newNonce(),
    origin,
    seal: await sealOf(content, salt),
    user,
  };
}

/** Sign the act for a request and resolve to the headers that carry it:
 * Accord-Act-Key, Accord-Act-At, Accord-Act-Nonce, Accord-Act-Salt (the body's salt:
 * `fields.salt`, default newSalt()) and Accord-Act-Signature (standard base64, padded, of
 * the 64-byte Ed25519 signature over the act's JCS form in UTF-8). */
export async function actHeaders(device, fields) {
  const salt = fields.salt ?? newSalt();
  const act = await actObject(device, { ...fields, salt });
  const bytes = new TextEncoder().encode(canonicalize(act));
  const signature = new Uint8Array(await crypto.subtle.sign(ED25519, device.privateKey, bytes));
  return {
    "Accord-Act-Key": act.key,
    "Accord-Act-At": act.at,
    "Accord-Act-Nonce": act.nonce,
    "Accord-Act-Salt": salt,
    "Accord-Act-Signature": base64(signature),
  };
}
