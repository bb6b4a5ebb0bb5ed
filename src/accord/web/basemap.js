// The basemap, prepared off the page's main thread (a classic worker): the world-atlas
// TopoJSON fetched, converted with topojson-client and projected, each country handed back
// as {polygons: [[ring, …], …], bbox} where a ring is a flat [x, y, x, y, …] Float64Array of
// world pixels at zoom 0 (transferred, not copied) and bbox its [x0, y0, x1, y1]. The page
// only draws them (map.js). Posts {land} or {error}.

importScripts("/vendor/topojson-client.js");

// Web Mercator, world pixels at zoom 0: the formula of map.js's project(), which a classic
// worker cannot import.
const TILE = 256;
const LIMIT = 85.05;

function projectRing(ring, bbox) {
  const out = new Float64Array(ring.length * 2);
  for (let i = 0; i < ring.length; i++) {
    const lon = ring[i][0];
    const lat = Math.max(-LIMIT, Math.min(LIMIT, ring[i][1]));
    const s = Math.sin((lat * Math.PI) / 180);
    const x = ((lon + 180) / 360) * TILE;
    const y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE;
    out[2 * i] = x;
    out[2 * i + 1] = y;
    if (x < bbox[0]) bbox[0] = x;
    if (y < bbox[1]) bbox[1] = y;
    if (x > bbox[2]) bbox[2] = x;
    if (y > bbox[3]) bbox[3] = y;
  }
  return out;
}

self.onmessage = async (event) => {
  try {
    const response = await fetch(event.data.url, { cache: "force-cache", credentials: "omit" });
    if (!response.ok) throw new Error(`${event.data.url}: ${response.status}`);
    const topology = await response.json();
    const countries = self.topojson.feature(topology, topology.objects.countries);
    const land = [];
    const buffers = [];
    for (const feature of countries.features) {
      const g = feature.geometry;
      const polygons = !g ? [] : g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      if (!polygons.length) continue;
      const bbox = [Infinity, Infinity, -Infinity, -Infinity];
      const projected = polygons.map((rings) => rings.map((ring) => {
        const flat = projectRing(ring, bbox);
        buffers.push(flat.buffer);
        return flat;
      }));
      land.push({ polygons: projected, bbox });
    }
    self.postMessage({ land }, buffers);
  } catch (error) {
    self.postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
