// The tracking page at /track: the receipt's number and code → the status or the answer.

import {
  $,
  api,
  applyTexts,
  fillLookupResult,
  formatNumber,
  numberProblem,
  setLang,
  t,
} from "./common.js";
import { fillRating, sendRating, showReasons } from "./rating.js";

let last = null;
let keys = null;
let reason = null;

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
    const body = { registration_number: formatNumber(number), access_code: code };
    last = await api("POST", "/api/v1/answers/lookup", { body });
    keys = body;
    render(last);
    // A screen reader is taken to the result and reads it out; otherwise nothing says that
    // anything happened below the form.
    $("#result-title").focus();
  } catch (error) {
    $("#result").hidden = true;
    $("#form-error").textContent = error.localized();
  }
});

function render(found) {
  $("#result").hidden = false;
  const answered = fillLookupResult(found);
  $("#answer-text").hidden = !found.answer;
  $("#answer-text").textContent = found.answer?.text ?? "";
  $("#answer-unavailable").hidden = !(answered && !found.answer);
  const url = found.answer?.video_url;
  $("#answer-video-box").hidden = !url;
  const video = $("#answer-video");
  if (url && video.getAttribute("src") !== url) video.src = url;
  fillRating(found);
}

async function rate(helped) {
  $("#rating-error").textContent = "";
  try {
    const comment = $("#rating-comment").value.trim();
    last = await sendRating(keys, helped, helped ? null : reason, comment);
    render(last);
    $("#rating-status").focus();
  } catch (error) {
    $("#rating-error").textContent = error.localized();
  }
}

$("#rate-yes").addEventListener("click", () => rate(true));
$("#rate-no").addEventListener("click", () => {
  reason = last?.rating?.helped === false ? last.rating.reason : null;
  showReasons();
});
for (const b of document.querySelectorAll("[data-reason]")) {
  b.addEventListener("click", () => {
    reason = b.dataset.reason;
    for (const other of document.querySelectorAll("[data-reason]")) {
      other.setAttribute("aria-pressed", String(other === b));
    }
  });
}
$("#rating-send").addEventListener("click", () => rate(false));

// The page opens in the browser's language when it is Russian, else in Kazakh.
switchTo((navigator.language || "").toLowerCase().startsWith("ru") ? "ru" : "kk");
applyTexts();
