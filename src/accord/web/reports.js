// Incident and violation reports (ceasefire monitoring) and the compliance findings beside
// them: how the page shows one report — who filed it, whom it accuses, when it was filed,
// what happened, when and where, the record entries it cites, its evidence by hash, and the
// accused party's answer or that there is none (reportView) — the order the panel lists
// them in (orderReports), and what a user types into the filing and answering forms
// (parseCites, parseEvidence, whereOf). Pure: reports as GET /v1/compliance and
// GET /v1/reports give them in, elements or request bodies out; no state and no requests,
// so that the page and its tests render alike.
//
// Reports are public to every member of the agreement: nothing here is cut by who views.
// A report may accuse the center itself (accused "center", an id no member may take); no one
// answers it through Accord (its answer is its signed heads and the record).

import { el } from "./dom.js";
import { clock } from "./line.js";
import { fmtTimesIn } from "./time.js";

/** How many hex digits of an evidence hash the panel shows (the whole hash is its title). */
export const HASH_SHOWN = 12;

/** The accused id that names the center itself (reserved: no member takes it). */
export const CENTER = "center";

/** Whom a report accuses, in words: "the center", or the party's id. */
export function accusedText(accused) {
  return accused === CENTER ? "the center" : accused;
}

/** "YYYY-MM-DD HH:MM:SSZ" of an instant. */
function at(iso) {
  return clock(iso, true);
}

/** "entries 12, 14" / "entry 12" / "no entry". */
export function entriesText(list) {
  if (!list || !list.length) return "no record entry";
  return `record ${list.length === 1 ? "entry" : "entries"} ${list.join(", ")}`;
}

/** When it happened: an instant, or start – end. */
export function whenText(when) {
  if (!when) return "—";
  return when.end ? `${at(when.start)} – ${at(when.end)}` : `${at(when.start)} (an instant)`;
}

/** The geometry's type and its exact coordinates (lon, lat, every digit as filed). */
export function whereText(where) {
  return `${where.type} (lon, lat): ${JSON.stringify(where.coordinates)}`;
}

function evidenceList(evidence, label) {
  if (!evidence || !evidence.length) return el("div", { class: "meta", text: `${label}: none named` });
  return el("div", { class: "meta" }, `${label} (SHA-256):`,
    el("ul", { class: "evidence" }, ...evidence.map((e) => el("li", { "data-sha256": e.sha256 },
      el("code", { class: "hash", title: e.sha256, text: `${e.sha256.slice(0, HASH_SHOWN)}…` }),
      e.name ? ` ${e.name}` : " (no name)"))));
}

/**
 * One report as a list item: a heading naming filer and accused and, in words, whether it
 * is answered (and, for the accused party's own users, that it is against them); then
 * when it was filed (its entry), what, when it happened, where (exact coordinates, if any),
 * the entries it cites, the evidence hashes, and the answer — its text, when, by whom, its
 * cites and evidence — or NOT ANSWERED. `viewer` is the viewing member's id.
 */
export function reportView(r, { viewer = null } = {}) {
  const mine = viewer !== null && r.accused === viewer;
  const open = !r.answer;
  const center = r.accused === CENTER;
  const against = accusedText(r.accused);
  const li = el("li", {
    class: `report ${open ? "open" : "answered"}${mine ? " mine" : ""}`,
    "data-report": r.id, "data-open": String(open),
  });
  li.append(el("h4", {},
    `${r.filer} reports ${against} `,
    el("span", { class: `status ${open ? "st-open" : "st-answered"}`, text: open ? "not answered" : "answered" })));
  if (mine && open) li.append(el("div", { class: "against", text: "AGAINST YOUR PARTY — not answered yet" }));
  if (center) {
    li.append(el("div", { class: "meta", "data-field": "against-center",
      text: "against the center: no one answers it through Accord — the center's answer is its signed heads and the record (check them with accord verify)" }));
  }
  li.append(
    el("div", { class: "meta", text: `filed ${at(r.filed_at)} by ${r.filer} against ${against} · record entry ${r.entry} · ${r.id}` }),
    el("p", { class: "report-text", text: r.what }),
    el("div", { class: "meta", "data-field": "when", text: `happened ${whenText(r.when)}` }),
    r.where
      ? el("div", { class: "meta coordinates", "data-field": "where", text: `where: ${whereText(r.where)}` })
      : el("div", { class: "meta", "data-field": "where", text: "where: not given" }),
    el("div", { class: "meta", "data-field": "cites", text: `cites ${entriesText(r.cites)}` }),
    evidenceList(r.evidence, "evidence"),
  );
  const a = r.answer;
  if (a) {
    li.append(el("div", { class: "answer", "data-field": "answer" },
      el("div", { class: "answer-head", text: `Answer by ${against}, ${at(a.answered_at)} · record entry ${a.entry}` }),
      el("p", { class: "report-text", text: a.text }),
      el("div", { class: "meta", text: `cites ${entriesText(a.cites)}` }),
      evidenceList(a.evidence, "evidence"),
    ));
  } else {
    li.append(el("div", { class: "answer none", "data-field": "answer", text: `NOT ANSWERED by ${against}` }));
  }
  return li;
}

