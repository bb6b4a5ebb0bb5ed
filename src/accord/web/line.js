// The direct line's views of one message: what the center's check of its coordinates
// showed the viewer's party (checkView), and each recipient's escalation ladder — sent,
// the acknowledgement deadline, every escalation step, overdue, acknowledged
// (ladderSteps, ladderView). Pure: a message as GET /v1/messages gives it in, elements
// out; no state and no requests, so that the page and its tests render alike.
//
// What is shown is what the API gave: the check names only objects the viewer's party may
// see (shared ones and its own), a step names users only for the recipient party itself.

import { el } from "./dom.js";
import { fmtInstant } from "./time.js";

/** "YYYY-MM-DD HH:MM:SSZ" of an ISO instant: the page's one format (time.js), its date
 * always (a second argument, once "with the date", is ignored). */
export function clock(iso) {
  return iso ? fmtInstant(iso) : "—";
}

/** Whether a message carries coordinates, as far as the viewer can tell. */
export function hasGeometry(m) {
  if (m.check) return !!m.check.geometry;
  return !!(m.content && m.content.geometry);
}

/** The check's warnings, blocking ones first (each group in the center's order). */
export function orderedWarnings(check) {
  const warnings = check && Array.isArray(check.warnings) ? check.warnings : [];
  return [...warnings.filter((w) => w.blocking), ...warnings.filter((w) => !w.blocking)];
}

/** One warning's line: "BLOCKING: " or "warning: ", then the center's own sentence as it was
 * committed in the record (not reworded: it is what the party can later prove it was shown). */
export function warningText(w) {
  return `${w.blocking ? "BLOCKING" : "warning"}: ${w.text}${w.stale ? " (its last report is stale)" : ""}`;
}

/**
 * What the center's check of a message's coordinates showed the viewer's party, or null
 * for a message without coordinates (and for a monitor, who sees no content and no check).
 * NOT CHECKED is said plainly, with the center's reason, whenever coordinates came without
 * a check that covered them.
 */
export function checkView(m, { sent = false } = {}) {
  if (!hasGeometry(m)) return null;
  const check = m.check;
  const box = el("div", { class: "check", "data-check": check ? (check.checked ? "checked" : "unchecked") : "none" });
  if (!check || !check.checked) {
    box.classList.add("unchecked");
    const why = check ? check.unchecked || "the center gave no reason" : "the center recorded no check of these coordinates for your party";
    box.append(el("strong", { class: "check-head", text: `NOT CHECKED: ${why}` }));
    box.append(el("div", { class: "hint", text: "Nothing near these coordinates has been looked at for you: check them against your own picture before acting on them." }));
    return box;
  }
  const warnings = orderedWarnings(check);
  const blocking = warnings.filter((w) => w.blocking).length;
  const whose = sent ? `what the center's check showed ${check.party}` : `the center's check for ${check.party}`;
  if (!warnings.length) {
    box.classList.add("clear");
    box.append(el("strong", { class: "check-head", text: "Checked: nothing within the agreement's distances" }));
  } else {
    if (blocking) box.classList.add("blocking");
    const count = `${warnings.length} warning${warnings.length === 1 ? "" : "s"}${blocking ? `, ${blocking} BLOCKING` : ""}`;
    box.append(el("strong", { class: "check-head", text: `Near these coordinates — ${count} (${whose}):` }));
    box.append(el("ul", { class: "warnings" }, ...warnings.map((w) => el("li", {
      class: `warning${w.blocking ? " blocking" : ""}`, "data-with": w.with || null, text: warningText(w),
    }))));
  }
  box.append(el("div", { class: "meta", text: `checked ${clock(check.at)} against what stands there until ${clock(check.until, true)} · record entry ${check.entry}` }));
  return box;
}

function skippedText(e) {
  const roles = e.skipped || [];
  if (!roles.length) return "";
  const users = e.skipped_users || [];
  const who = roles.map((role, i) => (users[i] ? `${role} ${users[i]}` : role));
  return ` (${who.join(", ")} absent)`;
}

/**
 * The times of one recipient of a message, in order: [{at, kind, text}] — sent, the
 * acknowledgement deadline, each escalation step (with the contact's name where the API
 * gives it: for the recipient party itself), overdue if declared, and the acknowledgement
 * with who made it, the hash it names (first 12 hex) and whether it was late.
 */
