// Airspace alerts explained: what an alert of GET /v1/alerts (or of a live event) means, in
// words an officer reads at a glance — which kind of alert, which aircraft (their ids as
// reported, with operator and mission where the viewer can see the track), whose aircraft
// (the parties and operators it names, by name), where, when (the page's time format), and
// where each party concerned stands with its acknowledgement. Pure: an alert and a few
// look-ups in, elements out; no requests, no state.
//
// Nothing here adds to what the API gave: an aircraft hidden from the viewer is named only
// by whose it is (the alert's `others`), with no place, distance or time of closest
// approach (DECISIONS 1).

import { el } from "./dom.js";
import { clock } from "./line.js";

/** A member of the agreement by name: "Blue Federation (blue)"; an unknown id as itself. */
export function memberName(agreement, id) {
  if (!id) return "?";
  const groups = agreement ? [agreement.parties, agreement.operators, agreement.notifiers, agreement.monitors] : [];
  for (const group of groups) {
    const m = (group || []).find((x) => x.id === id);
    if (m && m.name && m.name !== id) return `${m.name} (${id})`;
  }
  return id;
}

/** Whether `id` is an aircraft operator that is not a party to the agreement. */
function isOperator(agreement, id) {
  return !!(agreement && (agreement.operators || []).some((o) => o.id === id));
}

/** A designated area by name ("Northern designated area (da-north)"). */
export function areaName(agreement, id) {
  const a = agreement && (agreement.designated_areas || []).find((x) => x.id === id);
  return a && a.name ? `${a.name} (${id})` : id || "a designated area";
}

/** What kind of alert it is, in a few words. */
export function alertKind(a) {
  const plans = a.source === "plan";
  if (a.kind === "conflict") {
    if (plans) return "Flight plans in conflict";
    return a.lost ? "Separation LOST" : "Predicted loss of separation";
  }
  if (a.kind === "area") {
    if (plans) return "Flight plan through a designated area";
    return a.inside ? "Aircraft INSIDE a designated area" : "Aircraft predicted to enter a designated area";
  }
  if (a.kind === "squawk") {
    const meaning = { "7500": "unlawful interference", "7600": "radio failure", "7700": "emergency" }[a.squawk] || "emergency";
    return `EMERGENCY squawk ${a.squawk} (${meaning})`;
  }
  return (a.kind || "alert").replace("_", " ");
}

/** The aircraft an alert names, each one line: its id (callsign) as reported, its
 * operator and mission where the viewer sees the track; "an aircraft of X (hidden from
 * you)" for one it may not see. `trackOf(id)`: the track as the page holds it, or null. */
export function aircraftLines(a, agreement, trackOf = () => null) {
  const lines = [];
  const others = [...(a.others || [])];
  for (const id of a.tracks || []) {
    if (id == null) {
      const o = others.shift();
      const whose = o ? memberName(agreement, o.party || o.operator) : "another operator";
      lines.push(`an aircraft of ${whose} — hidden from you: no place or distance is given`);
      continue;
    }
    const t = trackOf(id);
    const what = a.source === "plan" ? "flight plan" : "aircraft";
    if (t) {
      const alt = t.alt_ft != null ? `, ${Math.round(t.alt_ft).toLocaleString("en")} ft` : "";
      lines.push(`${what} ${id} — ${memberName(agreement, t.operator || t.party)}${t.mission ? `, ${t.mission}` : ""}${alt}`);
    } else {
      lines.push(`${what} ${id}`);
    }
  }
  return lines;
}

/** A short title in names: "Predicted loss of separation: blue-c130-11 / red-il76-4". */
export function alertTitle(a, agreement) {
  const others = [...(a.others || [])];
  const ids = (a.tracks || []).map((id) => {
    if (id != null) return id;
    const o = others.shift();
    return `an aircraft of ${o ? o.party || o.operator : "another operator"}`;
  });
  const area = a.kind === "area" ? ` — ${areaName(agreement, a.area).replace(/ \([^)]*\)$/, "")}` : "";
  return `${alertKind(a)}: ${ids.join(" / ") || a.label || a.id}${area}`;
}

