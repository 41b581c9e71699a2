// Choosing the official: a card for each (photo, name, post, what they handle, who stands in
// for them), narrowed by the topics of their competence.
//
// The booth's flow (kiosk.js) opens the screen and is told which official was chosen.

import { $, formatDate, getLang, setPlain, show, t } from "./common.js";

function areas(official) {
  return official.competence[getLang()]
    .split(/[,;]\s*/)
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => a[0].toUpperCase() + a.slice(1));
}

export class Officials {
  // `booth(method, path)`: the booth's API; `go(name)`: open a screen; `chosen(official)`: the
  // citizen chose this one.
  constructor({ booth, go, chosen }) {
    this.booth = booth;
    this.go = go;
    this.chosen = chosen;
    this.officials = [];
    this.filter = null;
  }

  // With larger text the topics take half the screen: they fold behind one button then.
  setFiltersOpen(open) {
    $("#filters-toggle").setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("filters-open", open);
  }

  async open() {
    this.go("officials");
    this.filter = null;
    try {
      this.officials = (await this.booth("GET", "/api/v1/officials")).officials;
      show($("#officials-error"), false);
    } catch (error) {
      if (error.status === 401) return this.go("unavailable");
      setPlain($("#officials-error"), error.localized());
      show($("#officials-error"));
    }
    this.render();
  }

  render() {
    const lang = getLang();
    const chips = $("#filters");
    chips.replaceChildren();
    const all = [...new Set(this.officials.flatMap(areas))];
    const chip = (label, value) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = `chip${this.filter === value ? " on" : ""}`;
      b.textContent = label;
      b.addEventListener("click", () => {
        this.filter = value;
        this.setFiltersOpen(false);
        this.render();
      });
      return b;
    };
    chips.append(chip(t("filter_all"), null), ...all.map((a) => chip(a, a)));
    for (const c of chips.children) c.setAttribute("aria-pressed", String(c.classList.contains("on")));
    const grid = $("#officials");
    grid.replaceChildren();
    const shown = this.officials.filter((o) => this.filter === null || areas(o).includes(this.filter));
    for (const o of shown) {
      const card = document.createElement("button");
      card.type = "button";
      card.className = "card";
      card.dataset.official = o.id;
      // Said from the gateway's clip of this official (name, post, what they handle).
      card.dataset.sayOfficial = o.id;
      const img = document.createElement("img");
      img.src = o.photo_url;
      img.alt = "";
      const text = document.createElement("div");
      text.className = "who";
      const line = (cls, value) => {
        const el = document.createElement("span");
        el.className = cls;
        el.textContent = value;
        text.append(el);
      };
      line("name", o.full_name[lang]);
      line("position", o.position[lang]);
      line("competence", o.competence[lang]);
      if (o.acting) {
        line("acting", `${t("acting_label")} ${o.acting.full_name?.[lang] ?? ""}`);
        line("acting-until", `${o.acting.position?.[lang] ?? ""} · ${t("acting_until", { date: formatDate(o.acting.until) })}`);
      }
      card.append(img, text);
      card.addEventListener("click", () => this.chosen(o));
      grid.append(card);
    }
    if (!shown.length) {
      const p = document.createElement("p");
      p.textContent = t("officials_empty");
      grid.append(p);
    }
    // A new list, or a new topic's, starts at its first official. The window keeps its scroll
    // through the new cards (and through the screen being hidden): the next citizen found the
    // list where the last one had left it, its first officials out of sight.
    grid.scrollTop = 0;
  }

  install() {
    $("#filters-toggle").addEventListener("click", () => {
      this.setFiltersOpen($("#filters-toggle").getAttribute("aria-expanded") !== "true");
    });
  }
}
