// Time on the page, in one format: 24-hour UTC, "YYYY-MM-DD HH:MM:SSZ" — every instant the
// page prints (fmtInstant), what a person types into a time field ("YYYY-MM-DD HH:MM",
// UTC: parseTyped, typedValue), and every countdown to a deadline ("04:12", "1:04:12",
// "2 d 01:04:12": fmtCountdown), kept current by one timer that rewrites the countdowns'
// text in place (tickCountdowns) — no list is redrawn for it, so focus and typing stay.
// Pure but for tickCountdowns (which reads the document): no state, no requests.

/** The one format, as the page shows it to people (and as tests look for it). */
export const FORMAT = "YYYY-MM-DD HH:MM:SSZ";

/** What a time field takes: UTC, minutes (seconds allowed). */
export const TYPED_FORMAT = "YYYY-MM-DD HH:MM";

const pad = (n, width = 2) => String(n).padStart(width, "0");

function dateOf(value) {
  if (value instanceof Date) return value;
  if (typeof value === "number") return new Date(value);
  if (typeof value === "string" && value) return new Date(value);
  return null;
}

/** "YYYY-MM-DD HH:MM:SSZ" of an instant (an ISO string with its offset, a Date or ms since
 * the epoch); "—" when there is none or it is not an instant. Fractions of a second are cut
 * (never rounded up into the next second). */
export function fmtInstant(value) {
  const d = dateOf(value);
  if (!d || Number.isNaN(d.getTime())) return "—";
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

const ISO_IN_TEXT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** `text` (a sentence of the center's, as an alert's detail) with every ISO 8601 instant in
 * it written in the page's one format; nothing else changed. */
export function fmtTimesIn(text) {
  return typeof text === "string" ? text.replace(ISO_IN_TEXT, (iso) => fmtInstant(iso)) : text;
}

/** A Date as a time field shows it: "YYYY-MM-DD HH:MM" (UTC). */
export function typedValue(date) {
  return fmtInstant(date).slice(0, 16);
}

/** A Date `minutes` after `date`, rounded up to the next whole `step` minutes (a field's
 * sensible first value). */
export function roundedUp(date, minutes = 0, step = 5) {
  const ms = step * 60000;
  return new Date(Math.ceil((date.getTime() + minutes * 60000) / ms) * ms);
}

const TYPED = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+)(\d{1,2})[:.h]?(\d{2})(?:[:.](\d{2}))?\s*(?:Z|UTC)?$/i;

/**
 * What a person typed into a UTC time field: `{ empty: true }` for nothing, `{ iso, date }`
 * for an instant ("YYYY-MM-DD HH:MM", seconds and a trailing Z or UTC allowed, "T" or a space
 * between date and time, "." for ":" on keypads without it), or `{ error }` saying what is
 * wrong, in words that follow the field's name ("expected YYYY-MM-DD HH:MM (UTC), got …").
 * Nothing is guessed: no local time, no 12-hour clock, no date that does not exist.
 */
export function parseTyped(text) {
  const value = String(text ?? "").trim();
  if (!value) return { empty: true };
  const m = TYPED.exec(value);
  const wanted = `expected ${TYPED_FORMAT} (24-hour UTC), got “${value.slice(0, 40)}”`;
  if (!m) return { error: wanted };
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] || "0"].map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  if (h > 23 || mi > 59 || s > 59 || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return { error: `${wanted}: no such date or time` };
  }
  return { iso: `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}Z`, date };
}

/** A duration as a countdown shows it: "MM:SS" under an hour, "H:MM:SS" under a day, then
 * "N d HH:MM:SS" (whole seconds, the sign dropped). */
