// The officers' page: sign-in, the map, the operations board, the direct line and the
// record, kept current from the live event stream. A client of the /v1 API like any other:
// it sees exactly what the API lets its user see.
//
// Under an agreement that names its members' roots (GET /v1/me: `signing`), the page acts
// only with this device's own key, certified by the user's office: on first sign-in it makes
// the key (not extractable, kept in IndexedDB), offers its public half (POST
// /v1/keys/offers) and stays read-only, showing the key's fingerprint for the office to
// compare, until GET /v1/me lists the key among the user's keys; if the key later leaves
// that list (revoked), it is read-only again.

import { api, inForce, allOperations, ApiError, setToken, token, useSigner } from "./api.js";
import { createDeviceKey, fingerprint, keyId, loadDeviceKey } from "./acts.js";
import { typedPoint } from "./coords.js";
import { el } from "./dom.js";
import { EventStream } from "./events.js";
import { alertBody, alertHtml, alertTitle, memberName } from "./alerts.js";
import { checkView, clock, ladderView, orderedWarnings, pointOf, replySubject, unacknowledged, waitingText, warningText } from "./line.js";
import { LASTING_MS, Toasts } from "./toasts.js";
import { renderLegend } from "./legend.js";
import { verifyConsistency } from "./merkle.js";
import { pickPointInto } from "./pick.js";
import { witnessedText } from "./witnessed.js";
import { describe, previewConflicts, previewView } from "./preview.js";
import {
  countdownAttrs, fmtInstant, parseTyped, roundedUp, showClock, startCountdowns, tickCountdowns, typedValue,
} from "./time.js";
import { setUpLayout } from "./layout.js";
import {
  accusedText, CENTER, findingsView, mergeReports, orderReports, parseCites, parseEvidence, reportView,
  whenText, whereOf,
} from "./reports.js";
import { may, roleLine } from "./roles.js";
import { setUpAdmin } from "./admin.js";
import { deviceLine, setUpMyDevices } from "./devices.js";
import { DRAFT_STYLE, draftCorners, setUpDrafts } from "./drafts.js";
import { setUpDeclare, setUpNotifications } from "./declare.js";
import {
  AREA_STYLE, SITE_SYMBOLS, STATUS_COLOURS, centreOf, decodeBasemap, escapeHtml, firstVertex, metres, partyColour, project, verticesOf,
} from "./map.js";

const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  agreement: null,
  offsetMs: 0, // center clock − this browser's clock
  declarations: new Map(),
  operations: new Map(),
  inbox: [],
  outbox: [],
  considered: null, // ids of the received messages already looked at for drawing (autoDraw)
  drawn: new Set(), // ids of the messages whose coordinates are on the map
  inboxSeen: null, // ids of the received messages already listed (a new one is announced)
  replyTo: null, // the id of the message the one being written answers
  alerts: new Map(),
  alertAcks: new Map(), // alert groups acknowledged from this page: {party, user, at}
  reports: new Map(), // incident and violation reports by id, each with its answer or null
  compliance: null, // GET /v1/compliance as last read (its findings)
  reportsDrawn: new Set(), // ids of the reports whose "where" is on the map
  proposePoint: null, // the propose form's typed point (coords.js)
  messagePoint: null, // the message's typed point (coords.js)
  head: null,
  map: null,
  stream: null,
  selected: null,
  queued: [],
  listed: false, // every list read (objects a conflict names are here)
  ready: false,
  // This device's key (under a rooted agreement): its id and fingerprint, and whether it
  // signs now — "checking", "offered" (waiting for the office), "certified", "ended"
  // (revoked or replaced: `ended` says how) or "unavailable" (`detail` says why).
  device: { key: null, id: null, fingerprint: null, status: "checking", ended: null, detail: null, certify: false },
};
const stats = { events: 0, eventsByKind: {}, loadMs: null, declarations: 0, tracks: 0 };

/** Whether this page may act: always without signing; with it, once this device's key is
 * certified. Every control that writes (data-writes) is enabled or disabled by it. */
function canAct() {
  return !!state.me && (!state.me.signing || !signs() || state.device.status === "certified");
}

/** Whether this user's writes carry a member's signed act: an administrator's are the
 * center's own (DECISIONS 6, 8), sent with the token alone. */
function signs() {
  return !!state.me && state.me.role !== "admin";
}

const READ_ONLY = "This device is not certified to act: the page is read-only.";

/** What the page offers: what the center says this user's role may call (GET /v1/me's
 * `may`, from the routes' own checks; roles.js), so that no control is offered that the
 * center would then refuse for the role. */
const allowed = (route) => may(state.me, route);
const can = {
  propose: () => allowed("POST /v1/operations"),
  approve: () => allowed("POST /v1/operations/{op_id}/approve"),
  veto: () => allowed("POST /v1/operations/{op_id}/veto"),
  object: () => allowed("POST /v1/operations/{op_id}/object"),
  cancel: () => allowed("POST /v1/operations/{op_id}/cancel"),
  execute: () => allowed("POST /v1/operations/{op_id}/execute"),
  complete: () => allowed("POST /v1/operations/{op_id}/complete"),
  message: () => allowed("POST /v1/messages"),
  acknowledge: () => allowed("POST /v1/messages/{message_id}/acknowledge"),
  // a monitor reads every message's metadata, one list (GET /v1/messages ignores `box`)
  messages: () => allowed("GET /v1/messages"),
  world: () => allowed("GET /v1/world"),
  operations: () => allowed("GET /v1/operations"),
  record: () => allowed("GET /v1/record/head"),
  // incident and violation reports: read by every member's users but administrators; filed
  // by a party's officers and approvers and the monitors; answered by the accused party's
  // officers and approvers; the computed findings are not a notifier's to read
  reports: () => allowed("GET /v1/reports"),
  compliance: () => allowed("GET /v1/compliance"),
  file: () => allowed("POST /v1/reports"),
  answer: () => allowed("POST /v1/reports/{report_id}/answer"),
  declare: () => allowed("POST /v1/declarations"),
  users: () => allowed("GET /v1/users"),
};

/** Called with every live event once the page is ready (the role's own panels). */
const eventListeners = [];

function centerNow() {
  return new Date(Date.now() + state.offsetMs);
}

/** A passing notice (a few seconds); `options` as Toasts.show takes them — a lasting one
 * (LASTING_MS) for what the viewer must not miss, `onSelect` to make it select something. */
function toast(text, options = {}) {
  if (!toast.stack) toast.stack = new Toasts($("toast"));
  return toast.stack.show({ text, ...options });
}

/** Every instant the page prints: "YYYY-MM-DD HH:MM:SSZ" (time.js). */
function fmtTime(iso) {
  return fmtInstant(iso);
}

