// The administrator's page: what an administrator does, as the API allows it (DECISIONS 6:
// tokens are the center's transport credentials, the administrator's to issue, rotate and
// remove; signing keys are the members' own, certified by their offices) —
//   the users of the administrator's member (GET/POST /v1/users, …/rotate, DELETE), a new
//   token shown once;
//   the devices' keys, registered and waiting (GET /v1/keys/registry, /v1/keys/offers),
//   read-only;
//   the record's signed head and the witnesses' cosignatures on it, as they come
//   (GET /v1/record/head);
//   the live connection (the event stream the page holds).
// No map: an administrator keeps no view of the declared world.

import { api, ApiError } from "./api.js";
import { devicesCard } from "./devices.js";
import { el } from "./dom.js";
import { fmtInstant } from "./time.js";
import { witnessedText } from "./witnessed.js";

const $ = (id) => document.getElementById(id);

/** "YYYY-MM-DD HH:MM:SSZ" of an ISO instant, or of seconds since the epoch (time.js). */
function stamp(value) {
  if (value == null) return "—";
  return fmtInstant(typeof value === "number" ? value * 1000 : value);
}

/** The roles a user of a member of `kind` may have (the center's ROLE_KINDS). */
const ROLES_OF_KIND = {
  party: ["officer", "approver", "admin"],
  notifier: ["notifier", "admin"],
  monitor: ["monitor", "admin"],
};

const LIFETIMES = [["", "until rotated or removed"], ["PT12H", "12 hours"], ["P1D", "1 day"], ["P7D", "7 days"], ["P30D", "30 days"]];

function lifetimeSelect(id) {
  return el("select", { id }, ...LIFETIMES.map(([v, t]) => el("option", { value: v, text: t })));
}

function table(caption, headers, rows, empty) {
  return el("table", { class: "admin-table" },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: String(headers.length), class: "hint", text: empty }))])));
}

/**
 * Build the administrator's page in place of the map and load it. `ctx`: {me, toast,
 * onEvent(listener), stats (events counted), centerNow}. Resolves when the first reads are
 * shown.
 */
