// Shared by the booth (/kiosk) and the tracking page (/track): texts, numbers, API calls.
// No text lives here: every string shown comes from the catalogs in the page's config.

export const config = JSON.parse(document.getElementById("config").textContent);

let lang = "kk";

export function getLang() {
  return lang;
}

export function t(key, vars = {}, language = lang) {
  const text = config.catalog[language][key];
  if (text === undefined) throw new Error(`missing message ${key}`);
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// Elements carry data-i18n="key" (and data-lang="kk|ru" to stay in one language, which a
// screen reader and the booth's voice are told by `lang`); data-i18n-label="key" names a
// control that shows a symbol.
export function applyTexts(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n, {}, el.dataset.lang || lang);
    if (el.dataset.lang) el.lang = el.dataset.lang;
  }
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel, {}, el.dataset.lang || lang));
  }
}

// A text set from the catalog at run time, remembered by key so the booth's voice can say it.
export function setText(el, key, vars = {}) {
  el.textContent = t(key, vars);
  el.dataset.say = key;
  el.dataset.sayVars = JSON.stringify(vars);
}

// A text that is not the catalog's (a server message, a name): shown, never spoken from a clip.
export function setPlain(el, text) {
  el.textContent = text;
  delete el.dataset.say;
  delete el.dataset.sayVars;
}

export function setLang(value) {
  lang = value;
  document.documentElement.lang = value;
  applyTexts();
}

// The Damm check digit of kiosk_gateway/registration.py: it catches every single mistyped
// digit and every swap of neighbours, so a typo never reaches the server.
const DAMM = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

export function dammValid(digits) {
  let interim = 0;
  for (const c of digits) interim = DAMM[interim][c.charCodeAt(0) - 48];
  return interim === 0;
}

export const NUMBER_DIGITS = 11;
export const CODE_DIGITS = 8;

// null when fine; otherwise the catalog key of what is wrong with a typed number.
export function numberProblem(digits) {
  if (!/^[0-9]*$/.test(digits) || digits.length !== NUMBER_DIGITS) return "err_number_length";
  const issued = Number(digits.slice(0, 4)) >= 1000 && Number(digits.slice(4, 10)) >= 1;
  if (!dammValid(digits) || !issued) return "err_number_check";
  return null;
}

export function formatNumber(digits) {
  const parts = [digits.slice(0, 4), digits.slice(4, 10), digits.slice(10, 11)];
  return parts.filter((p) => p).join("-");
}

export function formatDate(iso) {
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}.${m}.${y}`;
}

export class ApiFailure extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }

  get code() {
    return this.body?.error?.code ?? null;
  }

  get field() {
    return this.body?.error?.field ?? null;
  }

  // The server's own message in the citizen's language, or a general one.
  localized() {
    return this.body?.error?.message?.[lang] ?? t(this.status === 0 ? "err_network" : "error_generic");
  }
}

export async function api(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiFailure(0, null);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiFailure(response.status, data);
  return data;
}

export function show(el, visible = true) {
  el.hidden = !visible;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// The look-up's status and dates, shown the same way at the booth and on the tracking page.
// Returns whether the appeal is answered.
export function fillLookupResult(found) {
  setText($("#result-title"), "result_title", { number: found.registration_number });
  const answered = found.status === "answered";
  // Past the storage period the file is destroyed: the page says so, and shows no deadlines.
  const destroyed = found.status === "destroyed";
  setText(
    $("#result-status"),
    answered ? "status_answered" : destroyed ? "status_destroyed" : "status_registered",
  );
  $("#result-status").className = `status${answered ? " ok" : ""}`;
  if (answered || destroyed) setPlain($("#result-hint"), "");
  else setText($("#result-hint"), "status_registered_hint");
  // Answers are given in the language of the appeal, whatever the page's language.
  $("#answer-text").lang = found.language;
  const dates = $("#result-dates");
  dates.replaceChildren();
  const row = (key, value) => {
    const dt = document.createElement("dt");
    setText(dt, key);
    const dd = document.createElement("dd");
    dd.textContent = formatDate(value);
    dd.dataset.sayDigits = dd.textContent;
    dates.append(dt, dd);
  };
  row("date_registered", found.registered_at);
  if (found.answer) row("date_answered", found.answer.answered_at);
  else if (!destroyed) {
    row("date_control", found.control_date);
    row("date_legal", found.legal_deadline);
  }
  return answered;
}