function fmtDistance(m) {
  return m >= 10000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`;
}

// --- sign-in --------------------------------------------------------------------------------

function showSignin(message) {
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("token").focus();
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const value = $("token").value.trim();
  $("token").value = "";
  if (!value) return;
  setToken(value);
  await start();
});

$("signout").addEventListener("click", () => {
  setToken(null);
  location.replace("/");
});

// --- start ----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The map library (window.L; null if it is missing), run now: index.html has it fetched
 * (preload) from the start, but it is run only when asked for, once the first requests have
 * gone out, so that its some 50 ms of compiling and running do not hold them up.
 */
function loadLeaflet() {
  return loadScript("/vendor/leaflet.js", "L");
}

/** A vendor script run once (this origin only, as the CSP allows); resolves to the global it
 * defines (`name`), or null if it is missing. */
function loadScript(src, name) {
  if (window[name]) return Promise.resolve(window[name]);
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve(window[name] || null);
    script.onerror = () => resolve(null);
    document.head.append(script);
  });
}

/** Let the browser handle input and paint before going on. */
const yieldToPage = () => (globalThis.scheduler && scheduler.yield ? scheduler.yield() : sleep(0));

/** Declarations put on the map in one go while loading (some 10 ms of work). */
const SLICE = 1000;

/**
 * Sign in and load. Everything that does not depend on something else starts at once: the
 * basemap, the objects (GET /v1/world, the long pole), the check of the token and the map
 * library, which is run and the map set up while the server answers; once the objects'
 * first answer has named its events position, the event stream from there (so nothing that
 * changes meanwhile is missed: what happens while the rest loads is queued and applied after
 * it) and the other lists, read after that position too. The map's objects are drawn once,
 * when all have arrived (not again for each page). The page is ready
 * (body[data-ready]) when the map has drawn every object the user may see and the boards
 * are filled; stats.readyAt is that moment in ms since navigation started
 * (performance.now()), stats.basemapAt when the basemap was drawn (it does not hold up the
 * objects).
 */
async function start() {
  const t0 = performance.now();
  performance.mark("accord:start");
  const basemap = loadBasemap();
  const world = inForce();
  const agreement = api("GET", "/v1/agreement");
  agreement.catch(() => {}); // answered below, once the token is known to be good
  const leaflet = loadLeaflet(); // compiled and run while the server answers
  try {
    state.me = await api("GET", "/v1/me");
  } catch (error) {
    setToken(null);
    showSignin(error instanceof ApiError && error.status === 401 ? "That token is not valid." : `Cannot reach the center: ${error.message}`);
    return;
  }
  performance.mark("accord:me");
  state.offsetMs = Date.parse(state.me.now) - Date.now();
  $("signin").hidden = true;
  $("app").hidden = false;
  renderWho();
  $("role-line").textContent = roleLine(state.me);
  startCountdowns(() => centerNow().getTime(), tick); // the clock from now, whatever loads
  applyActing();
  const device = setUpDevice(); // the key's checks and offer, while the rest loads
  state.agreement = await agreement;
  performance.mark("accord:agreement");
  setUpPanels();
  // The map is set up while the objects are on their way; what arrives first waits for it.
  const mapSetUp = can.world() ? leaflet.then((L) => setUpMap(L, basemap)) : Promise.resolve();
  // The stream from the objects' position: every change they may not show comes after it.
  // Without one (the request failed), from now, once the server has answered.
  const position = await world.position.catch(() => null);
  state.stream = new EventStream(onEvent, onStreamState);
  const streamOpen = state.stream.start(position);
  if (position === null) await Promise.race([streamOpen, sleep(5000)]);
  performance.mark("accord:streamOpen");
  const lists = [loadDeclarations(world), loadOperations(), loadMessages(), loadAlerts(), loadHead(), loadReports(), ...roleLoads];
  await mapSetUp;
  performance.mark("accord:map");
  lists.push(loadTracks());
  await Promise.all(lists);
  await device;
  performance.mark("accord:lists");
  // Conflicts are drawn to the objects they name: now that every object is here.
  state.listed = true;
  for (const op of state.operations.values()) putOperationOnMap(op);
  renderBoard();
  autoDraw(); // received coordinates still to acknowledge, and what they were warned of
  performance.mark("accord:board");
  state.ready = true;
  const queued = state.queued;
  state.queued = [];
  for (const ev of queued) handle(ev);
  if (state.map) {
    state.map.hold(false);
    await state.map.drawn();
  }
  performance.mark("accord:drawn");
  stats.loadMs = performance.now() - t0;
  stats.readyAt = performance.now(); // since navigation started
  stats.declarations = state.declarations.size;
  stats.onMap = state.map ? state.map.count((item) => state.declarations.has(item.id)) : 0;
  document.body.dataset.ready = "true";
  loadCompliance(); // a replay of the whole record: after the page is ready, not before
}

function renderWho() {
  const me = state.me;
  const who = $("who");
  who.replaceChildren(el("strong", { text: me.name }), ` — ${me.role} of ${me.member}`);
  who.style.setProperty("--party", partyColour(me.member));
  const phase = me.phase ? `Phase: ${me.phase.name} (since ${fmtTime(me.phase.started_at)})` : "Phase: none in force";
  $("phase").textContent = `${me.agreement} · ${phase}`;
  $("phase").title = $("phase").textContent; // whole, where the header cuts it
}

function onStreamState(s, detail) {
  const live = $("live");
  live.className = `live ${s === "on" ? "on" : s === "off" ? "off" : ""}`;
  live.textContent = s === "on" ? "live" : s === "off" ? `offline — ${detail || "reconnecting"}` : "connecting…";
}

/** Each second (time.js startCountdowns) and after a list is drawn: the header's clock —
 * the center's time with its date, marked when it is an exercise clock — and every
 * countdown, rewritten in place. */
function tick(now = centerNow()) {
  showClock($("clock-box"), now, !!(state.me && state.me.exercise));
  tickCountdowns(now.getTime());
}

/** The countdown to the viewer's party's acknowledgement of an alert, while it is due. */
function alertDue(a) {
  const r = state.me && (a.recipients || []).find((x) => x.party === state.me.member);
  if (!r || r.acknowledged || (a.acknowledged || []).includes(state.me.member)) return null;
  return el("div", countdownAttrs(r.deadline || r.ack_deadline, "acknowledgement due in", "acknowledgement overdue by"));
}

// --- panels ---------------------------------------------------------------------------------

function setUpPanels() {
  const ag = state.agreement;
  renderLegend($("layers"), {
    styles: {
      declaration: declarationStyle, operation: operationStyle, conflict: conflictStyle, hiddenConflict: hiddenConflictStyle,
      message: MESSAGE_STYLE, report: REPORT_STYLE, draft: DRAFT_STYLE,
    },
    parties: [...(ag.parties || []), ...(ag.notifiers || []), ...(ag.monitors || []), ...(ag.operators || [])],
    onToggle: (id, on) => state.map && state.map.setLayer(id, on),
  });
  if (!can.operations()) $("panel-ops").hidden = true;
  if (!can.record()) $("panel-record").hidden = true;
  if (!can.message()) $("compose-panel").hidden = true;
  if (!can.messages()) $("panel-line").hidden = true;
  else if (!can.acknowledge()) monitorsLine();
  if (!can.world()) { $("panel-layers").hidden = true; $("map").hidden = true; }
  if (!allowed("GET /v1/alerts")) $("panel-alerts").hidden = true;
  setUpRolePanels();
  setUpReports();
  if (can.propose()) {
    $("panel-propose").hidden = false;
    $("panel-propose").open = true;
    setUpPropose();
  }
  setUpLine();
  $("verify").addEventListener("click", verifyRecord);
  $("device-new").addEventListener("click", newDeviceKey);
  renderVerified();
  applyActing();
}

/** A monitor's direct line: one list of every message (no inbox of its own, no content). */
function monitorsLine() {
  const inbox = $("inbox"), outbox = $("outbox");
  inbox.hidden = true;
  if (inbox.previousElementSibling && inbox.previousElementSibling.tagName === "H3") inbox.previousElementSibling.hidden = true;
  if (outbox.previousElementSibling && outbox.previousElementSibling.tagName === "H3") {
    outbox.previousElementSibling.textContent = "Every message between the parties (who, when, who acknowledged)";
  }
}

/** The first reads of the role's own panels (admin.js, declare.js), awaited with the lists. */
const roleLoads = [];

/** The panels of what this role does beyond the common picture: the administrator's page,
 * the notifier's declarations and receipts, the officers' receipts of notifications. */
function setUpRolePanels() {
  const ctx = {
    me: state.me, agreement: state.agreement, stats, map: () => state.map, toast, canAct, writes, readOnly: READ_ONLY,
    putDeclaration, stopDrawing, centerNow, afterRefusal, onEvent: (listen) => eventListeners.push(listen),
  };
  if (can.users()) roleLoads.push(setUpAdmin(ctx));
  else if (allowed("GET /v1/cot/devices")) roleLoads.push(setUpMyDevices());
  if (allowed("GET /v1/drafts")) roleLoads.push(setUpDrafts({ ...ctx, propose: can.propose() ? proposeFromDraft : null }));
  if (can.declare()) roleLoads.push(setUpDeclare(ctx));
  if (allowed("POST /v1/declarations/{declaration_id}/acknowledge")) roleLoads.push(setUpNotifications(ctx));
  document.body.dataset.role = state.me.role;
}

// --- the map --------------------------------------------------------------------------------

/** The basemap's countries, projected and packed by the server (map.js's decodeBasemap);
 * null if it is missing. */
async function loadBasemap() {
  try {
    const response = await fetch("/vendor/countries-50m.bin", { credentials: "omit", referrerPolicy: "no-referrer" });
    if (!response.ok) return null;
    return decodeBasemap(await response.arrayBuffer());
  } catch {
    return null;
  }
}

async function setUpMap(L, basemap) {
  if (!L || !L.map) {
    const banner = $("map-missing");
    banner.hidden = false;
    banner.textContent = "The map assets are missing on this server (the map library and the basemap are installed by `npm ci`). Everything else works.";
    return;
  }
  const { OperatingMap } = await import("./map.js");
  const map = new OperatingMap(L, $("map"), { onSelect: (hit) => { if (hit.kind === "operations" || hit.kind === "conflicts") select(hit.id, false); } });
  state.map = map;
  map.hold(true); // the objects are drawn once all are here (start())
  window.accordMap = map;
  // lon first, as every form of the page takes a point (what is read is what is typed)
  map.onPointer = (lon, lat) => { $("cursor").textContent = `Cursor: lon ${lon.toFixed(5)}, lat ${lat.toFixed(5)}`; };
  // an alert under the pointer is told as the alerts panel tells it (alerts.js)
  map.describeAlert = (a) => ({ title: `Airspace alert · ${alertTitle(a, state.agreement)}`, html: alertHtml(a, state.agreement, escapeHtml, alertTrack) });
  const areas = state.agreement.designated_areas || [];
  const all = areas.flatMap((a) => a.polygon);
  if (all.length) {
    const lons = all.map((p) => p[0]);
    const lats = all.map((p) => p[1]);
    map.fit([Math.min(...lons) - 0.5, Math.min(...lats) - 0.6, Math.max(...lons) + 0.6, Math.max(...lats) + 0.3]);
  } else {
    map.setView(21.5, 25, 8);
  }
  for (const a of areas) {
    const ring = [...a.polygon, a.polygon[0]];
    map.put({
      id: `area:${a.id}`, layer: "areas", geometry: { type: "Polygon", coordinates: [ring] },
      style: AREA_STYLE,
      label: a.name || a.id, labelAt: ring[0],
      html: `<strong>${escapeHtml(a.name || a.id)}</strong><br>Designated area, closed to ${escapeHtml(a.restricted_operators.join(", "))}<br>Exempt: ${escapeHtml(a.exempt_missions.join(", "))}`,
    });
  }
  // What was read before the map existed.
  for (const d of state.declarations.values()) map.put(declarationItem(d));
  // The basemap: Natural Earth via world-atlas, made ready to draw by the server, drawn when
  // it has arrived (the objects do not wait for it).
  basemap.then((countries) => {
    if (countries) {
      map.basemap(countries).then(() => { stats.basemapAt = performance.now(); });
    } else {
      const banner = $("map-missing");
      banner.hidden = false;
      banner.textContent = "The basemap (world-atlas) is missing on this server: run `npm ci`.";
    }
  });
  setUpDetail(map);
}

/**
 * The operator's detailed basemap (accord serve --basemap), if this center has one: its
 * archive read by range requests with the user's token (pmtiles) and drawn over Natural
 * Earth, under everything declared (protomaps-leaflet). Its libraries are fetched only when
 * there is an archive. stats.detailAt: when its tiles in view were first all drawn.
 */
async function setUpDetail(map) {
  let answer;
  try {
    answer = await api("GET", "/v1/basemap");
  } catch {
    return; // an older center, or none: Natural Earth alone
  }
  if (!answer || !answer.archive) return;
  const [pmtiles, protomaps] = await Promise.all([
    loadScript("/vendor/pmtiles.js", "pmtiles"),
    loadScript("/vendor/protomaps-leaflet.js", "protomapsL"),
  ]);
  if (!pmtiles || !protomaps) {
    const banner = $("map-missing");
    banner.hidden = false;
    banner.textContent = "The detailed basemap's libraries (pmtiles, protomaps-leaflet) are missing on this server: run `npm ci`.";
    return;
  }
  stats.detail = answer.archive;
  map.detailed({ pmtiles, protomaps, archive: answer.archive, authorization: `Bearer ${token()}` })
    .then(() => { stats.detailAt = performance.now(); });
}

// --- declarations ---------------------------------------------------------------------------

const LAYER_OF = { protected_site: "protected", movement: "protected", position: "positions", flight_plan: "flights" };

/** The drawing style of a declaration: one object per kind, colour and disclosure, shared by
 * every object drawn alike (the map batches its drawing by style). */
const STYLES = new Map();
const STYLES_KEY = new Map(); // style → its key in STYLES

function declarationStyle(kind, colour, hidden, category = null) {
  const key = `${kind}|${colour}|${hidden}|${category}`;
  let style = STYLES.get(key);
  if (style) return style;
  style = { stroke: colour, width: 1.5, label: colour };
  if (kind === "protected_site") {
    style.symbol = SITE_SYMBOLS[category] || "site"; style.fill = "rgba(142, 224, 142, 0.12)";
  } else if (kind === "movement") {
    style.dash = [6, 4]; style.symbol = "square";
  } else if (kind === "position") {
    style.symbol = "diamond"; style.fill = hidden ? "rgba(255,255,255,0.04)" : "rgba(111,179,255,0.10)";
    if (hidden) style.dash = [3, 3];
  } else if (kind === "flight_plan") {
    style.dash = [10, 4]; style.width = 1.2;
  }
  STYLES.set(key, Object.freeze(style));
  STYLES_KEY.set(style, key);
  return style;
}

/** A movement's style with its corridor: one object per style and width (drawn together). */
function corridorStyle(style, corridor) {
  const key = `${STYLES_KEY.get(style)}|corridor ${corridor}`;
  let out = STYLES.get(key);
  if (!out) {
    out = Object.freeze({ ...style, corridor_m: corridor });
    STYLES.set(key, out);
  }
  return out;
}

/** The popup's text of a declaration's map item (`this`), written when the object is
 * clicked, not for each of 10,000 when they are put on the map. */
function declarationHtml() {
  const d = this.declaration;
  const p = d.feature.properties || {};
  const hidden = d.disclosure === "center";
  return `<strong>${escapeHtml(this.name)}</strong><br>${escapeHtml(d.kind.replace("_", " "))} of ${escapeHtml(d.owner)} · ${hidden ? "<em>center only</em> (hidden from other parties)" : "shared"}` +
    (p.valid_from ? `<br>${escapeHtml(fmtTime(p.valid_from))} → ${escapeHtml(fmtTime(p.valid_to))}` : "") +
    (p.uncertainty_m ? `<br>uncertainty ${escapeHtml(p.uncertainty_m)} m` : "") +
    (p.device ? `<br><span class="device-line">${escapeHtml(deviceLine(p))}</span>` : "") +
    `<br><span class="meta">${escapeHtml(d.id)}</span>`;
}

function declarationItem(d) {
  const f = d.feature;
  const p = f.properties || {};
  const kind = d.kind;
  const party = p.party || d.owner;
  const hidden = d.disclosure === "center";
  const colour = kind === "protected_site" || kind === "movement" ? "#8ee08e" : partyColour(kind === "flight_plan" ? (p.party || p.operator || d.owner) : party);
  let style = declarationStyle(kind, colour, hidden, kind === "protected_site" ? p.category || null : null);
  if (kind === "movement" && p.corridor_m) style = corridorStyle(style, p.corridor_m);
  const radius = (kind === "protected_site" ? p.standoff_m : kind === "position" ? p.uncertainty_m : null) || null;
  const name = p.name || (kind === "flight_plan" ? `${p.operator || d.owner} ${p.mission || ""}` : `${party} ${kind}`);
  // A ring says what it is and how wide (the page holds only what this user may see: shared
  // objects and its own party's).
  const ringLabel = radius ? `${kind === "protected_site" ? "standoff" : "uncertainty"} ${Math.round(radius).toLocaleString("en")} m` : null;
  const kindName = kind === "protected_site" && p.category ? `protected site (${String(p.category).replace(/_/g, " ")})` : kind.replace("_", " ");
  return {
    id: d.id, layer: LAYER_OF[kind] || "protected", geometry: f.geometry, radius_m: radius, style,
    label: p.name || (hidden ? `${name} (center only)` : null), labelAt: firstVertex(f.geometry),
    declaration: d, name, html: declarationHtml, party: kind === "flight_plan" ? (p.party || p.operator || d.owner) : party, kindName, ringLabel,
  };
}

function putDeclaration(d) {
  state.declarations.set(d.id, d);
  if (state.map) state.map.put(declarationItem(d));
}

function dropDeclaration(id) {
  state.declarations.delete(id);
  if (state.map) state.map.remove(id);
}

async function loadDeclarations(world = inForce()) {
  if (!can.world()) return; // an administrator keeps no view of the declared world
  // Page by page, each put on the map as it arrives, a slice at a time: between slices the
  // page handles input and paints (no long task while 10,000 objects load).
  await world.each(async (items) => {
    for (let i = 0; i < items.length; i += SLICE) {
      if (i) await yieldToPage();
      for (const d of items.slice(i, i + SLICE)) putDeclaration(d);
    }
  });
  stats.declarations = state.declarations.size;
}

// --- operations -----------------------------------------------------------------------------

const STATUS_ORDER = ["proposed", "notified", "held", "approved", "cleared", "executing", "executed", "vetoed", "completed", "cancelled", "expired"];

function opRadius(op) {
  const g = op.feature.geometry;
  if (g.type === "Point") return op.feature.properties.radius_m || 0;
  const c = centreOf(g);
  return Math.max(...verticesOf(g).map((v) => metres(c, v)));
}

function nearestVertex(from, geometry) {
  let best = null;
  let bestD = Infinity;
  for (const v of verticesOf(geometry)) {
    const d = metres(from, v);
    if (d < bestD) { bestD = d; best = v; }
  }
  return best;
}

function targetOf(conflict) {
  if (!conflict.with) return null;
  const d = state.declarations.get(conflict.with);
  if (d) return d.feature.geometry;
  const o = state.operations.get(conflict.with);
  if (o) return o.feature.geometry;
  return null;
}

const DONE = ["cancelled", "expired", "completed"];

/** An operation's style by its status (the map and the legend). */
function operationStyle(status) {
  const colour = STATUS_COLOURS[status] || "#ffcc66";
  return { stroke: colour, fill: colour + "22", width: 2, label: colour, dash: DONE.includes(status) ? [4, 4] : [] };
}

/** A conflict's line to what it meets: red when it blocks, amber when it warns. */
function conflictStyle(blocking) {
  const colour = blocking ? "#ff6b6b" : "#ffcc66";
  return { stroke: colour, width: 2.5, label: colour };
}

/** A conflict with something hidden from this user, drawn on the operation itself: its
 * outline and a "no entry" mark at its centre, never a ring or a place of the hidden thing. */
function hiddenConflictStyle(blocking) {
  const colour = blocking ? "#ff6b6b" : "#ffcc66";
  return { stroke: colour, width: 3, dash: [2, 5], label: colour, mark: "blocked", symbolFill: colour };
}

function putOperationOnMap(op) {
  const map = state.map;
  if (!map || !state.listed) return; // drawn once every object it may name is here
  map.removeWhere((item) => item.op === op.id);
  const g = op.feature.geometry;
  const p = op.feature.properties || {};
  const centre = centreOf(g);
  const name = p.name || op.id;
  map.put({
    id: op.id, op: op.id, layer: "operations", geometry: g, radius_m: g.type === "Point" ? p.radius_m : null,
    style: operationStyle(op.status),
    label: `${name} · ${op.status}`, labelAt: g.type === "Point" ? centre : verticesOf(g)[0], name, party: op.proposed_by, kindName: `${op.category.replace("_", " ")} operation`,
    html: `<strong>${escapeHtml(name)}</strong><br>${escapeHtml(op.category)} · <span class="status st-${escapeHtml(op.status)}">${escapeHtml(op.status)}</span><br>by ${escapeHtml(op.proposed_by)}, executor ${escapeHtml(op.executors.join(", "))}<br>${escapeHtml(fmtTime(op.window_start))} → ${escapeHtml(fmtTime(op.window_end))}<br>${op.blocking_conflicts} blocking conflict(s)`,
  });
  if (["cancelled", "expired", "completed"].includes(op.status)) return;
  op.conflicts.forEach((c, i) => {
    const target = targetOf(c);
    const kind = c.kind.replace("_", " ");
    const margin = c.margin ? " (its precision margin only: no true conflict)" : "";
    const what = `${c.blocking ? "blocking" : "warning"}: ${kind} of ${c.party}${c.distance_m == null ? "" : `, ${fmtDistance(c.distance_m)}`}${margin}`;
    if (target) {
      const to = nearestVertex(centre, target);
      map.put({
        id: `${op.id}:c${i}`, op: op.id, layer: "conflicts", geometry: null, shape: { points: [], lines: [], polygons: [], bbox: bboxLonLat([centre, to]) },
        segment: [centre, to], style: conflictStyle(c.blocking),
        label: c.distance_m == null ? `${kind} (margin)` : `${fmtDistance(c.distance_m)} ${kind}`, labelAt: [(centre[0] + to[0]) / 2, (centre[1] + to[1]) / 2],
        name: `${name} — ${kind} of ${c.party}`, party: c.party, kindName: c.blocking ? "blocking conflict" : "warning",
        html: `<strong>Conflict</strong> of ${escapeHtml(name)}<br>${escapeHtml(what)}${c.threshold_m ? `<br>threshold ${escapeHtml(fmtDistance(c.threshold_m))}` : ""}`,
      });
    } else {
      // Hidden from this user: the block is drawn on the operation's own area, never a ring,
      // a distance or a direction (what is hidden gives no number).
      map.put({
        id: `${op.id}:c${i}`, op: op.id, layer: "conflicts", geometry: g, radius_m: g.type === "Point" ? p.radius_m : null,
        style: hiddenConflictStyle(c.blocking), markAt: centre,
        label: `${c.blocking ? "blocked" : "warned"} by a hidden ${kind} of ${c.party}`, labelAt: centre,
        name: `${name} — ${c.blocking ? "blocked" : "warned"} by a hidden ${kind} of ${c.party}`, party: c.party, kindName: c.blocking ? "blocking conflict" : "warning",
        html: `<strong>Conflict with something hidden</strong><br>${escapeHtml(what)}.<br>Its place, distance and direction are not disclosed to you: only its kind, its owner and whether it blocks.`,
      });
    }
  });
}

function bboxLonLat(points) {
  const xs = [], ys = [];
  for (const [lon, lat] of points) { const [x, y] = project(lon, lat); xs.push(x); ys.push(y); }
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

function putOperation(op) {
  state.operations.set(op.id, op);
  putOperationOnMap(op);
  scheduleBoard();
}

async function loadOperations() {
  if (!can.operations()) return;
  for (const op of await allOperations()) putOperation(op);
}

const refetchOps = new Set();
function refetchOperation(id) {
  refetchOps.add(id);
  clearTimeout(refetchOperation.timer);
  refetchOperation.timer = setTimeout(async () => {
    const ids = [...refetchOps];
    refetchOps.clear();
    await Promise.all(ids.map(async (opId) => {
      try {
        putOperation(await api("GET", `/v1/operations/${encodeURIComponent(opId)}`));
      } catch (error) {
        if (error.status === 404) { state.operations.delete(opId); scheduleBoard(); }
      }
    }));
  }, 50);
}

function scheduleBoard() {
  if (scheduleBoard.pending) return;
  scheduleBoard.pending = true;
  requestAnimationFrame(() => { scheduleBoard.pending = false; renderBoard(); });
}

/** Re-render a panel, keeping the keyboard focus on the same control. */
function keepFocus(render) {
  const active = document.activeElement;
  const key = active && active.dataset ? active.dataset.key : null;
  render();
  if (key) {
    const again = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

function renderBoard() {
  keepFocus(() => {
    const board = $("board");
    const ops = [...state.operations.values()];
    $("ops-count").textContent = `(${ops.length})`;
    const groups = new Map();
    for (const op of ops) {
      if (!groups.has(op.status)) groups.set(op.status, []);
      groups.get(op.status).push(op);
    }
    const out = [];
    for (const status of [...STATUS_ORDER, ...[...groups.keys()].filter((s) => !STATUS_ORDER.includes(s))]) {
      const list = groups.get(status);
      if (!list) continue;
      list.sort((a, b) => a.window_start.localeCompare(b.window_start));
      out.push(el("h3", { class: "group-title", text: `${status} (${list.length})` }));
      for (const op of list) out.push(opCard(op));
    }
    if (!ops.length) out.push(el("p", { class: "hint", text: "No operations." }));
    board.replaceChildren(...out);
  });
}

/** An operation's name; one without a name by its category (its id is shown beside it). */
function opName(op) {
  const p = op.feature.properties || {};
  return p.name || `Unnamed ${op.category} operation`;
}

function opCard(op) {
  const me = state.me.member;
  const p = op.feature.properties || {};
  const card = el("article", { class: `op${op.blocking_conflicts ? " blocking" : ""}${state.selected === op.id ? " selected" : ""}`, id: `op-${op.id}`, "data-op": op.id, "data-key": `card:${op.id}`, tabindex: "-1" });
  card.style.borderLeftColor = STATUS_COLOURS[op.status] || "";
  card.append(
    el("h4", {}, `${opName(op)} `, el("span", { class: `status st-${op.status}`, text: op.status }), " ", el("small", { class: "id", text: op.id })),
    el("div", { class: "meta", text: `${op.category} · proposed by ${op.proposed_by} · executor ${op.executors.join(", ")}` }),
    el("div", { class: "meta", text: `${fmtTime(op.window_start)} → ${fmtTime(op.window_end)}` }),
  );
  if (op.waiting_for.length) card.append(el("div", { class: "meta", text: `approved by ${op.approvals.join(", ") || "—"}; waiting for ${op.waiting_for.join(", ")}` }));
  if (op.objection_until && op.status === "notified") card.append(el("div", { class: "meta", text: `objections until ${fmtTime(op.objection_until)}` }), el("div", countdownAttrs(op.objection_until, "objections close in", "objections closed % ago")));
  if (op.notify_by && !op.notified_at) card.append(el("div", countdownAttrs(op.notify_by, "notice due in", "notice overdue by")));
  if (["proposed", "notified", "held", "approved", "cleared"].includes(op.status)) card.append(el("div", countdownAttrs(op.window_start, "window opens in", "window opened % ago")));
  if (op.vetoed_by) card.append(el("div", { class: "conflict blocking", text: `vetoed by ${op.vetoed_by}: ${op.veto_reason || ""}` }));
  for (const o of op.objections.filter((x) => !x.withdrawn_at)) card.append(el("div", { class: "conflict blocking", text: `objection by ${o.party}: ${o.evidence}` }));
  for (const o of op.overrides) card.append(el("div", { class: "meta", text: `override by ${o.party}: ${o.reason}` }));
  const conflicts = el("ul", { class: "list" });
  for (const c of op.conflicts) {
    // the object by its name, its id as secondary small text; a hidden one by kind and owner only
    const known = c.with && (state.declarations.get(c.with) || state.operations.get(c.with));
    const props = known ? known.feature.properties || {} : {};
    // the center's sentence, as the preview worded it before submitting (preview.js describe)
    const margin = c.margin ? " (its precision margin only)" : "";
    const text = c.with && c.distance_m != null
      ? `${warningText({ blocking: c.blocking, text: describe(c, props.name), stale: c.stale })}${margin}`
      : `${c.blocking ? "BLOCKING" : "warning"} · ${c.kind.replace("_", " ")} of ${c.party}${c.with ? (props.name ? `: ${props.name}` : "") : " (hidden from you)"}${margin}`;
    conflicts.append(el("li", { class: `conflict${c.blocking ? " blocking" : ""}` }, text,
      c.with ? el("small", { class: "id", text: ` ${c.with}` }) : null));
  }
  if (op.conflicts.length) card.append(conflicts);
  const actions = el("div", { class: "actions" });
  const button = (label, action, cls = "") => el("button", {
    type: "button", class: cls, "data-key": `${op.id}:${action}`, onclick: () => act(op, action),
    ...(action === "show" ? {} : writes()),
  }, label);
  actions.append(button("Show on map", "show"));
  const open = ["proposed", "notified", "held", "approved", "cleared"].includes(op.status);
  if (can.approve() && op.status === "proposed" && op.waiting_for.includes(me)) {
    if (op.blocking_conflicts > 0) actions.append(button("Override and approve…", "override", "primary"));
    else actions.append(button("Approve", "approve", "primary"));
    if (can.veto()) actions.append(button("Veto…", "veto", "danger"));
  }
  if (can.object() && op.rule === "synchronized" && op.status === "notified" && op.proposed_by !== me) {
    actions.append(button("Object…", "object", "danger"));
  }
  if (can.cancel() && op.proposed_by === me && open) actions.append(button("Cancel…", "cancel"));
  if (can.execute() && op.executors.includes(me) && ["approved", "cleared"].includes(op.status)) actions.append(button("Report executing", "execute"));
  if (can.complete() && op.executors.includes(me) && op.status === "executing") actions.append(button("Report completed", "complete"));
  card.append(actions);
  return card;
}

function askReason(title, detail) {
  const dialog = $("reason-dialog");
  $("reason-title").textContent = title;
  $("reason-detail").textContent = detail;
  $("reason-text").value = "";
  return new Promise((resolve) => {
    const done = (value) => {
      $("reason-form").removeEventListener("submit", submit);
      $("reason-cancel").removeEventListener("click", cancel);
      dialog.removeEventListener("cancel", cancel);
      dialog.close();
      resolve(value);
    };
    const submit = (e) => { e.preventDefault(); const v = $("reason-text").value.trim(); if (v) done(v); };
    const cancel = (e) => { if (e) e.preventDefault(); done(null); };
    $("reason-form").addEventListener("submit", submit);
    $("reason-cancel").addEventListener("click", cancel);
    dialog.addEventListener("cancel", cancel);
    dialog.showModal();
    $("reason-text").focus();
  });
}

async function act(op, action) {
  if (action === "show") { select(op.id, true); return; }
  if (!canAct()) { toast(READ_ONLY); return; }
  const name = (op.feature.properties || {}).name || op.id;
  let body = {};
  let path = action;
  if (action === "override") {
    const reason = await askReason("Override and approve", `${name} has ${op.blocking_conflicts} blocking conflict(s). Approving needs a written reason, recorded and signed by your party.`);
    if (!reason) return;
    body = { override_reason: reason };
    path = "approve";
  } else if (action === "veto") {
    const reason = await askReason("Veto", `Veto ${name}. Your reason is recorded and signed.`);
    if (!reason) return;
    body = { reason };
  } else if (action === "cancel") {
    const reason = await askReason("Cancel", `Cancel ${name}.`);
    if (!reason) return;
    body = { reason };
  } else if (action === "object") {
    const evidence = await askReason("Object", `Object to ${name}: give your evidence.`);
    if (!evidence) return;
    body = { evidence };
  }
  const eventOf = { approve: "operation.approved", veto: "operation.vetoed", object: "operation.objected", cancel: "operation.cancelled" }[path];
  if (eventOf) ownActs.add(`${op.id}:${eventOf}`);
  try {
    putOperation(await api("POST", `/v1/operations/${encodeURIComponent(op.id)}/${path}`, body));
    toast(`${name}: ${action === "override" ? "approved with override" : action} recorded.`);
  } catch (error) {
    if (eventOf) ownActs.delete(`${op.id}:${eventOf}`);
    toast(`Refused: ${error.message}`);
    afterRefusal(error);
  }
}

function select(opId, fly) {
  state.selected = opId;
  if (state.map) state.map.setHighlight(opId);
  scheduleBoard();
  const op = state.operations.get(opId);
  if (fly && op && state.map) {
    const vs = verticesOf(op.feature.geometry);
    const r = opRadius(op) / 111000 + 0.02;
    const lons = vs.map((v) => v[0]);
    const lats = vs.map((v) => v[1]);
    state.map.fit([Math.min(...lons) - r, Math.min(...lats) - r, Math.max(...lons) + r, Math.max(...lats) + r]);
  }
  const card = document.getElementById(`op-${opId}`);
  if (card && !fly) card.scrollIntoView({ block: "nearest" });
}

// --- proposing ------------------------------------------------------------------------------

/** A time field's value for `date`: "YYYY-MM-DD HH:MM", UTC (time.js). */
function toLocalInput(date) {
  return typedValue(date);
}

/** The instant typed in a time field, as the API takes it; or null with the form's error
 * naming the field (its label) and the field marked; empty and not `required`: { iso: null }. */
function typedField(id, errorBox, required = true) {
  const input = $(id);
  const got = parseTyped(input.value);
  const label = document.querySelector(`label[for="${id}"]`);
  const name = label ? label.textContent.trim() : id;
  let problem = got.error || null;
  if (got.empty && required) problem = "give a date and time, YYYY-MM-DD HH:MM (UTC)";
  if (problem) {
    input.setAttribute("aria-invalid", "true");
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"), { once: true }); // being corrected
    errorBox.textContent = `${name}: ${problem}`;
    return null;
  }
  input.removeAttribute("aria-invalid");
  return { iso: got.iso || null };
}

function setUpPropose() {
  const phaseCats = (state.me.phase && state.me.phase.categories) || Object.keys(state.agreement.categories);
  const cat = $("p-category");
  for (const [id, c] of Object.entries(state.agreement.categories)) {
    if (c.rule === "imminent_threat" || !phaseCats.includes(id)) continue;
    cat.append(el("option", { value: id, text: `${id} (${c.rule})` }));
  }
  const ex = $("p-executor");
  for (const p of state.agreement.parties) ex.append(el("option", { value: p.id, text: p.name || p.id, selected: p.id === state.me.member }));
  const now = centerNow();
  $("p-start").value = toLocalInput(roundedUp(now, 8 * 60));
  $("p-end").value = toLocalInput(roundedUp(now, 10 * 60));
  for (const id of ["p-lon", "p-lat", "p-radius", "p-polygon", "p-start", "p-end"]) $(id).addEventListener("input", preview);
  state.proposePoint = typedPoint($("p-point"), $("p-point-parsed"), { onPoint: (point) => {
    if (!point) return;
    $("p-polygon").value = "";
    $("p-lon").value = String(point.lon);
    $("p-lat").value = String(point.lat);
    preview();
  } });
  $("draw-circle").addEventListener("click", () => draw("circle"));
  $("draw-polygon").addEventListener("click", () => draw("polygon"));
  $("propose").addEventListener("submit", submitProposal);
  document.addEventListener("keydown", (e) => {
    if (!state.map || !state.map.drawing || state.map.drawing.mode === "point") return; // a report's point: setUpReports()
    if (e.key === "Escape") { stopDrawing(); preview(); }
    if (e.key === "Enter" && state.map.drawing.mode === "polygon") { e.preventDefault(); state.map.drawing.finish(); }
  });
}

/** "Propose from this draft": the propose form opened with the draft's name and its area as
 * the form takes one — a polygon's corners (a circle's 64 among them), or a line's vertices
 * closed back to the first (drafts.js: draftCorners); the preview runs as if typed. */
function proposeFromDraft(d) {
  const got = draftCorners(d.geometry);
  if (got.error) { toast(`Cannot propose from ${d.name}: ${got.error}.`); return; }
  const panel = $("panel-propose");
  panel.hidden = false;
  panel.open = true;
  stopDrawing();
  $("p-name").value = d.name;
  for (const id of ["p-lon", "p-lat", "p-radius"]) $(id).value = "";
  $("p-polygon").value = got.corners;
  $("propose-error").textContent = "";
  preview();
  panel.scrollIntoView({ block: "start" });
  $("p-name").focus();
}

function draftGeometry() {
  const poly = $("p-polygon").value.trim();
  if (poly) {
    const pts = poly.split(/[,;\n]+/).map((s) => s.trim().split(/\s+/).map(Number)).filter((p) => p.length === 2 && p.every(Number.isFinite));
    if (pts.length < 3) return { error: "a polygon needs at least 3 corners (lon lat, …)" };
    const ring = [...pts, pts[0]];
    return { geometry: { type: "Polygon", coordinates: [ring] }, radius: null };
  }
  const lon = Number($("p-lon").value), lat = Number($("p-lat").value), r = Number($("p-radius").value);
  if (!$("p-lon").value || !$("p-lat").value) return { error: "draw the area or type its centre" };
  if (![lon, lat].every(Number.isFinite) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return { error: "the centre is not a lon/lat" };
  if (!(r > 0)) return { error: "the radius must be more than 0 m" };
  return { geometry: { type: "Point", coordinates: [lon, lat] }, radius: r };
}

function draw(mode) {
  const map = state.map;
  if (!map) { toast("The map is not available: type the area instead."); return; }
  const help = $("map-help");
  const pts = [];
  map.map.doubleClickZoom.disable();
  const drawing = {
    mode,
    click: (p) => {
      if (mode === "circle") {
        if (!pts.length) { pts.push(p); help.textContent = "Click the circle's edge (Esc cancels)."; return; }
        $("p-polygon").value = "";
        $("p-lon").value = pts[0][0].toFixed(5);
        $("p-lat").value = pts[0][1].toFixed(5);
        $("p-radius").value = String(Math.round(metres(pts[0], p)));
        stopDrawing();
        preview();
      } else {
        pts.push(p);
        help.textContent = `${pts.length} corner(s): click to add, Enter to finish, Esc to cancel.`;
        map.setDraft({ id: "draft", layer: "draft", geometry: { type: "LineString", coordinates: pts }, style: { stroke: "#ffd24d", width: 2, dash: [4, 3] } });
      }
    },
    move: (p) => {
      if (mode === "circle" && pts.length) {
        map.setDraft({ id: "draft", layer: "draft", geometry: { type: "Point", coordinates: pts[0] }, radius_m: metres(pts[0], p), style: { stroke: "#ffd24d", width: 2, dash: [4, 3] } });
      }
    },
    finish: () => {
      if (pts.length < 3) { help.textContent = "A polygon needs at least 3 corners."; return; }
      $("p-polygon").value = pts.map((p) => `${p[0].toFixed(5)} ${p[1].toFixed(5)}`).join(", ");
      stopDrawing();
      preview();
    },
  };
  map.drawing = drawing;
  help.hidden = false;
  help.textContent = mode === "circle" ? "Click the circle's centre on the map (Esc cancels)." : "Click the polygon's corners; Enter finishes, Esc cancels.";
  $("map").focus();
}

function stopDrawing() {
  const map = state.map;
  if (!map) return;
  map.drawing = null;
  map.map.doubleClickZoom.enable();
  $("map-help").hidden = true;
}

/** A time field's instant as a Date, or null (empty, or not an instant: time.js). */
function parseUtc(value) {
  const got = parseTyped(value);
  return got.date || null;
}

/** The preview: the center's own rule (preview.js) over the objects this user can see, each
 * conflict worded as the center words it. Nothing is asked of the center (an answer about
 * hidden objects would be a free probe): those are checked only on submission. */
function preview() {
  const out = $("preview");
  const draft = draftGeometry();
  if (draft.error) {
    out.textContent = draft.error;
    if (state.map) state.map.setDraft(null);
    return null;
  }
  if (state.map) {
    state.map.setDraft({ id: "draft", layer: "draft", geometry: draft.geometry, radius_m: draft.radius, style: { stroke: "#ffd24d", fill: "rgba(255, 210, 77, 0.12)", width: 2, dash: [4, 3] } });
  }
  const start = parseUtc($("p-start").value), end = parseUtc($("p-end").value);
  const found = previewConflicts(state, { geometry: draft.geometry, radius: draft.radius, start, end });
  out.replaceChildren(...previewView(found));
  return draft;
}

async function submitProposal(e) {
  e.preventDefault();
  $("propose-error").textContent = "";
  if (!canAct()) { $("propose-error").textContent = READ_ONLY; return; }
  const draft = preview();
  if (!draft) { $("propose-error").textContent = "Give the operation's area first."; return; }
  const start = typedField("p-start", $("propose-error"));
  const end = start && typedField("p-end", $("propose-error"));
  if (!start || !end) return;
  if (Date.parse(end.iso) <= Date.parse(start.iso)) {
    $("p-end").setAttribute("aria-invalid", "true");
    $("propose-error").textContent = "Window end (UTC): must be after the window start";
    return;
  }
  const properties = {
    kind: "operation", category: $("p-category").value, executor: $("p-executor").value,
    window_start: start.iso, window_end: end.iso,
  };
  if ($("p-name").value.trim()) properties.name = $("p-name").value.trim();
  if (draft.radius) properties.radius_m = draft.radius;
  // A centre typed as MGRS goes as the reference (the center reads it as the square's centre,
  // the uncertainty widened to cover the square), unless the centre was changed since.
  const typed = state.proposePoint && state.proposePoint.current();
  const asMgrs = typed && typed.kind === "mgrs" && draft.geometry.type === "Point"
    && $("p-lon").value === String(typed.lon) && $("p-lat").value === String(typed.lat);
  if (asMgrs) properties.mgrs = typed.text;
  try {
    const op = await api("POST", "/v1/operations", { type: "Feature", geometry: asMgrs ? null : draft.geometry, properties });
    putOperation(op);
    if (state.map) state.map.setDraft(null);
    if (state.proposePoint) state.proposePoint.clear();
    for (const id of ["p-name", "p-lon", "p-lat", "p-radius", "p-polygon"]) $(id).value = "";
    $("preview").textContent = "";
    select(op.id, true);
    toast(`Proposed ${op.id}: ${op.status}, ${op.conflicts.length} conflict(s), ${op.blocking_conflicts} blocking.`);
  } catch (error) {
    $("propose-error").textContent = error.message;
    afterRefusal(error);
  }
}

// --- the direct line ------------------------------------------------------------------------

/**
 * The direct line's panel and header badge. For the roles that receive messages (a party's
 * officers and approvers) the panel moves to the top of the side panels — the inbox above
 * the fold — and the header carries a badge: how many messages to the party wait for its
 * acknowledgement, a button that jumps to the first of them, said to screen readers when
 * the number grows.
 */
function setUpLine() {
  if (!can.message()) return;
  const panel = $("panel-line");
  $("sidebar").prepend(panel);
  const badge = el("button", { type: "button", id: "unread", class: "unread", hidden: true, "aria-controls": "inbox" });
  badge.addEventListener("click", jumpToInbox);
  const said = el("span", { id: "unread-said", class: "sr-only", role: "status", "aria-live": "polite" });
  $("live").before(badge, said);
  const to = $("m-to");
  for (const p of state.agreement.parties) if (p.id !== state.me.member) to.append(el("option", { value: p.id, text: p.name ? `${p.name} (${p.id})` : p.id }));
  $("compose").addEventListener("submit", sendMessage);
  $("m-pick").addEventListener("click", pickMessagePoint);
  for (const id of ["m-lon", "m-lat"]) $(id).addEventListener("input", previewMessagePoint);
  state.messagePoint = typedPoint($("m-point"), $("m-point-parsed"), { onPoint: (point) => {
    if (!point) return;
    $("m-lon").value = String(point.lon);
    $("m-lat").value = String(point.lat);
    previewMessagePoint();
  } });
  // Esc while picking: before the other drawing modes' handlers see it
  window.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !state.map || !state.map.drawing || state.map.drawing.mode !== "message-point") return;
    e.stopImmediatePropagation();
    stopDrawing();
    $("m-pick").focus();
  }, true);
}

/** The header badge: the messages waiting for this party's acknowledgement. */
function renderBadge(waiting) {
  const badge = $("unread");
  if (!badge) return;
  const n = waiting.length;
  const was = Number(badge.dataset.count || 0);
  badge.dataset.count = String(n);
  badge.hidden = n === 0;
  const words = waitingText(n).replace(/^\d+ /, "");
  badge.replaceChildren(el("span", { class: "unread-n", text: String(n) }), " ", el("span", { class: "unread-words", text: words }));
  badge.setAttribute("aria-label", `Direct line: ${waitingText(n)} — go to the inbox`);
  badge.title = n ? `Go to the first: “${(waiting[0].content || {}).subject || waiting[0].id}”` : "";
  if (n > was) $("unread-said").textContent = `Direct line: ${waitingText(n)}.`;
  else if (n === 0 && was) $("unread-said").textContent = "Direct line: every message acknowledged.";
}

/** Open the direct line and put the keyboard on the first message still to acknowledge. */
function jumpToInbox() {
  const panel = $("panel-line");
  panel.open = true;
  const first = $("inbox").querySelector("li.msg.unacked") || $("inbox").querySelector("li");
  const target = first || $("inbox");
  target.scrollIntoView({ block: "start" });
  if (first) first.focus();
}

/** Focus one message of the inbox (a toast's click). */
function focusMessage(id) {
  $("panel-line").open = true;
  const li = $("inbox").querySelector(`li[data-message="${CSS.escape(id)}"]`);
  if (!li) return;
  li.scrollIntoView({ block: "nearest" });
  li.focus();
}

async function loadMessages() {
  if ($("panel-line").hidden) return;
  // a monitor's list is every message (no box of its own): read once, shown once
  const [inbox, outbox] = await Promise.all([
    can.acknowledge() ? api("GET", "/v1/messages?box=in&limit=200") : [],
    api("GET", `/v1/messages?${can.acknowledge() ? "box=out&" : ""}limit=200`),
  ]);
  const seen = state.inboxSeen;
  state.inbox = inbox;
  state.outbox = outbox;
  state.inboxSeen = new Set(inbox.map((m) => m.id));
  renderMessages();
  if (state.listed) autoDraw();
  if (seen) for (const m of inbox) if (!seen.has(m.id) && myRecipient(m)) announceMessage(m);
}

/** A toast for a new message to this party: who sent it, its subject, whether it carries
 * coordinates and what their check found; a click goes to the message. */
function announceMessage(m) {
  const content = m.content || {};
  let coords = "";
  if (content.geometry) {
    const blocking = m.check && m.check.checked ? m.check.blocking : 0;
    coords = m.check && m.check.checked
      ? ` — coordinates drawn on the map${blocking ? `, ${blocking} BLOCKING warning(s)` : ", nothing near them"}`
      : " — coordinates drawn on the map, NOT CHECKED";
  }
  const from = `${memberName(state.agreement, m.from)}${m.sent_by ? `, ${m.sent_by}` : ""}`;
  toast(`“${content.subject || m.id}” from ${from}${coords}.`, {
    title: content.refers_to ? "Reply received:" : "New message:", kind: "message", ms: LASTING_MS,
    key: `msg:${m.id}`, onSelect: () => focusMessage(m.id),
  });
}

function scheduleMessages() {
  clearTimeout(scheduleMessages.timer);
  scheduleMessages.timer = setTimeout(() => loadMessages().catch(() => {}), 150);
}

function myRecipient(m) {
  return m.recipients.find((r) => r.party === state.me.member);
}

function renderMessages() {
  keepFocus(() => {
    const open = (m) => (myRecipient(m) ? !myRecipient(m).acknowledged : false);
    const inbox = [...state.inbox].sort((a, b) => (open(b) - open(a)) || (open(a) ? a.ack_deadline.localeCompare(b.ack_deadline) : b.sent_at.localeCompare(a.sent_at)));
    $("inbox").replaceChildren(...inbox.map(inboxItem));
    if (!inbox.length) $("inbox").append(el("li", { class: "hint", text: "Nothing received." }));
    const outbox = [...state.outbox].sort((a, b) => (b.open - a.open) || b.sent_at.localeCompare(a.sent_at));
    $("outbox").replaceChildren(...outbox.map(outboxItem));
    if (!outbox.length) $("outbox").append(el("li", { class: "hint", text: "Nothing sent." }));
    const waiting = unacknowledged(inbox, state.me.member);
    $("line-count").textContent = waiting.length ? `(${waiting.length} to acknowledge)` : "";
    renderBadge(waiting);
  });
  tick();
}

/** "in reply to “subject”" of a message that answers another the page holds (else its id). */
function replyLine(content) {
  if (!content.refers_to) return null;
  const to = [...state.inbox, ...state.outbox].find((x) => x.id === content.refers_to);
  const subject = to && to.content ? to.content.subject : null;
  return el("div", { class: "meta in-reply" }, `in reply to ${subject ? `“${subject}”` : "a message"} `, el("small", { class: "id", text: content.refers_to }));
}

/** Prefill the compose form to answer `m`: to its sender's party, "Re: subject", the
 * message it answers recorded in the new message (`refers_to`). */
function reply(m) {
  if (!canAct()) { toast(READ_ONLY); return; }
  const content = m.content || {};
  state.replyTo = m.id;
  $("compose-panel").open = true;
  $("m-to").value = m.from;
  $("m-subject").value = replySubject(content.subject);
  const note = $("m-reply");
  note.hidden = false;
  note.replaceChildren(
    `Reply to “${content.subject || m.id}” from ${memberName(state.agreement, m.from)}: sent with a reference to it (`,
    el("small", { class: "id", text: m.id }), "), recorded with the message. ",
    el("button", { type: "button", id: "m-reply-clear", onclick: clearReply }, "Not a reply"),
  );
  $("compose").scrollIntoView({ block: "nearest" });
  $("m-text").focus();
}

function clearReply() {
  state.replyTo = null;
  $("m-reply").hidden = true;
  $("m-reply").replaceChildren();
  $("m-subject").focus();
}

/** The exact coordinates as sent (every digit), under the message's text. */
function coordinatesLine(content) {
  if (!content.geometry) return null;
  return el("div", { class: "meta coordinates", text: `${content.geometry.type} (lon, lat, exact as sent): ${JSON.stringify(content.geometry.coordinates)}` });
}

/** The controls that put a message's coordinates on the map (read-only: always enabled). */
function mapButtons(m, box) {
  if (!(m.content && m.content.geometry)) return [];
  const buttons = [el("button", { type: "button", "data-key": `${box}:show:${m.id}`, onclick: () => showMessage(m) }, "Show on map")];
  if (state.drawn.has(m.id)) {
    buttons.push(el("button", { type: "button", "data-key": `${box}:hide:${m.id}`, onclick: () => hideMessage(m.id, box) }, "Remove from map"));
  }
  return buttons;
}

function inboxItem(m) {
  const r = myRecipient(m) || {};
  const escalated = !r.acknowledged && (r.level > 0 || r.overdue);
  const blocking = m.check && m.check.checked && m.check.blocking > 0;
  const cls = `msg ${r.acknowledged ? "acked" : escalated ? "escalated unacked" : "unacked"}${blocking ? " has-blocking" : ""}`;
  const content = m.content || {};
  const li = el("li", { class: cls, "data-message": m.id, "data-key": `msg:${m.id}`, tabindex: "-1" },
    el("h4", { text: content.subject || "(no subject)" }),
    el("div", { class: "meta" }, `from ${memberName(state.agreement, m.from)}${m.sent_by ? ` — ${m.sent_by}` : ""} · sent ${clock(m.sent_at, true)} `, el("small", { class: "id", text: m.id })),
    replyLine(content),
    content.text ? el("p", { class: "msg-text", text: content.text }) : null,
    coordinatesLine(content),
    // what the center found near the coordinates: read before acknowledging
    checkView(m),
  );
  // still to acknowledge: the countdown and the buttons before the ladder (its history)
  const ladder = ladderView(m, myRecipient(m));
  if (r.acknowledged) li.append(ladder);
  const actions = el("div", { class: "actions" }, ...mapButtons(m, "in"));
  if (!r.acknowledged && can.acknowledge()) {
    li.append(el("div", { class: "countdown", "data-deadline": r.deadline || m.ack_deadline }));
    if (escalated) li.append(el("div", { class: "conflict blocking", text: `escalated to level ${r.level}${r.overdue ? ", overdue" : ""}` }));
    if (can.message()) {
      actions.append(el("button", {
        type: "button", class: "primary", "data-key": `ack:${m.id}`,
        onclick: () => acknowledge(m), ...writes(),
      }, "Acknowledge"));
    }
  }
  if (can.message() && m.content) {
    actions.append(el("button", { type: "button", "data-key": `reply:${m.id}`, onclick: () => reply(m), ...writes() }, "Reply"));
  }
  if (actions.childElementCount) li.append(actions);
  if (!r.acknowledged) li.append(ladder);
  return li;
}

function outboxItem(m) {
  const content = m.content || {};
  const li = el("li", { class: `msg ${m.open ? "unacked" : "acked"}`, "data-message": m.id },
    el("h4", { text: content.subject || m.id }),
    el("div", { class: "meta" }, `${m.from !== state.me.member ? `from ${memberName(state.agreement, m.from)} ` : ""}to ${m.to.map((p) => memberName(state.agreement, p)).join(", ")}${m.sent_by ? ` — sent by ${m.sent_by}` : ""} · ${clock(m.sent_at, true)} `, el("small", { class: "id", text: m.id })),
    replyLine(content),
    coordinatesLine(content),
    checkView(m, { sent: true }),
  );
  for (const r of m.recipients) {
    const text = r.acknowledged ? `${r.party}: acknowledged ${fmtTime(r.acknowledged_at)}${r.late ? " (late)" : ""}` : `${r.party}: not yet acknowledged${r.level ? `, escalated to level ${r.level}` : ""}${r.overdue ? ", OVERDUE" : ""}`;
    li.append(el("div", { class: `recipient ${r.acknowledged ? "meta" : "conflict blocking"}`, "data-party": r.party, text }), ladderView(m, r));
  }
  if (m.open) li.append(el("div", { class: "countdown", "data-deadline": m.ack_deadline }));
  const buttons = mapButtons(m, "out");
  if (buttons.length) li.append(el("div", { class: "actions" }, ...buttons));
  return li;
}

// --- received coordinates on the map ---------------------------------------------------------

const MESSAGE_STYLE = Object.freeze({ stroke: "#ff5ce1", fill: "rgba(255, 92, 225, 0.14)", width: 3, symbol: "target", label: "#ff9cf0" });
const LINK_BLOCKING = Object.freeze({ stroke: "#ff5ce1", width: 2.5, dash: [6, 4], label: "#ff9cf0" });
const LINK_WARNING = Object.freeze({ stroke: "#ffcc66", width: 2, dash: [6, 4], label: "#ffdd99" });

/** The map's geometry of an object this user can see (its declarations and operations, as
 * the API gave them), or null: an object the page does not hold is never drawn to. */
function visibleGeometry(id) {
  if (!id) return null;
  const d = state.declarations.get(id);
  if (d) return d.feature.geometry;
  const o = state.operations.get(id);
  return o ? o.feature.geometry : null;
}

/** The closest pair of vertices of two geometries, [from a, to b] as [lon, lat]. */
function closestPair(a, b) {
  let best = null;
  let bestD = Infinity;
  for (const p of verticesOf(a)) {
    for (const q of verticesOf(b)) {
      const d = metres(p, q);
      if (d < bestD) { bestD = d; best = [p, q]; }
    }
  }
  return best;
}

function messageHtml(m) {
  const content = m.content || {};
  const check = m.check;
  const warned = orderedWarnings(check).map((w) => `<br>${w.blocking ? "<strong>BLOCKING</strong>" : "warning"}: ${escapeHtml(w.text)}`).join("");
  const verdict = !check || !check.checked
    ? `<br><strong>NOT CHECKED</strong>: ${escapeHtml((check && check.unchecked) || "no check recorded for your party")}`
    : warned || "<br>Checked: nothing within the agreement's distances";
  return `<strong>${escapeHtml(content.subject || "(no subject)")}</strong><br>coordinates from ${escapeHtml(m.from)}${m.sent_by ? ` (${escapeHtml(m.sent_by)})` : ""}, sent ${escapeHtml(clock(m.sent_at))}` +
    `<br>to ${escapeHtml(m.to.join(", "))}${verdict}`;
}

/** Draw a message's exact coordinates, a line to each warned object this user can already
 * see (ringed, and the object itself marked), nothing for any other. */
function drawMessage(m) {
  const map = state.map;
  const g = m.content && m.content.geometry;
  if (!map || !g) return false;
  map.removeWhere((item) => item.msg === m.id);
  const content = m.content;
  const subject = content.subject || "(no subject)";
  map.put({
    id: `msg:${m.id}`, msg: m.id, layer: "messages", geometry: g, style: MESSAGE_STYLE,
    label: `${subject} — from ${m.from}`, labelAt: firstVertex(g), html: messageHtml(m),
  });
  const marked = [];
  orderedWarnings(m.check).forEach((w, i) => {
    const target = visibleGeometry(w.with);
    if (!target) return;
    const pair = closestPair(g, target);
    if (!pair) return;
    marked.push(w.with);
    map.put({
      id: `msg:${m.id}:w${i}`, msg: m.id, layer: "messages", geometry: null,
      shape: { points: [], lines: [], polygons: [], bbox: bboxLonLat(pair) },
      segment: pair, endRing: true, style: w.blocking ? LINK_BLOCKING : LINK_WARNING,
      label: w.text.split(" (")[0], // the center's words: "240 m from School No. 12"
      labelAt: pair[1], labelDy: 18, warned: w.with, // under the object, clear of the coordinates' own label
      html: `<strong>${w.blocking ? "BLOCKING" : "Warning"}</strong> — the coordinates in “${escapeHtml(subject)}” from ${escapeHtml(m.from)}:<br>${escapeHtml(w.text)}`,
    });
  });
  map.setMarked(`msg:${m.id}`, marked);
  state.drawn.add(m.id);
  return true;
}

function hideMessage(id, box) {
  state.drawn.delete(id);
  if (state.map) {
    state.map.removeWhere((item) => item.msg === id);
    state.map.setMarked(`msg:${id}`, []);
    state.map.map.closePopup();
  }
  renderMessages();
  const show = document.querySelector(`[data-key="${CSS.escape(`${box}:show:${id}`)}"]`);
  if (show) show.focus(); // the control just used is gone: the keyboard stays by the message
}

/** Draw a message's coordinates, bring them (and what they were warned of) into view and
 * open their popup. */
function showMessage(m) {
  if (!state.map) { toast("The map is not available: the exact coordinates are under the message."); return; }
  drawMessage(m);
  const g = m.content.geometry;
  const points = [...verticesOf(g)];
  for (const w of orderedWarnings(m.check)) {
    const target = visibleGeometry(w.with);
    const pair = target && closestPair(g, target);
    if (pair) points.push(pair[1]);
  }
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  // room above for the popup
  state.map.fit([Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)], {
    maxZoom: 15, paddingTopLeft: [40, 260], paddingBottomRight: [40, 40],
  });
  const [lon, lat] = g.type === "Point" ? g.coordinates : centreOf(g);
  state.map.L.popup({ maxWidth: 340, autoPan: true }).setLatLng([lat, lon]).setContent(messageHtml(m)).openOn(state.map.map);
  renderMessages();
}

/**
 * Put received coordinates on the map by themselves: at sign-in, those of every message
 * still to acknowledge; afterwards, those of each new message as it arrives (with a notice).
 * Each message is looked at once: one taken off the map stays off.
 */
function autoDraw() {
  if (!state.map || !state.listed) return;
  const first = state.considered === null;
  if (first) state.considered = new Set();
  let changed = false;
  for (const m of state.inbox) {
    if (state.considered.has(m.id)) continue;
    state.considered.add(m.id);
    const r = myRecipient(m);
    if (!(m.content && m.content.geometry) || (first && r && r.acknowledged)) continue;
    drawMessage(m);
    changed = true; // a new message's own toast says its coordinates are drawn (announceMessage)
  }
  if (changed) renderMessages();
}

async function acknowledge(m) {
  if (!canAct()) { toast(READ_ONLY); return; }
  try {
    await api("POST", `/v1/messages/${encodeURIComponent(m.id)}/acknowledge`, { content_hash: m.content_hash });
    toast(`Acknowledged "${(m.content || {}).subject || m.id}".`);
    await loadMessages();
  } catch (error) {
    toast(`Refused: ${error.message}`);
    afterRefusal(error);
  }
}

async function sendMessage(e) {
  e.preventDefault();
  $("compose-error").textContent = "";
  if (!canAct()) { $("compose-error").textContent = READ_ONLY; return; }
  const point = pointOf($("m-lon").value, $("m-lat").value);
  if (point && point.error) { $("compose-error").textContent = `The point: ${point.error}.`; $("m-lon").focus(); return; }
  const body = {
    to: [$("m-to").value], subject: $("m-subject").value.trim(), text: $("m-text").value.trim(), ack_within: $("m-within").value,
  };
  if (point) body.geometry = point;
  if (state.replyTo) body.refers_to = state.replyTo;
  try {
    const sent = await api("POST", "/v1/messages", body);
    for (const id of ["m-subject", "m-text", "m-lon", "m-lat"]) $(id).value = "";
    if (state.messagePoint) state.messagePoint.clear();
    previewMessagePoint();
    if (state.replyTo) { state.replyTo = null; $("m-reply").hidden = true; $("m-reply").replaceChildren(); }
    toast(`Sent “${body.subject}” to ${body.to.join(", ")}${point ? " with a point" : ""}: record entry ${sent.entry}.`);
    await loadMessages();
  } catch (error) {
    $("compose-error").textContent = error.message;
    afterRefusal(error);
  }
}

const MESSAGE_DRAFT = Object.freeze({ stroke: "#ff5ce1", width: 2, dash: [4, 3], symbol: "target", label: "#ff9cf0" });

/** The point of the message being written, drawn on the map while it is one. */
function previewMessagePoint() {
  if (!state.map) return;
  const point = pointOf($("m-lon").value, $("m-lat").value);
  if (point && !point.error) {
    state.map.put({ id: "msg:draft", layer: "messages", geometry: point, style: MESSAGE_DRAFT, label: "point of the message being written", labelAt: point.coordinates });
  } else {
    state.map.remove("msg:draft");
  }
}

/** Take the message's point from the next click on the map (Esc cancels). */
function pickMessagePoint() {
  if (!state.map) { toast("The map is not available: type lon and lat instead."); return; }
  pickPointInto(state.map, {
    mode: "message-point", lon: $("m-lon"), lat: $("m-lat"), help: $("map-help"),
    message: "Click the point to send (Esc cancels).",
    done: () => { stopDrawing(); previewMessagePoint(); $("m-pick").focus(); },
  });
}

// --- compliance: the computed findings and the incident and violation reports -------------

/** The live events after which the computed findings may have changed (read again, at most
 * one request at a time: the center replays the whole record for it). */
const FINDINGS_CHANGE = /^(operation\.|message\.|declaration\.|airspace\.violation)/;
const FINDINGS_AFTER_MS = 2000;

const REPORT_STYLE = Object.freeze({ stroke: "#4dd0e1", fill: "rgba(77, 208, 225, 0.14)", width: 3, symbol: "diamond", label: "#9be7f0" });
const REPORT_DRAFT = Object.freeze({ stroke: "#4dd0e1", width: 2, dash: [4, 3], symbol: "diamond", label: "#9be7f0" });

function setUpReports() {
  if (!can.reports()) { $("panel-compliance").hidden = true; return; }
  if (!can.compliance()) $("findings-box").hidden = true;
  $("findings-refresh").addEventListener("click", () => loadCompliance());
  $("panel-compliance").addEventListener("toggle", () => {
    if ($("panel-compliance").open && findings.stale) scheduleFindings();
  });
  renderReports();
  if (!can.file()) return;
  const me = state.me.member;
  const accused = $("r-accused");
  for (const p of state.agreement.parties) {
    if (p.id !== me) accused.append(el("option", { value: p.id, text: p.name ? `${p.id} (${p.name})` : p.id }));
  }
  accused.append(el("option", { value: CENTER, text: "the center" })); // any filer may accuse the center itself
  $("r-start").value = toLocalInput(centerNow());
  $("report-panel").hidden = false;
  $("report-form").addEventListener("submit", fileReport);
  $("r-pick").addEventListener("click", pickWhere);
  for (const id of ["r-lon", "r-lat"]) $(id).addEventListener("input", previewWhere);
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !state.map || !state.map.drawing || state.map.drawing.mode !== "point") return;
    stopDrawing();
    $("r-pick").focus();
  });
}

/** The reports as GET /v1/reports lists them (cheap: the center's rows); the full list, the
 * record's, comes with the compliance report (loadCompliance). */
async function loadReports() {
  if (!can.reports()) return;
  try {
    putReports(await api("GET", "/v1/reports?limit=200"));
  } catch (error) {
    $("reports").replaceChildren(el("li", { class: "hint", text: `Could not read the reports: ${error.message}` }));
  }
}

const findings = { timer: null, running: false, again: false, stale: false };

/** Read GET /v1/compliance: every party's computed findings, and the reports beside them. */
async function loadCompliance() {
  if (!can.compliance()) return;
  findings.stale = false;
  try {
    const c = await api("GET", "/v1/compliance");
    state.compliance = c;
    renderFindings();
    putReports(c.reports);
  } catch (error) {
    $("findings-judged").textContent = `Could not read the compliance report: ${error.message}`;
  }
}

/** Read the findings again a little after a change that may alter them (once for a burst
 * of changes; while the panel is closed, when it is opened). */
function scheduleFindings() {
  if (!can.compliance() || !state.compliance) return;
  if (!$("panel-compliance").open) { findings.stale = true; return; }
  if (findings.running) { findings.again = true; return; }
  if (findings.timer) return;
  findings.timer = setTimeout(async () => {
    findings.timer = null;
    findings.running = true;
    try {
      await loadCompliance();
    } finally {
      findings.running = false;
      if (findings.again) { findings.again = false; scheduleFindings(); }
    }
  }, FINDINGS_AFTER_MS);
}

function renderFindings() {
  const c = state.compliance;
  if (!c) return;
  const me = state.me.member;
  const parties = [...c.parties].sort((a, b) => (b.party === me) - (a.party === me));
  $("findings").replaceChildren(...parties.map((p) => findingsView(p, { viewer: me })));
  $("findings-judged").textContent = `Judged ${clock(c.at)} from the record's first ${c.proof.entries} entries (root ${c.proof.root.slice(0, 16)}…): each finding names the entries that prove it.`;
}

/** Add or update reports (a list's, an event's, an answer's), then show them. */
function putReports(list) {
  if (mergeReports(state.reports, list)) renderReports();
}

function reportFiled(report) {
  const known = state.reports.has(report.id);
  putReports([report]);
  if (known) return;
  if (report.accused === state.me.member) {
    toast(`New report by ${report.filer} against your party: see Compliance and reports.`);
  } else {
    toast(`${report.filer} filed a report against ${accusedText(report.accused)}.`);
  }
}

async function reportAnswered(data) {
  const had = state.reports.get(data.id);
  if (had) {
    putReports([{ ...had, open: false, answer: data.answer }]);
  } else {
    try { putReports([await api("GET", `/v1/reports/${encodeURIComponent(data.id)}`)]); } catch { /* read with the next list */ }
  }
  if (state.reportsDrawn.has(data.id)) drawReport(state.reports.get(data.id));
  if (data.filer === state.me.member) toast(`${data.accused} answered your report ${data.id}.`);
}

/** Each report's element, kept while the report is unchanged: a live event redraws the
 * list without losing what is typed in an answer or where the keyboard is. */
const reportNodes = new Map();

function renderReports() {
  const list = $("reports");
  const me = state.me.member;
  const ordered = orderReports([...state.reports.values()], me);
  const nodes = ordered.map((r) => {
    const kept = reportNodes.get(r.id);
    if (kept && kept.report === r) return kept.node;
    const node = reportItem(r);
    reportNodes.set(r.id, { report: r, node });
    return node;
  });
  keepFocus(() => {
    if (!nodes.length) {
      list.replaceChildren(el("li", { class: "hint", text: "No report filed." }));
      return;
    }
    // in place, moving only what must move (a focused control that stays is not disturbed)
    nodes.forEach((node, i) => { if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null); });
    while (list.children.length > nodes.length) list.lastElementChild.remove();
  });
  const open = ordered.filter((r) => !r.answer);
  const mine = open.filter((r) => r.accused === me).length;
  $("compliance-count").textContent = mine
    ? `(${mine} open against your party)`
    : ordered.length ? `(${ordered.length} report${ordered.length === 1 ? "" : "s"}, ${open.length} open)` : "";
}

