// Toasts: short notices stacked at the foot of the page. A passing notice ("Sent.") goes by
// itself after a few seconds; what the viewer must not miss — a veto, an approval, an
// objection, a hold or a cancellation of its party's operation, a new direct-line message
// — stays until dismissed or ~15 s, and longer while the pointer or the keyboard is on it.
// A toast that names something selects it when clicked (its main button); its × dismisses
// it. The stack is a polite live region: each new toast is read out once.
//
// No inline style (the page's Content-Security-Policy): the look is app.css's, by class.

import { el } from "./dom.js";

/** How long a passing notice stays, and one the viewer must not miss, in ms. */
export const BRIEF_MS = 6000;
export const LASTING_MS = 15000;

/** The most toasts shown at once: the oldest goes first. */
const MAX_SHOWN = 5;

export class Toasts {
  /** `box`: the live region that holds the stack (index.html's #toast). */
  constructor(box) {
    this.box = box;
    box.classList.add("toasts");
    box.setAttribute("aria-relevant", "additions");
  }

  /**
   * Show a toast: `text` (its one line), `title` (bold, before it), `kind` (a class: "info",
   * "bad", "good", "warn", "message"), `ms` (how long it stays; LASTING_MS for what must not
   * be missed), `onSelect` (what a click on it does: then it is a button), `key` (a toast
   * with the same key replaces the one shown). The toast's element.
   */
  show({ text, title = null, kind = "info", ms = BRIEF_MS, onSelect = null, key = null }) {
    if (key) for (const node of this.box.querySelectorAll(".toast-item")) if (node.dataset.key === key) this.dismiss(node);
    const words = [title ? el("strong", { text: `${title} ` }) : null, text];
    const body = onSelect
      ? el("button", { type: "button", class: "toast-body", onclick: () => { onSelect(); this.dismiss(item); } }, ...words)
      : el("span", { class: "toast-body" }, ...words);
    const close = el("button", { type: "button", class: "toast-close", "aria-label": "Dismiss this notice", title: "Dismiss", onclick: () => this.dismiss(item) }, el("span", { "aria-hidden": "true", text: "×" }));
    const item = el("div", { class: `toast-item ${kind}`, "data-key": key, "data-kind": kind }, body, close);
    item.addEventListener("keydown", (e) => { if (e.key === "Escape") this.dismiss(item); });
    this.box.append(item);
    while (this.box.querySelectorAll(".toast-item").length > MAX_SHOWN) this.dismiss(this.box.querySelector(".toast-item"));
    this._expire(item, ms);
    // kept while looked at: the pointer over it or the keyboard in it
    const hold = () => clearTimeout(item._timer);
    const resume = () => { if (!item.matches(":hover") && !item.contains(document.activeElement)) this._expire(item, BRIEF_MS); };
    item.addEventListener("mouseenter", hold);
    item.addEventListener("focusin", hold);
    item.addEventListener("mouseleave", resume);
    item.addEventListener("focusout", () => setTimeout(resume, 0));
    return item;
  }

  _expire(item, ms) {
    clearTimeout(item._timer);
    item._timer = setTimeout(() => this.dismiss(item), ms);
  }

  /** Take a toast away; the keyboard, if it was in it, goes back to the page's main panel. */
  dismiss(item) {
    if (!item || !item.isConnected) return;
    clearTimeout(item._timer);
    const hadFocus = item.contains(document.activeElement);
    item.remove();
    if (hadFocus) {
      const next = this.box.querySelector(".toast-item .toast-body, .toast-item .toast-close");
      if (next) next.focus();
      else document.getElementById("sidebar")?.focus();
    }
  }

  /** The texts shown now (for tests and measurements). */
  shown() {
    return [...this.box.querySelectorAll(".toast-item")].map((n) => n.textContent.replace(/×$/, "").trim());
  }
}