/** Newest first by record entry, with the open reports against `viewer` before all others. */
export function orderReports(reports, viewer = null) {
  const first = (r) => (viewer !== null && r.accused === viewer && !r.answer ? 0 : 1);
  return [...reports].sort((a, b) => first(a) - first(b) || b.entry - a.entry);
}

/** Put `reports` into `byId` (id → report): a report already there is replaced only by its
 * answered form (a report is filed once and answered once: what arrives late or twice,
 * from a list or an event, never undoes an answer). Returns whether anything changed. */
export function mergeReports(byId, reports) {
  let changed = false;
  for (const r of reports) {
    const had = byId.get(r.id);
    if (!had || (!had.answer && r.answer)) {
      byId.set(r.id, r);
      changed = true;
    }
  }
  return changed;
}

/**
 * The cited entries typed as "12, 14 17": each a whole number, else passed on as typed (the
 * center names it: `cites[1]`); a leading "#" is allowed.
 */
export function parseCites(text) {
  return (text || "").split(/[\s,;]+/).filter(Boolean).map((t) => {
    const bare = t.replace(/^#/, "");
    return /^\d+$/.test(bare) ? Number(bare) : t;
  });
}

/**
 * Evidence typed one piece a line: its SHA-256 (hex; upper case taken as lower) then,
 * optionally, a name — as `sha256sum` prints it ("<hash>  <name>", "<hash> *<name>").
 */
export function parseEvidence(text) {
  return (text || "").split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line) => {
    const [hash, ...rest] = line.split(/\s+/);
    const name = line.slice(hash.length).trim().replace(/^\*/, "").trim();
    return { sha256: /^[0-9a-fA-F]+$/.test(hash) ? hash.toLowerCase() : hash, name: rest.length && name ? name : null };
  });
}

/** A point from typed lon and lat, or null when both are empty; a part that is not a number
 * is sent as null, for the center to name (`where.coordinates[1]`). */
export function whereOf(lon, lat) {
  const a = (lon || "").trim(), b = (lat || "").trim();
  if (!a && !b) return null;
  const num = (s) => (s && Number.isFinite(Number(s)) ? Number(s) : null);
  return { type: "Point", coordinates: [num(a), num(b)] };
}

// --- findings -------------------------------------------------------------------------------

const KINDS = {
  late_notification: "late notification",
  missing_notification: "missing notification",
  execution_without_approval: "execution without approval",
  designated_area: "designated area",
  overdue_acknowledgement: "overdue acknowledgement",
};

export function kindText(kind) {
  return KINDS[kind] || kind.replaceAll("_", " ");
}

/** One party's computed findings: a heading with their number by kind, then each finding
 * (its kind, when, the entries that prove it, the center's detail). */
export function findingsView(report, { viewer = null } = {}) {
  const total = report.findings.reduce((n, f) => n + (f.count || 1), 0);
  const counts = Object.entries(report.counts || {}).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${kindText(k)}`);
  const box = el("div", { class: "findings", "data-party": report.party });
  box.append(el("h4", {}, `${report.party}${report.party === viewer ? " (your party)" : ""}: `,
    total ? `${total} finding${total === 1 ? "" : "s"}` : "no finding", counts.length ? ` — ${counts.join(", ")}` : ""));
  if (report.findings.length) {
    box.append(el("ul", { class: "list" }, ...report.findings.map((f) => el("li", { class: "finding", "data-kind": f.kind },
      el("div", { class: "meta", text: `${kindText(f.kind)}${f.count > 1 ? ` ×${f.count}` : ""}${f.at ? ` · ${at(f.at)}` : ""} · proved by ${entriesText(f.entries)}` }),
      f.detail ? el("div", { text: fmtTimesIn(f.detail) }) : null))));
  }
  return box;
}
