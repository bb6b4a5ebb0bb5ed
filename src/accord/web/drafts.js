// "Drafts from devices": the shapes the member's TAK devices drew (GET /v1/drafts, saved by
// the member's gateway or officers), for the member's officers and approvers alone. Each
// draft is listed (name, shape, the device's callsign, when it was drawn), can be shown on
// the map, deleted, and — for a user who proposes — turned into a proposal: the propose
// form opened with the draft's area filled in. Nothing here decides who sees what: the
// center answers only the caller's member's drafts (visibility.py's sees_draft).

import { api } from "./api.js";
import { el } from "./dom.js";
import { escapeHtml } from "./map.js";
import { fmtInstant } from "./time.js";

export const DRAFT_STYLE = Object.freeze({ stroke: "#b0e57c", fill: "rgba(176, 229, 124, 0.12)", width: 2, dash: [6, 4], label: "#d4f5b0" });

const SHAPE = { freehand: "freehand", rectangle: "rectangle", circle: "circle" };

/** The device's name as a person reads it: its callsign, else its uid. */
export function deviceText(device) {
  return (device && (device.callsign || device.uid)) || "an unnamed device";
}

/** The corners the propose form takes ("lon lat, lon lat, …": the polygon's outer ring
 * without its closing position, or a line's vertices, closed back to the first), or
 * {error} when the draft encloses no area (a line of two positions). Every digit is kept. */
export function draftCorners(geometry) {
  let pts;
  if (geometry.type === "Polygon") pts = geometry.coordinates[0].slice(0, -1);
  else if (geometry.type === "LineString") {
    pts = geometry.coordinates.slice();
    const [a, b] = [pts[0], pts[pts.length - 1]];
    if (pts.length > 1 && a[0] === b[0] && a[1] === b[1]) pts.pop(); // drawn closed
  } else return { error: `a ${geometry.type} is no area` };
  if (pts.length < 3) return { error: "a line of two positions encloses no area: draw the operation's area instead" };
  return { corners: pts.map((p) => `${p[0]} ${p[1]}`).join(", ") };
}

function vertices(geometry) {
  return geometry.type === "Polygon" ? geometry.coordinates[0] : geometry.coordinates;
}

/** The drafts panel. ctx: {map(), toast, canAct, readOnly, afterRefusal, onEvent(listen),
 * propose(draft) or null (a user who does not propose)}. Resolves after the first read. */
export function setUpDrafts(ctx) {
  const drafts = new Map(); // key → draft
  const list = el("ul", { class: "list", id: "drafts" });
  const panel = el("details", { id: "panel-drafts", open: true },
    el("summary", {}, "Drafts from devices ", el("span", { class: "count", id: "drafts-count" })),
    el("p", { class: "hint", text: "Shapes your party's TAK devices drew, saved by your gateway. Only your party's officers and approvers see them; a draft is no declaration or operation until you propose from it." }),
    list);
  const propose = document.getElementById("panel-propose");
  const record = document.getElementById("panel-record");
  (propose && !propose.hidden ? propose : record).before(panel);

  function draw(d) {
    const map = ctx.map();
    if (!map) return;
    map.put({
      id: `draft:${d.key}`, layer: "drafts", geometry: d.geometry, style: DRAFT_STYLE,
      label: d.name, labelAt: vertices(d.geometry)[0], name: d.name, party: null, kindName: "draft",
      html: `<strong>${escapeHtml(d.name)}</strong><br>Draft (${escapeHtml(d.shape)}) from ${escapeHtml(deviceText(d.device))}<br>drawn ${escapeHtml(fmtInstant(d.drawn_at))}`,
    });
  }

  function show(d) {
    const map = ctx.map();
    if (!map) { ctx.toast("The map is not available."); return; }
    draw(d);
    const pts = vertices(d.geometry);
    const lons = pts.map((p) => p[0]), lats = pts.map((p) => p[1]);
    map.fit([Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)], { maxZoom: 12 });
  }

  async function remove(d, button) {
    if (!ctx.canAct()) { ctx.toast(ctx.readOnly); return; }
    button.disabled = true;
    try {
      await api("DELETE", `/v1/drafts/${encodeURIComponent(d.key)}`);
      forget(d.key);
      ctx.toast(`Deleted the draft ${d.name}.`);
    } catch (error) {
      button.disabled = false;
      ctx.toast(`Could not delete the draft: ${error.message}`);
      ctx.afterRefusal(error);
    }
  }

  function item(d) {
    const buttons = [el("button", { type: "button", "data-key": `draft:show:${d.key}`, onclick: () => show(d) }, "Show on map")];
    if (ctx.propose) buttons.push(el("button", { type: "button", "data-writes": "", "data-key": `draft:propose:${d.key}`, onclick: () => ctx.propose(d) }, "Propose from this draft"));
    const del = el("button", { type: "button", "data-writes": "", "data-key": `draft:delete:${d.key}` }, "Delete");
    del.addEventListener("click", () => remove(d, del));
    buttons.push(del);
    return el("li", { "data-draft": d.key },
      el("strong", { text: d.name }),
      el("div", { class: "meta", text: `${SHAPE[d.shape] || d.shape} · from ${deviceText(d.device)} · drawn ${fmtInstant(d.drawn_at)}` }),
      el("div", { class: "row" }, ...buttons));
  }

  function render() {
    const ordered = [...drafts.values()].sort((a, b) => (a.saved_at < b.saved_at ? 1 : a.saved_at > b.saved_at ? -1 : 0));
    list.replaceChildren(...(ordered.length ? ordered.map(item) : [el("li", { class: "hint", text: "No drafts from your devices." })]));
    document.getElementById("drafts-count").textContent = ordered.length ? String(ordered.length) : "";
  }

  function put(d) {
    drafts.set(d.key, d);
    const map = ctx.map();
    if (map && map.items && map.items.has(`draft:${d.key}`)) draw(d);
    render();
  }

  function forget(key) {
    drafts.delete(key);
    const map = ctx.map();
    if (map) map.remove(`draft:${key}`);
    render();
  }

  ctx.onEvent((ev) => {
    if (ev.kind === "draft.saved" && ev.data && ev.data.draft) put(ev.data.draft);
    else if (ev.kind === "draft.deleted" && ev.data) forget(ev.data.key);
  });

  return (async () => {
    try {
      const answer = await api("GET", "/v1/drafts");
      for (const d of answer.items) drafts.set(d.key, d);
      render();
    } catch (error) {
      list.replaceChildren(el("li", { class: "error", text: `Could not read the drafts: ${error.message}` }));
    }
  })();
}