export function setUpAdmin(ctx) {
  const me = ctx.me;
  const tak = devicesCard(me);
  const section = el("section", { id: "admin", class: "admin", "aria-labelledby": "admin-title" },
    el("h2", { id: "admin-title", text: `Administration — ${me.member}` }),
    el("p", { class: "hint", text: "You issue, rotate and remove the access tokens of your member's users (each change is recorded as the center's entry). Signing keys are certified by each member's office, never here." }),
    el("div", { class: "admin-grid" },
      el("section", { class: "admin-card", id: "admin-users", "aria-labelledby": "admin-users-title" },
        el("h3", { id: "admin-users-title", text: `Users of ${me.member}` }),
        el("div", { id: "users-table" }, el("p", { class: "hint", text: "Reading…" })),
        el("div", { id: "token-box", class: "token-box", role: "status", hidden: true }),
        el("form", { id: "user-form", class: "form", autocomplete: "off", novalidate: true },
          el("h4", { text: "Issue a token to a new user" }),
          el("div", { class: "row" },
            el("div", {}, el("label", { for: "u-name", text: "Name" }), el("input", { id: "u-name", maxlength: 64, required: true, spellcheck: "false" })),
            el("div", {}, el("label", { for: "u-role", text: "Role" }), el("select", { id: "u-role" },
              ...(ROLES_OF_KIND[me.member_kind] || ["admin"]).map((r) => el("option", { value: r, text: r })))),
            el("div", {}, el("label", { for: "u-expires", text: "Token lasts" }), lifetimeSelect("u-expires"))),
          el("button", { type: "submit", class: "primary", id: "u-add" }, "Issue the token"),
          el("p", { id: "user-error", class: "error", role: "alert" })),
        el("div", { class: "row rotate-row" },
          el("label", { for: "u-rotate-expires", text: "A rotated token lasts" }), lifetimeSelect("u-rotate-expires"))),
      el("section", { class: "admin-card", id: "admin-keys", "aria-labelledby": "admin-keys-title" },
        el("h3", { id: "admin-keys-title", text: "Devices and their signing keys" }),
        el("p", { class: "hint", text: "Read-only: a member's office (its root) certifies and revokes its devices' keys after comparing fingerprints." }),
        el("div", { id: "offers-table" }),
        el("div", { id: "keys-table" }, el("p", { class: "hint", text: "Reading…" }))),
      el("section", { class: "admin-card", id: "admin-record", "aria-labelledby": "admin-record-title" },
        el("h3", { id: "admin-record-title", text: "The record: signed head and witnesses" }),
        el("dl", { class: "record", id: "admin-head" }, el("dt", { text: "Head" }), el("dd", { text: "Reading…" })),
        el("h4", { text: "Cosignatures on this head" }),
        el("ul", { id: "witnesses", class: "list" })),
      el("section", { class: "admin-card", id: "admin-live", "aria-labelledby": "admin-live-title" },
        el("h3", { id: "admin-live-title", text: "Live connection" }),
        el("dl", { class: "record", id: "live-facts" })),
      tak.card,
    ));
  $("map").after(section);

  // --- users ------------------------------------------------------------------------------

  let users = [];
  let confirming = null; // the name whose removal waits for its confirmation

  async function loadUsers() {
    const answer = await api("GET", "/v1/users");
    users = answer.items;
    renderUsers();
  }

  function renderUsers() {
    const active = document.activeElement;
    const key = active && active.dataset ? active.dataset.key : null;
    const rows = [...users].sort((a, b) => (a.state === "removed") - (b.state === "removed") || a.name.localeCompare(b.name)).map((u) => {
      const self = u.name === me.name;
      const live = u.state !== "removed";
      const actions = el("td", { class: "actions" });
      if (self) actions.append(el("span", { class: "hint", text: "you" }));
      else if (live && confirming === u.name) {
        actions.append(
          el("button", { type: "button", class: "danger", "data-key": `user:confirm:${u.name}`, onclick: () => removeUser(u.name) }, `Confirm: remove ${u.name}`),
          el("button", { type: "button", "data-key": `user:keep:${u.name}`, onclick: () => { confirming = null; renderUsers(); focusKey(`user:remove:${u.name}`); } }, "Keep"));
      } else if (live) {
        actions.append(
          el("button", { type: "button", "data-key": `user:rotate:${u.name}`, onclick: () => rotateUser(u.name) }, "Rotate token"),
          el("button", { type: "button", class: "danger", "data-key": `user:remove:${u.name}`, onclick: () => { confirming = u.name; renderUsers(); focusKey(`user:confirm:${u.name}`); } }, "Remove…"));
      }
      return el("tr", { "data-user": u.name, class: u.state },
        el("th", { scope: "row", text: u.name }),
        el("td", { text: u.role }),
        el("td", { text: u.state }),
        el("td", { text: stamp(u.created_at) }),
        el("td", { text: u.removed_at ? `removed ${stamp(u.removed_at)}` : u.expires_at ? stamp(u.expires_at) : "no expiry" }),
        actions);
    });
    $("users-table").replaceChildren(table(`${users.filter((u) => u.state === "active").length} active of ${users.length}`, ["Name", "Role", "State", "Created", "Token expires", "Actions"], rows, "No user."));
    if (key) focusKey(key);
  }

  function focusKey(key) {
    const node = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (node) node.focus();
  }

  function showToken(done, what) {
    const box = $("token-box");
    const code = el("code", { class: "token", id: "new-token", text: done.token });
    const copy = el("button", { type: "button", id: "token-copy" }, "Copy");
    copy.addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(done.token); copy.textContent = "Copied"; } catch { copy.textContent = "Select and copy it"; }
    });
    const close = el("button", { type: "button", id: "token-done" }, "Done: hide it");
    close.addEventListener("click", () => { box.hidden = true; box.replaceChildren(); $("u-name").focus(); });
    box.replaceChildren(
      el("p", {}, el("strong", { text: `${what} ${done.user.name} (${done.user.role}): ` }), "shown this once — hand it over now; it is never shown again (record entry ", String(done.entry), ")."),
      el("div", { class: "row" }, code, copy, close));
    box.hidden = false;
    copy.focus();
  }

  function problemText(error) {
    const listed = error instanceof ApiError && error.body && Array.isArray(error.body.errors) ? error.body.errors : [];
    return listed.length ? listed.map((p) => `${p.field}: ${p.message}`).join("; ") : `Refused: ${error.message}`;
  }

  $("user-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = $("user-error");
    error.textContent = "";
    $("u-name").removeAttribute("aria-invalid");
    const body = { name: $("u-name").value.trim(), member: me.member, role: $("u-role").value };
    if ($("u-expires").value) body.expires = $("u-expires").value;
    try {
      const done = await api("POST", "/v1/users", body, { idempotent: false });
      $("u-name").value = "";
      await loadUsers();
      showToken(done, "New token for");
    } catch (problem) {
      error.textContent = problemText(problem);
      if (/name/.test(error.textContent)) $("u-name").setAttribute("aria-invalid", "true");
    }
  });

  async function rotateUser(name) {
    const expires = $("u-rotate-expires").value;
    try {
      const done = await api("POST", `/v1/users/${encodeURIComponent(name)}/rotate`, expires ? { expires } : {}, { idempotent: false });
      await loadUsers();
      showToken(done, "New token for");
      ctx.toast(`${name}'s old token no longer works.`);
    } catch (problem) {
      ctx.toast(problemText(problem));
    }
  }

  async function removeUser(name) {
    confirming = null;
    try {
      const done = await api("DELETE", `/v1/users/${encodeURIComponent(name)}`);
      ctx.toast(`Removed ${name}: their token no longer works (record entry ${done.entry}). Their signing keys are their office's to revoke.`);
      await loadUsers();
      $("u-name").focus();
    } catch (problem) {
      ctx.toast(problemText(problem));
      renderUsers();
    }
  }

  // --- devices' keys -----------------------------------------------------------------------

  async function loadKeys() {
    const [registry, offers] = await Promise.all([api("GET", "/v1/keys/registry"), api("GET", "/v1/keys/offers")]);
    const rows = registry.keys.map((k) => el("tr", { "data-key-id": k.key, class: k.ended_at != null ? "ended" : "" },
      el("td", { text: k.member }),
      el("th", { scope: "row", text: k.user }),
      el("td", {}, el("code", { class: "fingerprint", text: k.fingerprint })),
      el("td", { text: k.purposes.join(", ") }),
      el("td", { text: `entry ${k.registered_at} by ${k.registered_by}` }),
      el("td", { text: k.ended_at != null ? `${k.ended_how || "ended"} at entry ${k.ended_at}` : "signs" })));
    $("keys-table").replaceChildren(table(`Registered keys (${registry.keys.filter((k) => k.ended_at == null).length} in force)`, ["Member", "User", "Fingerprint", "For", "Registered", "Now"], rows, "No key registered."));
    const waiting = offers.items.map((o) => el("tr", {},
      el("th", { scope: "row", text: o.user }),
      el("td", {}, el("code", { class: "fingerprint", text: o.fingerprint })),
      el("td", { text: stamp(o.offered_at) })));
    $("offers-table").replaceChildren(table(`Devices of ${me.member} waiting for their office (${offers.items.length})`, ["User", "Fingerprint", "Offered"], waiting, "No device waits."));
  }

  // --- the record's head and its witnesses --------------------------------------------------

  const firstSeen = new Map(); // cosigner → when this page first saw its cosignature

  async function loadHead() {
    const head = await api("GET", "/v1/record/head");
    const now = ctx.centerNow().toISOString();
    for (const w of head.cosigned_by) if (!firstSeen.has(w)) firstSeen.set(w, now);
    $("admin-head").replaceChildren(
      el("dt", { text: "Entries" }), el("dd", { id: "admin-head-size", text: String(head.size) }),
      el("dt", { text: "Root" }), el("dd", {}, el("code", { class: "fingerprint", text: head.root })),
      el("dt", { text: "Signed by the center" }), el("dd", { text: stamp(head.timestamp) }),
      el("dt", { text: "Origin" }), el("dd", { text: head.origin }),
      el("dt", { text: "Parties' witnesses" }), el("dd", { id: "admin-head-witnessed", text: witnessedText(head) }));
    const items = head.cosigned_by.map((w) => el("li", { class: "witness", "data-witness": w },
      el("strong", { text: w }), ` — cosigned this head (seen ${stamp(firstSeen.get(w))})`));
    if (!items.length) items.push(el("li", { class: "hint", text: "No witness has cosigned this head yet: each party's witness cosigns heads consistent with what it saw before; they appear here as they come." }));
    $("witnesses").replaceChildren(...items);
  }

  // --- the live connection ----------------------------------------------------------------

  let last = null;
  function renderLive() {
    const live = $("live");
    $("live-facts").replaceChildren(
      el("dt", { text: "Event stream" }), el("dd", { id: "live-state", text: live ? live.textContent : "—" }),
      el("dt", { text: "Events received" }), el("dd", { text: String(ctx.stats.events) }),
      el("dt", { text: "Last event" }), el("dd", { text: last ? `${last.kind} (${stamp(last.at)})` : "none yet" }));
  }

  let headTimer = null;
  ctx.onEvent((ev) => {
    last = { kind: ev.kind, at: ctx.centerNow().toISOString() };
    renderLive();
    if (ev.kind.startsWith("key.")) loadKeys().catch(() => {});
    if (ev.kind.startsWith("user.")) loadUsers().catch(() => {});
    clearTimeout(headTimer);
    headTimer = setTimeout(() => loadHead().catch(() => {}), 500);
  });
  // cosignatures arrive without an event of their own: read the head again now and then
  setInterval(() => { if (!document.hidden) loadHead().catch(() => {}); }, 10000);
  setInterval(renderLive, 2000);
  if ($("live")) new MutationObserver(renderLive).observe($("live"), { childList: true, characterData: true, subtree: true });
  renderLive();

  const failed = (where) => (error) => {
    $(where).replaceChildren(el("p", { class: "error", text: `Could not read: ${error.message}` }));
  };
  return Promise.all([
    loadUsers().catch(failed("users-table")),
    loadKeys().catch(failed("keys-table")),
    loadHead().catch(failed("witnesses")),
    tak.load(),
  ]);
}
