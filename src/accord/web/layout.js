// The page's layouts. Wide screens show the map and the panels side by side; below 800 px
// (app.css) one of them at a time, chosen with a tab bar "Map | Panels" (#views): buttons
// with the tab role, Left/Right/Home/End move between them, Enter or Space (a click)
// choose. The choice is kept while the page lives (body[data-view]), whatever the width
// does meanwhile; the map is told its size changed whenever it is shown again.

const VIEWS = ["map", "panels"];

let current = "map";

/** The buttons that act on the map: choosing one shows the map. */
const MAP_BUTTONS = 'button[data-key*=":show"], #draw-circle, #draw-polygon, #r-pick';

/** Which of the two is chosen ("map" or "panels"). */
export function view() {
  return current;
}

/** Show `which` ("map" or "panels") below 800 px; `focus`: move the focus to its tab. */
export function showView(which, { focus = false } = {}) {
  if (!VIEWS.includes(which)) return;
  current = which;
  document.body.dataset.view = which;
  for (const name of VIEWS) {
    const tab = document.getElementById(`view-${name}`);
    if (!tab) continue;
    const on = name === which;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    if (on && focus) tab.focus();
  }
  // Leaflet measures its container on a window resize: the map shown again takes its size.
  if (which === "map") requestAnimationFrame(() => window.dispatchEvent(new Event("resize")));
}

/** Wire the tab bar (once). */
export function setUpLayout() {
  const bar = document.getElementById("views");
  if (!bar || bar.dataset.wired) return;
  bar.dataset.wired = "true";
  for (const name of VIEWS) {
    const tab = document.getElementById(`view-${name}`);
    if (tab) tab.addEventListener("click", () => showView(name));
  }
  bar.addEventListener("keydown", (e) => {
    const at = VIEWS.indexOf(current);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: VIEWS.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    showView(VIEWS[(to + VIEWS.length) % VIEWS.length], { focus: true });
  });
  // What needs the map (show a thing on it, draw on it, pick a point) brings it into view.
  // "Skip to the panels" shows them first.
  document.addEventListener("click", (e) => {
    if (!(e.target instanceof Element)) return;
    if (current !== "map" && e.target.closest(MAP_BUTTONS)) showView("map");
    else if (current !== "panels" && e.target.closest("a.skip")) showView("panels");
  }, true);
  showView(current);
}
