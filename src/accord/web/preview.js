// The proposal preview: the center's deconfliction rule, run in the browser over the objects
// this user can see. No server dry-run: every answer about a hidden object is a measurement a
// prober could use for free, so the page measures only what it already holds, and the hint
// says that hidden objects are checked only by the center on submission.
//
// One rule, ported line by line from the engine (src/accord/deconfliction/engine.py and
// _kernel.py), so that the preview lists exactly the conflicts the center will answer for
// the objects the user may see — same objects, same distances, same thresholds, same verdict:
//
// * The world: every declaration in force, and every operation still pending or executed
//   (the center's `LIVE` statuses: proposed, approved, notified, on hold, cleared, executed).
// * Time: an object counts when its interval meets the operation's window, both closed
//   (sites: always; positions and movements: valid_from..valid_to; operations: their
//   window; flight plans: first..last time, and each leg only for the part flown inside the
//   window, cut by linear interpolation in time).
// * Threshold: the kind's buffer plus the object's declared uncertainty, plus for a site
//   that asks a standoff larger than the buffer the difference (max(buffer, standoff), not
//   their sum), plus the operation's own declared uncertainty.
// * Geometry: lines and polygon boundaries densified along their geodesic legs into legs of
//   at most 2 km (WGS84; Vincenty's formulae here, Karney's in pyproj: they agree to well
//   under a millimetre at these lengths); every vertex into the azimuthal-equidistant frame
//   of the operation's reference point (a circle's centre, a polygon's centroid) computed
//   from ECEF exactly as the engine does; distances there between the operation's area and
//   each point or leg; a polygon that contains the circle's centre, or meets the polygon
//   operation, is at 0.
// * Distance: the least over the object's pieces, less the object's own radius (a
//   movement's corridor, a circular operation's radius), never below 0; a conflict when it
//   is at most the threshold; blocking when the kind is in the agreement's `blocking`;
//   a site not re-confirmed within `site_reconfirm_every` before the window opens is stale.
//
// The answer is ordered as the center orders it (blocking first, nearest first, then kind,
// party and id), and each conflict is worded by `describe`, the center's own sentence
// (accord.deconfliction.received.describe).

import { el } from "./dom.js";
import { warningText } from "./line.js";

export const SEGMENT_M = 2000;
/** Kinds in the engine's order (accord.agreement.ObjectKind). */
export const KINDS = ["protected_site", "movement", "position", "flight_plan", "operation"];
/** Stored operation statuses whose operations are objects of the world (world_cache.LIVE);
 * "held" is the page's older name for on_hold. */
export const LIVE = new Set(["proposed", "approved", "notified", "on_hold", "held", "cleared", "executed"]);

const A = 6378137.0;
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const B = A * (1 - F);
const RAD = Math.PI / 180;
const DEGENERATE_AREA = 1e-12; // square degrees: a ring with no area to speak of (engine.py)

// --- geodesy ----------------------------------------------------------------------------------

/** Earth-centred, Earth-fixed metres of a lon/lat on WGS84 (accord.geo.ecef). */
export function ecef(lon, lat) {
  const lam = lon * RAD, phi = lat * RAD;
  const sp = Math.sin(phi), cp = Math.cos(phi);
  const n = A / Math.sqrt(1 - E2 * sp * sp);
  return [n * cp * Math.cos(lam), n * cp * Math.sin(lam), n * (1 - E2) * sp];
}

/** The local azimuthal-equidistant frame at lon/lat (accord.geo.LocalFrame.at). */
export function frameAt(lon, lat) {
  const lam = lon * RAD, phi = lat * RAD;
  const sl = Math.sin(lam), cl = Math.cos(lam), sp = Math.sin(phi), cp = Math.cos(phi);
  const w = Math.sqrt(1 - E2 * sp * sp);
  const nr = A / w;
  const mr = (A * (1 - E2)) / (w * w * w);
  return {
    o: [nr * cp * cl, nr * cp * sl, nr * (1 - E2) * sp],
    e: [-sl, cl],
    n: [-sp * cl, -sp * sl, cp],
    invM: 1 / mr,
    invN: 1 / nr,
  };
}

