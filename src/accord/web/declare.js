// Humanitarian notifications from the page: the notifier's form to declare a protected site
// or a movement (POST /v1/declarations, signed like every act of the page: api.js; a party's
// hidden one through POST /v1/declarations/hidden, whose request line names nothing), the
// center's field errors shown beside the fields they name, and the notifier's receipts —
// each declaration it made, the record entry it went in under and when, and which parties
// have acknowledged which version. And, for a party's officers, the notifications still to
// acknowledge (POST /v1/declarations/{id}/acknowledge: a receipt, never an approval).
//
// The page gives it what it needs (setUpDeclare's `ctx`): the map, the page's toast, the
// acting state and its live events.

import { api, ApiError } from "./api.js";
import { el } from "./dom.js";
import { pickPointInto } from "./pick.js";
import { fmtInstant, parseTyped, typedValue } from "./time.js";

const $ = (id) => document.getElementById(id);

/** "YYYY-MM-DD HH:MM" (UTC) of an instant: what a time field shows (time.js). */
export function typedUtc(date) {
  return typedValue(date);
}

/** The instant typed as "YYYY-MM-DD HH:MM" (or with ":SS", a "T", a final "Z"), taken as
 * UTC, in ISO 8601 with its offset; null if it is not one (time.js's parseTyped). */
export function parseTypedUtc(text) {
  return parseTyped(text).iso || null;
}

/** Typed "lon lat, lon lat, …" (or one a line) as positions; null if not at least `min`. */
export function parseRoute(text, min = 2) {
  const pts = (text || "").split(/[,;\n]+/).map((s) => s.trim()).filter(Boolean)
    .map((s) => s.split(/\s+/).map(Number));
  if (pts.length < min || !pts.every((p) => p.length === 2 && p.every(Number.isFinite))) return null;
  return pts;
}

/** "YYYY-MM-DD HH:MM:SSZ" of an ISO instant (time.js). */
function stamp(iso) {
  return iso ? fmtInstant(iso) : "—";
}

const CATEGORIES = ["hospital", "clinic", "school", "shelter", "water", "aid_warehouse", "camp", "place_of_worship"];

const DRAFT_STYLE = Object.freeze({ stroke: "#ffd24d", fill: "rgba(255, 210, 77, 0.12)", width: 2, dash: [4, 3], symbol: "cross" });

