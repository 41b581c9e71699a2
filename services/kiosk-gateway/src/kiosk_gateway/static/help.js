// The reference desk on the web at /help: the entries, a word search, one page per entry.
// The server puts what the page shows into its config; this only draws it in the chosen language.

import { $, config, setLang, t } from "./common.js";
import { pick, renderEntry } from "./refview.js";

function link(path, params = {}) {
  const query = new URLSearchParams({ lang: document.documentElement.lang, ...params });
  return `${path}?${query}`;
}

function item(href, text, extra = null) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  li.append(a);
  if (extra) li.append(" ", extra);
  return li;
}

function draw() {
  const lang = document.documentElement.lang;
  $("#search-lang").value = lang;
  $("#q").value = config.q || "";
  $("#back-to-list").href = link("/help");
  $("#help-home").href = link("/help");
  if (config.entry) {
    $("#listing").hidden = true;
    $("#entry").hidden = false;
    renderEntry($("#entry"), config.entry);
    document.title = pick(config.entry.question);
    return;
  }
  if (config.missing) {
    $("#listing").hidden = true;
    $("#entry-missing").hidden = false;
    return;
  }
  $("#listing").hidden = false;
  $("#topic-list").replaceChildren(
    ...config.topics.map((x) => {
      const li = item(link("/help", { topic: x.id }), `${pick(x.name)} (${x.count})`);
      if (x.id === config.topic) li.firstChild.setAttribute("aria-current", "page");
      return li;
    }),
  );
  $("#results-title").textContent = config.q ? t("ref_results_for", { q: config.q }) : t("ref_common");
  $("#results").replaceChildren(...config.entries.map((e) => item(link(`/help/${e.id}`), pick(e.question))));
  const none = config.entries.length === 0;
  $("#nothing").hidden = !none;
  if (none) $("#nothing").textContent = t("ref_nothing");
}

function switchTo(lang) {
  setLang(lang);
  for (const b of document.querySelectorAll("[data-lang-switch]")) {
    b.setAttribute("aria-pressed", String(b.dataset.langSwitch === lang));
  }
  const url = new URL(location.href);
  url.searchParams.set("lang", lang);
  history.replaceState(null, "", url);
  draw();
}

for (const b of document.querySelectorAll("[data-lang-switch]")) {
  b.addEventListener("click", () => switchTo(b.dataset.langSwitch));
}
switchTo(config.lang);