/** (x east, y north) metres of an ECEF point in `frame` (_kernel._local). */
export function localXY(frame, p) {
  const dx = p[0] - frame.o[0], dy = p[1] - frame.o[1], dz = p[2] - frame.o[2];
  const e = dx * frame.e[0] + dy * frame.e[1];
  const n = dx * frame.n[0] + dy * frame.n[1] + dz * frame.n[2];
  const c2 = dx * dx + dy * dy + dz * dz;
  const h2 = e * e + n * n;
  if (h2 <= 0) return [0, 0];
  const k = (n * n * frame.invM + e * e * frame.invN) / h2;
  const q = c2 * k * k;
  const scale = Math.sqrt(c2 / h2) * (1 + q / 24 + (3 * q * q) / 640);
  return [e * scale, n * scale];
}

/** Vincenty's inverse on WGS84: {s: metres, az: initial azimuth in degrees}. */
export function inverse(lon1, lat1, lon2, lat2) {
  if (lon1 === lon2 && lat1 === lat2) return { s: 0, az: 0 };
  const L = (lon2 - lon1) * RAD;
  const U1 = Math.atan((1 - F) * Math.tan(lat1 * RAD));
  const U2 = Math.atan((1 - F) * Math.tan(lat2 * RAD));
  const sU1 = Math.sin(U1), cU1 = Math.cos(U1), sU2 = Math.sin(U2), cU2 = Math.cos(U2);
  let lambda = L, prev, sinS, cosS, sigma, cos2a, cos2sm, sinL, cosL;
  let iterations = 0;
  do {
    sinL = Math.sin(lambda);
    cosL = Math.cos(lambda);
    const t1 = cU2 * sinL, t2 = cU1 * sU2 - sU1 * cU2 * cosL;
    sinS = Math.sqrt(t1 * t1 + t2 * t2);
    if (sinS === 0) return { s: 0, az: 0 };
    cosS = sU1 * sU2 + cU1 * cU2 * cosL;
    sigma = Math.atan2(sinS, cosS);
    const sinA = (cU1 * cU2 * sinL) / sinS;
    cos2a = 1 - sinA * sinA;
    cos2sm = cos2a !== 0 ? cosS - (2 * sU1 * sU2) / cos2a : 0;
    const C = (F / 16) * cos2a * (4 + F * (4 - 3 * cos2a));
    prev = lambda;
    lambda = L + (1 - C) * F * sinA * (sigma + C * sinS * (cos2sm + C * cosS * (-1 + 2 * cos2sm * cos2sm)));
  } while (Math.abs(lambda - prev) > 1e-13 && ++iterations < 200);
  const u2 = (cos2a * (A * A - B * B)) / (B * B);
  const AA = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
  const BB = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
  const dS = BB * sinS * (cos2sm + (BB / 4) * (cosS * (-1 + 2 * cos2sm * cos2sm)
    - (BB / 6) * cos2sm * (-3 + 4 * sinS * sinS) * (-3 + 4 * cos2sm * cos2sm)));
  const s = B * AA * (sigma - dS);
  const az = Math.atan2(cU2 * sinL, cU1 * sU2 - sU1 * cU2 * cosL) / RAD;
  return { s, az };
}

/** Vincenty's direct on WGS84: the [lon, lat] `s` metres from lon/lat along azimuth `az`. */
export function direct(lon, lat, az, s) {
  const a1 = az * RAD;
  const sA1 = Math.sin(a1), cA1 = Math.cos(a1);
  const tU1 = (1 - F) * Math.tan(lat * RAD);
  const cU1 = 1 / Math.sqrt(1 + tU1 * tU1), sU1 = tU1 * cU1;
  const s1 = Math.atan2(tU1, cA1);
  const sinA = cU1 * sA1;
  const cos2a = 1 - sinA * sinA;
  const u2 = (cos2a * (A * A - B * B)) / (B * B);
  const AA = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
  const BB = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
  let sigma = s / (B * AA), prev, sinS, cosS, cos2sm;
  let iterations = 0;
  do {
    cos2sm = Math.cos(2 * s1 + sigma);
    sinS = Math.sin(sigma);
    cosS = Math.cos(sigma);
    const dS = BB * sinS * (cos2sm + (BB / 4) * (cosS * (-1 + 2 * cos2sm * cos2sm)
      - (BB / 6) * cos2sm * (-3 + 4 * sinS * sinS) * (-3 + 4 * cos2sm * cos2sm)));
    prev = sigma;
    sigma = s / (B * AA) + dS;
  } while (Math.abs(sigma - prev) > 1e-13 && ++iterations < 200);
  const x = sU1 * sinS - cU1 * cosS * cA1;
  const lat2 = Math.atan2(sU1 * cosS + cU1 * sinS * cA1, (1 - F) * Math.sqrt(sinA * sinA + x * x));
  const lam = Math.atan2(sinS * sA1, cU1 * cosS - sU1 * sinS * cA1);
  const C = (F / 16) * cos2a * (4 + F * (4 - 3 * cos2a));
  const L = lam - (1 - C) * F * sinA * (sigma + C * sinS * (cos2sm + C * cosS * (-1 + 2 * cos2sm * cos2sm)));
  let lon2 = lon + L / RAD;
  if (lon2 > 180) lon2 -= 360;
  else if (lon2 < -180) lon2 += 360;
  return [lon2, lat2 / RAD];
}

