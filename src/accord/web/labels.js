// Label placement for the map's canvases: each label is measured, tried at several places
// around its anchor (right, left, above, below, then the corners), and put at the first place
// that overlaps no label already placed and no obstacle (a symbol, a cluster); what finds no
// place is tried again shortened, then left out (its object still answers a hover with its
// full text). Labels are placed in priority order, so what matters most is placed first.

const CELL = 64; // the collision grid's cell, in container pixels

/** The priority of a label by its map layer (smaller: placed first). */
export const LABEL_RANK = {
  messages: 0, reports: 0, // received coordinates and reports: what the officer must read
  protected: 1,
  operations: 2,
  conflicts: 3,
  positions: 4,
  flights: 4,
  areas: 5,
  rings: 6, // the meaning and radius of a shared object's ring
  tracks: 7, // on the dynamic canvas, around what the static one placed
  alerts: 7,
};

const widths = new Map(); // font + text → measured width (texts repeat at every redraw)

export function measure(ctx, text) {
  const key = `${ctx.font}|${text}`;
  let w = widths.get(key);
  if (w === undefined) {
    w = ctx.measureText(text).width;
    if (widths.size > 20000) widths.clear();
    widths.set(key, w);
  }
  return w;
}

/** A shorter form of a label: its first words up to `max` characters, and an ellipsis. */
export function shorten(text, max = 14) {
  if (text.length <= max) return text;
  const words = text.split(/\s+/);
  let out = "";
  for (const w of words) {
    if ((out ? out.length + 1 : 0) + w.length > max) break;
    out = out ? `${out} ${w}` : w;
  }
  if (!out) out = text.slice(0, max - 1);
  return `${out.replace(/[\s·,:;-]+$/, "")}…`;
}

export class Placer {
  /** A placer over a container of `width` × `height` pixels. */
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.grid = new Map(); // cell → boxes in it
    this.boxes = []; // the labels placed: {text, full, x, y, w, h, rank}
  }

  /** A placer whose room is what `other` (if any) took, with no box of its own yet. */
  static around(other, width, height) {
    const placer = new Placer(width, height);
    if (other) for (const [key, list] of other.grid) placer.grid.set(key, list.slice());
    return placer;
  }

  _cells(b, visit) {
    const c0 = Math.floor(b.x / CELL), c1 = Math.floor((b.x + b.w) / CELL);
    const r0 = Math.floor(b.y / CELL), r1 = Math.floor((b.y + b.h) / CELL);
    for (let c = c0; c <= c1; c++) {
      for (let r = r0; r <= r1; r++) if (visit(`${c}:${r}`) === false) return false;
    }
    return true;
  }

  /** Whether a box is inside the container and overlaps nothing placed. */
  free(b) {
    if (b.x < 0 || b.y < 0 || b.x + b.w > this.width || b.y + b.h > this.height) return false;
    return this._cells(b, (key) => {
      const list = this.grid.get(key);
      if (!list) return true;
      for (const o of list) {
        if (b.x < o.x + o.w && o.x < b.x + b.w && b.y < o.y + o.h && o.y < b.y + b.h) return false;
      }
      return true;
    });
  }

  /** Take a box's room (a label or an obstacle). */
  occupy(b) {
    this._cells(b, (key) => {
      const list = this.grid.get(key);
      if (list) list.push(b);
      else this.grid.set(key, [b]);
    });
  }

  /** Place a label of `text` near (ax, ay), clear of a symbol of radius `r`: the box taken, or
   * null. `ctx` measures the text in its current font; `h` is the box's height. `short`
   * (optional) is tried when the full text finds no place. */
  place(ctx, text, ax, ay, { r = 6, h = 16, rank = 9, short = null, full = text } = {}) {
    for (const t of short && short !== text ? [text, short] : [text]) {
      const w = Math.ceil(measure(ctx, t)) + 6;
      const g = r + 2;
      const candidates = [
        [ax + g, ay - h / 2], // right
        [ax - g - w, ay - h / 2], // left
        [ax - w / 2, ay - g - h], // above
        [ax - w / 2, ay + g], // below
        [ax + g, ay - g - h], // upper right
        [ax + g, ay + g], // lower right
        [ax - g - w, ay - g - h], // upper left
        [ax - g - w, ay + g], // lower left
      ];
      for (const [x, y] of candidates) {
        const b = { text: t, full, x: Math.round(x), y: Math.round(y), w, h, rank };
        if (this.free(b)) {
          this.occupy(b);
          this.boxes.push(b);
          return b;
        }
      }
    }
    return null;
  }

  /** Draw a placed label's text (the box holds 3 px of padding either side). */
  static draw(ctx, b, colour) {
    ctx.fillStyle = colour;
    ctx.strokeText(b.text, b.x + 3, b.y + b.h / 2);
    ctx.fillText(b.text, b.x + 3, b.y + b.h / 2);
  }
}