/** A labelled input with the error the center names for it beside it. */
function field(id, label, input, hint) {
  input.id = id;
  const error = el("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  input.setAttribute("aria-describedby", `${id}-error${hint ? ` ${id}-hint` : ""}`);
  return el("div", { class: "field", "data-field": id },
    el("label", { for: id, text: label }), input,
    hint ? el("p", { class: "hint", id: `${id}-hint`, text: hint }) : null,
    error);
}

function setError(id, message) {
  const input = $(id);
  const error = $(`${id}-error`);
  if (error) error.textContent = message || "";
  if (input) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** Which of the form's inputs a field the center names is about. */
const FIELD_INPUTS = [
  [/^properties\.name/, "d-name"],
  [/^properties\.category/, "d-category"],
  [/^properties\.standoff_m/, "d-standoff"],
  [/^properties\.corridor_m/, "d-corridor"],
  [/^properties\.valid_from/, "d-from"],
  [/^properties\.valid_to/, "d-to"],
  [/^properties\.confirmed_at/, "d-confirmed"],
  [/^properties\.kind/, "d-kind"],
  [/^properties\.uncertainty_m/, "d-uncertainty"],
  [/^properties\.disclosure/, "d-disclosure"],
];

/** The kinds a member of each kind declares from the page (a party's flight plans, with a
 * time at every point, come from its planning tools). */
const KINDS = {
  notifier: [["protected_site", "Protected site (a point)"], ["movement", "Movement: convoy or evacuation (a route)"]],
  party: [["position", "Position of your forces (a point)"], ["protected_site", "Protected site (a point)"], ["movement", "Movement: convoy or evacuation (a route)"]],
};

/** A part of the form shown for the kinds it names. */
function part(kinds, ...children) {
  return el("div", { class: "kind-part", "data-kinds": kinds.join(" ") }, ...children);
}

/**
 * The declaring panels: the form, and (a notifier) its declarations with their receipts.
 * `ctx`: {me, agreement, map() (the OperatingMap or null), toast, canAct, readOnly (the text
 * when it may not), putDeclaration, stopDrawing, centerNow, onEvent(listener),
 * afterRefusal}. A party's officer gets the form (closed) after the proposal's, and a list
 * of what it declared from this page.
 */
export function setUpDeclare(ctx) {
  const sidebar = $("sidebar");
  const party = ctx.me.member_kind === "party";
  const after = party ? $("panel-propose") : $("panel-layers");
  const form = el("form", { id: "declare", class: "form declare", autocomplete: "off", novalidate: true });
  const kind = el("select", {}, ...KINDS[party ? "party" : "notifier"].map(([value, text]) => el("option", { value, text })));
  const categories = el("datalist", { id: "d-categories" }, ...CATEGORIES.map((c) => el("option", { value: c })));
  const reconfirm = (ctx.agreement.deconfliction || {}).site_reconfirm_every;
  const limits = ctx.agreement.limits || {};
  const now = ctx.centerNow();
  // el() leaves null out; a node's own append() would write it as the text "null"
  form.append(...[
    field("d-kind", "What", kind),
    field("d-name", "Name", el("input", { maxlength: 200, required: true })),
    party ? field("d-disclosure", "Who sees it", el("select", {},
      el("option", { value: "shared", text: "shared: every party sees it" }),
      el("option", { value: "center", text: "center only: others learn only that it blocks" }))) : null,
    part(["protected_site", "position"],
      el("fieldset", { class: "where" },
        el("legend", { text: "Where: a point (lon, lat)" }),
        el("div", { class: "row" },
          field("d-lon", "lon", el("input", { inputmode: "decimal", spellcheck: "false" })),
          field("d-lat", "lat", el("input", { inputmode: "decimal", spellcheck: "false" })),
          el("button", { type: "button", id: "d-pick" }, "Pick on the map")))),
    part(["position"],
      field("d-uncertainty", "Uncertainty (m, optional)", el("input", { inputmode: "decimal" }))),
    part(["protected_site"],
      field("d-category", "Category", el("input", { list: "d-categories", maxlength: 64, spellcheck: "false" }),
        "hospital, school, water, aid_warehouse… (the agreement lists none: any word)"),
      categories,
      field("d-standoff", "Standoff (m, optional)", el("input", { inputmode: "decimal" }),
        `How far operations must keep off, at most ${limits.standoff_m || "the agreement's limit"} m.`),
      field("d-confirmed", "Confirmed at (UTC, YYYY-MM-DD HH:MM)", el("input", { value: typedUtc(now), spellcheck: "false", inputmode: "numeric", placeholder: "YYYY-MM-DD HH:MM" }),
        reconfirm ? `The agreement asks sites to be confirmed again every ${reconfirm.replace(/^P/, "").replace("D", " days")}.` : null)),
    part(["movement"],
      field("d-route", "Route: lon lat, lon lat, … (at least 2 points)", el("textarea", { rows: 2, spellcheck: "false" })),
      el("div", { class: "row" }, el("button", { type: "button", id: "d-draw" }, "Draw the route on the map")),
      field("d-corridor", "Corridor half-width (m, optional)", el("input", { inputmode: "decimal" }))),
    part(["movement", "position"],
      el("div", { class: "row times" },
        field("d-from", "Valid from (UTC)", el("input", { value: typedUtc(new Date(now.getTime() + 3600e3)), spellcheck: "false", inputmode: "numeric", placeholder: "YYYY-MM-DD HH:MM" })),
        field("d-to", "Valid until (UTC)", el("input", { value: typedUtc(new Date(now.getTime() + 7 * 3600e3)), spellcheck: "false", inputmode: "numeric", placeholder: "YYYY-MM-DD HH:MM" })))),
    el("button", { type: "submit", id: "d-submit", class: "primary", "data-writes": true }, "Declare"),
    el("p", { class: "hint", text: party
      ? "Recorded and signed by your party; a center-only declaration goes in the record as a commitment, its opening kept by your party and the center."
      : "Shared with every party, recorded and signed by your member. Each party's officers acknowledge receipt." }),
    el("p", { id: "declare-error", class: "error", role: "alert" }),
  ].filter((child) => child != null));
  const panel = el("details", { id: "panel-declare", open: !party },
    el("summary", { text: party ? "Declare a position, site or movement" : "Declare a protected site or a movement" }), form);
  const receipts = el("details", { id: "panel-receipts", open: true },
    el("summary", {}, party ? "Declared from this page " : "Your declarations and their receipts ", el("span", { id: "receipts-count", class: "count" })),
    el("ul", { id: "receipts", class: "list" }, el("li", { class: "hint", text: party ? "Nothing yet." : "Reading…" })));
  if (party) receipts.hidden = true; // until something is declared from this page
  sidebar.insertBefore(receipts, after.nextSibling);
  sidebar.insertBefore(panel, receipts);

  const showKind = () => {
    for (const node of form.querySelectorAll(".kind-part")) node.hidden = !node.dataset.kinds.split(" ").includes(kind.value);
    draft();
  };
  kind.addEventListener("change", showKind);
  for (const id of ["d-lon", "d-lat", "d-route", "d-corridor", "d-standoff"]) $(id).addEventListener("input", draft);

  /** The geometry typed so far (null: none yet). */
  function geometry() {
    if (kind.value !== "movement") {
      const lon = Number($("d-lon").value), lat = Number($("d-lat").value);
      if (!$("d-lon").value.trim() || !$("d-lat").value.trim() || !Number.isFinite(lon) || !Number.isFinite(lat)) return null;
      return { type: "Point", coordinates: [lon, lat] };
    }
    const pts = parseRoute($("d-route").value);
    return pts ? { type: "LineString", coordinates: pts } : null;
  }

  function draft() {
    const map = ctx.map();
    if (!map) return;
    const g = geometry();
    const standoff = Number($("d-standoff").value) || null;
    if (g && (g.type !== "Point" || (Math.abs(g.coordinates[1]) <= 90 && Math.abs(g.coordinates[0]) <= 180))) {
      map.setDraft({ id: "draft", layer: "draft", geometry: g, radius_m: g.type === "Point" ? standoff : null, style: DRAFT_STYLE });
    } else {
      map.setDraft(null);
    }
  }

  const help = () => $("map-help");
  function pick() {
    const map = ctx.map();
    if (!map) { ctx.toast("The map is not available: type lon and lat instead."); return; }
    pickPointInto(map, {
      mode: "declare-point", lon: $("d-lon"), lat: $("d-lat"), help: help(),
      message: "Click where the site is (Esc cancels).",
      done: () => { ctx.stopDrawing(); draft(); $("d-pick").focus(); },
    });
  }

  function drawRoute() {
    const map = ctx.map();
    if (!map) { ctx.toast("The map is not available: type the route instead."); return; }
    const pts = [];
    map.map.doubleClickZoom.disable();
    map.drawing = {
      mode: "declare-route",
      click: (p) => {
        pts.push(p);
        $("d-route").value = pts.map((q) => `${q[0].toFixed(5)} ${q[1].toFixed(5)}`).join(", ");
        help().textContent = `${pts.length} point(s): click to add, Enter to finish, Esc to cancel.`;
        draft();
      },
      move: () => {},
      finish: () => {
        if (pts.length < 2) { help().textContent = "A route needs at least 2 points."; return; }
        ctx.stopDrawing();
        draft();
        $("d-draw").focus();
      },
    };
    help().hidden = false;
    help().textContent = "Click the route's points in order; Enter finishes, Esc cancels.";
    $("map").focus();
  }

  $("d-pick").addEventListener("click", pick);
  $("d-draw").addEventListener("click", drawRoute);
  document.addEventListener("keydown", (e) => {
    const map = ctx.map();
    const mode = map && map.drawing ? map.drawing.mode : "";
    if (!mode.startsWith("declare-")) return;
    if (e.key === "Escape") {
      ctx.stopDrawing();
      $(mode === "declare-point" ? "d-pick" : "d-draw").focus();
    } else if (e.key === "Enter" && mode === "declare-route") {
      e.preventDefault();
      map.drawing.finish();
    }
  });

  const ALL = ["d-kind", "d-name", "d-disclosure", "d-uncertainty", "d-category", "d-lon", "d-standoff", "d-confirmed", "d-route", "d-corridor", "d-from", "d-to"];

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const id of ALL) setError(id, "");
    $("d-lat").removeAttribute("aria-invalid");
    const general = $("declare-error");
    general.textContent = "";
    if (!ctx.canAct()) { general.textContent = ctx.readOnly; return; }
    // What the page cannot even send (a time not in the form asked for): said here; the
    // rest is the center's to judge, and its answer names the fields.
    const local = [];
    const site = kind.value !== "movement"; // a point
    const properties = { kind: kind.value, disclosure: party ? $("d-disclosure").value : "shared" };
    if ($("d-name").value.trim()) properties.name = $("d-name").value.trim();
    const number = (id, key) => {
      const text = $(id).value.trim();
      if (!text) return;
      const n = Number(text);
      if (Number.isFinite(n)) properties[key] = n;
      else local.push([id, "must be a number of metres"]);
    };
    const instant = (id, key, required) => {
      const text = $(id).value.trim();
      if (!text) { if (required) properties[key] = null; return; }
      const iso = parseTypedUtc(text);
      if (iso) properties[key] = iso;
      else local.push([id, "write it as YYYY-MM-DD HH:MM (UTC)"]);
    };
    if (kind.value === "protected_site") {
      if ($("d-category").value.trim()) properties.category = $("d-category").value.trim();
      number("d-standoff", "standoff_m");
      instant("d-confirmed", "confirmed_at", false);
    } else {
      if (kind.value === "movement") number("d-corridor", "corridor_m");
      else { properties.party = ctx.me.member; number("d-uncertainty", "uncertainty_m"); }
      instant("d-from", "valid_from", true);
      instant("d-to", "valid_to", true);
    }
    const g = geometry();
    if (!g) local.push([site ? "d-lon" : "d-route", site ? "give the point: lon and lat, or pick it on the map" : "give at least 2 points (lon lat, …), or draw the route"]);
    for (const key of Object.keys(properties)) if (properties[key] === null) delete properties[key];
    if (local.length) {
      for (const [id, message] of local) setError(id, message);
      if (local.some(([id]) => id === "d-lon")) $("d-lat").setAttribute("aria-invalid", "true");
      $(local[0][0]).focus();
      return;
    }
    const button = $("d-submit");
    button.disabled = true;
    try {
      const feature = { type: "Feature", geometry: g, properties };
      // A hidden one goes through the request line that names nothing: the signed act, which
      // every party reads in the record, must not say which hidden object changed, nor how.
      const made = properties.disclosure === "center"
        ? (await api("POST", "/v1/declarations/hidden", { changes: [{ change: "declare", feature }] })).items[0]
        : await api("POST", "/v1/declarations", feature);
      ctx.putDeclaration({ id: made.id, kind: made.kind, owner: made.owner, disclosure: made.disclosure, feature: made.feature });
      const map = ctx.map();
      if (map) map.setDraft(null);
      for (const id of ["d-name", "d-category", "d-lon", "d-lat", "d-standoff", "d-route", "d-corridor", "d-uncertainty"]) $(id).value = "";
      receipts.hidden = false;
      putMine(made);
      ctx.toast(`Declared ${(made.feature.properties || {}).name || made.id}: record entry ${made.entry}, ${stamp(made.declared_at)}.`);
      const item = document.querySelector(`[data-receipt="${CSS.escape(made.id)}"]`);
      if (item) { item.tabIndex = -1; item.focus(); }
    } catch (error) {
      showRefusal(error);
      ctx.afterRefusal(error);
    } finally {
      button.disabled = !ctx.canAct();
    }
  });

  function showRefusal(error) {
    const general = $("declare-error");
    const listed = error instanceof ApiError && error.body && Array.isArray(error.body.errors) ? error.body.errors : [];
    const rest = [];
    let first = null;
    for (const problem of listed) {
      const p = { ...problem, field: String(problem.field || "").replace(/^changes\[0\]\.feature\./, "") };
      let id = (FIELD_INPUTS.find(([re]) => re.test(p.field)) || [])[1];
      if (!id && p.field.startsWith("geometry")) id = isSite() ? "d-lon" : "d-route";
      if (id) {
        const had = $(`${id}-error`).textContent;
        setError(id, had ? `${had}; ${p.message}` : `${p.field}: ${p.message}`);
        first = first || id;
      } else {
        rest.push(`${p.field}: ${p.message}`);
      }
    }
    if (!listed.length) general.textContent = `Refused: ${error.message}`;
    else if (rest.length) general.textContent = rest.join("; ");
    else general.textContent = `Not recorded: ${listed.length} field(s) to correct, named beside them.`;
    if (first) $(first).focus();
  }
  const isSite = () => kind.value !== "movement";

  // --- the receipts -----------------------------------------------------------------------

  const mine = new Map();

  function putMine(d) {
    mine.set(d.id, d);
    renderReceipts();
  }

  async function loadMine() {
    const found = [];
    let after = null;
    for (let page = 0; page < 20; page++) {
      const q = new URLSearchParams({ owner: ctx.me.member, limit: "500" });
      if (after) q.set("after", after);
      const answer = await api("GET", `/v1/declarations?${q}`);
      found.push(...answer.items);
      if (!answer.next) break;
      after = answer.next;
    }
    mine.clear();
    for (const d of found) mine.set(d.id, d);
    renderReceipts();
  }

  function receiptItem(d) {
    const p = d.feature.properties || {};
    const name = p.name || d.id;
    const what = (d.kind === "protected_site" ? `protected site${p.category ? ` · ${p.category}` : ""}${p.standoff_m ? ` · standoff ${p.standoff_m} m` : ""}`
      : d.kind === "position" ? `position · ${stamp(p.valid_from)} → ${stamp(p.valid_to)}${p.uncertainty_m ? ` · within ${p.uncertainty_m} m` : ""}`
        : `movement · ${stamp(p.valid_from)} → ${stamp(p.valid_to)}${p.corridor_m ? ` · corridor ${p.corridor_m} m` : ""}`)
      + (d.disclosure === "center" ? " · center only" : "");
    const acks = (d.acknowledgements || []).filter((a) => a.version === d.version);
    const parties = party ? [] : (ctx.agreement.parties || []).map((x) => x.id); // receipts: a notifier's
    const waiting = parties.filter((x) => !acks.some((a) => a.member === x));
    const li = el("li", { class: `receipt${d.status === "withdrawn" ? " withdrawn" : ""}`, "data-receipt": d.id },
      el("h4", { text: name }),
      el("div", { class: "meta", text: `${what}` }),
      el("div", { class: "entry", text: `version ${d.version} · record entry ${d.entry} · ${stamp(d.updated_at)}${d.version > 1 ? ` (first declared ${stamp(d.declared_at)})` : ""}${d.status === "withdrawn" ? ` · WITHDRAWN ${stamp(d.withdrawn_at)}` : ""}` }),
      ...acks.map((a) => el("div", { class: "ack", text: `acknowledged by ${a.member}: entry ${a.entry}, ${stamp(a.acknowledged_at)}` })),
      waiting.length && d.status !== "withdrawn" ? el("div", { class: "meta waiting", text: `not yet acknowledged by ${waiting.join(", ")}` }) : null,
      el("div", { class: "actions" },
        el("button", { type: "button", "data-key": `receipt:show:${d.id}`, onclick: () => show(d) }, "Show on map")),
    );
    return li;
  }

  function renderReceipts() {
    const list = [...mine.values()].sort((a, b) => b.updated_at.localeCompare(a.updated_at) || a.id.localeCompare(b.id));
    const active = list.filter((d) => d.status !== "withdrawn").length;
    $("receipts-count").textContent = `(${active} in force)`;
    $("receipts").replaceChildren(...list.map(receiptItem));
    if (!list.length) $("receipts").append(el("li", { class: "hint", text: "You have declared nothing yet: use the form above." }));
  }

  function show(d) {
    const map = ctx.map();
    if (!map) return;
    const pts = d.feature.geometry.type === "Point" ? [d.feature.geometry.coordinates]
      : d.feature.geometry.type === "Polygon" ? d.feature.geometry.coordinates[0] : d.feature.geometry.coordinates;
    const lons = pts.map((q) => q[0]), lats = pts.map((q) => q[1]);
    const pad = 0.03;
    map.fit([Math.min(...lons) - pad, Math.min(...lats) - pad, Math.max(...lons) + pad, Math.max(...lats) + pad]);
    map.setHighlight(d.id);
  }

  showKind();
  if (party) return Promise.resolve(); // a party's declarations are many: only this page's are listed
  let timer = null;
  ctx.onEvent((ev) => {
    if (!ev.kind.startsWith("declaration.")) return;
    clearTimeout(timer);
    timer = setTimeout(() => loadMine().catch(() => {}), 200);
  });
  return loadMine().catch((error) => {
    $("receipts").replaceChildren(el("li", { class: "hint", text: `Could not read your declarations: ${error.message}` }));
  });
}

