// The basemap, prepared off the page's main thread (a classic worker): the world-atlas
// TopoJSON fetched, converted with topojson-client, and each country's rings handed back as
// flat [lon, lat, lon, lat, …] Float64Arrays (transferred, not copied) with the country's
// lon/lat bounds. The page projects and draws them (map.js). Posts {land} or {error}.

importScripts("/vendor/topojson-client.js");

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
      land.push(polygons.map((rings) => rings.map((ring) => {
        const flat = new Float64Array(ring.length * 2);
        ring.forEach((c, i) => { flat[2 * i] = c[0]; flat[2 * i + 1] = c[1]; });
        buffers.push(flat.buffer);
        return flat;
      })));
    }
    self.postMessage({ land }, buffers);
  } catch (error) {
    self.postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
