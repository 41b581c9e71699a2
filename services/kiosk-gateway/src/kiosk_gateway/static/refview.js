// One reference entry drawn the same on the booth and on /help. The answer and the documents
// arrive as HTML the gateway made from the restricted markup (every character of the author's
// text escaped, only p/br/ul/ol/li/strong made), so it is the one place innerHTML is used.

import { getLang, t } from "./common.js";

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

export function pick(localized) {
  if (!localized) return "";
  return localized[getLang()] || localized.ru || localized.kk || "";
}

export function renderEntry(root, entry, { links = true } = {}) {
  root.replaceChildren();
  root.lang = getLang();
  root.append(el("h1", { id: "entry-title", tabindex: "-1" }, pick(entry.question)));
  if (entry.topic_name) root.append(el("p", { class: "topic" }, pick(entry.topic_name)));
  const answer = el("div", { class: "entry-answer", id: "entry-answer" });
  answer.innerHTML = entry.answer_html[getLang()];
  root.append(answer);
  if (entry.documents_html) {
    root.append(el("h2", {}, t("ref_documents")));
    const docs = el("div", { class: "entry-documents" });
    docs.innerHTML = entry.documents_html[getLang()];
    root.append(docs);
  }
  const place = entry.place;
  if (place && (place.office || place.address || place.hours || place.phone)) {
    root.append(el("h2", {}, t("ref_where")));
    const list = el("dl", { class: "entry-place" });
    for (const [label, value] of [
      [t("ref_office"), pick(place.office)],
      [t("ref_address"), pick(place.address)],
      [t("ref_hours"), pick(place.hours)],
      [t("ref_phone"), place.phone || ""],
    ]) {
      if (value) list.append(el("dt", {}, label), el("dd", {}, value));
    }
    root.append(list);
  }
  if (entry.service_url) {
    root.append(el("h2", {}, t("ref_online")));
    // The booth has no browser to send a citizen away to: the address is shown (and printed).
    const link = links
      ? el("a", { href: entry.service_url, rel: "noopener noreferrer" }, entry.service_url)
      : el("span", { class: "url" }, entry.service_url);
    const line = el("p", { class: "entry-link" });
    line.append(link);
    root.append(line);
  }
}