/**
 * A party officer's panel: the humanitarian notifiers' sites and movements, each with the
 * receipt its party gave or a button to give it (naming exactly the version's hash).
 * `ctx` as setUpDeclare's, and writes() (a writing control's attributes).
 */
export function setUpNotifications(ctx) {
  const notifiers = (ctx.agreement.notifiers || []).map((n) => n.id);
  if (!notifiers.length) return Promise.resolve();
  const panel = el("details", { id: "panel-notifications" },
    el("summary", {}, "Humanitarian notifications ", el("span", { id: "notifications-count", class: "count" })),
    el("p", { class: "hint", text: "Acknowledging is a receipt of exactly this version, recorded for your party: never an approval." }),
    el("ul", { id: "notifications", class: "list" }));
  const before = $("panel-compliance");
  before.parentNode.insertBefore(panel, before);
  const items = new Map();
  let shownOpen = 0;

  async function load() {
    const found = [];
    for (const owner of notifiers) {
      let after = null;
      for (let page = 0; page < 20; page++) {
        const q = new URLSearchParams({ owner, status: "active", limit: "500" });
        if (after) q.set("after", after);
        const answer = await api("GET", `/v1/declarations?${q}`);
        found.push(...answer.items);
        if (!answer.next) break;
        after = answer.next;
      }
    }
    items.clear();
    for (const d of found) items.set(d.id, d);
    render();
  }

  const acked = (d) => (d.acknowledgements || []).find((a) => a.member === ctx.me.member && a.version === d.version);

  function render() {
    const active = document.activeElement;
    const key = active && active.dataset ? active.dataset.key : null;
    const list = [...items.values()].sort((a, b) => (!!acked(a) - !!acked(b)) || b.updated_at.localeCompare(a.updated_at));
    const open = list.filter((d) => !acked(d)).length;
    $("notifications-count").textContent = open ? `(${open} to acknowledge)` : `(${list.length})`;
    if (open > shownOpen) panel.open = true; // a new notification to acknowledge: shown
    shownOpen = open;
    $("notifications").replaceChildren(...list.map((d) => {
      const p = d.feature.properties || {};
      const a = acked(d);
      return el("li", { class: `notification${a ? " acked" : " unacked"}`, "data-notification": d.id },
        el("h4", { text: p.name || d.id }),
        el("div", { class: "meta", text: `${d.kind === "protected_site" ? `protected site${p.category ? ` · ${p.category}` : ""}` : `movement · ${stamp(p.valid_from)} → ${stamp(p.valid_to)}`} · by ${d.owner} · version ${d.version}, entry ${d.entry}` }),
        a ? el("div", { class: "ack", text: `acknowledged by ${ctx.me.member}: entry ${a.entry}, ${stamp(a.acknowledged_at)}` })
          : el("div", { class: "actions" }, el("button", {
            type: "button", class: "primary", "data-key": `notification:ack:${d.id}`, onclick: () => acknowledge(d), ...ctx.writes(),
          }, "Acknowledge receipt")),
      );
    }));
    if (!list.length) $("notifications").append(el("li", { class: "hint", text: "No humanitarian notification in force." }));
    if (key) {
      const again = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
    }
  }

  async function acknowledge(d) {
    if (!ctx.canAct()) { ctx.toast(ctx.readOnly); return; }
    try {
      const ack = await api("POST", `/v1/declarations/${encodeURIComponent(d.id)}/acknowledge`, { content_hash: d.content_hash, version: d.version });
      ctx.toast(`Acknowledged receipt of ${(d.feature.properties || {}).name || d.id}, version ${ack.version}: record entry ${ack.entry}.`);
      items.set(d.id, { ...d, acknowledgements: [...(d.acknowledgements || []), ack] });
      render();
    } catch (error) {
      ctx.toast(`Refused: ${error.message}`);
      ctx.afterRefusal(error);
      load().catch(() => {});
    }
  }

  let timer = null;
  ctx.onEvent((ev) => {
    if (!ev.kind.startsWith("declaration.")) return;
    clearTimeout(timer);
    timer = setTimeout(() => load().catch(() => {}), 200);
  });
  return load().catch((error) => {
    $("notifications").replaceChildren(el("li", { class: "hint", text: `Could not read the notifications: ${error.message}` }));
  });
}