/** A line's positions (and times, seconds) with every geodesic leg cut into legs of at most
 * `max` metres (accord.geo.densify_lines): [[lon, lat, t?], …]. */
export function densify(coords, times = null, max = SEGMENT_M) {
  const out = [];
  for (let i = 0; i < coords.length; i++) {
    const [lon, lat] = coords[i];
    const t = times ? times[i] : NaN;
    out.push([lon, lat, t]);
    if (i + 1 === coords.length) break;
    const [lon2, lat2] = coords[i + 1];
    const { s, az } = inverse(lon, lat, lon2, lat2);
    const parts = Math.max(Math.ceil(s / max), 1);
    for (let k = 1; k < parts; k++) {
      const frac = k / parts;
      const [plon, plat] = direct(lon, lat, az, frac * s);
      out.push([plon, plat, times ? t + frac * (times[i + 1] - t) : NaN]);
    }
  }
  return out;
}

// --- plane geometry ---------------------------------------------------------------------------

function pointSegment(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = 0;
  if (len2 > 0) t = Math.min(Math.max(((px - ax) * dx + (py - ay) * dy) / len2, 0), 1);
  const qx = ax + t * dx - px, qy = ay + t * dy - py;
  return Math.sqrt(qx * qx + qy * qy);
}

function orient(ax, ay, bx, by, cx, cy) {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/** Even-odd rule over edges [[ax, ay, bx, by], …] (every ring, holes included). */
function inside(x, y, edges) {
  let inn = false;
  for (const [ax, ay, bx, by] of edges) {
    if ((ay > y) !== (by > y)) {
      const xc = ax + ((y - ay) * (bx - ax)) / (by - ay);
      if (x < xc) inn = !inn;
    }
  }
  return inn;
}

/** Distance from segment A-B to the polygon given by its edges (0 inside or crossing). */
function polygonDistance(ax, ay, bx, by, edges) {
  if (inside(ax, ay, edges) || inside(bx, by, edges)) return 0;
  let best = Infinity;
  for (const [cx, cy, dx, dy] of edges) {
    const o1 = orient(ax, ay, bx, by, cx, cy), o2 = orient(ax, ay, bx, by, dx, dy);
    const o3 = orient(cx, cy, dx, dy, ax, ay), o4 = orient(cx, cy, dx, dy, bx, by);
    if (o1 * o2 < 0 && o3 * o4 < 0) return 0;
    best = Math.min(best, pointSegment(ax, ay, cx, cy, dx, dy), pointSegment(bx, by, cx, cy, dx, dy),
      pointSegment(cx, cy, ax, ay, bx, by), pointSegment(dx, dy, ax, ay, bx, by));
  }
  return best;
}

/** Edges of lon/lat rings (the plane of degrees, as shapely sees a geometry). */
function degreeEdges(rings) {
  const edges = [];
  for (const ring of rings) for (let i = 0; i + 1 < ring.length; i++) edges.push([ring[i][0], ring[i][1], ring[i + 1][0], ring[i + 1][1]]);
  return edges;
}

/** Whether point (x, y) lies on segment [ax, ay, bx, by] (exactly, in degrees). */
function onSegment(x, y, [ax, ay, bx, by]) {
  return orient(ax, ay, bx, by, x, y) === 0 && Math.min(ax, bx) <= x && x <= Math.max(ax, bx) && Math.min(ay, by) <= y && y <= Math.max(ay, by);
}

function segmentsMeet(p, q) {
  const o1 = orient(p[0], p[1], p[2], p[3], q[0], q[1]), o2 = orient(p[0], p[1], p[2], p[3], q[2], q[3]);
  const o3 = orient(q[0], q[1], q[2], q[3], p[0], p[1]), o4 = orient(q[0], q[1], q[2], q[3], p[2], p[3]);
  if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return true;
  return onSegment(q[0], q[1], p) || onSegment(q[2], q[3], p) || onSegment(p[0], p[1], q) || onSegment(p[2], p[3], q);
}

/** shapely.intersects of two polygons in degrees: their boundaries meet, or one holds a
 * vertex of the other. */
function polygonsMeet(a, b) {
  for (const p of a) for (const q of b) if (segmentsMeet(p, q)) return true;
  return inside(a[0][0], a[0][1], b) || inside(b[0][0], b[0][1], a);
}

/** The centroid of a polygon's area in degrees (shapely's, holes subtracted), or of its
 * exterior ring's length where it has no area (engine._frame). */
export function centroid(rings) {
  let area = 0, cx = 0, cy = 0;
  rings.forEach((ring, r) => {
    const [x0, y0] = ring[0];
    let ra = 0, rx = 0, ry = 0;
    for (let i = 1; i + 1 < ring.length; i++) {
      const x1 = ring[i][0] - x0, y1 = ring[i][1] - y0, x2 = ring[i + 1][0] - x0, y2 = ring[i + 1][1] - y0;
      const cross = x1 * y2 - x2 * y1;
      ra += cross;
      rx += cross * (x1 + x2);
      ry += cross * (y1 + y2);
    }
    // exterior counted positive, holes negative, whatever their winding
    const sign = (r === 0 ? 1 : -1) * Math.sign(ra || 1);
    area += sign * ra / 2;
    cx += sign * (rx / 6 + (ra / 2) * x0);
    cy += sign * (ry / 6 + (ra / 2) * y0);
  });
  if (Math.abs(area) > DEGENERATE_AREA) return [cx / area, cy / area];
  const ring = rings[0];
  let len = 0, lx = 0, ly = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const l = Math.hypot(ring[i + 1][0] - ring[i][0], ring[i + 1][1] - ring[i][1]);
    len += l;
    lx += (l * (ring[i][0] + ring[i + 1][0])) / 2;
    ly += (l * (ring[i][1] + ring[i + 1][1])) / 2;
  }
  return len > 0 ? [lx / len, ly / len] : [ring[0][0], ring[0][1]];
}

