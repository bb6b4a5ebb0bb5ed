// The live event stream: GET /v1/events as Server-Sent Events over fetch() (EventSource
// cannot send the Authorization header), parsed here. On a dropped connection it reconnects
// with Last-Event-ID, so the server replays everything after the last event handled: no
// event is lost across a reconnect. A connection silent for longer than the server's
// keep-alive (15 s) is taken as dead and replaced.

import { token } from "./api.js";

const SILENCE_MS = 40000;

export class EventStream {
  /**
   * @param {(event: {id: number, kind: string, data: object}) => void} onEvent
   * @param {(state: "on"|"off"|"connecting", detail?: string) => void} onState
   */
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastId = null;
    this.stopped = false;
    this.controller = null;
    this.retryMs = 1000;
    this.opened = null;
  }

  /** Connect, after the event id `after` if given (every event after it is replayed), else
   * from now; resolves once the server has answered (its starting point is fixed then). */
  start(after = null) {
    this.stopped = false;
    if (after !== null) this.lastId = after;
    this.opened = new Promise((resolve) => { this._resolveOpened = resolve; });
    this._loop();
    return this.opened;
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }

  /** Drop the connection now (as a network failure would); it reconnects by itself. */
  drop() {
    if (this.controller) this.controller.abort();
  }

  async _loop() {
    while (!this.stopped) {
      try {
        await this._connect();
        this.retryMs = 1000;
      } catch (error) {
        if (this.stopped) break;
        if (error && error.status === 401) {
          this.onState("off", "the token is no longer valid");
          this.stopped = true;
          break;
        }
      }
      if (this.stopped) break;
      this.onState("off", `reconnecting in ${Math.round(this.retryMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, this.retryMs));
      this.retryMs = Math.min(this.retryMs * 2, 15000);
    }
  }

  async _connect() {
    this.onState("connecting");
    const controller = new AbortController();
    this.controller = controller;
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${token()}` };
    if (this.lastId !== null) headers["Last-Event-ID"] = String(this.lastId);
    const response = await fetch("/v1/events", {
      headers, signal: controller.signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
    if (!response.ok) {
      const error = new Error(`events: ${response.status}`);
      error.status = response.status;
      throw error;
    }
    this.onState("on");
    if (this._resolveOpened) { this._resolveOpened(); this._resolveOpened = null; }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    arm();
    let fields = { id: null, event: "message", data: [] };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        buffer += value;
        let nl;
        while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer[nl] === "\r" && buffer[nl + 1] === "\n" ? 2 : 1));
          if (line === "") {
            this._dispatch(fields);
            fields = { id: null, event: "message", data: [] };
            continue;
          }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? "" : line.slice(colon + 1);
          if (val.startsWith(" ")) val = val.slice(1);
          if (name === "id") fields.id = val;
          else if (name === "event") fields.event = val;
          else if (name === "data") fields.data.push(val);
          else if (name === "retry" && /^\d+$/.test(val)) this.retryMs = Math.max(500, Number(val));
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  _dispatch(fields) {
    const id = fields.id !== null && /^\d+$/.test(fields.id) ? Number(fields.id) : null;
    if (!fields.data.length) {
      // No data: no event, but an id still says where the stream stands (its first message).
      if (id !== null && (this.lastId === null || id > this.lastId)) this.lastId = id;
      return;
    }
    let data;
    try { data = JSON.parse(fields.data.join("\n")); } catch { return; }
    if (id !== null) {
      if (this.lastId !== null && id <= this.lastId) return; // already handled
      this.lastId = id;
    }
    try {
      this.onEvent({ id, kind: fields.event, data });
    } catch (error) {
      console.error("event handler failed", error);
    }
  }
}
