// Building the page's elements: one helper, shared by the modules that render (app.js,
// line.js). Text goes in as text (never as HTML) and no style attribute is ever set (the
// page's Content-Security-Policy allows no inline style).

/**
 * A new element: `attrs` are attributes (`class`, `text` for its text, `on<event>` for a
 * listener; null, undefined and false are left out, true is an empty attribute), then its
 * children (elements or strings; null is left out).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}