// --- the rules ----------------------------------------------------------------------------------

/** Seconds of an ISO 8601 duration of weeks, days, hours, minutes and seconds (chrono). */
export function durationSeconds(text) {
  const m = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(String(text || "").trim());
  if (!m) return 7 * 86400;
  const [w, d, h, mi, s] = m.slice(1).map((v) => Number(v || 0));
  return (((w * 7 + d) * 24 + h) * 60 + mi) * 60 + s;
}

const rulesCache = new WeakMap();

/** What the preview needs of the agreement's `deconfliction` section (the same object for
 * the same agreement: objects prepared under it are kept). */
export function rulesOf(agreement) {
  if (agreement && rulesCache.has(agreement)) return rulesCache.get(agreement);
  const rules = makeRules(agreement);
  if (agreement) rulesCache.set(agreement, rules);
  return rules;
}

function makeRules(agreement) {
  const d = (agreement && agreement.deconfliction) || {};
  return {
    buffers: d.buffers_m || {},
    blocking: new Set(d.blocking || []),
    reconfirmS: durationSeconds(d.site_reconfirm_every || "P7D"),
  };
}

function seconds(iso) {
  if (iso == null) return NaN;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t / 1000 : NaN;
}

/** Seconds of a Date, milliseconds or ISO text; `otherwise` for none or an unreadable one
 * (a window not given yet meets every object, as an open interval would). */
function instant(value, otherwise) {
  if (value == null || value === "") return otherwise;
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms / 1000 : otherwise;
}