export function fmtCountdown(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const mm = pad(Math.floor((total % 3600) / 60));
  const ss = pad(total % 60);
  if (days) return `${days} d ${pad(h)}:${mm}:${ss}`;
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * A countdown's attributes for dom.js's `el`: the deadline and the words before it is due
 * ("objections close in") and after ("overdue by", "objections closed % ago": the duration
 * goes where "%" is, else at the end); tickCountdowns writes "objections close in 04:12"
 * or "overdue by 01:02", and the deadline in full as its title.
 */
export function countdownAttrs(deadline, before, after) {
  return {
    class: "countdown", "data-deadline": deadline, "data-before": before, "data-after": after,
    title: `due ${fmtInstant(deadline)}`,
  };
}

/** The text of a countdown node at `nowMs` (the center's clock). */
export function countdownText(node, nowMs) {
  const left = Date.parse(node.dataset.deadline) - nowMs;
  if (Number.isNaN(left)) return { text: "", late: false };
  const late = left < 0;
  // The message lists' countdowns predate the words: theirs stay as they read.
  const before = node.dataset.before ?? "acknowledgement due in";
  const after = node.dataset.after ?? "overdue by";
  const words = late ? after : before;
  const span = fmtCountdown(left);
  return { text: words.includes("%") ? words.replace("%", span) : `${words} ${span}`, late };
}

/** Rewrite one countdown for `nowMs`, in place: its one text node's data changes when the
 * text does, nothing else (no element is made or replaced). */
function rewrite(node, nowMs) {
  const { text, late } = countdownText(node, nowMs);
  const first = node.firstChild;
  if (first && first.nodeType === Node.TEXT_NODE && !first.nextSibling) {
    if (first.data !== text) first.data = text;
  } else {
    node.textContent = text;
  }
  if (node.classList.contains("late") !== late) node.classList.toggle("late", late);
}

/** Rewrite every countdown under `root` for `nowMs`, each in place. */
export function tickCountdowns(nowMs, root = document) {
  for (const node of root.querySelectorAll("[data-deadline]")) rewrite(node, nowMs);
}

/** Fill the countdowns among the elements just added, at once, not a second later. */
function fillAdded(records, nowMs) {
  let now = null;
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      const found = node.matches("[data-deadline]") ? [node] : [];
      found.push(...node.querySelectorAll("[data-deadline]"));
      if (!found.length) continue;
      now ??= nowMs();
      for (const n of found) rewrite(n, now);
    }
  }
}

let stopRunning = null;

/**
 * The page's one timer: each second, on the second of `nowMs` (the center's clock in ms),
 * `each(now)` (a Date; default: every countdown rewritten, tickCountdowns); a countdown
 * added to the document is filled as it arrives (a MutationObserver), so a list drawn
 * between two ticks shows no empty countdown. Started again, the previous one stops.
 * Returns a function that stops it.
 */
export function startCountdowns(nowMs, each = (now) => tickCountdowns(now.getTime())) {
  if (stopRunning) stopRunning(); // one timer on the page, whoever starts it again
  let timer = null;
  const run = () => {
    const now = nowMs();
    each(new Date(now));
    timer = setTimeout(run, 1000 - (now % 1000) + 5);
  };
  const observer = new MutationObserver((records) => fillAdded(records, nowMs));
  observer.observe(document.body, { childList: true, subtree: true });
  run();
  stopRunning = () => { clearTimeout(timer); observer.disconnect(); stopRunning = null; };
  return stopRunning;
}

/** The header's clock (`box`: its #clock-kind and its <time>): the center's time with its
 * date, and, when the center runs an exercise clock, "Exercise clock" marked as such. */
export function showClock(box, now, exercise) {
  if (!box) return;
  const time = box.querySelector("time");
  const kind = box.querySelector("#clock-kind");
  const text = fmtInstant(now);
  if (time.firstChild && time.firstChild.nodeType === Node.TEXT_NODE) {
    if (time.firstChild.data !== text) time.firstChild.data = text;
  } else {
    time.textContent = text;
  }
  time.setAttribute("datetime", now.toISOString());
  if (box.classList.contains("exercise") !== exercise) {
    box.classList.toggle("exercise", exercise);
    kind.textContent = exercise ? "Exercise clock" : "Center time";
    box.title = exercise
      ? "The center runs an exercise clock: this is the exercise's time, not the real time (UTC)."
      : "The center's clock (UTC).";
  }
}