/** Who the alert concerns, explained: "blue, green-af, red" as parties and operators. */
export function concernedText(a, agreement) {
  const parties = (a.parties || []).filter((p) => !isOperator(agreement, p));
  const operators = (a.parties || []).filter((p) => isOperator(agreement, p));
  const partsOf = (ids) => ids.map((id) => memberName(agreement, id)).join(", ");
  let text = parties.length ? `Sent to the parties ${partsOf(parties)}` : "";
  if (operators.length) text += `${text ? "; " : ""}aircraft operator${operators.length > 1 ? "s" : ""} ${partsOf(operators)} (not a party: named, not asked to acknowledge)`;
  return text;
}

/** When: raised, and when separation is lost or the area entered (page format). */
export function whenText(a) {
  const parts = [];
  if (a.predicted_at) {
    const verb = a.kind === "conflict" ? (a.lost ? "separation lost since" : "separation lost from") : a.kind === "squawk" ? "squawking since" : a.inside ? "inside since" : "enters at";
    parts.push(`${verb} ${clock(a.predicted_at, true)}`);
  }
  if (a.horizontal_nm != null) {
    parts.push(`closest ${a.horizontal_nm} NM and ${Math.round(a.vertical_ft ?? 0).toLocaleString("en")} ft apart${a.tcpa_s != null ? ` in ${Math.round(a.tcpa_s)} s` : ""}`);
  }
  parts.push(`raised ${clock(a.at, true)}`);
  if (a.last_seen) parts.push(`last seen ${clock(a.last_seen, true)}`);
  return parts.join(" · ");
}

/** Where, when the viewer may see it: "lon 21.89310, lat 24.90000" (the form's order). */
export function whereText(a) {
  if (a.lat == null || a.lon == null) return null;
  return `at lon ${a.lon.toFixed(5)}, lat ${a.lat.toFixed(5)}`;
}

/** Each party concerned's acknowledgement, one line: acknowledged (by whom, when this page
 * knows it) or the deadline running. `byUs`: {party, user, at} of an acknowledgement made
 * from this page. */
export function ackLines(a, byUs = null) {
  const acked = new Set(a.acknowledged || []);
  const rows = (a.recipients && a.recipients.length ? a.recipients : (a.parties || []).map((p) => ({ party: p, acknowledged: acked.has(p) })));
  return rows.map((r) => {
    const done = r.acknowledged || acked.has(r.party);
    if (done) {
      const who = byUs && byUs.party === r.party ? ` by ${byUs.user} at ${clock(byUs.at, true)}` : "";
      return { party: r.party, done, text: `${r.party}: acknowledged${who}` };
    }
    const level = r.level ? `, escalated to level ${r.level}` : "";
    const overdue = r.overdue_at ? `, OVERDUE since ${clock(r.overdue_at, true)}` : "";
    const by = r.deadline || r.ack_deadline;
    return { party: r.party, done, text: `${r.party}: not yet acknowledged${by ? ` (due ${clock(by, true)})` : ""}${level}${overdue}` };
  });
}

/** The popup's HTML of an alert (escaped: `esc`), for "Show on map". */
export function alertHtml(a, agreement, esc, trackOf) {
  const lines = aircraftLines(a, agreement, trackOf).map((l) => `<br>${esc(l)}`).join("");
  const where = whereText(a);
  return `<strong>${esc(alertTitle(a, agreement))}</strong>${lines}<br>${esc(whenText(a))}${where ? `<br>${esc(where)}` : ""}` +
    `<br>${esc(concernedText(a, agreement))}`;
}

/** The explanation under an alert's title in the panel. */
export function alertBody(a, agreement, { trackOf, byUs } = {}) {
  const where = whereText(a);
  return [
    el("ul", { class: "aircraft" }, ...aircraftLines(a, agreement, trackOf).map((l) => el("li", { text: l }))),
    el("div", { class: "meta when", text: whenText(a) }),
    where ? el("div", { class: "meta where", text: where }) : null,
    a.kind === "area" ? el("div", { class: "meta", text: `Area: ${areaName(agreement, a.area)}, closed to this operator` }) : null,
    el("div", { class: "meta concerned", text: concernedText(a, agreement) }),
    el("ul", { class: "acks" }, ...ackLines(a, byUs).map((r) => el("li", { class: r.done ? "acked" : "open", "data-party": r.party, text: r.text }))),
    el("div", { class: "meta ids", text: `${a.id} · record entry ${a.entry} · ${a.source === "plan" ? "from flight plans" : "from live tracks"}` }),
  ];
}
