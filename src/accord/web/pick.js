// Picking one point on the map into a form's lon and lat fields: the report's place, a
// message's point and a declared site's place are all taken this way.

/**
 * Take a point from the next click on `map` (an OperatingMap) into the fields `lon` and
 * `lat` (five decimals, lon first as everywhere on the page), then call `done()` (which stops
 * the drawing, redraws the draft and gives the focus back). `help` (the map's help line) says
 * `message`; the map takes the focus so that Esc, handled by the caller for `mode`, cancels.
 */
export function pickPointInto(map, { mode, lon, lat, help, message, done }) {
  map.drawing = {
    mode,
    click: (p) => {
      lon.value = p[0].toFixed(5);
      lat.value = p[1].toFixed(5);
      done();
    },
    move: () => {},
  };
  help.hidden = false;
  help.textContent = message;
  map.map.getContainer().focus();
}
