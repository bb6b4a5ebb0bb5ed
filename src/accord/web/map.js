// The map: Leaflet for the view (pan, zoom, keyboard, scale), the Natural Earth basemap
// from world-atlas, and everything declared drawn on two canvases of our own — one for
// what changes seldom (areas, declarations, operations, conflicts, received coordinates,
// reported incidents), one for what moves (tracks, alerts). No DOM element per object:
// 10,000 objects and 2,000 tracks are arrays drawn in one pass, culled to the view, redrawn
// at most once per animation frame.

import { LABEL_RANK, Placer, measure, shorten } from "./labels.js";
import { fmtInstant } from "./time.js";

/** Mode 3/A codes that declare an emergency (ICAO Doc 8168): shown beside a track. */
const EMERGENCY_SQUAWKS = { "7500": "unlawful interference", "7600": "radio failure", "7700": "emergency" };

const TILE = 256;

/** Where the map's own canvases stack among Leaflet's panes (tiles 200, overlays 400, popups
 * 700): Natural Earth under the operator's detailed basemap, everything declared over it. */
const DRAW_PANES = { base: 150, overlay: 350 };

/** The first zoom at which the operator's detailed basemap is drawn (some 2.4 km a pixel at
 * the equator): at smaller scales, Natural Earth alone. */
export const DETAIL_FROM = 6;
const EARTH_M = 40075016.686;

export const LAYERS = [
  { id: "areas", label: "Designated areas", colour: "#ffb347" },
  { id: "protected", label: "Protected sites, movements", colour: "#8ee08e" },
  { id: "positions", label: "Positions", colour: "#6fb3ff" },
  { id: "flights", label: "Flight plans", colour: "#c9a0ff" },
  { id: "tracks", label: "Live tracks", colour: "#ffffff" },
  { id: "operations", label: "Operations", colour: "#ffcc66" },
  { id: "conflicts", label: "Conflicts", colour: "#ff6b6b" },
  { id: "alerts", label: "Airspace alerts", colour: "#ff9100" },
  { id: "messages", label: "Received coordinates", colour: "#ff5ce1" },
  { id: "reports", label: "Reported incidents", colour: "#4dd0e1" },
  { id: "drafts", label: "Drafts from devices", colour: "#b0e57c" },
];

export const PARTY_COLOURS = { blue: "#6fb3ff", red: "#ff8a80", hnc: "#8ee08e", observers: "#d0d0d0" };
const OTHER = ["#f6c177", "#c9a0ff", "#7fdbca", "#f7a8d8"];

export function partyColour(party) {
  if (!party) return "#d0d0d0";
  if (PARTY_COLOURS[party]) return PARTY_COLOURS[party];
  let h = 0;
  for (const c of party) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return OTHER[h % OTHER.length];
}

export const STATUS_COLOURS = {
  proposed: "#ffcc66", notified: "#ffcc66", approved: "#7ddc8c", cleared: "#7ddc8c",
  vetoed: "#ff6b6b", held: "#ff6b6b", executing: "#7cc4ff", executed: "#7cc4ff",
  completed: "#9aa6b0", cancelled: "#9aa6b0", expired: "#9aa6b0",
};

/** A protected site's symbol by its category (the legend shows each; "site" for any other). */
export const SITE_SYMBOLS = Object.freeze({
  hospital: "hospital", clinic: "hospital", school: "school", water: "water", water_station: "water",
  aid_warehouse: "warehouse", warehouse: "warehouse",
});

/** The colour of airspace alerts (a pulsing ring), distinct from conflicts' red. */
export const ALERT_COLOUR = "#ff9100";
const ALERT_TEXT = "#ffb866";

// Level of detail and labels.
const CLUSTER_MIN = 300;
const CLUSTERED = new Set(["protected", "positions"]); // the layers whose lone points cluster // lone points in view from which they are clustered
const CLUSTER_CELL = 64; // the clustering grid, in world pixels at the view's zoom
const CLUSTER_R_MAX = 20; // a cluster's largest disc (under half a cell: discs never meet)
const SMALL_SCALE_ZOOM = 8; // below this zoom, labels are shortened first (full on hover)
const LABEL_BUDGET = 1500; // labels tried per drawing, in priority order
const LABEL_FONT = "12px system-ui, sans-serif";
const LAYER_NAMES = {
  messages: "received coordinates", reports: "reported incident", operations: "operation", conflicts: "conflict",
  positions: "position", protected: "protected site", flights: "flight plan", areas: "designated area",
};

/** What a hit list says of an item: its kind, its name, its party. */
function itemTitle(item) {
  const kind = item.kindName || LAYER_NAMES[item.layer] || item.layer;
  const name = item.name || item.title || item.label || item.id;
  return `${kind[0].toUpperCase()}${kind.slice(1)} · ${name}${item.party ? ` · ${item.party}` : ""}`;
}

function clusterText(c) {
  const parts = Object.entries(c.counts).map(([layer, n]) => `${n.toLocaleString("en")} ${LAYER_NAMES[layer] || layer}${n > 1 ? "s" : ""}`);
  return `${c.n.toLocaleString("en")} objects here (${parts.join(", ")}): click or press Enter to zoom in`;
}

/** A track's symbol at (x, y) added to `path`: a triangle pointing along `deg`, and a
 * leader line of `lead` pixels (one minute's flight, at most 200). */
export function trackPath(path, x, y, deg, lead) {
  const a = ((deg - 90) * Math.PI) / 180;
  const c = Math.cos(a), s = Math.sin(a);
  path.moveTo(x + 9 * c, y + 9 * s);
  path.lineTo(x - 5 * c - 5 * s, y - 5 * s + 5 * c);
  path.lineTo(x - 5 * c + 5 * s, y - 5 * s - 5 * c);
  path.closePath();
  path.moveTo(x + 9 * c, y + 9 * s);
  path.lineTo(x + (9 + Math.min(lead, 200)) * c, y + (9 + Math.min(lead, 200)) * s);
}

/** The symbols of points: a protected site's by its category (hospital, school, water,
 * warehouse, site), a movement's square, a position's diamond, received coordinates' target,
 * a block's "no entry" mark, a dot otherwise. */
export const SYMBOLS = ["hospital", "school", "water", "warehouse", "site", "square", "diamond", "target", "blocked", "dot"];

/** A symbol's outline at (x, y) added to `path` (a context or a Path2D), filled with the
 * non-zero rule (holes run the other way). */
export function symbolPath(path, x, y, symbol) {
  if (symbol === "diamond") {
    path.moveTo(x, y - 6); path.lineTo(x + 6, y); path.lineTo(x, y + 6); path.lineTo(x - 6, y); path.closePath();
  } else if (symbol === "cross" || symbol === "hospital") {
    path.rect(x - 2, y - 7, 4, 14); path.rect(x - 7, y - 2, 14, 4);
  } else if (symbol === "school") {
    // a house: a roof's point over a square
    path.moveTo(x, y - 8); path.lineTo(x + 6, y - 2); path.lineTo(x + 6, y + 6); path.lineTo(x - 6, y + 6); path.lineTo(x - 6, y - 2); path.closePath();
  } else if (symbol === "water") {
    // a drop
    path.moveTo(x, y - 8);
    path.arc(x, y + 2, 5.5, -0.3, Math.PI + 0.3);
    path.closePath();
  } else if (symbol === "warehouse") {
    // a triangle
    path.moveTo(x, y - 7); path.lineTo(x + 7.5, y + 6); path.lineTo(x - 7.5, y + 6); path.closePath();
  } else if (symbol === "site") {
    // a hexagon
    for (let i = 0; i < 6; i++) {
      const a = (Math.PI / 3) * i + Math.PI / 6;
      if (i) path.lineTo(x + 7 * Math.cos(a), y + 7 * Math.sin(a));
      else path.moveTo(x + 7 * Math.cos(a), y + 7 * Math.sin(a));
    }
    path.closePath();
  } else if (symbol === "square") {
    path.rect(x - 5, y - 5, 10, 10);
  } else if (symbol === "target") {
    // a ring and its centre dot (the inner circle runs the other way: a hole)
    path.moveTo(x + 10, y);
    path.arc(x, y, 10, 0, 2 * Math.PI);
    path.moveTo(x + 5, y);
    path.arc(x, y, 5, 0, 2 * Math.PI, true);
    path.moveTo(x + 2, y);
    path.arc(x, y, 2, 0, 2 * Math.PI);
  } else if (symbol === "blocked") {
    // "no entry": a ring and its bar
    path.moveTo(x + 9, y);
    path.arc(x, y, 9, 0, 2 * Math.PI);
    path.moveTo(x + 6, y);
    path.arc(x, y, 6, 0, 2 * Math.PI, true);
    path.rect(x - 6, y - 1.75, 12, 3.5);
  } else {
    path.moveTo(x + 4, y);
    path.arc(x, y, 4, 0, 2 * Math.PI);
  }
}