export function ladderSteps(m, r) {
  const steps = [
    { at: m.sent_at, kind: "sent", text: `sent by ${m.from}${m.sent_by ? ` (${m.sent_by})` : ""}` },
    { at: m.ack_deadline, kind: "deadline", text: `acknowledgement deadline (${m.ack_within || "as sent"})` },
  ];
  for (const e of (r && r.escalations) || []) {
    if (e.kind === "overdue") {
      const nobody = (e.skipped || []).length ? `no contact present${skippedText(e)}` : "no contact left on the chain";
      steps.push({ at: e.at, kind: "overdue", text: `declared OVERDUE: ${nobody}` });
    } else {
      const to = `${e.role || "the next contact"}${e.contact ? ` ${e.contact}` : ""}`;
      const next = e.deadline ? `; new deadline ${clock(e.deadline)}` : "";
      steps.push({ at: e.at, kind: "escalated", text: `escalated to ${to}${skippedText(e)} — level ${e.level}${next}` });
    }
  }
  if (r && r.acknowledged) {
    const hash = r.acknowledged_hash ? r.acknowledged_hash.slice(0, 12).toLowerCase() : "—";
    const differs = r.acknowledged_hash && m.content_hash && r.acknowledged_hash.toLowerCase() !== m.content_hash.toLowerCase();
    const when = r.late ? "LATE" : "in time";
    const text = `acknowledged by ${r.acknowledged_by || "?"} naming hash ${hash} — ${when}${differs ? " — NOT the hash of this message" : ""}`;
    steps.push({ at: r.acknowledged_at, kind: r.late || differs ? "late" : "acknowledged", text });
  }
  // In time order; at one instant, in the order above (sent, deadline, steps, acknowledgement).
  return steps.map((s, i) => ({ ...s, i })).sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.i - b.i).map(({ i, ...s }) => s);
}

/** The ladder of one recipient as an ordered list, each line its time then what happened. */
export function ladderView(m, r) {
  const day = (m.sent_at || "").slice(0, 10);
  const items = ladderSteps(m, r).map((s) => el("li", { class: `step ${s.kind}`, "data-step": s.kind },
    el("time", { datetime: s.at, text: clock(s.at, !!s.at && s.at.slice(0, 10) !== day) }), " ", s.text));
  return el("ol", { class: "ladder", "aria-label": `Times of this message for ${r ? r.party : "its recipient"}`, "data-party": r ? r.party : null }, ...items);
}

/** The subject of a reply: "Re: " once before the original's (never "Re: Re: …"), within
 * the 200 characters a subject may hold. */
export function replySubject(subject) {
  const s = (subject || "").trim() || "(no subject)";
  const re = /^re:\s*/i.test(s) ? s : `Re: ${s}`;
  return re.length > 200 ? `${re.slice(0, 199)}…` : re;
}

/** The messages of `inbox` still to be acknowledged by `party` (its recipient entry not
 * acknowledged), in the order given. */
export function unacknowledged(inbox, party) {
  return inbox.filter((m) => {
    const r = (m.recipients || []).find((x) => x.party === party);
    return !!r && !r.acknowledged;
  });
}

/** The badge's words for `n` messages waiting: "1 message to acknowledge". */
export function waitingText(n) {
  return `${n} message${n === 1 ? "" : "s"} to acknowledge`;
}

/** A point typed as lon and lat (the order GeoJSON and the form use): a GeoJSON Point, null
 * when both are empty, or {error} naming what is wrong. */
export function pointOf(lonText, latText) {
  const lonT = (lonText || "").trim();
  const latT = (latText || "").trim();
  if (!lonT && !latT) return null;
  if (!lonT || !latT) return { error: "give both lon and lat, or neither" };
  const lon = Number(lonT);
  const lat = Number(latT);
  if (!Number.isFinite(lon) || Math.abs(lon) > 180) return { error: "lon is a number from -180 to 180" };
  if (!Number.isFinite(lat) || Math.abs(lat) > 90) return { error: "lat is a number from -90 to 90" };
  return { type: "Point", coordinates: [lon, lat] };
}