function number(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** The party (or notifier, or operator) an object belongs to, as the center names it. */
function ownerOf(kind, p, fallback) {
  if (kind === "position") return p.party || fallback;
  if (kind === "flight_plan") return p.party || p.operator || fallback;
  if (kind === "operation") return p.proposed_by || fallback;
  return p.declared_by || fallback;
}

const prepared = new WeakMap(); // feature → the object as held here, made once per version

/**
 * An object of the world as the engine holds it: {id, kind, owner, name, disclosure, tol,
 * radius, t0, t1, confirmed, sphere} — its pieces (points and densified legs) are made on
 * first need (`piecesOf`): most objects of a large world are never near a draft. `item` is a
 * declaration as the page keeps it ({id, kind, owner, disclosure, feature}) or an operation
 * (GET /v1/operations: {id, proposed_by, window_start, window_end, feature}).
 */
export function prepare(item, rules, kindOf = undefined) {
  const feature = item.feature;
  const known = prepared.get(feature);
  if (known && known.rules === rules) return known;
  const p = feature.properties || {};
  const kind = kindOf || item.kind || p.kind;
  const buffer = number(rules.buffers[kind]);
  let tol = buffer + number(p.uncertainty_m);
  let radius = 0, t0 = -Infinity, t1 = Infinity, confirmed = NaN, times = null;
  if (kind === "protected_site") {
    if (typeof p.standoff_m === "number") tol += Math.max(p.standoff_m - buffer, 0);
    confirmed = seconds(p.confirmed_at);
  } else if (kind === "flight_plan") {
    times = (p.times || []).map(seconds);
    t0 = times.length ? times[0] : NaN;
    t1 = times.length ? times[times.length - 1] : NaN;
  } else if (kind === "operation") {
    t0 = seconds(item.window_start || p.window_start);
    t1 = seconds(item.window_end || p.window_end);
    radius = number(p.radius_m);
  } else {
    t0 = seconds(p.valid_from);
    t1 = seconds(p.valid_to);
    if (kind === "movement") radius = number(p.corridor_m);
  }
  const obj = {
    rules, id: item.id || p.id, kind, owner: ownerOf(kind, p, item.owner || item.proposed_by),
    name: typeof p.name === "string" && p.name ? p.name : null,
    disclosure: item.disclosure || p.disclosure || "shared",
    tol, radius, t0, t1, confirmed, times, geometry: feature.geometry,
    sphere: sphereOf(feature.geometry), points: null, legs: null, rings: null,
  };
  prepared.set(feature, obj);
  return obj;
}

/** A sphere (ECEF centre x, y, z and radius) holding every point of a geometry: around its
 * positions, widened by the most a geodesic leg between two of them rises above their chord
 * (its sagitta, c²/8R, R ≥ 6,335 km on WGS84), so that densified legs stay inside. */
function sphereOf(g) {
  if (!g || !g.coordinates) return null;
  const lines = g.type === "Point" ? [[g.coordinates]] : g.type === "LineString" ? [g.coordinates] : g.type === "Polygon" ? g.coordinates : [];
  const xyz = [];
  let sag = 0;
  for (const line of lines) {
    let prev = null;
    for (const c of line) {
      const v = ecef(c[0], c[1]);
      if (prev) {
        const dx = v[0] - prev[0], dy = v[1] - prev[1], dz = v[2] - prev[2];
        sag = Math.max(sag, (dx * dx + dy * dy + dz * dz) / (8 * 6335000));
      }
      xyz.push(v);
      prev = v;
    }
  }
  if (!xyz.length) return null;
  let cx = 0, cy = 0, cz = 0;
  for (const v of xyz) { cx += v[0]; cy += v[1]; cz += v[2]; }
  cx /= xyz.length; cy /= xyz.length; cz /= xyz.length;
  let r2 = 0;
  for (const v of xyz) r2 = Math.max(r2, (v[0] - cx) ** 2 + (v[1] - cy) ** 2 + (v[2] - cz) ** 2);
  return [cx, cy, cz, Math.sqrt(r2) + sag + 1];
}

/** The object's pieces as the engine holds them: its point, or the legs of its line or of
 * every ring densified to 2 km (with times for a flight plan), and a polygon's rings in
 * degrees (for "contains" and "meets"). */
function piecesOf(obj) {
  if (obj.points) return obj;
  const g = obj.geometry;
  const points = [], legs = [], rings = [];
  if (g && g.type === "Point") {
    points.push(ecef(g.coordinates[0], g.coordinates[1]));
  } else if (g && (g.type === "LineString" || g.type === "Polygon")) {
    const lines = g.type === "LineString" ? [g.coordinates] : g.coordinates;
    for (const line of lines) {
      const dense = densify(line, obj.times);
      const xyz = dense.map(([lon, lat]) => ecef(lon, lat));
      for (let i = 0; i + 1 < dense.length; i++) legs.push([xyz[i], xyz[i + 1], dense[i][2], dense[i + 1][2]]);
    }
    if (g.type === "Polygon") rings.push(...degreeEdges(g.coordinates));
  }
  obj.points = points;
  obj.legs = legs;
  obj.rings = rings;
  return obj;
}

/** The objects of the world this page holds: declarations in force, and the operations
 * whose status keeps them in the world (never the one being amended, `except`). */
export function worldOf(declarations, operations, rules, except = null) {
  const out = [];
  for (const d of declarations) if (d && d.feature && d.feature.geometry && (!d.status || d.status === "active")) out.push(prepare(d, rules));
  for (const o of operations) if (o && o.feature && o.id !== except && LIVE.has(o.status)) out.push(prepare(o, rules, "operation"));
  return out;
}

/** The operation's area prepared as the engine's _frame: its local frame, extent, radius
 * and (for a polygon) its edges in the frame. */
function frameOf(draft) {
  const g = draft.geometry;
  if (g.type === "Point") {
    const [lon, lat] = g.coordinates;
    const r = number(draft.radius);
    return { local: frameAt(lon, lat), extent: r, radius: r, edges: [], probe: [lon, lat], rings: null };
  }
  const [clon, clat] = centroid(g.coordinates);
  const local = frameAt(clon, clat);
  const edges = [];
  let extent = 0;
  for (const ring of g.coordinates) {
    const xy = ring.map(([lon, lat]) => localXY(local, ecef(lon, lat)));
    for (const [x, y] of xy) extent = Math.max(extent, Math.hypot(x, y));
    for (let i = 0; i + 1 < xy.length; i++) edges.push([xy[i][0], xy[i][1], xy[i + 1][0], xy[i + 1][1]]);
  }
  return { local, extent, radius: 0, edges, probe: g.coordinates[0][0], rings: degreeEdges(g.coordinates) };
}

/**
 * Every conflict of the draft operation with `world` (objects from `prepare`/`worldOf`), as
 * the center answers them for those objects: [{kind, with, party, name, disclosure,
 * distance_m, threshold_m, blocking, stale}], blocking first, then nearest, then by kind,
 * party and id.
 *
 * `draft`: {geometry (GeoJSON Point or Polygon), radius (m, for a Point), start, end
 * (Date, ms or ISO; null: any time), uncertainty (m, default 0)}.
 */
export function check(draft, world, rules) {
  const f = frameOf(draft);
  const polygon = f.edges.length > 0;
  const margin = number(draft.uncertainty);
  const t0 = instant(draft.start, -Infinity), t1 = instant(draft.end, Infinity);
  const origin = f.local.o;
  const found = [];
  for (const o of world) {
    if (o.t0 > t1 || o.t1 < t0) continue; // closed intervals; NaN (no bound) never excludes
    const threshold = o.tol + margin;
    const sphere = o.sphere;
    if (!sphere) continue;
    // No piece of an object is nearer than its sphere (chord ≤ geodesic; a leg in the frame
    // is within half a 2 km leg of its ends; the frame's distances are within 1e-5 of the
    // geodesic here: a generous slack).
    const reach = sphere[3] + (f.extent + threshold + o.radius + SEGMENT_M) * 1.01 + 100;
    const dx = sphere[0] - origin[0], dy = sphere[1] - origin[1], dz = sphere[2] - origin[2];
    if (dx * dx + dy * dy + dz * dz > reach * reach) continue;
    piecesOf(o);
    let best = Infinity;
    if (o.rings.length && (polygon ? polygonsMeet(f.rings, o.rings) : inside(f.probe[0], f.probe[1], o.rings))) {
      best = 0; // a polygon holding the circle's centre, or meeting the polygon: at 0
    } else {
      for (const pt of o.points) {
        const [x, y] = localXY(f.local, pt);
        const d = polygon ? polygonDistance(x, y, x, y, f.edges) : Math.hypot(x, y) - f.radius;
        if (d < best) best = d;
      }
      for (const [pa, pb, ta, tb] of o.legs) {
        let [ax, ay] = localXY(f.local, pa);
        let [bx, by] = localXY(f.local, pb);
        if (!Number.isNaN(ta)) {
          // a flight leg: only the part flown inside the window
          const lo = Math.max(ta, t0), hi = Math.min(tb, t1);
          if (lo > hi) continue;
          if (tb > ta) {
            const fa = (lo - ta) / (tb - ta), fb = (hi - ta) / (tb - ta);
            const dx = bx - ax, dy = by - ay;
            [ax, ay, bx, by] = [ax + fa * dx, ay + fa * dy, ax + fb * dx, ay + fb * dy];
          }
        }
        const d = polygon ? polygonDistance(ax, ay, bx, by, f.edges) : pointSegment(0, 0, ax, ay, bx, by) - f.radius;
        if (d < best) best = d;
      }
    }
    if (best === Infinity) continue;
    const distance = Math.max(best - o.radius, 0);
    if (!(distance <= threshold)) continue;
    const stale = o.kind === "protected_site" && !(o.confirmed >= t0 - rules.reconfirmS);
    found.push({
      kind: o.kind, with: o.id, party: o.owner, name: o.name, disclosure: o.disclosure,
      distance_m: distance, threshold_m: threshold, blocking: rules.blocking.has(o.kind), stale,
    });
  }
  const order = (k) => KINDS.indexOf(k);
  const text = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  found.sort((a, b) => (b.blocking - a.blocking) || (a.distance_m - b.distance_m) || (order(a.kind) - order(b.kind))
    || text(a.party, b.party) || text(a.with, b.with));
  return found;
}

// --- words ------------------------------------------------------------------------------------

/** Python's round(x) to an integer for the formats below: half to even, on the exact value. */
function roundHalfEven(x) {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function grouped(n) {
  const s = String(Math.abs(n));
  return (n < 0 ? "-" : "") + s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * The center's sentence for a conflict (accord.deconfliction.received.describe): "240 m
 * from School No. 12 (protected site of hnc; the agreement keeps 1,500 m) — blocking".
 * `c` as `check` gives it or as the center answers it ({kind, with, party, distance_m,
 * threshold_m, blocking}); `name`: the object's declared name, if any.
 */
export function describe(c, name = c.name) {
  const what = name || c.with || c.kind;
  const where = `${grouped(Math.floor((c.distance_m || 0) + 0.5))} m from`;
  const kind = c.kind.replace("_", " ");
  const keeps = c.threshold_m == null ? "" : `; the agreement keeps ${grouped(roundHalfEven(c.threshold_m))} m`;
  return `${where} ${what} (${kind} of ${c.party}${keeps}) — ${c.blocking ? "blocking" : "warning"}`;
}

// --- the page's preview -------------------------------------------------------------------------

/** The preview's conflicts for the page's `state` (its agreement, declarations, operations)
 * and a draft ({geometry, radius, start, end, uncertainty}). */
export function previewConflicts(state, draft) {
  const rules = rulesOf(state.agreement);
  const world = worldOf(state.declarations.values(), state.operations.values(), rules);
  return check(draft, world, rules);
}

/** The preview as the page shows it: a heading, one line per conflict in the center's words
 * (the same line as a checked message's warning: line.js), and the hint about what only the
 * center checks. Each line carries its object's id and numbers (data-*) for the tests. */
export function previewView(found) {
  const blocking = found.filter((c) => c.blocking).length;
  const list = el("ul", { class: "list preview-conflicts" });
  for (const c of found) {
    list.append(el("li", {
      class: c.blocking ? "blocking" : "warning",
      "data-with": c.with, "data-kind": c.kind, "data-party": c.party, "data-blocking": String(c.blocking),
      "data-distance-m": String(c.distance_m), "data-threshold-m": String(c.threshold_m), "data-stale": String(c.stale),
      text: warningText({ blocking: c.blocking, text: describe(c), stale: c.stale }),
    }));
  }
  const heading = found.length
    ? `Preview: ${found.length} conflict(s) with what you can see${blocking ? `, ${blocking} blocking` : ""}`
    : "Preview: no conflict with what you can see";
  return [
    el("strong", { text: heading }),
    list,
    el("p", {
      class: "hint",
      text: "The same rule as the center's, over what you can see. Objects hidden from you are checked only by the center when you submit: of those you learn only their kind, their owner and whether they block.",
    }),
  ];
}