/** An airspace alert's pulsing ring at (x, y), `phase` in [0, 1). */
export function alertRing(ctx, x, y, phase) {
  ctx.strokeStyle = ALERT_COLOUR;
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.arc(x, y, 14 + 8 * phase, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(x, y, 8, 0, 2 * Math.PI);
  ctx.stroke();
}

// --- projection (Web Mercator, world pixels at zoom 0) ----------------------------------------

export function project(lon, lat) {
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return [((lon + 180) / 360) * TILE, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE];
}

export function unproject(x, y) {
  const lon = (x / TILE) * 360 - 180;
  const n = Math.PI - (2 * Math.PI * y) / TILE;
  return [lon, (180 / Math.PI) * Math.atan(Math.sinh(n))];
}

/** Metres between two lon/lat points (haversine on the mean sphere: for drawing and preview). */
export function metres(a, b) {
  const r = 6371008.8;
  const p1 = (a[1] * Math.PI) / 180;
  const p2 = (b[1] * Math.PI) / 180;
  const dp = p2 - p1;
  const dl = ((b[0] - a[0]) * Math.PI) / 180;
  const h = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)));
}

function projectRing(coords) {
  const out = new Float64Array(coords.length * 2);
  coords.forEach((c, i) => {
    const [x, y] = project(c[0], c[1]);
    out[2 * i] = x;
    out[2 * i + 1] = y;
  });
  return out;
}

function bboxOf(arrays) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i += 2) {
      if (a[i] < x0) x0 = a[i];
      if (a[i] > x1) x1 = a[i];
      if (a[i + 1] < y0) y0 = a[i + 1];
      if (a[i + 1] > y1) y1 = a[i + 1];
    }
  }
  return [x0, y0, x1, y1];
}

const NONE = Object.freeze([]);

/** A GeoJSON geometry → {points, lines, polygons} of projected Float64Arrays, and its bbox
 * (the lists are not to be changed: several shapes may share an empty one). */
export function shapeOf(geometry) {
  if (geometry && geometry.type === "Point") {
    // Most objects: one point, made without the general case's lists and loops.
    const [x, y] = project(geometry.coordinates[0], geometry.coordinates[1]);
    const point = new Float64Array(2);
    point[0] = x;
    point[1] = y;
    return { points: [point], lines: NONE, polygons: NONE, bbox: [x, y, x, y] };
  }
  const shape = { points: [], lines: [], polygons: [] };
  if (!geometry) return shape;
  const { type, coordinates: c } = geometry;
  if (type === "Point") shape.points.push(projectRing([c]));
  else if (type === "MultiPoint") c.forEach((p) => shape.points.push(projectRing([p])));
  else if (type === "LineString") shape.lines.push(projectRing(c));
  else if (type === "MultiLineString") c.forEach((l) => shape.lines.push(projectRing(l)));
  else if (type === "Polygon") shape.polygons.push(c.map(projectRing));
  else if (type === "MultiPolygon") c.forEach((p) => shape.polygons.push(p.map(projectRing)));
  const all = [...shape.points, ...shape.lines, ...shape.polygons.flat()];
  shape.bbox = all.length ? bboxOf(all) : [0, 0, 0, 0];
  return shape;
}

/**
 * The basemap's countries from the server's packed binary (/vendor/countries-50m.bin, made
 * from world-atlas by accord.center.basemap): [{polygons: [[ring, …], …], bbox}], each ring
 * a flat [x, y, x, y, …] Float32Array view of world pixels at zoom 0 into the one buffer
 * (nothing is copied or converted here). Throws on a buffer of another shape.
 */
export function decodeBasemap(buffer) {
  const [countries, polygons, rings, points] = new Uint32Array(buffer, 0, 4);
  let at = 16;
  const u32 = (n) => { const a = new Uint32Array(buffer, at, n); at += 4 * n; return a; };
  const f32 = (n) => { const a = new Float32Array(buffer, at, n); at += 4 * n; return a; };
  const polygonStart = u32(countries + 1);
  const ringStart = u32(polygons + 1);
  const pointStart = u32(rings + 1);
  const boxes = f32(countries * 4);
  const xy = f32(points * 2);
  if (at !== buffer.byteLength) throw new Error("the basemap is not of the expected shape");
  const land = [];
  for (let c = 0; c < countries; c++) {
    const shape = [];
    for (let p = polygonStart[c]; p < polygonStart[c + 1]; p++) {
      const ringsOf = [];
      for (let r = ringStart[p]; r < ringStart[p + 1]; r++) ringsOf.push(xy.subarray(2 * pointStart[r], 2 * pointStart[r + 1]));
      shape.push(ringsOf);
    }
    land.push({ polygons: shape, bbox: boxes.subarray(4 * c, 4 * c + 4) });
  }
  return land;
}

/** The lon/lat centre of a geometry (mean of its vertices). */
export function centreOf(geometry) {
  const pts = [];
  const walk = (c) => {
    if (typeof c[0] === "number") pts.push(c);
    else c.forEach(walk);
  };
  walk(geometry.coordinates);
  const lon = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const lat = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  return [lon, lat];
}

/** The first vertex of a geometry as [lon, lat] (null without one). */
export function firstVertex(geometry) {
  let c = geometry ? geometry.coordinates : null;
  while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
  return Array.isArray(c) && typeof c[0] === "number" ? [c[0], c[1]] : null;
}

/** Every vertex of a geometry as [lon, lat]. */
export function verticesOf(geometry) {
  const pts = [];
  const walk = (c) => {
    if (typeof c[0] === "number") pts.push([c[0], c[1]]);
    else c.forEach(walk);
  };
  if (geometry) walk(geometry.coordinates);
  return pts;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);
}

// --- the map --------------------------------------------------------------------------------