function canAnswer(r) {
  return !r.answer && r.accused !== CENTER && r.accused === state.me.member && can.answer();
}

function reportItem(r) {
  const li = reportView(r, { viewer: state.me.member });
  if (r.where) {
    const drawn = state.reportsDrawn.has(r.id);
    li.append(el("div", { class: "actions" },
      el("button", { type: "button", "data-key": `report:show:${r.id}`, onclick: () => showReport(r.id) }, "Show on map"),
      el("button", { type: "button", "data-key": `report:hide:${r.id}`, hidden: !drawn, onclick: () => hideReport(r.id) }, "Remove from map"),
    ));
  }
  if (canAnswer(r)) li.append(answerForm(r));
  return li;
}

function answerForm(r) {
  const id = r.id;
  const text = el("textarea", { id: `a-text-${id}`, rows: 3, maxlength: 4000, required: true, "data-key": `a-text:${id}` });
  const cites = el("input", { id: `a-cites-${id}`, inputmode: "numeric", spellcheck: "false", placeholder: "e.g. 12, 14", "data-key": `a-cites:${id}` });
  const evidence = el("textarea", { id: `a-evidence-${id}`, rows: 2, spellcheck: "false", placeholder: "as sha256sum prints it", "data-key": `a-evidence:${id}` });
  const error = el("p", { class: "error", role: "alert", id: `a-error-${id}` });
  const form = el("form", { class: "form answer-form", "data-answer": id, autocomplete: "off", novalidate: true },
    el("h5", { text: `Answer for ${r.accused} (signed by your party; one answer per report)` }),
    el("label", { for: text.id, text: "Your party's answer" }), text,
    el("label", { for: cites.id, text: "Cites record entries (numbers, comma-separated; optional)" }), cites,
    el("label", { for: evidence.id, text: "Evidence: one SHA-256 a line, then a name (optional)" }), evidence,
    el("button", { type: "submit", class: "primary", "data-key": `a-send:${id}`, ...writes() }, "Send the answer"),
    error,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showProblem(error, null, {});
    if (!canAct()) { error.textContent = READ_ONLY; return; }
    const inputs = { text, cites, evidence };
    try {
      const answered = await api("POST", `/v1/reports/${encodeURIComponent(id)}/answer`, {
        text: text.value, cites: parseCites(cites.value), evidence: parseEvidence(evidence.value),
      });
      putReports([answered]);
      toast(`Answered ${id}: record entry ${answered.answer.entry}.`);
      const node = reportNodes.get(id);
      const shown = node && node.node.querySelector(".answer");
      if (shown) { shown.tabIndex = -1; shown.focus(); } // the form is gone: the keyboard stays by the report
    } catch (problem) {
      showProblem(error, problem, inputs);
      afterRefusal(problem);
    }
  });
  return form;
}

