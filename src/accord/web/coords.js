// A point typed as MGRS, decimal degrees (latitude first) or degrees-minutes-seconds, read
// by the center (GET /v1/coordinates: the one parser, the very one that reads a declaration's
// or an operation's properties.mgrs) and shown before anything is submitted:
// "Parsed: 25.34567° N, 21.76543° E (MGRS, 10 m)". The answer depends on the text alone.

import { api } from "./api.js";

const KIND = Object.freeze({ mgrs: "MGRS", decimal: "decimal degrees", dms: "DMS" });

/** The line shown for a point read (an answer of GET /v1/coordinates). */
export function parsedText(point) {
  const precision = point.precision_m ? `, ${point.precision_m.toLocaleString("en")} m` : "";
  return `Parsed: ${point.forms.decimal} (${KIND[point.kind] || point.kind}${precision})`;
}

/** The line shown for a refusal: the center's reason for the field, else its detail. */
export function refusedText(error) {
  const first = error.body && Array.isArray(error.body.errors) && error.body.errors[0];
  return `Not a point: ${first && first.message ? first.message : error.message}`;
}

/**
 * Read what is typed in `input` (debounced by `delay` ms; an answer for an older text is
 * dropped) and show it in `out`; `onPoint(point)` is called with the answer, or with null
 * when the field is emptied or refused. Returns {current(): the point read for the text now
 * in the field, or null}.
 */
export function typedPoint(input, out, { onPoint = () => {}, delay = 300 } = {}) {
  let timer = null;
  let pending = null;
  let read = null; // {text, point}
  const settle = (text, point, line) => {
    if (input.value !== text) return; // typed on since: the newer text's answer will come
    read = point ? { text, point } : null;
    out.textContent = line;
    input.setAttribute("aria-invalid", point || !text.trim() ? "false" : "true");
    onPoint(point);
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    if (pending) pending.abort();
    read = null;
    const text = input.value;
    if (!text.trim()) { settle(text, null, ""); return; }
    out.textContent = "Reading…";
    timer = setTimeout(async () => {
      pending = new AbortController();
      try {
        const point = await api("GET", `/v1/coordinates?text=${encodeURIComponent(text)}`, undefined, { signal: pending.signal });
        settle(text, point, parsedText(point));
      } catch (error) {
        if (error.name === "AbortError") return;
        settle(text, null, refusedText(error));
      }
    }, delay);
  });
  return {
    current: () => (read && read.text === input.value ? read.point : null),
    clear: () => { clearTimeout(timer); read = null; input.value = ""; out.textContent = ""; input.removeAttribute("aria-invalid"); },
  };
}