export class OperatingMap {
  constructor(L, element, { onSelect } = {}) {
    this.L = L;
    this.onSelect = onSelect || (() => {});
    this.map = L.map(element, {
      zoomAnimation: false,
      fadeAnimation: false,
      markerZoomAnimation: false,
      keyboard: true,
      keyboardPanDelta: 120,
      zoomSnap: 0.5,
      worldCopyJump: false,
      attributionControl: true,
      preferCanvas: true,
      minZoom: 2,
      maxZoom: 16,
    });
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution("Basemap: Natural Earth (world-atlas), public domain");
    L.control.scale({ imperial: false }).addTo(this.map);
    this.visible = new Set(LAYERS.map((l) => l.id));
    this.items = new Map(); // id → item (static canvas)
    this._layers = new Map(); // layer → (id → item): the same items, by layer
    this._version = 0; // counts the puts and removes (the clustering grid is kept until then)
    this._grid = null; // the clustering grid of the last zoom
    this.tracks = new Map(); // id → track (dynamic canvas)
    this.alerts = new Map();
    this.draft = null; // the operation being drawn
    this.highlight = null;
    this.marks = new Map(); // key → ids of objects marked by it (setMarked)
    this.marked = new Set(); // every id marked, drawn as the highlighted one is
    this.stats = { staticDraws: 0, dynamicDraws: 0, lastStaticMs: 0, lastDynamicMs: 0, maxDynamicMs: 0, trackUpdates: 0 };
    this._land = []; // the basemap's countries, projected
    this.lod = true; // level of detail: clustering of lone points (off: every symbol drawn)
    this._clusters = []; // the clusters of the last static drawing (container pixels)
    this._staticPlacer = null; // the labels placed on the static canvas
    this._dynamicPlacer = null; // and on the dynamic one, around them
    // Three canvases of our own in two panes of Leaflet's map pane, so that they stack with
    // its layers: Natural Earth (DRAW_PANES.base) under the operator's detailed basemap (the
    // tile pane, 200), everything declared and moving (DRAW_PANES.overlay) over it, and
    // popups over all. Each is placed at the view's corner when it is drawn (_place).
    const base = this._pane("accordBase", DRAW_PANES.base);
    const overlay = this._pane("accordOverlay", DRAW_PANES.overlay);
    this._base = this._canvas(base);
    this._static = this._canvas(overlay);
    this._dynamic = this._canvas(overlay);
    this._detail = null; // the operator's detailed basemap (detailed()), if any
    this._pending = { static: false, dynamic: false, base: false };
    this._held = false; // the static canvas is not redrawn while held (see hold())
    this._dynamicClear = true; // nothing is on the dynamic canvas
    this._drawnWaiters = [];
    this._baseWaiters = [];
    this._frame = 0;
    const redraw = () => this.invalidate(true, true, true);
    this.map.on("move zoom resize viewreset", redraw);
    this.map.on("resize", () => this._resize());
    this.map.on("click", (e) => this._click(e));
    this.map.on("mousemove", (e) => this._move(e));
    this.map.on("mouseout movestart zoomstart popupopen", () => { this._hover = null; this._tip(null); });
    this.map.whenReady(() => this._resize());
    // By keyboard: a crosshair at the map's centre while it has the focus; Enter lists what
    // lies under it, as a click does.
    const container = this.map.getContainer();
    const cross = document.createElement("div");
    cross.className = "map-crosshair";
    cross.setAttribute("aria-hidden", "true");
    cross.append(Object.assign(document.createElement("span"), { textContent: "Enter: what is here" }));
    container.appendChild(cross);
    container.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.target !== container || this.drawing) return;
      e.preventDefault();
      const size = this.map.getSize();
      this.identify(size.x / 2, size.y / 2, true);
    });
    this.pulse = setInterval(() => { if (this.alerts.size) this.invalidate(false, true); }, 500);
  }

  _pane(name, zIndex) {
    const pane = this.map.createPane(name);
    pane.style.zIndex = String(zIndex);
    pane.style.pointerEvents = "none";
    return pane;
  }

  _canvas(pane) {
    const canvas = document.createElement("canvas");
    canvas.className = "overlay-canvas";
    canvas.setAttribute("aria-hidden", "true");
    pane.appendChild(canvas);
    return canvas;
  }

  /** Put `canvas` at the view's top-left corner: its panes move with the map as it is dragged
   * (what was drawn moves with it until the next frame draws it again). */
  _place(canvas) {
    this.L.DomUtil.setPosition(canvas, this.map.containerPointToLayerPoint([0, 0]).round());
  }

  _resize() {
    const size = this.map.getSize();
    const ratio = window.devicePixelRatio || 1;
    for (const c of [this._base, this._static, this._dynamic]) {
      c.width = Math.round(size.x * ratio);
      c.height = Math.round(size.y * ratio);
      c.style.width = `${size.x}px`;
      c.style.height = `${size.y}px`;
    }
    this.invalidate(true, true, true);
  }

  setView(lon, lat, zoom) {
    this.map.setView([lat, lon], zoom);
  }

  /** Bring a lon/lat box into view; `options` as Leaflet's fitBounds takes them. */
  fit(bboxLonLat, options = {}) {
    const [w, s, e, n] = bboxLonLat;
    this.map.fitBounds([[s, w], [n, e]], { padding: [30, 30], maxZoom: 13, ...options });
  }

  /** The basemap (decodeBasemap's countries, already projected: {polygons, bbox}) as land and
   * borders under everything else, on a canvas of its own that is redrawn only when the
   * view moves; resolves once it has been drawn. */
  basemap(countries) {
    this._land = countries;
    return new Promise((resolve) => {
      this._baseWaiters.push(resolve);
      this.invalidate(false, false, true);
    });
  }

  /**
   * The operator's detailed basemap over Natural Earth: GET /v1/basemap's `archive`, read by
   * range requests with `authorization` (pmtiles's FetchSource: the archive needs the token)
   * and drawn by protomaps-leaflet in the tile pane from DETAIL_FROM (or the archive's own
   * first zoom) within the archive's bounds — overzoomed past its last zoom. Resolves once the
   * tiles in view have first been drawn (at once if the view is outside them).
   */
  detailed({ pmtiles, protomaps, archive, authorization }) {
    const source = new pmtiles.FetchSource(archive.url, new Headers({ Authorization: authorization }));
    const [w, s, e, n] = archive.bounds;
    const layer = protomaps.leafletLayer({
      url: new pmtiles.PMTiles(source),
      flavor: "dark",
      lang: "en",
      bounds: [[s, w], [n, e]],
      minZoom: Math.max(archive.min_zoom, DETAIL_FROM),
      maxDataZoom: archive.max_zoom,
      attribution: escapeHtml(`Detail: ${archive.attribution || "the operator's basemap"}`),
    });
    // No background: where the archive has neither land nor water (past its bounds, in a
    // tile at its edge), Natural Earth shows through rather than a false sea.
    layer.backgroundColor = undefined;
    this._detail = layer;
    const drawn = new Promise((resolve) => {
      layer.once("load", () => resolve(layer));
      layer.once("add", () => { if (!Object.keys(layer._tiles || {}).length) resolve(layer); });
    });
    layer.addTo(this.map);
    return drawn;
  }

  /** Hold the static canvas's redrawing (true) while many objects are being put, or let it
   * be drawn again (false), at the next frame, with everything put meanwhile. */
  hold(on) {
    this._held = on;
    if (!on) this.invalidate(true, false);
  }

  setLayer(id, on) {
    if (on) this.visible.add(id);
    else this.visible.delete(id);
    this.invalidate(true, true);
  }

  /** Put (or replace) an object on the static canvas. */
  put(item) {
    item.shape = item.shape || shapeOf(item.geometry);
    const old = this.items.get(item.id);
    if (old) this._layerOf(old.layer).delete(item.id);
    this.items.set(item.id, item);
    this._layerOf(item.layer).set(item.id, item);
    this._version++;
    this.invalidate(true, false);
  }

  /** The items of one layer (id → item), kept beside `items`. */
  _layerOf(layer) {
    let items = this._layers.get(layer);
    if (!items) { items = new Map(); this._layers.set(layer, items); }
    return items;
  }

  /** Resolves once the static canvas has been drawn again with everything put so far. */
  drawn() {
    return new Promise((resolve) => {
      this._drawnWaiters.push(resolve);
      this.invalidate(true, false);
    });
  }

  /** How many objects on the static canvas satisfy `predicate`. */
  count(predicate) {
    let n = 0;
    for (const item of this.items.values()) if (predicate(item)) n++;
    return n;
  }

  remove(id) {
    const item = this.items.get(id);
    if (!item) return;
    this.items.delete(id);
    this._layerOf(item.layer).delete(id);
    this._version++;
    this.invalidate(true, false);
  }

  removeWhere(predicate) {
    for (const [id, item] of this.items) {
      if (!predicate(item)) continue;
      this.items.delete(id);
      this._layerOf(item.layer).delete(id);
    }
    this._version++;
    this.invalidate(true, false);
  }

  /** Tracks: {id, operator, party, mission, time, lat, lon, alt_ft, gs_kt, track_deg}. */
  putTrack(t) {
    const [x, y] = project(t.lon, t.lat);
    this.tracks.set(String(t.id), { ...t, x, y });
    this.stats.trackUpdates++;
    this.invalidate(false, true);
  }

  putAlert(a) {
    this.alerts.set(String(a.id), a);
    this.invalidate(false, true);
  }

  removeAlert(id) {
    if (this.alerts.delete(String(id))) this.invalidate(false, true);
  }

  setDraft(draft) {
    this.draft = draft;
    this.invalidate(true, false);
  }

  setHighlight(id) {
    this.highlight = id;
    this.invalidate(true, false);
  }

  /** Mark the objects `ids` (drawn as the highlighted one is) on behalf of `key` — e.g. the
   * objects a received message's check warned of; an empty list unmarks them. An object
   * stays marked while any key marks it. */
  setMarked(key, ids) {
    if (ids && ids.length) this.marks.set(key, new Set(ids));
    else this.marks.delete(key);
    this.marked = new Set([...this.marks.values()].flatMap((set) => [...set]));
    this.invalidate(true, false);
  }

  _highlighted(item) {
    return !!(this.highlight && (item.id === this.highlight || item.op === this.highlight)) || this.marked.has(item.id);
  }

  invalidate(staticToo, dynamicToo, baseToo = false) {
    if (staticToo) this._pending.static = true;
    if (dynamicToo) this._pending.dynamic = true;
    if (baseToo) this._pending.base = true;
    if (this._frame) return;
    if (this._held && !this._pending.base && !this._pending.dynamic) return; // nothing to draw yet
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      if (this._pending.base) { this._pending.base = false; this._drawBase(); }
      if (this._pending.static && !this._held) { this._pending.static = false; this._drawStatic(); }
      if (this._pending.dynamic) { this._pending.dynamic = false; this._drawDynamic(); }
    });
  }

  // --- view arithmetic ----------------------------------------------------------------------

  _view() {
    const zoom = this.map.getZoom();
    const k = 2 ** zoom;
    const origin = this.map.containerPointToLayerPoint([0, 0]).add(this.map.getPixelOrigin());
    const size = this.map.getSize();
    const ratio = window.devicePixelRatio || 1;
    // world (z0) bounds of the view, with a margin
    const m = 64;
    const bounds = [(origin.x - m) / k, (origin.y - m) / k, (origin.x + size.x + m) / k, (origin.y + size.y + m) / k];
    return { zoom, k, ox: origin.x, oy: origin.y, size, ratio, bounds };
  }

  _mpp(view, lat) {
    return (EARTH_M * Math.cos((lat * Math.PI) / 180)) / (TILE * view.k);
  }

  _inView(view, bbox, padWorld = 0) {
    const b = view.bounds;
    return !(bbox[2] + padWorld < b[0] || bbox[0] - padWorld > b[2] || bbox[3] + padWorld < b[1] || bbox[1] - padWorld > b[3]);
  }

  _path(ctx, view, arr, close) {
    for (let i = 0; i < arr.length; i += 2) {
      const x = arr[i] * view.k - view.ox;
      const y = arr[i + 1] * view.k - view.oy;
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    if (close) ctx.closePath();
  }

  // --- drawing --------------------------------------------------------------------------------

  _drawStatic() {
    this._place(this._static);
    const t0 = performance.now();
    const view = this._view();
    const ctx = this._static.getContext("2d");
    ctx.setTransform(view.ratio, 0, 0, view.ratio, 0, 0);
    ctx.clearRect(0, 0, view.size.x, view.size.y);
    const placer = new Placer(view.size.x, view.size.y);
    const gridLabels = this._graticule(ctx, view);
    const order = ["areas", "protected", "flights", "positions", "operations", "conflicts", "reports", "messages"];
    const labels = [];
    let shown = 0;
    // Level of detail: the many lone points (sites, positions) are kept in a grid of
    // CLUSTER_CELL world pixels at the view's zoom (made again only when the zoom or the
    // objects change, not at a pan); when more than CLUSTER_MIN of them are in view, each
    // cell of two or more is drawn as a cluster (a count; a click zooms in), else each point.
    const grid = this.lod ? this._gridOf(view) : null;
    const fromGrid = new Map(); // layer → its lone points the grid draws one by one
    const special = new Map(); // layer → its grid points highlighted or marked (drawn as such)
    this._clusters = [];
    if (grid) {
      const cells = [];
      let n = 0;
      for (const cell of grid.cells) {
        if (!this._inView(view, cell.bbox, cell.padWorld)) continue;
        cells.push(cell);
        n += cell.n;
      }
      shown += n;
      const clustering = n > CLUSTER_MIN;
      for (const cell of cells) {
        if (clustering && cell.n > 1) { this._clusters.push(this._clusterOf(view, cell)); continue; }
        for (const m of cell.members) {
          if (this._highlighted(m)) continue;
          const list = fromGrid.get(m.layer);
          if (list) list.push(m);
          else fromGrid.set(m.layer, [m]);
        }
      }
      for (const id of new Set([this.highlight, ...this.marked])) {
        const item = id && this.items.get(id);
        if (!item || !CLUSTERED.has(item.layer) || !this._gridPoint(item)) continue;
        if (!this._inView(view, item.shape.bbox, item.radius_m ? item.radius_m / (EARTH_M / TILE) * 1.5 : 0)) continue;
        if (special.has(item.layer)) special.get(item.layer).push(item);
        else special.set(item.layer, [item]);
      }
    }
    const singles = []; // every lone point drawn (their symbols: obstacles to the labels)
    for (const layer of order) {
      if (!this.visible.has(layer)) continue;
      // a gridded layer's lone points come from the grid; its other objects from the grid's
      // list of them (not a pass over every point at every pan)
      const source = grid && CLUSTERED.has(layer) ? grid.others.get(layer) || NONE : this._layerOf(layer).values();
      const lines = new Map(); // style → lone lines drawn in it in one go (level of detail)
      const points = new Map(); // style → the layer's lone points drawn in it, in one go
      const alikePoint = (item) => {
        const alike = points.get(item.style);
        if (alike) alike.push(item);
        else points.set(item.style, [item]);
        singles.push(item);
      };
      for (const item of source) {
        const padWorld = item.radius_m ? item.radius_m / (EARTH_M / TILE) * 1.5 : 0;
        if (!this._inView(view, item.shape.bbox, padWorld)) continue;
        shown++;
        if (item.label) labels.push(item);
        if (this._lonePoint(item)) alikePoint(item);
        else if (grid && this._loneLine(item)) {
          const alike = lines.get(item.style);
          if (alike) alike.push(item);
          else lines.set(item.style, [item]);
        } else this._drawItem(ctx, view, item);
      }
      for (const item of fromGrid.get(layer) || NONE) {
        alikePoint(item);
        if (item.label) labels.push(item);
      }
      for (const [style, items] of lines) this._drawLines(ctx, view, style, items);
      for (const [style, items] of points) this._drawPoints(ctx, view, style, items);
      for (const item of special.get(layer) || NONE) {
        this._drawItem(ctx, view, item);
        if (item.label) labels.push(item);
      }
      if (layer === "positions") this._drawClusters(ctx, view, placer); // over the many, under the rest
    }
    if (!this.visible.has("positions")) this._drawClusters(ctx, view, placer);
    if (this.draft) this._drawItem(ctx, view, { ...this.draft, shape: shapeOf(this.draft.geometry) });
    // the symbols of what is drawn one by one are obstacles to every label (a bounded number)
    if (singles.length <= 4000) {
      for (const item of singles) {
        const pt = item.shape.points[0];
        placer.occupy({ x: pt[0] * view.k - view.ox - 7, y: pt[1] * view.k - view.oy - 7, w: 14, h: 14 });
      }
    }
    this._labels(ctx, view, labels, placer);
    this._gridLabels(ctx, placer, gridLabels);
    this._staticPlacer = placer;
    this.stats.staticDraws++;
    this.stats.lastStaticMs = performance.now() - t0;
    this.stats.shown = shown;
    this.stats.clusters = this._clusters.length;
    if (this.tracks.size || this.alerts.size) this._pending.dynamic = true; // placed around these labels
    const waiters = this._drawnWaiters;
    this._drawnWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** One point and nothing else (a site, a position): what the grid may cluster. */
  _gridPoint(item) {
    const shape = item.shape;
    return !!item.style && shape.points.length === 1 && !shape.lines.length && !shape.polygons.length && !item.segment && !item.markAt;
  }

  /** The clustering grid at the view's zoom: cells of CLUSTER_CELL world pixels, each
   * {n, sx, sy (sums of world x, y), bbox, padWorld, counts by layer, members}; kept until
   * the zoom, the objects or the layers shown change. */
  _gridOf(view) {
    const layers = [...CLUSTERED].filter((l) => this.visible.has(l));
    const key = `${view.zoom}|${this._version}|${layers.join()}`;
    if (this._grid && this._grid.key === key) return this._grid;
    const cells = new Map();
    const others = new Map(); // layer → its objects that are not one point (lines, areas)
    const scale = view.k / CLUSTER_CELL;
    for (const layer of layers) {
      const rest = [];
      others.set(layer, rest);
      for (const item of this._layerOf(layer).values()) {
        if (!this._gridPoint(item)) { rest.push(item); continue; }
        const pt = item.shape.points[0];
        const x = pt[0], y = pt[1];
        const cx = Math.floor(x * scale), cy = Math.floor(y * scale);
        const k = cx * 4194304 + cy;
        let cell = cells.get(k);
        if (!cell) {
          cell = { cx, cy, n: 0, sx: 0, sy: 0, bbox: [x, y, x, y], padWorld: 0, counts: {}, members: [] };
          cells.set(k, cell);
        }
        cell.n++;
        cell.sx += x;
        cell.sy += y;
        const b = cell.bbox;
        if (x < b[0]) b[0] = x;
        if (x > b[2]) b[2] = x;
        if (y < b[1]) b[1] = y;
        if (y > b[3]) b[3] = y;
        if (item.radius_m) cell.padWorld = Math.max(cell.padWorld, (item.radius_m / (EARTH_M / TILE)) * 1.5);
        cell.counts[layer] = (cell.counts[layer] || 0) + 1;
        cell.members.push(item);
      }
    }
    this._grid = { key, cells: [...cells.values()], others };
    return this._grid;
  }

  /** A cell's cluster in container pixels: at its members' mean, kept inside the cell so
   * that no two clusters' discs meet. */
  _clusterOf(view, cell) {
    const n = cell.n;
    const r = Math.min(CLUSTER_R_MAX, 9 + 3 * Math.log10(n));
    const x0 = cell.cx * CLUSTER_CELL, y0 = cell.cy * CLUSTER_CELL;
    const x = Math.max(x0 + CLUSTER_R_MAX, Math.min(x0 + CLUSTER_CELL - CLUSTER_R_MAX, (cell.sx / n) * view.k)) - view.ox;
    const y = Math.max(y0 + CLUSTER_R_MAX, Math.min(y0 + CLUSTER_CELL - CLUSTER_R_MAX, (cell.sy / n) * view.k)) - view.oy;
    return { x, y, r, n, counts: cell.counts, bbox: cell.bbox };
  }

  _drawClusters(ctx, view, placer) {
    if (!this._clusters.length) return;
    ctx.save();
    const discs = new Path2D();
    for (const c of this._clusters) {
      discs.moveTo(c.x + c.r, c.y);
      discs.arc(c.x, c.y, c.r, 0, 2 * Math.PI);
    }
    ctx.fillStyle = "rgba(22, 29, 35, 0.88)";
    ctx.strokeStyle = "#b4c0ca";
    ctx.lineWidth = 2;
    ctx.fill(discs);
    ctx.stroke(discs);
    ctx.font = "bold 11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    ctx.fillStyle = "#e8edf1";
    for (const c of this._clusters) {
      const text = c.n >= 10000 ? `${Math.round(c.n / 1000)}k` : c.n >= 1000 ? `${(c.n / 1000).toFixed(1)}k` : String(c.n);
      ctx.fillText(text, c.x, c.y);
      // the disc is the count's box: an obstacle to every label, and a label itself
      const b = { text, full: clusterText(c), x: Math.round(c.x - c.r), y: Math.round(c.y - c.r), w: Math.round(2 * c.r), h: Math.round(2 * c.r), rank: -1 };
      placer.occupy(b);
      placer.boxes.push(b);
    }
    ctx.restore();
  }

  _drawBase() {
    this._place(this._base);
    const view = this._view();
    const ctx = this._base.getContext("2d");
    ctx.setTransform(view.ratio, 0, 0, view.ratio, 0, 0);
    ctx.clearRect(0, 0, view.size.x, view.size.y);
    ctx.fillStyle = "#26343e";
    ctx.strokeStyle = "#6d8190";
    ctx.lineWidth = 1;
    const borders = new Path2D();
    for (const shape of this._land) {
      if (!this._inView(view, shape.bbox)) continue;
      const path = new Path2D();
      for (const rings of shape.polygons) {
        for (const ring of rings) {
          this._path(path, view, ring, true);
          this._path(borders, view, ring, true);
        }
      }
      ctx.fill(path, "evenodd");
    }
    ctx.stroke(borders);
    const waiters = this._baseWaiters;
    this._baseWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The graticule's lines; returns its labels [text, x, y (baseline)], placed last. */
  _graticule(ctx, view) {
    const labels = [];
    const [w, n] = unproject(view.bounds[0], view.bounds[1]);
    const [e, s] = unproject(view.bounds[2], view.bounds[3]);
    const span = Math.max(e - w, n - s);
    const step = span > 40 ? 10 : span > 8 ? 2 : span > 2 ? 0.5 : span > 0.5 ? 0.1 : 0.02;
    ctx.save();
    ctx.strokeStyle = "rgba(180, 192, 202, 0.18)";
    ctx.lineWidth = 1;
    ctx.fillStyle = "rgba(180, 192, 202, 0.75)";
    ctx.font = "11px system-ui, sans-serif";
    ctx.beginPath();
    for (let lon = Math.ceil(w / step) * step; lon <= e; lon += step) {
      const [x] = project(lon, 0);
      const px = x * view.k - view.ox;
      ctx.moveTo(px, 0);
      ctx.lineTo(px, view.size.y);
      labels.push([`${lon.toFixed(step < 0.1 ? 2 : step < 1 ? 1 : 0)}°E`, px + 3, view.size.y - 24]);
    }
    for (let lat = Math.ceil(s / step) * step; lat <= n; lat += step) {
      const [, y] = project(0, lat);
      const py = y * view.k - view.oy;
      ctx.moveTo(0, py);
      ctx.lineTo(view.size.x, py);
      labels.push([`${lat.toFixed(step < 0.1 ? 2 : step < 1 ? 1 : 0)}°N`, 4, py - 3]);
    }
    ctx.stroke();
    ctx.restore();
    return labels;
  }

  /** The graticule's labels, each drawn where it has the room (after every other label: they
   * only orient); their boxes taken. */
  _gridLabels(ctx, placer, labels) {
    ctx.save();
    ctx.fillStyle = "rgba(180, 192, 202, 0.75)";
    ctx.font = "11px system-ui, sans-serif";
    for (const [text, x, y] of labels) {
      const b = { text, full: text, x: Math.round(x), y: Math.round(y - 11), w: Math.ceil(measure(ctx, text)) + 1, h: 14, rank: -2 };
      if (!placer.free(b)) continue;
      placer.occupy(b);
      placer.boxes.push(b);
      ctx.fillText(text, x, y);
    }
    ctx.restore();
  }

  /** An item that is one point and nothing else, not highlighted: drawn with the others of
   * its style (_drawPoints). */
  _lonePoint(item) {
    const shape = item.shape;
    return item.style && shape.points.length === 1 && !shape.lines.length && !shape.polygons.length &&
      !item.segment && !item.markAt && !this._highlighted(item);
  }

  /** An item that is one line and nothing else, not highlighted: drawn with the others of
   * its style (_drawLines) when the level of detail is on. */
  _loneLine(item) {
    const shape = item.shape;
    return item.style && shape.lines.length === 1 && !shape.points.length && !shape.polygons.length &&
      !item.segment && !item.markAt && !this._highlighted(item);
  }

  /** Lone lines of one style (movements, flight plans) as one path, its corridor (at the
   * view's middle latitude) and its line each stroked once. */
  _drawLines(ctx, view, st, items) {
    ctx.save();
    const path = new Path2D();
    for (const item of items) this._path(path, view, item.shape.lines[0], false);
    if (st.corridor_m) {
      const lat = unproject(0, (view.bounds[1] + view.bounds[3]) / 2)[1];
      ctx.globalAlpha = 0.18;
      ctx.strokeStyle = st.stroke || "#fff";
      ctx.lineWidth = Math.max(2, (2 * st.corridor_m) / this._mpp(view, lat));
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.stroke(path);
      ctx.globalAlpha = 1;
      ctx.lineCap = "butt";
      ctx.lineJoin = "miter";
    }
    ctx.lineWidth = st.width || 1.5;
    ctx.strokeStyle = st.stroke || "#fff";
    ctx.setLineDash(st.dash || []);
    ctx.stroke(path);
    ctx.restore();
  }

  /** Lone points of one style (thousands of sites and positions) as one path of circles and
   * one of symbols, each filled and stroked once, rather than item by item. */
  _drawPoints(ctx, view, st, items) {
    ctx.save();
    ctx.lineWidth = st.width || 1.5;
    ctx.strokeStyle = st.stroke || "#fff";
    ctx.fillStyle = st.fill || "transparent";
    ctx.setLineDash(st.dash || []);
    const circles = new Path2D();
    let round = false;
    for (const item of items) {
      if (!item.radius_m) continue;
      const pt = item.shape.points[0];
      const x = pt[0] * view.k - view.ox;
      const y = pt[1] * view.k - view.oy;
      const r = Math.max(item.radius_m / this._mpp(view, unproject(pt[0], pt[1])[1]), 2);
      circles.moveTo(x + r, y);
      circles.arc(x, y, r, 0, 2 * Math.PI);
      round = true;
    }
    if (round) {
      if (st.fill) ctx.fill(circles);
      ctx.stroke(circles);
    }
    if (st.symbol) {
      const symbols = new Path2D();
      for (const item of items) {
        const pt = item.shape.points[0];
        this._symbolPath(symbols, pt[0] * view.k - view.ox, pt[1] * view.k - view.oy, st.symbol);
      }
      ctx.setLineDash([]);
      ctx.fillStyle = st.symbolFill || st.stroke;
      ctx.strokeStyle = "#0b0f12";
      ctx.lineWidth = 1.5;
      ctx.fill(symbols);
      ctx.stroke(symbols);
    }
    ctx.restore();
  }

  _drawItem(ctx, view, item) {
    const st = item.style || {};
    const shape = item.shape;
    const highlighted = this._highlighted(item);
    ctx.save();
    ctx.lineWidth = (st.width || 1.5) + (highlighted ? 2 : 0);
    ctx.strokeStyle = st.stroke || "#fff";
    ctx.fillStyle = st.fill || "transparent";
    ctx.setLineDash(st.dash || []);
    for (const rings of shape.polygons) {
      ctx.beginPath();
      for (const ring of rings) this._path(ctx, view, ring, true);
      if (st.fill) ctx.fill("evenodd");
      ctx.stroke();
    }
    for (const line of shape.lines) {
      if (st.corridor_m) {
        const y = line[1];
        const lat = unproject(0, y)[1];
        ctx.save();
        ctx.setLineDash([]);
        ctx.globalAlpha = 0.18;
        ctx.lineWidth = Math.max(2, (2 * st.corridor_m) / this._mpp(view, lat));
        ctx.lineCap = "round";
        ctx.lineJoin = "round";
        ctx.beginPath();
        this._path(ctx, view, line, false);
        ctx.stroke();
        ctx.restore();
      }
      ctx.beginPath();
      this._path(ctx, view, line, false);
      ctx.stroke();
    }
    for (const pt of shape.points) {
      const x = pt[0] * view.k - view.ox;
      const y = pt[1] * view.k - view.oy;
      if (item.radius_m) {
        const lat = unproject(pt[0], pt[1])[1];
        const r = item.radius_m / this._mpp(view, lat);
        ctx.beginPath();
        ctx.arc(x, y, Math.max(r, 2), 0, 2 * Math.PI);
        if (st.fill) ctx.fill();
        ctx.stroke();
      }
      if (st.symbol) this._symbol(ctx, x, y, st.symbol, st);
    }
    if (item.segment) {
      // a conflict: from the operation to the object, its distance at the middle
      const [a, b] = item.segment;
      const pa = project(a[0], a[1]);
      const pb = project(b[0], b[1]);
      ctx.beginPath();
      ctx.moveTo(pa[0] * view.k - view.ox, pa[1] * view.k - view.oy);
      ctx.lineTo(pb[0] * view.k - view.ox, pb[1] * view.k - view.oy);
      ctx.stroke();
      if (item.endRing) {
        // the object the line leads to, ringed
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.arc(pb[0] * view.k - view.ox, pb[1] * view.k - view.oy, 12, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    if (st.mark && item.markAt) {
      // a mark on the object itself (a block by something hidden: "no entry" at its centre)
      const [mx, my] = project(item.markAt[0], item.markAt[1]);
      this._symbol(ctx, mx * view.k - view.ox, my * view.k - view.oy, st.mark, st);
    }
    ctx.restore();
  }

  _symbol(ctx, x, y, symbol, st) {
    ctx.save();
    ctx.setLineDash([]);
    ctx.fillStyle = st.symbolFill || st.stroke;
    ctx.strokeStyle = "#0b0f12";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    this._symbolPath(ctx, x, y, symbol);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }

  /** A symbol's outline at (x, y) added to `path` (a context or a Path2D). */
  _symbolPath(path, x, y, symbol) {
    symbolPath(path, x, y, symbol);
  }

  /** The labels of `items` (and the rings' labels), placed by priority clear of each other
   * and of every obstacle `placer` holds, shortened at small scales or where the full text
   * finds no room; the boxes placed stay in `placer.boxes` (labelBoxes()). */
  _labels(ctx, view, items, placer) {
    const small = view.zoom < SMALL_SCALE_ZOOM;
    const todo = [];
    for (const item of items) {
      const [lon, lat] = item.labelAt || [0, 0];
      const [wx, wy] = project(lon, lat);
      const x = wx * view.k - view.ox;
      const y = wy * view.k - view.oy + (item.labelDy || 0); // labelDy: pixels below its point
      if (x < -50 || y < -20 || x > view.size.x + 50 || y > view.size.y + 20) continue;
      const colour = (item.style && item.style.label) || "#e8edf1";
      const full = item.label;
      todo.push({ text: item.label, full, x, y, r: 8, rank: LABEL_RANK[item.layer] ?? 5, colour });
      if (item.ringLabel && item.radius_m && item.shape.points.length) {
        const pt = item.shape.points[0];
        const r = item.radius_m / this._mpp(view, unproject(pt[0], pt[1])[1]);
        if (r >= 9) todo.push({ text: item.ringLabel, full: `${full}: ${item.ringLabel}`, x: pt[0] * view.k - view.ox, y: pt[1] * view.k - view.oy - r, r: 2, rank: LABEL_RANK.rings, colour, ring: true });
      }
    }
    todo.sort((p, q) => p.rank - q.rank);
    ctx.save();
    ctx.font = LABEL_FONT;
    ctx.textBaseline = "middle";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(11, 15, 18, 0.9)";
    let budget = LABEL_BUDGET;
    for (const t of todo) {
      if (budget-- <= 0) break;
      const short = shorten(t.text);
      const b = placer.place(ctx, small ? short : t.text, t.x, t.y, { r: t.r, h: 16, rank: t.rank, short: small ? null : short, full: t.full });
      if (b) Placer.draw(ctx, b, t.colour);
    }
    ctx.restore();
  }

  /** Every label drawn on the map's canvases (the graticule's, the clusters' counts, the
   * objects', the rings', the tracks' and the alerts'), in container pixels:
   * [{text, full, x, y, w, h}]. */
  labelBoxes() {
    const out = [];
    for (const placer of [this._staticPlacer, this._dynamicPlacer]) {
      if (!placer) continue;
      for (const b of placer.boxes) out.push({ text: b.text, full: b.full, x: b.x, y: b.y, w: b.w, h: b.h });
    }
    return out;
  }

  _drawDynamic() {
    // Nothing to draw on a canvas already clear (while loading, before any track): leave it,
    // rather than hand the compositor a new empty frame of it at every move of the view.
    const empty = !this.tracks.size && !this.alerts.size;
    if (empty && this._dynamicClear) return;
    this._dynamicClear = empty;
    this._place(this._dynamic);
    const t0 = performance.now();
    const view = this._view();
    const ctx = this._dynamic.getContext("2d");
    ctx.setTransform(view.ratio, 0, 0, view.ratio, 0, 0);
    ctx.clearRect(0, 0, view.size.x, view.size.y);
    const visible = this.visible.has("tracks") ? this._drawTracks(ctx, view) : [];
    const alertLabels = this.visible.has("alerts") ? this._drawAlerts(ctx, view) : [];
    this._dynamicLabels(ctx, view, visible, alertLabels);
    const ms = performance.now() - t0;
    this.stats.dynamicDraws++;
    this.stats.lastDynamicMs = ms;
    this.stats.maxDynamicMs = Math.max(this.stats.maxDynamicMs, ms);
  }

  _drawTracks(ctx, view) {
    const b = view.bounds;
    const visible = [];
    for (const t of this.tracks.values()) {
      if (t.x < b[0] || t.x > b[2] || t.y < b[1] || t.y > b[3]) continue;
      visible.push(t);
    }
    const byColour = new Map();
    for (const t of visible) {
      const colour = partyColour(t.party || t.operator);
      let path = byColour.get(colour);
      if (!path) { path = new Path2D(); byColour.set(colour, path); }
      const x = t.x * view.k - view.ox;
      const y = t.y * view.k - view.oy;
      trackPath(path, x, y, t.track_deg || 0, ((t.gs_kt || 0) * 1852) / 60 / this._mpp(view, t.lat));
    }
    ctx.lineWidth = 1.5;
    for (const [colour, path] of byColour) {
      ctx.fillStyle = colour;
      ctx.strokeStyle = colour;
      ctx.fill(path);
      ctx.stroke(path);
    }
    return visible;
  }

  /** The tracks' and the alerts' labels, placed around everything the static canvas placed
   * (alerts' first). */
  _dynamicLabels(ctx, view, visible, alertLabels) {
    const placer = Placer.around(this._staticPlacer, view.size.x, view.size.y);
    this._dynamicPlacer = placer;
    ctx.save();
    ctx.textBaseline = "middle";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(11, 15, 18, 0.9)";
    ctx.font = "bold 12px system-ui, sans-serif";
    for (const a of alertLabels) {
      const b = placer.place(ctx, a.text, a.x, a.y, { r: 24, h: 16, rank: LABEL_RANK.alerts, short: shorten(a.text, 22), full: a.text });
      if (b) Placer.draw(ctx, b, ALERT_TEXT);
    }
    if (visible.length <= 400 || view.zoom >= 10) {
      for (const t of visible) placer.occupy({ x: t.x * view.k - view.ox - 9, y: t.y * view.k - view.oy - 9, w: 18, h: 18 });
      ctx.font = "11px system-ui, sans-serif";
      let budget = LABEL_BUDGET;
      for (const t of visible) {
        if (budget-- <= 0) break;
        const fl = t.alt_ft != null ? `FL${String(Math.round(t.alt_ft / 100)).padStart(3, "0")}` : "";
        const emergency = EMERGENCY_SQUAWKS[t.squawk] ? ` ${t.squawk}` : "";
        const label = `${t.callsign || t.id} ${fl} ${t.gs_kt != null ? Math.round(t.gs_kt) + "kt" : ""}${emergency}`.trim();
        const full = `track ${label} (${t.operator || t.party || ""}${t.mission ? ` ${t.mission}` : ""})`;
        const b = placer.place(ctx, label, t.x * view.k - view.ox, t.y * view.k - view.oy, { r: 10, h: 15, rank: LABEL_RANK.tracks, short: String(t.id), full });
        if (b) Placer.draw(ctx, b, "#e8edf1");
      }
    }
    ctx.restore();
  }

  _drawAlerts(ctx, view) {
    const phase = (Date.now() % 1000) / 1000;
    const labels = [];
    ctx.save();
    for (const a of this.alerts.values()) {
      if (a.lat == null || a.lon == null) continue;
      const [wx, wy] = project(a.lon, a.lat);
      const x = wx * view.k - view.ox;
      const y = wy * view.k - view.oy;
      alertRing(ctx, x, y, phase);
      const ids = a.tracks || [];
      const pts = ids.map((id) => this.tracks.get(String(id))).filter(Boolean);
      if (pts.length >= 2) {
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(pts[0].x * view.k - view.ox, pts[0].y * view.k - view.oy);
        for (const p of pts.slice(1)) ctx.lineTo(p.x * view.k - view.ox, p.y * view.k - view.oy);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      labels.push({ text: a.label || "ALERT", x, y });
    }
    ctx.restore();
    return labels;
  }

  // --- pointing -------------------------------------------------------------------------------

  _move(e) {
    if (this.onPointer) this.onPointer(e.latlng.lng, e.latlng.lat);
    if (this.drawing) { this.drawing.move([e.latlng.lng, e.latlng.lat]); this._tip(null); return; }
    const target = e.originalEvent && e.originalEvent.target;
    if (target && target.closest && target.closest(".leaflet-popup, .leaflet-control")) { this._hover = null; this._tip(null); return; }
    this._hover = [e.containerPoint.x, e.containerPoint.y];
    if (!this._hoverFrame) {
      this._hoverFrame = requestAnimationFrame(() => {
        this._hoverFrame = 0;
        if (this._hover) this._tip(this.textAt(...this._hover), ...this._hover);
      });
    }
  }

  /** The full text of what lies at a container point: a label's (the clusters', the tracks',
   * the objects'), else the first object's kind, name and party; null for nothing. */
  textAt(px, py) {
    for (const placer of [this._dynamicPlacer, this._staticPlacer]) {
      if (!placer) continue;
      for (let i = placer.boxes.length - 1; i >= 0; i--) {
        const b = placer.boxes[i];
        if (b.rank >= -1 && px >= b.x && px <= b.x + b.w && py >= b.y && py <= b.y + b.h) return b.full;
      }
    }
    const hit = this.hitTestAll(px, py, 1)[0];
    return hit ? hit.title : null;
  }

  /** The hover tooltip: `text` near (x, y), or hidden (null). */
  _tip(text, x = 0, y = 0) {
    let tip = this._tipEl;
    if (!tip) {
      if (!text) return;
      tip = document.createElement("div");
      tip.className = "map-tooltip";
      tip.setAttribute("role", "tooltip");
      tip.id = "map-tooltip";
      this.map.getContainer().appendChild(tip);
      this._tipEl = tip;
    }
    tip.hidden = !text;
    if (!text) return;
    tip.textContent = text;
    const size = this.map.getSize();
    tip.style.left = `${Math.min(x + 14, Math.max(0, size.x - tip.offsetWidth - 4))}px`;
    tip.style.top = `${y + 18 + tip.offsetHeight > size.y ? y - tip.offsetHeight - 8 : y + 18}px`;
  }

  _click(e) {
    const lonlat = [e.latlng.lng, e.latlng.lat];
    if (this.drawing) { this.drawing.click(lonlat); return; }
    this.identify(e.containerPoint.x, e.containerPoint.y, false);
  }

  /** What lies at a container point, in a popup there: one thing's details, or the list of
   * every thing (kind, name, party), each opening to its details; a cluster zooms in.
   * `keyboard`: the popup takes the focus (Escape gives it back to the map). */
  identify(px, py, keyboard) {
    this._tip(null);
    const hits = this.hitTestAll(px, py);
    const latlng = this.map.containerPointToLatLng([px, py]);
    if (hits.length && hits[0].kind === "cluster") {
      const [x0, y0, x1, y1] = hits[0].cluster.bbox;
      const [w, n] = unproject(x0, y0);
      const [e, s] = unproject(x1, y1);
      this.map.fitBounds([[s, w], [n, e]], { padding: [40, 40], maxZoom: Math.min(16, this.map.getZoom() + 4) });
      return hits;
    }
    if (!hits.length && !keyboard) return hits;
    const box = document.createElement("div");
    box.className = "hits";
    if (!hits.length) {
      box.append(Object.assign(document.createElement("p"), { textContent: "Nothing drawn here." }));
    } else if (hits.length === 1) {
      const one = document.createElement("div");
      one.className = "hit-one";
      one.innerHTML = hits[0].html; // escaped where it was written
      box.append(one);
    } else {
      box.append(Object.assign(document.createElement("p"), { className: "hits-head", textContent: `${hits.length} things here:` }));
      const list = document.createElement("ul");
      list.className = "hit-list";
      for (const hit of hits) {
        const li = document.createElement("li");
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = hit.title;
        const body = document.createElement("div");
        body.className = "hit-body";
        body.innerHTML = hit.html; // escaped where it was written
        details.append(summary, body);
        li.append(details);
        list.append(li);
      }
      box.append(list);
    }
    box.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape") return;
      ev.stopPropagation();
      this.map.closePopup();
      this.map.getContainer().focus();
    });
    this.L.popup({ maxWidth: 340, autoPan: true }).setLatLng(latlng).setContent(box).openOn(this.map);
    if (keyboard) {
      const first = box.querySelector("summary, a, button");
      if (first) first.focus();
      else { box.tabIndex = -1; box.focus(); }
    }
    if (hits.length) this.onSelect(hits.find((h) => h.kind === "operations" || h.kind === "conflicts") || hits[0]);
    return hits;
  }

  /** The object under a container point: tracks first, then operations, then the rest. */
  hitTest(px, py) {
    return this.hitTestAll(px, py, 1)[0] || null;
  }

  /** Everything under a container point (at most `limit`), in the order a click lists them:
   * a cluster, tracks, received coordinates and reports, operations and conflicts, positions,
   * protected sites, flight plans, areas. Each: {kind, id, title (kind, name, party), html}. */
  hitTestAll(px, py, limit = 50) {
    const view = this._view();
    const out = [];
    const near = (x, y, tol) => (x * view.k - view.ox - px) ** 2 + (y * view.k - view.oy - py) ** 2 <= tol * tol;
    for (const c of this._clusters) {
      if ((c.x - px) ** 2 + (c.y - py) ** 2 <= c.r * c.r) {
        out.push({ kind: "cluster", id: null, cluster: c, title: clusterText(c), html: escapeHtml(clusterText(c)) });
        if (out.length >= limit) return out;
      }
    }
    if (this.visible.has("tracks")) {
      for (const t of this.tracks.values()) {
        if (near(t.x, t.y, 9)) {
          const ident = [t.callsign ? `callsign ${escapeHtml(t.callsign)}` : "", t.icao24 ? `ICAO ${escapeHtml(t.icao24)}` : "",
            t.squawk ? `squawk ${escapeHtml(t.squawk)}${EMERGENCY_SQUAWKS[t.squawk] ? ` (${escapeHtml(EMERGENCY_SQUAWKS[t.squawk])})` : ""}` : ""].filter(Boolean).join(", ");
          const html = `<strong>Track ${escapeHtml(t.id)}</strong><br>${escapeHtml(t.operator || t.party || "")} ${escapeHtml(t.mission || "")}` +
            (ident ? `<br>${ident}` : "") +
            `<br>${t.alt_ft != null ? escapeHtml(t.alt_ft) + " ft" : ""} ${t.gs_kt != null ? escapeHtml(Math.round(t.gs_kt)) + " kt" : ""} ${t.track_deg != null ? escapeHtml(Math.round(t.track_deg)) + "°" : ""}` +
            `<br><span class="meta">${escapeHtml(t.time ? fmtInstant(t.time) : "")}</span>`;
          out.push({ kind: "track", id: t.id, html, title: `Track · ${t.id} · ${t.party || t.operator || "unknown"}${t.mission ? ` (${t.mission})` : ""}` });
          if (out.length >= limit) return out;
        }
      }
    }
    if (this.visible.has("alerts")) {
      for (const a of this.alerts.values()) {
        if (a.lat == null || a.lon == null) continue;
        const [ax, ay] = project(a.lon, a.lat);
        if (!near(ax, ay, 22)) continue;
        const parties = (a.parties || []).join(", ");
        const told = this.describeAlert ? this.describeAlert(a) : {
          title: `Airspace alert · ${a.label || a.kind || a.id}${parties ? ` · ${parties}` : ""}`,
          html: `<strong>Airspace alert: ${escapeHtml(a.label || a.kind || "alert")}</strong>` +
            (parties ? `<br>concerns ${escapeHtml(parties)}` : "") + (a.detail ? `<br>${escapeHtml(a.detail)}` : ""),
        };
        out.push({ kind: "alert", id: a.id, html: told.html, title: told.title });
        if (out.length >= limit) return out;
      }
    }
    const order = ["messages", "reports", "operations", "conflicts", "positions", "protected", "flights", "areas"];
    const ll = this.map.containerPointToLatLng([px, py]);
    const lon = ll.lng, lat = ll.lat;
    const [wx, wy] = project(lon, lat);
    const tol = 12 / view.k; // the widest pointing tolerance, in world pixels
    for (const layer of order) {
      if (!this.visible.has(layer)) continue;
      for (const item of this._layerOf(layer).values()) {
        if (!item.html) continue;
        const b = item.shape.bbox;
        const pad = tol + (item.radius_m ? (item.radius_m / (EARTH_M / TILE)) * 1.5 : 0);
        if (wx < b[0] - pad || wx > b[2] + pad || wy < b[1] - pad || wy > b[3] + pad) continue; // far off
        if (this._hits(view, item, wx, wy, lon, lat, px, py, near)) {
          const html = typeof item.html === "function" ? item.html() : item.html; // written when asked for
          out.push({ kind: item.layer, id: item.op || item.id, html, item, title: itemTitle(item) });
          if (out.length >= limit) return out;
        }
      }
    }
    return out;
  }

  _hits(view, item, wx, wy, lon, lat, px, py, near) {
    const shape = item.shape;
    for (const pt of shape.points) {
      if (near(pt[0], pt[1], 8)) return true;
      if (item.radius_m) {
        const c = unproject(pt[0], pt[1]);
        if (metres(c, [lon, lat]) <= item.radius_m) return true;
      }
    }
    for (const rings of shape.polygons) {
      let inside = false;
      for (const ring of rings) {
        for (let i = 0, j = ring.length - 2; i < ring.length; j = i, i += 2) {
          const xi = ring[i], yi = ring[i + 1], xj = ring[j], yj = ring[j + 1];
          if (yi > wy !== yj > wy && wx < ((xj - xi) * (wy - yi)) / (yj - yi) + xi) inside = !inside;
        }
      }
      if (inside) return true;
    }
    const lines = [...shape.lines];
    if (item.segment) lines.push(projectRing(item.segment));
    for (const line of lines) {
      for (let i = 0; i + 3 < line.length; i += 2) {
        const ax = line[i] * view.k - view.ox, ay = line[i + 1] * view.k - view.oy;
        const bx = line[i + 2] * view.k - view.ox, by = line[i + 3] * view.k - view.oy;
        const dx = bx - ax, dy = by - ay;
        const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)));
        if ((ax + t * dx - px) ** 2 + (ay + t * dy - py) ** 2 <= 36) return true;
      }
    }
    return false;
  }
}

export { escapeHtml };

// --- swatches ---------------------------------------------------------------------------------

/** The style of the designated areas (the map and the legend). */
export const AREA_STYLE = Object.freeze({ stroke: "#ffb347", fill: "rgba(255, 179, 71, 0.07)", dash: [8, 5], width: 2, label: "#ffcf8a" });

const SWATCH_W = 34;
const SWATCH_H = 20;

/** What the map's drawing methods need of a map, for a swatch: one pixel a metre, nothing
 * highlighted, a view with its origin at the swatch's corner. */
const PAINTER = {
  _highlighted: () => false,
  _mpp: () => 1,
  _path: OperatingMap.prototype._path,
  _symbol: OperatingMap.prototype._symbol,
  _symbolPath: OperatingMap.prototype._symbolPath,
};
const SWATCH_VIEW = Object.freeze({ k: 1, ox: 0, oy: 0, zoom: 12, ratio: 1 });

const px = (...xy) => Float64Array.from(xy);

/**
 * A legend's swatch, drawn on `canvas` by the same code that draws the map:
 * {point: style, radius?} (a lone point, as _drawPoints draws it), {line: style},
 * {area: style}, {conflict: style} (a line to a ringed object), {mark: style} (an object's
 * outline and its mark), {track: colour}, {alert: true}, {cluster: n}.
 */
export function drawSwatch(canvas, spec) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = SWATCH_W * ratio;
  canvas.height = SWATCH_H * ratio;
  canvas.style.width = `${SWATCH_W}px`;
  canvas.style.height = `${SWATCH_H}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = "#26343e"; // the land the map draws on
  ctx.fillRect(0, 0, SWATCH_W, SWATCH_H);
  const cx = SWATCH_W / 2, cy = SWATCH_H / 2;
  const point = (x, y) => ({ points: [px(x, y)], lines: NONE, polygons: NONE });
  if (spec.point) {
    const item = { shape: point(cx, cy), radius_m: spec.radius || null, style: spec.point };
    OperatingMap.prototype._drawPoints.call(PAINTER, ctx, SWATCH_VIEW, spec.point, [item]);
  } else if (spec.line) {
    const shape = { points: NONE, lines: [px(2, cy + 5, 12, cy - 4, 22, cy + 3, SWATCH_W - 2, cy - 5)], polygons: NONE };
    OperatingMap.prototype._drawItem.call(PAINTER, ctx, SWATCH_VIEW, { shape, style: spec.line });
    if (spec.line.symbol) OperatingMap.prototype._symbol.call(PAINTER, ctx, cx, cy, spec.line.symbol, spec.line);
  } else if (spec.area || spec.mark) {
    const style = spec.area || spec.mark;
    const shape = { points: NONE, lines: NONE, polygons: [[px(3, 3, SWATCH_W - 3, 3, SWATCH_W - 3, SWATCH_H - 3, 3, SWATCH_H - 3)]] };
    OperatingMap.prototype._drawItem.call(PAINTER, ctx, SWATCH_VIEW, { shape, style, markAt: null });
    if (spec.mark) OperatingMap.prototype._symbol.call(PAINTER, ctx, cx, cy, style.mark, style);
  } else if (spec.conflict) {
    const shape = { points: NONE, lines: [px(3, SWATCH_H - 4, SWATCH_W - 10, 7)], polygons: NONE };
    OperatingMap.prototype._drawItem.call(PAINTER, ctx, SWATCH_VIEW, { shape, style: spec.conflict });
  } else if (spec.track) {
    const path = new Path2D();
    trackPath(path, 10, cy, 90, 14);
    ctx.lineWidth = 1.5;
    ctx.fillStyle = spec.track;
    ctx.strokeStyle = spec.track;
    ctx.fill(path);
    ctx.stroke(path);
  } else if (spec.alert) {
    alertRing(ctx, cx, cy, 0);
  } else if (spec.cluster) {
    const painter = { _clusters: [{ x: cx, y: cy, r: 9, n: spec.cluster, counts: {} }] };
    OperatingMap.prototype._drawClusters.call(painter, ctx, SWATCH_VIEW, { occupy() {}, boxes: [] });
  }
}
