// The Layers panel and the legend: a checkbox per layer with its swatch, and what each mark
// on the map means — every swatch drawn by the map's own drawing code (map.js drawSwatch),
// with the styles the page draws the objects in, so the legend cannot disagree with the map.

import { el } from "./dom.js";
import { AREA_STYLE, LAYERS, PARTY_COLOURS, drawSwatch, partyColour } from "./map.js";

function swatch(spec, label) {
  const canvas = el("canvas", { class: "swatch-canvas", "aria-hidden": "true" });
  drawSwatch(canvas, spec);
  canvas.dataset.swatch = label;
  return canvas;
}

/**
 * Fill the Layers fieldset: a checkbox per layer (`onToggle(id, on)`), each with its swatch,
 * and after it a legend. `styles` gives the page's styles: declaration(kind, colour, hidden,
 * category), operation(status), conflict(blocking), hiddenConflict(blocking), message,
 * report, draft; `parties` the agreement's members and operators ([{id, name}]).
 */
export function renderLegend(fieldset, { styles, parties, onToggle }) {
  const green = PARTY_COLOURS.hnc;
  const blue = partyColour("blue");
  const layerSpec = {
    areas: { area: AREA_STYLE },
    protected: { point: styles.declaration("protected_site", green, false, "hospital"), radius: 7 },
    positions: { point: styles.declaration("position", blue, false), radius: 7 },
    flights: { line: styles.declaration("flight_plan", blue, false) },
    tracks: { track: blue },
    operations: { area: styles.operation("proposed") },
    conflicts: { conflict: styles.conflict(true) },
    alerts: { alert: true },
    messages: { point: styles.message },
    reports: { point: styles.report },
    drafts: { area: styles.draft },
  };
  for (const layer of LAYERS) {
    const box = el("input", { type: "checkbox", id: `layer-${layer.id}`, checked: true });
    box.addEventListener("change", () => onToggle(layer.id, box.checked));
    fieldset.append(el("label", { for: `layer-${layer.id}` }, box, swatch(layerSpec[layer.id], layer.label), layer.label));
  }

  const group = (title, rows) => [
    el("h4", { text: title }),
    el("ul", {}, ...rows.map(([spec, text]) => el("li", {}, swatch(spec, text), el("span", { text })))),
  ];
  const site = (category) => ({ point: styles.declaration("protected_site", green, false, category) });
  const op = (status) => ({ area: styles.operation(status) });
  const legend = el(
    "details", { class: "legend", id: "legend" },
    el("summary", { text: "Legend: what each mark means" }),
    ...group("Parties (positions, flights, tracks)", parties.map((p) => [
      { point: styles.declaration("position", partyColour(p.id), false) }, p.name && p.name !== p.id ? `${p.id} — ${p.name}` : p.id,
    ])),
    ...group("Protected sites and movements", [
      [site("hospital"), "hospital"],
      [site("school"), "school"],
      [site("water"), "water station"],
      [site("aid_warehouse"), "aid warehouse"],
      [site("other"), "other site"],
      [{ line: { ...styles.declaration("movement", green, false), corridor_m: 3 } }, "movement (corridor)"],
    ]),
    ...group("Rings (labelled on the map)", [
      [{ point: styles.declaration("protected_site", green, false, "hospital"), radius: 8 }, "standoff of a site, e.g. “standoff 2,000 m”"],
      [{ point: styles.declaration("position", blue, false), radius: 8 }, "uncertainty of a position"],
      [{ point: styles.declaration("position", blue, true), radius: 8 }, "your party's center-only position"],
    ]),
    ...group("Operations by status", [
      [op("proposed"), "proposed, notified"],
      [op("approved"), "approved, cleared"],
      [op("executing"), "executing, executed"],
      [op("vetoed"), "vetoed, held"],
      [op("completed"), "completed, cancelled, expired"],
    ]),
    ...group("Conflicts and alerts", [
      [{ conflict: styles.conflict(true) }, "blocking conflict (to the object)"],
      [{ conflict: styles.conflict(false) }, "warning"],
      [{ mark: styles.hiddenConflict(true) }, "blocked by a hidden object (on your operation; no place or distance is given)"],
      [{ alert: true }, "airspace alert (predicted)"],
    ]),
    ...group("Airspace and the rest", [
      [{ line: styles.declaration("flight_plan", blue, false) }, "flight plan"],
      [{ track: blue }, "live track (one minute ahead)"],
      [{ area: AREA_STYLE }, "designated area"],
      [{ point: styles.message }, "received coordinates"],
      [{ point: styles.report }, "reported incident"],
      [{ cluster: 42 }, "many objects: click to zoom in"],
    ]),
  );
  fieldset.after(legend);
  return legend;
}
