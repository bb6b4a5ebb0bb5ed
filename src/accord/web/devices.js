// The TAK devices connected to the center's CoT endpoint (GET /v1/cot/devices): the
// administrator's "TAK devices" list (its member's users: who, callsign, transport, since,
// last event) and an officer's or approver's "My devices" panel (its own devices with what
// each last reported of itself). The center decides who sees what (visibility.py); this
// module only shows the answer, read again every 10 s while the page is visible.

import { api } from "./api.js";
import { el } from "./dom.js";
import { fmtInstant } from "./time.js";

export const POLL_MS = 10000;

const TRANSPORT = { tls: "TLS (certificate)", plain: "plain (loopback, token)" };

function stamp(value) {
  return value == null ? "—" : fmtInstant(value);
}

function deviceName(d) {
  return d.callsign || d.uid || "(not yet named)";
}

/** "a-f-G-U-C at 25.22000, 21.11000 ±12 m, sent … (stale …)", or "no report yet". */
export function reportText(report) {
  if (!report) return "no report yet";
  const ce = report.ce != null ? ` ±${Math.round(report.ce)} m` : "";
  return `${report.type} at ${report.lat.toFixed(5)}, ${report.lon.toFixed(5)}${ce}, sent ${stamp(report.time)} (stale ${stamp(report.stale)})`;
}

/** A device's position's line in its popup (a declaration's `properties` carrying
 * `device`), as plain text, null without a device: "device BLUE-1 · course 238° · 4.3 m/s ·
 * reported …". A device sends its course and speed with whatever precision it has
 * (237.61873°, 4.2634 m/s): shown to the degree (359.6° is 0°, north) and the tenth of a
 * metre per second, as a TAK client shows them. */
export function deviceLine(p) {
  if (!p || !p.device) return null;
  const parts = [`device ${p.device.callsign || p.device.uid}`];
  if (Number.isFinite(p.course_deg)) parts.push(`course ${Math.round(p.course_deg) % 360}°`);
  if (Number.isFinite(p.speed_mps)) parts.push(`${p.speed_mps.toFixed(1)} m/s`);
  if (p.reported_at) parts.push(`reported ${stamp(p.reported_at)}`);
  return parts.join(" · ");
}

/** The administrator's table of `items`. */
export function devicesTable(member, items) {
  const rows = items.map((d) => el("tr", { "data-device": d.uid || "" },
    el("th", { scope: "row", text: d.user }),
    el("td", { text: deviceName(d) }),
    el("td", { text: TRANSPORT[d.transport] || d.transport }),
    el("td", { text: stamp(d.connected_at) }),
    el("td", { text: stamp(d.last_event_at) })));
  const headers = ["User", "Callsign", "Transport", "Since", "Last event"];
  return el("table", { class: "admin-table devices-table" },
    el("caption", { text: `Connected now to this node (${items.length})` }),
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: String(headers.length), class: "hint", text: `No TAK device of ${member} is connected.` }))])));
}

/** The officer's list of its own `items`. */
export function myDevicesList(items) {
  if (!items.length) return el("p", { class: "hint", text: "None of your TAK devices is connected." });
  return el("ul", { class: "list my-devices" }, ...items.map((d) => el("li", { "data-device": d.uid || "" },
    el("strong", { text: deviceName(d) }),
    ` — ${TRANSPORT[d.transport] || d.transport}, since ${stamp(d.connected_at)}, last event ${stamp(d.last_event_at)}`,
    el("br"),
    el("span", { class: "device-report", text: `Last report: ${reportText(d.last_report)}` }))));
}

/** Read the devices into `box` with `render(items)` now and every POLL_MS while the page is
 * visible; a failed read says so in the box. Resolves after the first read. */
export function watchDevices(box, render) {
  async function load() {
    try {
      const answer = await api("GET", "/v1/cot/devices");
      box.replaceChildren(render(answer.items));
    } catch (error) {
      box.replaceChildren(el("p", { class: "error", text: `Could not read the devices: ${error.message}` }));
    }
  }
  setInterval(() => { if (!document.hidden) load(); }, POLL_MS);
  return load();
}

/** The administrator's card (admin.js puts it in its grid). */
export function devicesCard(me) {
  const box = el("div", { id: "tak-devices" }, el("p", { class: "hint", text: "Reading…" }));
  const card = el("section", { class: "admin-card", id: "admin-tak", "aria-labelledby": "admin-tak-title" },
    el("h3", { id: "admin-tak-title", text: "TAK devices" }),
    el("p", { class: "hint", text: `The TAK devices of ${me.member}'s users connected to this node's CoT endpoint (accord serve --cot-port). What a device reports of its position is its user's alone.` }),
    box);
  return { card, load: () => watchDevices(box, (items) => devicesTable(me.member, items)) };
}

/** An officer's or approver's "My devices" panel in the sidebar, before the record's. */
export function setUpMyDevices() {
  const box = el("div", { id: "my-devices" }, el("p", { class: "hint", text: "Reading…" }));
  const panel = el("details", { id: "panel-devices", open: true },
    el("summary", { text: "My TAK devices" }),
    el("p", { class: "hint", text: "Your devices connected to the center's CoT endpoint and what each last reported of itself (nobody else sees it)." }),
    box);
  const record = document.getElementById("panel-record");
  record.before(panel);
  return watchDevices(box, myDevicesList);
}
