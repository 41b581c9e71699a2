// The booth's reference desk: common questions by topic or by a word typed on the screen's
// keyboard, one entry at a time (printed on request), and "maybe your question is answered
// here" after an official is chosen. What was opened is told to the gateway when the citizen
// records all the same, so the akimat sees which entries did not answer the question.

import { $, ApiFailure, getLang, setPlain, setText, show, t } from "./common.js";
import { Fields } from "./keyboard.js";
import { pick, renderEntry } from "./refview.js";

export class ReferenceDesk {
  // `go(screen)` shows a screen; `booth(method, path, body)` calls the booth API;
  // `record()` starts an appeal from the start (consent); `recordTo(official)` goes on with one.
  constructor({ go, booth, record, recordTo, unavailable }) {
    this.go = go;
    this.booth = booth;
    this.record = record;
    this.recordTo = recordTo;
    this.unavailable = unavailable;
    this.forget();
    this.search = new Fields($("#screen-reference"), $("#ref-keyboard"), { refq: () => null });
    // The keyboard comes out when the search box is touched, and goes with the search, so
    // the topics and questions have the screen the rest of the time.
    $("#field-refq").addEventListener("click", () => this.typing(true));
    $("#ref-find").addEventListener("click", () => this.find());
    $("#ref-back").addEventListener("click", () => this.go("start"));
    $("#ref-record").addEventListener("click", () => this.record());
    $("#suggest-back").addEventListener("click", () => this.go("officials"));
    $("#suggest-record").addEventListener("click", () => this.recordTo(this.official));
    $("#entry-back").addEventListener("click", () => this.go(this.from));
    $("#entry-record").addEventListener("click", () => (this.official ? this.recordTo(this.official) : this.record()));
    $("#entry-print").addEventListener("click", () => this.print());
  }

  // A new citizen: nothing of the last one's reading stays.
  forget() {
    this.seen = new Set();
    this.offered = false;
    this.topic = null;
    this.official = null;
    this.entry = null;
    this.from = "reference";
  }

  async open() {
    this.official = null;
    this.topic = null;
    this.go("reference");
    this.search.reset();
    this.typing(false);
    await this.list({});
    // Opened at its topics: the window kept the last citizen's scroll (1556 px down, in larger
    // text). A topic chosen further down keeps its place, with its questions under it.
    $("#ref-body").scrollTop = 0;
  }

  async list(params) {
    const query = new URLSearchParams(params).toString();
    try {
      const found = await this.booth("GET", `/api/v1/reference${query ? `?${query}` : ""}`);
      show($("#ref-error"), false);
      return this.draw(found, params);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      if (error.status === 401) return this.unavailable();
      setPlain($("#ref-error"), error.localized());
      show($("#ref-error"));
      return null;
    }
  }

  draw(found, params) {
    const tiles = $("#ref-topics");
    tiles.replaceChildren(
      ...found.topics.map((topic) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "tile secondary";
        b.dataset.topic = topic.id;
        b.setAttribute("aria-pressed", String(topic.id === this.topic));
        const name = document.createElement("span");
        name.textContent = pick(topic.name);
        const count = document.createElement("span");
        count.className = "count";
        count.textContent = t("ref_count", { n: topic.count });
        b.append(name, count);
        b.addEventListener("click", () => {
          this.topic = this.topic === topic.id ? null : topic.id;
          this.list(this.topic ? { topic: this.topic } : {});
        });
        return b;
      }),
    );
    const title = $("#ref-results-title");
    if (params.q) setText(title, "ref_results_for", { q: params.q });
    else if (this.topic) setPlain(title, pick(found.topics.find((x) => x.id === this.topic)?.name));
    else setText(title, "ref_common");
    show(title);
    this.fill($("#ref-results"), found.entries, "reference");
    show($("#ref-nothing"), found.entries.length === 0);
    return found;
  }

  fill(list, entries, from) {
    list.replaceChildren(
      ...entries.map((entry) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "secondary";
        b.dataset.entry = entry.id;
        b.textContent = pick(entry.question);
        b.lang = getLang();
        b.addEventListener("click", () => this.openEntry(entry.id, from));
        return b;
      }),
    );
    list.scrollTop = 0; // a new list from its first entry, as the officials' (officials.js)
  }

  typing(on) {
    $("#screen-reference").classList.toggle("typing", on);
    show($("#ref-keyboard"), on);
  }

  async find() {
    this.typing(false);
    const q = (this.search.values.refq || "").trim();
    this.topic = null;
    await this.list(q ? { q } : {});
  }

  // After an official is chosen: their entries first, or straight on when there are none.
  async offer(official) {
    this.official = official;
    // Offered once: a citizen who came back to choose again has seen the offer.
    if (this.offered) return this.recordTo(official);
    this.offered = true;
    let found = null;
    try {
      found = await this.booth("GET", `/api/v1/reference?official=${encodeURIComponent(official.id)}`);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
    }
    if (!found || !found.entries.length) return this.recordTo(official);
    this.fill($("#suggest-list"), found.entries, "suggest");
    this.go("suggest");
  }

  async openEntry(entryId, from) {
    try {
      this.entry = await this.booth("GET", `/api/v1/reference/${encodeURIComponent(entryId)}`);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      if (error.status === 401) return this.unavailable();
      setPlain($("#ref-error"), error.localized());
      return show($("#ref-error"));
    }
    this.seen.add(entryId);
    this.from = from;
    renderEntry($("#ref-entry"), this.entry, { links: false });
    // Said from the gateway's clip of this entry, as an official's card is (speech.py).
    $("#ref-entry").dataset.sayReference = entryId;
    $("#entry-print-status").textContent = "";
    this.go("entry");
    $("#ref-entry").scrollTop = 0;
  }

  async print() {
    if (!this.entry) return;
    const status = $("#entry-print-status");
    try {
      await this.booth("POST", `/api/v1/reference/${encodeURIComponent(this.entry.id)}/print`, { language: getLang() });
      setText(status, "ref_printing");
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      setPlain(status, error.localized());
    }
  }

  // The appeal is registered: the entries opened before it did not answer the question.
  async recorded() {
    if (!this.seen.size) return;
    const entries = [...this.seen];
    this.seen = new Set();
    await this.booth("POST", "/api/v1/reference/recorded", { entries }).catch(() => null);
  }
}