/** Show a refusal in `node`: each field the center names on a line of its own (else its
 * message), and mark the inputs it names (`inputs`: top-level field → input). */
function showProblem(node, error, inputs) {
  const listed = error instanceof ApiError && error.body && Array.isArray(error.body.errors) ? error.body.errors : [];
  if (!error) node.replaceChildren();
  else if (listed.length) node.replaceChildren(...listed.map((p) => el("div", { text: `${p.field}: ${p.message}` })));
  else node.textContent = `Refused: ${error.message}`;
  for (const [field, input] of Object.entries(inputs)) {
    const named = listed.some((p) => p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`));
    if (named) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** An instant typed in a UTC time field, as the API takes it; null when empty (the center
 * names what is missing) — fileReport refuses a value that is not one first (typedField). */
function utcOf(value) {
  const got = parseTyped(value);
  return got.iso || null;
}

async function fileReport(e) {
  e.preventDefault();
  const error = $("report-error");
  const inputs = {
    accused: $("r-accused"), what: $("r-what"), "when.start": $("r-start"), "when.end": $("r-end"),
    where: $("r-lon"), cites: $("r-cites"), evidence: $("r-evidence"),
  };
  showProblem(error, null, inputs);
  if (!canAct()) { error.textContent = READ_ONLY; return; }
  if (!typedField("r-start", error, false) || !typedField("r-end", error, false)) return;
  const body = {
    accused: $("r-accused").value,
    what: $("r-what").value,
    when: { start: utcOf($("r-start").value), end: utcOf($("r-end").value) },
    where: whereOf($("r-lon").value, $("r-lat").value),
    cites: parseCites($("r-cites").value),
    evidence: parseEvidence($("r-evidence").value),
  };
  try {
    const report = await api("POST", "/v1/reports", body);
    putReports([report]);
    for (const id of ["r-what", "r-end", "r-cites", "r-evidence", "r-lon", "r-lat"]) $(id).value = "";
    $("r-start").value = toLocalInput(centerNow());
    previewWhere();
    toast(`Filed ${report.id} against ${accusedText(report.accused)}: record entry ${report.entry}.`);
  } catch (problem) {
    showProblem(error, problem, inputs);
    if (inputs.where.hasAttribute("aria-invalid")) $("r-lat").setAttribute("aria-invalid", "true");
    else $("r-lat").removeAttribute("aria-invalid");
    afterRefusal(problem);
  }
}

/** The point typed for a report to file, drawn on the map while it is a point. */
function previewWhere() {
  if (!state.map) return;
  const where = whereOf($("r-lon").value, $("r-lat").value);
  const [lon, lat] = where ? where.coordinates : [null, null];
  if (where && lon !== null && lat !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
    state.map.put({ id: "report:draft", layer: "reports", geometry: where, style: REPORT_DRAFT, label: "where (the report being written)", labelAt: where.coordinates });
  } else {
    state.map.remove("report:draft");
  }
}

/** Take the report's point from the next click on the map (Esc cancels). */
function pickWhere() {
  if (!state.map) { toast("The map is not available: type lon and lat instead."); return; }
  pickPointInto(state.map, {
    mode: "point", lon: $("r-lon"), lat: $("r-lat"), help: $("map-help"),
    message: "Click where it happened (Esc cancels).",
    done: () => { stopDrawing(); previewWhere(); $("r-pick").focus(); },
  });
}

function reportHtml(r) {
  const what = r.what.length > 240 ? `${r.what.slice(0, 240)}…` : r.what;
  const answer = r.answer ? `answered by ${escapeHtml(r.accused)} ${escapeHtml(clock(r.answer.answered_at, true))}` : "<strong>NOT ANSWERED</strong>";
  return `<strong>Report by ${escapeHtml(r.filer)} against ${escapeHtml(accusedText(r.accused))}</strong><br>${escapeHtml(what)}` +
    `<br>happened ${escapeHtml(whenText(r.when))}<br>filed ${escapeHtml(clock(r.filed_at, true))} · record entry ${r.entry}<br>${answer}`;
}

function drawReport(r) {
  if (!state.map || !r || !r.where) return;
  state.map.put({
    id: `report:${r.id}`, report: r.id, layer: "reports", geometry: r.where, style: REPORT_STYLE,
    label: `report against ${r.accused}`, labelAt: firstVertex(r.where), html: reportHtml(r),
  });
  state.reportsDrawn.add(r.id);
}

function reportButton(id, which) {
  return document.querySelector(`[data-key="${CSS.escape(`report:${which}:${id}`)}"]`);
}

/** Draw a report's "where" exactly as filed, bring it into view and open its popup. */
function showReport(id) {
  const r = state.reports.get(id);
  if (!r || !r.where) return;
  if (!state.map) { toast("The map is not available: the exact coordinates are in the report."); return; }
  drawReport(r);
  const points = verticesOf(r.where);
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  state.map.fit([Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)], {
    maxZoom: 11, paddingTopLeft: [40, 220], paddingBottomRight: [40, 40], // with what stands around it
  });
  const [lon, lat] = r.where.type === "Point" ? r.where.coordinates : centreOf(r.where);
  // the popup clear of the report's symbol
  state.map.L.popup({ maxWidth: 340, autoPan: true, offset: [0, -6] }).setLatLng([lat, lon]).setContent(reportHtml(r)).openOn(state.map.map);
  const hide = reportButton(id, "hide");
  if (hide) hide.hidden = false;
}

function hideReport(id) {
  state.reportsDrawn.delete(id);
  if (state.map) {
    state.map.remove(`report:${id}`);
    state.map.map.closePopup();
  }
  const hide = reportButton(id, "hide");
  if (hide) hide.hidden = true;
  const show = reportButton(id, "show");
  if (show) show.focus(); // the control just used is gone: the keyboard stays by the report
}

// --- tracks and alerts (expected shapes; see the README) ------------------------------------

function trackOf(payload) {
  const t = payload && payload.track ? payload.track : payload;
  if (!t || t.id == null || typeof t.lat !== "number" || typeof t.lon !== "number") return null;
  return t;
}

async function loadTracks() {
  if (!state.map || !allowed("GET /v1/tracks")) return;
  try {
    const data = await api("GET", "/v1/tracks", undefined, { quiet404: true });
    const items = data == null ? [] : Array.isArray(data) ? data : data.items || data.tracks || [];
    for (const t of items) { const tr = trackOf(t); if (tr) state.map.putTrack(tr); }
  } catch {
    // no tracks yet (or not allowed): the layer stays empty
  }
}

function alertOf(payload) {
  const a = payload && payload.alert ? payload.alert : payload;
  if (!a || a.id == null) return null;
  const label = a.label || `${(a.kind || "alert").replace("_", " ")}${a.tracks ? ": " + a.tracks.join(" / ") : ""}`;
  return { ...a, label };
}

async function loadAlerts() {
  if (!allowed("GET /v1/alerts")) return;
  try {
    const data = await api("GET", "/v1/alerts", undefined, { quiet404: true });
    const items = data == null ? [] : Array.isArray(data) ? data : data.items || data.alerts || [];
    for (const a of items) putAlert(alertOf(a));
  } catch {
    // none
  }
}

function putAlert(a) {
  if (!a) return;
  if (a.cleared || a.status === "cleared") {
    state.alerts.delete(String(a.id));
    if (state.map) state.map.removeAlert(a.id);
  } else {
    state.alerts.set(String(a.id), a);
    if (state.map) state.map.putAlert(a);
  }
  renderAlerts();
}

function renderAlerts() {
  const list = [...state.alerts.values()];
  const mine = list.filter((a) => mayAcknowledgeAlert(a)).length;
  $("alerts-count").textContent = list.length ? `(${list.length}${mine ? `, ${mine} to acknowledge` : ""})` : "";
  keepFocus(() => {
    $("alerts").replaceChildren(...list.map(alertItem));
    if (!list.length) $("alerts").append(el("li", { class: "hint", text: "No alert." }));
  });
}

/** The track the page holds for an alert's aircraft (for its operator, mission, level). */
function alertTrack(id) {
  return state.map && id != null ? state.map.tracks.get(String(id)) || null : null;
}

/** Whether this user may acknowledge an alert now: an officer or approver of a party
 * concerned that has not acknowledged its group yet. */
function mayAcknowledgeAlert(a) {
  const me = state.me;
  if (!me || me.member_kind !== "party" || !["officer", "approver"].includes(me.role)) return false;
  const concerned = (a.recipients || []).some((r) => r.party === me.member) || (a.parties || []).includes(me.member);
  return concerned && !(a.acknowledged || []).includes(me.member);
}

function alertItem(a) {
  const group = a.group || a.id;
  const acked = (a.acknowledged || []).includes(state.me.member);
  const li = el("li", { class: `alert${acked ? " acked" : ""}`, "data-alert": a.id },
    el("h4", { text: alertTitle(a, state.agreement) }),
    ...alertBody(a, state.agreement, { trackOf: alertTrack, byUs: state.alertAcks.get(group) || null }),
    acked ? null : alertDue(a),
  );
  const actions = el("div", { class: "actions" },
    el("button", { type: "button", "data-key": `alert:show:${a.id}`, onclick: () => showAlert(a.id) }, "Show on map"));
  if (mayAcknowledgeAlert(a)) {
    actions.append(el("button", {
      type: "button", class: "primary", "data-key": `alert:ack:${a.id}`, onclick: () => acknowledgeAlert(a), ...writes(),
    }, "Acknowledge"));
  }
  li.append(actions);
  return li;
}

/** Acknowledge an alert's group for this user's party in one click, naming its hash (the
 * center records an `airspace.acknowledged` entry signed by the party). */
async function acknowledgeAlert(a) {
  if (!canAct()) { toast(READ_ONLY); return; }
  try {
    const done = await api("POST", `/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`, { content_hash: a.content_hash });
    state.alertAcks.set(a.group || a.id, { party: state.me.member, user: state.me.name, at: centerNow().toISOString() });
    putAlert(alertOf(done));
    toast(`Alert acknowledged for ${state.me.member}: ${alertTitle(done, state.agreement)}.`);
    const show = document.querySelector(`[data-key="${CSS.escape(`alert:show:${a.id}`)}"]`);
    if (show) show.focus(); // the button used is gone: the keyboard stays by the alert
    loadAlerts(); // the other alerts of its group are acknowledged with it
  } catch (error) {
    toast(`Refused: ${error.message}`);
    afterRefusal(error);
    loadAlerts();
  }
}

/** Bring an alert's place (and its aircraft the page holds) into view, with its popup. */
function showAlert(id) {
  const a = state.alerts.get(String(id));
  if (!a) return;
  if (!state.map) { toast("The map is not available."); return; }
  const points = (a.tracks || []).map(alertTrack).filter(Boolean).map((t) => [t.lon, t.lat]);
  if (a.lat != null && a.lon != null) points.push([a.lon, a.lat]);
  if (!points.length) { toast("This alert's place is not shown to you: only whose aircraft it concerns."); return; }
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  state.map.fit([Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)], {
    maxZoom: 11, paddingTopLeft: [40, 220], paddingBottomRight: [40, 40],
  });
  const [lon, lat] = a.lat != null && a.lon != null ? [a.lon, a.lat] : points[0];
  state.map.L.popup({ maxWidth: 360, autoPan: true }).setLatLng([lat, lon])
    .setContent(alertHtml(a, state.agreement, escapeHtml, alertTrack)).openOn(state.map.map);
}

// --- the record -----------------------------------------------------------------------------

function verifiedKey() {
  return `accord.verified.${state.agreement ? state.agreement.id : "?"}`;
}

function storedHead() {
  try { return JSON.parse(localStorage.getItem(verifiedKey()) || "null"); } catch { return null; }
}

function headText(h) {
  return `${h.size} entries · root ${h.root.slice(0, 16)}… · signed ${fmtTime(h.timestamp * 1000)}`;
}

function renderVerified() {
  const h = storedHead();
  $("head-verified").textContent = h ? `${headText(h)} (${h.how} ${fmtTime(h.checked_at)})` : "none yet";
}

async function loadHead() {
  if (!can.record()) return;
  state.head = await api("GET", "/v1/record/head");
  $("head-now").textContent = headText(state.head);
  $("head-witnessed").textContent = witnessedText(state.head);
}
// witnesses' cosignatures arrive without an event of their own: read the head again now and then
setInterval(() => { if (!document.hidden && state.head) loadHead().catch(() => {}); }, 5000);

function scheduleHead() {
  clearTimeout(scheduleHead.timer);
  scheduleHead.timer = setTimeout(() => loadHead().catch(() => {}), 1000);
}

async function verifyRecord() {
  const verdict = $("verdict");
  verdict.className = "verdict";
  verdict.textContent = "Checking…";
  try {
    const head = await api("GET", "/v1/record/head");
    state.head = head;
    $("head-now").textContent = headText(head);
    $("head-witnessed").textContent = witnessedText(head);
    const last = storedHead();
    const keep = (how) => {
      localStorage.setItem(verifiedKey(), JSON.stringify({ size: head.size, root: head.root, timestamp: head.timestamp, how, checked_at: centerNow().toISOString() }));
      renderVerified();
    };
    if (!last) {
      keep("first seen");
      verdict.className = "verdict ok";
      verdict.textContent = `First head seen by this browser (${head.size} entries): kept as the baseline. The next check proves the log only grew from it.`;
      return;
    }
    if (head.size < last.size) {
      verdict.className = "verdict bad";
      verdict.textContent = `NOT VERIFIED: the log shrank from ${last.size} to ${head.size} entries.`;
      return;
    }
    const proof = await api("GET", `/v1/record/proofs/consistency?from=${last.size}&size=${head.size}`);
    const result = await verifyConsistency(last.size, head.size, last.root, head.root, proof.proof);
    if (result.ok) {
      keep("verified");
      verdict.className = "verdict ok";
      verdict.textContent = head.size === last.size
        ? `VERIFIED: the log is unchanged (${head.size} entries, same root).`
        : `VERIFIED: the log only grew — the ${last.size} entries this browser saw before are unchanged, ${head.size - last.size} added.`;
    } else {
      verdict.className = "verdict bad";
      verdict.textContent = `NOT VERIFIED: ${result.why}. The log does not extend the head this browser verified (${last.size} entries).`;
    }
  } catch (error) {
    verdict.className = "verdict bad";
    verdict.textContent = `Could not check: ${error.message}`;
  }
}

// --- this device's key (an agreement with roots) --------------------------------------------

/** How often the page asks whether this device's key signs (GET /v1/me), in ms; also at once
 * when the tab regains focus, and when an event says a key was registered or revoked. */
const POLL_MS = 5000;

/** The attributes of a control that writes: disabled while the page may not act. */
function writes() {
  const ok = canAct();
  return { "data-writes": true, disabled: !ok, title: ok ? null : READ_ONLY };
}

/** Enable or disable every control that writes, as canAct() says. */
function applyActing() {
  const ok = canAct();
  document.body.dataset.acting = String(ok);
  for (const node of document.querySelectorAll("[data-writes]")) {
    node.disabled = !ok;
    if (ok) node.removeAttribute("title");
    else node.title = READ_ONLY;
  }
}

function base64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin); // standard, padded: the form /v1/keys/* takes
}

/**
 * Under a rooted agreement: this device's key for (origin, user), made (not extractable) on
 * first sign-in, and whether it signs now. A key not certified yet is offered to the office;
 * the page stays read-only until the office certifies it (the poll sees it in me.keys).
 */
async function setUpDevice() {
  if (!state.me.signing || !signs()) {
    useSigner(null);
    return;
  }
  try {
    const kept = await loadDeviceKey(state.me.origin, state.me.name);
    await adoptKey(kept || (await createDeviceKey(state.me.origin, state.me.name)));
  } catch (error) {
    setDevice({ status: "unavailable", detail: error.message || String(error) });
    return;
  }
  try {
    await checkDevice();
  } catch (error) {
    setDevice({ status: "offered", detail: `could not reach the center (${error.message}); trying again` });
  }
  setInterval(refreshMe, POLL_MS);
  window.addEventListener("focus", refreshMe);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refreshMe(); });
}

async function adoptKey(key) {
  state.device = {
    key, id: await keyId(key.raw), fingerprint: await fingerprint(key.raw),
    status: "checking", ended: null, detail: null, certify: false, offered: false,
  };
  const me = state.me;
  useSigner({ device: key, origin: me.origin, member: me.member, user: me.name, now: centerNow });
}

/** This device's key as the registry holds it (null: never registered). */
async function registered() {
  const registry = await api("GET", "/v1/keys/registry");
  return registry.keys.find((k) => k.key === state.device.id) || null;
}

/** Decide, from /v1/me and the registry, what this device's key is now; offer it when the
 * registry does not hold it. */
async function checkDevice() {
  if (state.me.keys.includes(state.device.id)) {
    setDevice({ status: "certified" });
    await lookUpKey();
    return;
  }
  const mine = await registered();
  if (mine && mine.ended_at != null) setDevice({ status: "ended", ended: mine.ended_how });
  else if (mine) setDevice({ status: "limited" });
  else await offer();
}

/** Offer this device's public key (the bearer token alone: the key cannot sign yet). The
 * same key offered again is the same offer. */
async function offer() {
  try {
    await api("POST", "/v1/keys/offers", { public_key: base64(state.device.key.raw) }, { sign: false });
    setDevice({ status: "offered", offered: true, detail: null });
  } catch (error) {
    setDevice({ status: "offered", offered: false, detail: `the offer could not be sent (${error.message}); trying again` });
  }
}

/** What the registry says of this certified key: how it ended, whether it may certify. */
async function lookUpKey() {
  try {
    const mine = await registered();
    if (!mine) return;
    if (state.device.status === "ended") setDevice({ ended: mine.ended_how, certify: false });
    else setDevice({ certify: mine.ended_at == null && mine.purposes.includes("certify") });
  } catch {
    // the banner says what it can without it
  }
}

let refreshing = null;

/** Ask /v1/me again (one request at a time) and apply what it says. */
function refreshMe() {
  if (!refreshing) {
    refreshing = api("GET", "/v1/me")
      .then(applyMe, () => {})
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

function applyMe(me) {
  state.me = me;
  state.offsetMs = Date.parse(me.now) - Date.now();
  renderWho();
  const d = state.device;
  if (!me.signing || !d.id || d.status === "unavailable") return;
  const listed = me.keys.includes(d.id);
  if (listed && d.status !== "certified") {
    setDevice({ status: "certified", ended: null, detail: null });
    toast("This device is certified: you can act from it now.");
    lookUpKey();
  } else if (!listed && d.status === "certified") {
    setDevice({ status: "ended", ended: null, certify: false });
    lookUpKey();
  } else if (d.status === "offered" && !d.offered) {
    offer();
  } else if (d.certify) {
    loadOffers();
  }
}

/** A write refused: perhaps because this device's key no longer signs. */
function afterRefusal(error) {
  if (state.me && state.me.signing && error instanceof ApiError && error.status !== 422) refreshMe();
}

/** Make a new key for this device (in place of one that ended) and offer it. */
async function newDeviceKey() {
  try {
    await adoptKey(await createDeviceKey(state.me.origin, state.me.name));
    await offer();
  } catch (error) {
    setDevice({ status: "unavailable", detail: error.message || String(error) });
  }
}

function setDevice(patch) {
  Object.assign(state.device, patch);
  renderDevice();
  applyActing();
  renderCertify();
}

function renderDevice() {
  const d = state.device;
  const box = $("device");
  const shown = !!(state.me && state.me.signing) && !["checking", "certified"].includes(d.status);
  box.hidden = !shown;
  box.dataset.status = d.status;
  if (!shown) return;
  const print = () => el("code", { id: "device-fingerprint", class: "fingerprint", text: d.fingerprint || "" });
  let text;
  let hint = "";
  if (d.status === "offered") {
    text = [el("strong", { text: "This device is not certified yet." }), " Ask your office to certify it: fingerprint ", print(), "."];
    hint = "Until then the page only reads. It enables acting by itself as soon as the key is certified.";
  } else if (d.status === "ended") {
    const how = d.ended ? ` (${d.ended} by your office)` : "";
    text = [el("strong", { text: `This device's key is no longer certified${how}.` }), " The page is read-only. Its fingerprint: ", print(), "."];
    hint = "To act from this device again, make a new key and ask your office to certify it.";
  } else if (d.status === "limited") {
    text = [el("strong", { text: "This device's key is registered, but not to act." }), " The page is read-only. Fingerprint ", print(), "."];
  } else {
    text = [el("strong", { text: "This browser cannot keep a signing key" }), ` (${d.detail}): the page is read-only.`];
  }
  if (d.detail && d.status !== "unavailable") hint = `${hint} Note: ${d.detail}.`.trim();
  $("device-text").replaceChildren(...text);
  $("device-hint").textContent = hint;
  $("device-new").hidden = d.status !== "ended";
}

// --- certifying others' devices (a key with the purpose "certify") -------------------------

let offersShown = [];

async function loadOffers() {
  if (!state.device.certify) return;
  try {
    const answer = await api("GET", "/v1/keys/offers");
    offersShown = answer.items;
  } catch {
    offersShown = [];
  }
  renderCertify();
}

function renderCertify() {
  const panel = $("panel-certify");
  if (!state.device.certify) {
    panel.hidden = true;
    return;
  }
  if (panel.hidden) {
    panel.hidden = false;
    loadOffers();
  }
  keepFocus(() => {
    const items = offersShown.map((o) => el("li", { class: "offer", "data-offer": o.key },
      el("h4", { text: `${o.user}'s device` }),
      el("div", { class: "meta", text: `offered ${fmtTime(o.offered_at)}` }),
      el("div", {}, "Fingerprint ", el("code", { class: "fingerprint", text: o.fingerprint })),
      el("div", { class: "actions" }, el("button", {
        type: "button", class: "primary", "data-key": `certify:${o.key}`, onclick: () => certify(o), ...writes(),
      }, "Certify")),
    ));
    if (!items.length) items.push(el("li", { class: "hint", text: "No device waits to be certified." }));
    $("offers").replaceChildren(...items);
    $("offers-count").textContent = offersShown.length ? `(${offersShown.length})` : "";
  });
}

/** Certify an offered key for its user, to act: the registration is this device's act,
 * signed with its certifying key. */
async function certify(o) {
  if (!canAct() || !state.device.certify) { toast(READ_ONLY); return; }
  try {
    await api("POST", "/v1/keys/registrations", { user: o.user, public_key: o.public_key, purposes: ["act"] });
    toast(`Certified ${o.user}'s device (fingerprint ${o.fingerprint}).`);
  } catch (error) {
    toast(`Refused: ${error.message}`);
    afterRefusal(error);
  }
  await loadOffers();
}

// --- live events ----------------------------------------------------------------------------

function onEvent(ev) {
  stats.events++;
  stats.eventsByKind[ev.kind] = (stats.eventsByKind[ev.kind] || 0) + 1;
  stats.lastEventId = ev.id;
  if (!state.ready) { state.queued.push(ev); return; }
  handle(ev);
}

function handle(ev) {
  const { kind, data } = ev;
  if (kind.startsWith("track")) {
    // `track.updated` carries one aircraft; a large batch arrives as one `tracks.updated` list
    const items = data && Array.isArray(data.tracks) ? data.tracks : [data];
    for (const item of items) {
      const t = trackOf(item);
      if (t && state.map) state.map.putTrack(t);
    }
    return; // tracks are not record entries: no head refresh
  }
  if (kind.startsWith("alert") || kind.startsWith("airspace")) {
    // a group's event lists its alerts (each pair); a truncated one sends the page to the list
    const items = data && Array.isArray(data.alerts) ? data.alerts : [data];
    for (const item of items) putAlert(alertOf(item));
    if (data && data.truncated) loadAlerts();
  } else if (kind.startsWith("declaration.")) {
    if (kind.endsWith("withdrawn")) dropDeclaration(data.id);
    else if (data.feature && data.id) {
      const prev = state.declarations.get(data.id) || {};
      putDeclaration({ ...prev, id: data.id, kind: data.kind || prev.kind, owner: data.owner || prev.owner, disclosure: data.disclosure || prev.disclosure, feature: data.feature });
    } else if (data.id) {
      api("GET", `/v1/declarations/${encodeURIComponent(data.id)}`).then(putDeclaration, () => {});
    }
    if (kind.endsWith("acknowledged")) scheduleMessages();
  } else if (kind.startsWith("operation.")) {
    if (data.id) refetchOperation(data.id);
    if (data.id) operationToast(kind, data);
  } else if (kind.startsWith("message.")) {
    scheduleMessages();
  } else if (kind === "report.filed") {
    reportFiled(data);
  } else if (kind === "report.answered") {
    reportAnswered(data);
  } else if (kind.startsWith("condition.") || kind.startsWith("phase.")) {
    refreshMe();
  } else if (kind.startsWith("key.")) {
    refreshMe(); // a key registered or revoked: perhaps this device's
  } else if (kind === "center.restored") {
    // The center was restored from a backup: what this page holds may include changes the
    // restore lost. Read everything again, from the restored center.
    toast("The center was restored from a backup: reading everything again.");
    setTimeout(() => location.reload(), 1500);
    return;
  }
  for (const listen of eventListeners) listen(ev);
  if (FINDINGS_CHANGE.test(kind)) scheduleFindings();
  if (can.record()) scheduleHead();
}

// --- toasts for what others do to this party's operations -------------------------------

/** The acts on an operation a party must not miss, by event kind: how a toast says it. */
const OPERATION_ACTS = {
  "operation.vetoed": { verb: "vetoed", kind: "bad" },
  "operation.approved": { verb: "approved", kind: "good" },
  "operation.objected": { verb: "objected to", kind: "bad" },
  "operation.cancelled": { verb: "cancelled", kind: "warn" },
  "operation.objection_withdrawn": { verb: "withdrew its objection to", kind: "good" },
};

/** Acts this page has just made itself (`opId:kind`): not announced back to it. */
const ownActs = new Set();

/**
 * A lasting toast when another party — or another user of this party — vetoes, approves,
 * objects to (and so holds) or cancels an operation of this party (proposed by it or executed
 * by it): the operation's name, who acted and what it is now; a click selects its card.
 */
async function operationToast(kind, data) {
  const how = OPERATION_ACTS[kind];
  if (!how || !state.me) return;
  const own = `${data.id}:${kind}`;
  if (ownActs.delete(own)) return;
  const known = state.operations.get(data.id);
  const me = state.me.member;
  if (known && !(known.proposed_by === me || known.executors.includes(me))) return;
  let op;
  try { op = await api("GET", `/v1/operations/${encodeURIComponent(data.id)}`); } catch { op = known; } // its reason, as recorded
  if (!op || !(op.proposed_by === me || op.executors.includes(me))) return;
  const who = data.actor === me ? `your party (${me})` : memberName(state.agreement, data.actor);
  const objection = (op.objections || []).filter((o) => o.party === data.actor && !o.withdrawn_at).pop();
  const why = kind === "operation.vetoed" ? op.veto_reason : kind === "operation.cancelled" ? op.cancel_reason : kind === "operation.objected" && objection ? objection.evidence : null;
  const held = op.status === "held" ? " — it is HELD while the objection stands" : "";
  toast(`${who} ${how.verb} “${opName(op)}”${why ? `: ${why}` : ""}${held}.`, {
    title: `${how.verb[0].toUpperCase()}${how.verb.slice(1)}:`, kind: how.kind, ms: LASTING_MS, key: `op:${data.id}:${kind}`,
    onSelect: () => selectCard(data.id),
  });
}

/** Select an operation (its card and its drawing) and put the keyboard on its card. */
function selectCard(opId) {
  $("panel-ops").open = true;
  select(opId, true);
  const card = document.getElementById(`op-${opId}`);
  if (card) {
    card.scrollIntoView({ block: "nearest" });
    card.focus();
  }
}

// --- boot -----------------------------------------------------------------------------------

window.accord = {
  stats, state,
  dropStream: () => state.stream && state.stream.drop(),
  inject: (ev) => onEvent(ev), // the same path as an event from the stream (measurements)
  mapStats: () => (state.map ? state.map.stats : null),
  device: () => ({ id: state.device.id, fingerprint: state.device.fingerprint, status: state.device.status, acting: canAct() }),
};

setUpLayout();
if (token()) start();
else showSignin();
