// The tracking page at /track: the receipt's number and code → the status or the answer.

import { $, api, applyTexts, formatDate, formatNumber, numberProblem, setLang, t } from "./common.js";

let last = null;

function switchTo(lang) {
  setLang(lang);
  for (const b of document.querySelectorAll("[data-lang-switch]")) {
    b.setAttribute("aria-pressed", String(b.dataset.langSwitch === lang));
  }
  if (last) render(last);
}

for (const b of document.querySelectorAll("[data-lang-switch]")) {
  b.addEventListener("click", () => switchTo(b.dataset.langSwitch));
}

function digits(text) {
  return text.replace(/[\s\u2010-\u2015\u2212-]/g, "");
}

function problems() {
  const number = digits($("#number").value);
  const code = $("#code").value.trim();
  const numberError = numberProblem(number);
  const codeError = /^[0-9]{8}$/.test(code) ? null : "err_code_length";
  return { number, code, numberError, codeError };
}

function mark(input, errorEl, key) {
  errorEl.textContent = key ? t(key) : "";
  input.setAttribute("aria-invalid", String(Boolean(key)));
}

// Errors as the citizen types, once a field is long enough to judge.
$("#number").addEventListener("input", () => {
  const { number, numberError } = problems();
  mark($("#number"), $("#number-error"), number.length >= 11 ? numberError : null);
});

$("#form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const { number, code, numberError, codeError } = problems();
  mark($("#number"), $("#number-error"), numberError);
  mark($("#code"), $("#code-error"), codeError);
  $("#form-error").textContent = "";
  if (numberError || codeError) return;
  try {
    last = await api("POST", "/api/v1/answers/lookup", {
      body: { registration_number: formatNumber(number), access_code: code },
    });
    render(last);
  } catch (error) {
    $("#result").hidden = true;
    $("#form-error").textContent = error.localized();
  }
});

function render(found) {
  $("#result").hidden = false;
  $("#result-title").textContent = t("result_title", { number: found.registration_number });
  const answered = found.status === "answered";
  $("#result-status").textContent = t(answered ? "status_answered" : "status_registered");
  $("#result-status").className = `status${answered ? " ok" : ""}`;
  $("#result-hint").textContent = answered ? "" : t("status_registered_hint");
  const dates = $("#result-dates");
  dates.replaceChildren();
  const row = (key, value) => {
    const dt = document.createElement("dt");
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.textContent = formatDate(value);
    dates.append(dt, dd);
  };
  row("date_registered", found.registered_at);
  if (found.answer) row("date_answered", found.answer.answered_at);
  else {
    row("date_control", found.control_date);
    row("date_legal", found.legal_deadline);
  }
  $("#answer-text").hidden = !found.answer;
  $("#answer-text").textContent = found.answer?.text ?? "";
  $("#answer-unavailable").hidden = !(answered && !found.answer);
  const url = found.answer?.video_url;
  $("#answer-video-box").hidden = !url;
  const video = $("#answer-video");
  if (url && video.getAttribute("src") !== url) video.src = url;
}

// The page opens in the browser's language when it is Russian, else in Kazakh.
switchTo((navigator.language || "").toLowerCase().startsWith("ru") ? "ru" : "kk");
applyTexts();
