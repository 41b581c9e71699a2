// The booth: start → consent → category → official → identity → record → send → receipt,
// and "see the answer". One citizen at a time; a reset forgets everything about the last one.

import {
  $,
  ApiFailure,
  api,
  applyTexts,
  config,
  fillLookupResult,
  formatDate,
  formatNumber,
  getLang,
  numberProblem,
  setLang,
  show,
  t,
} from "./common.js";
import { Fields, iinProblem } from "./keyboard.js";
import { CameraUnavailable, Recorder, uploadOnce } from "./recorder.js";

const BOOTH = { [config.session_header]: "1" };
const RETRY_DELAYS_S = [1, 2, 4, 8, 8];
// The one-time extension is offered in the last eighth of the base time (from 1:45 of 2:00).
const EXTEND_OFFER_SHARE = 1 / 8;
const BACK = { consent: "start", category: "consent", officials: "category", identity: "officials", record: "identity" };
const NO_IDLE = new Set(["start", "unavailable", "upload"]);

const booth = (method, path, body) => api(method, path, { body, headers: BOOTH });

let generations = 0;
let state = fresh();
let screen = "start";
const recorder = new Recorder();

// `generation` tells a late answer (from before a reset) that its citizen is gone.
function fresh() {
  generations += 1;
  return { category: null, official: null, appeal: null, recording: null, receipt: null, busy: false, lookup: null, identityStarted: false, generation: generations };
}

// Screens

function go(name) {
  screen = name;
  for (const section of document.querySelectorAll("[data-screen]")) {
    section.hidden = section.dataset.screen !== name;
  }
  document.body.dataset.current = name;
  show($("#home"), !["start", "unavailable"].includes(name));
  lastTouch = performance.now();
}

async function reset() {
  const draft = state.appeal && !state.receipt ? state.appeal.appeal_id : null;
  state = fresh();
  clearInterval(ticker);
  clearTimeout(receiptTimer);
  delete document.body.dataset.receipt;
  recorder.close();
  for (const video of document.querySelectorAll("video")) {
    video.pause();
    video.removeAttribute("src");
    video.srcObject = null;
    video.load();
  }
  hideIdle();
  go("start");
  // The booth is shared: the draft and its video leave the server too, not only this page.
  if (draft) await booth("DELETE", `/api/v1/appeals/${draft}`).catch(() => null);
}

// Start

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (!button) return;
  const { action, value } = button.dataset;
  if (action === "lang") {
    setLang(value);
    go("consent");
  } else if (action === "lookup") {
    setLang(value);
    openLookup();
  } else if (action === "back") {
    leave(BACK[screen] ?? "start");
  } else if (action === "home") {
    reset();
  } else if (action === "category") {
    state.category = value;
    openOfficials();
  }
});

$("#home").addEventListener("click", () => reset());
$("#larger").addEventListener("click", () => {
  const on = document.documentElement.classList.toggle("larger");
  $("#larger").setAttribute("aria-pressed", String(on));
});

function leave(target) {
  if (screen === "record") recorder.close();
  go(target);
}

$("#agree").addEventListener("click", () => go("category"));

// Officials

let officials = [];
let filter = null;

async function openOfficials() {
  go("officials");
  filter = null;
  try {
    officials = (await booth("GET", "/api/v1/officials")).officials;
    show($("#officials-error"), false);
  } catch (error) {
    if (error.status === 401) return go("unavailable");
    $("#officials-error").textContent = error.localized();
    show($("#officials-error"));
  }
  renderOfficials();
}

function areas(official) {
  return official.competence[getLang()]
    .split(/[,;]\s*/)
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => a[0].toUpperCase() + a.slice(1));
}

function renderOfficials() {
  const lang = getLang();
  const chips = $("#filters");
  chips.replaceChildren();
  const all = [...new Set(officials.flatMap(areas))];
  const chip = (label, value) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `chip${filter === value ? " on" : ""}`;
    b.textContent = label;
    b.addEventListener("click", () => {
      filter = value;
      renderOfficials();
    });
    return b;
  };
  chips.append(chip(t("filter_all"), null), ...all.map((a) => chip(a, a)));
  const grid = $("#officials");
  grid.replaceChildren();
  const shown = officials.filter((o) => filter === null || areas(o).includes(filter));
  for (const o of shown) {
    const card = document.createElement("button");
    card.type = "button";
    card.className = "card";
    card.dataset.official = o.id;
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
    card.addEventListener("click", () => {
      state.official = o;
      openIdentity();
    });
    grid.append(card);
  }
  if (!shown.length) {
    const p = document.createElement("p");
    p.textContent = t("officials_empty");
    grid.append(p);
  }
}

// Identity

const identityScreen = $("#screen-identity");
show($("#field-full_name"), config.require_identity);
show($("#field-iin"), config.require_identity);

const identity = new Fields(identityScreen, $("#keyboard"), {
  full_name(value, complete) {
    const words = value.trim().split(/[ -]+/).filter((w) => w.length >= 2);
    if (complete && words.length < 2) return "err_name_short";
    return null;
  },
  iin(value, complete) {
    if (value.length === 12) return iinProblem(value);
    if (complete) return "err_iin_length";
    return null;
  },
  phone(value, complete) {
    if (value && value[0] !== "7") return "err_phone_mobile";
    if (complete && value.length !== 10) return "err_phone_length";
    return null;
  },
}, {
  format: {
    iin: (v) => v.replace(/^(\d{6})(\d)/, "$1 $2"),
    phone: (v) => v.replace(/^(\d{3})(\d{0,3})(\d{0,2})(\d{0,2}).*/, (_, a, b, c, d) => [a, b, c, d].filter(Boolean).join(" ")),
  },
});

function openIdentity() {
  go("identity");
  if (!state.identityStarted) {
    identity.reset();
    state.identityStarted = true;
  } else {
    identity.render();
  }
  show($("#identity-error"), false);
}

$("#identity-next").addEventListener("click", async () => {
  if (state.busy || !identity.validate()) return;
  state.busy = true;
  const generation = state.generation;
  try {
    if (state.appeal) {
      await booth("DELETE", `/api/v1/appeals/${state.appeal.appeal_id}`).catch(() => null);
      state.appeal = null;
    }
    const body = {
      official_id: state.official.id,
      phone: `+7${identity.values.phone}`,
      language: getLang(),
      category: state.category,
      consent: true,
    };
    if (config.require_identity) {
      body.full_name = identity.values.full_name.trim().replace(/[ -]$/, "");
      body.iin = identity.values.iin;
    }
    const created = await booth("POST", "/api/v1/appeals", body);
    if (generation !== state.generation) return;
    state.appeal = created;
    openRecord();
  } catch (error) {
    if (!(error instanceof ApiFailure)) throw error;
    if (error.status === 401) return go("unavailable");
    if (error.field && identity.fieldEl(error.field)) {
      identity.setServerError(error.field, error.localized());
    } else {
      $("#identity-error").textContent = error.localized();
      show($("#identity-error"));
    }
  } finally {
    state.busy = false;
  }
});

// Recording

let ticker = null;
let limit = 0;
let extended = false;

function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function recordControls(phase) {
  show($("#record-start"), phase === "ready");
  show($("#record-back"), phase === "ready");
  show($("#record-stop"), phase === "recording");
  show($("#rec-badge"), phase === "recording");
  show($("#countdown"), phase === "countdown");
  if (phase !== "recording") show($("#record-extend"), false);
  document.body.dataset.phase = phase;
}

async function openRecord() {
  const { limits } = state.appeal;
  limit = limits.base_duration_s;
  extended = false;
  state.recording = null;
  go("record");
  show($("#extended"), false);
  $("#timer").textContent = clock(limit);
  recordControls("opening");
  show($("#record-start"), false);
  try {
    if (!recorder.isOpen) await recorder.open($("#preview"));
  } catch (error) {
    if (error instanceof CameraUnavailable) return go("camera");
    throw error;
  }
  if (screen === "record") recordControls("ready");
}

$("#record-start").addEventListener("click", async () => {
  recordControls("countdown");
  const generation = state.generation;
  for (const n of [3, 2, 1]) {
    $("#countdown").textContent = String(n);
    await new Promise((r) => setTimeout(r, 1000));
    if (generation !== state.generation || screen !== "record") return;
  }
  recorder.start();
  recordControls("recording");
  ticker = setInterval(tick, 200);
  tick();
});

function tick() {
  const elapsed = recorder.elapsed();
  const left = limit - elapsed;
  $("#timer").textContent = clock(left);
  const extension = state.appeal.limits.extension_s;
  const offerFrom = state.appeal.limits.base_duration_s * EXTEND_OFFER_SHARE;
  const offer = !extended && extension > 0 && left <= offerFrom;
  if (offer && $("#record-extend").hidden) {
    const minutes = extension % 60 === 0;
    $("#record-extend").textContent = t(minutes ? "record_extend_min" : "record_extend_sec", { n: minutes ? extension / 60 : extension });
    show($("#record-extend"));
  }
  if (left <= 0) finishRecording(true);
}

$("#record-extend").addEventListener("click", () => {
  if (extended) return;
  extended = true;
  limit += state.appeal.limits.extension_s;
  show($("#record-extend"), false);
  show($("#extended"));
});

$("#record-stop").addEventListener("click", () => finishRecording(false));

async function finishRecording(atLimit) {
  clearInterval(ticker);
  ticker = null;
  const generation = state.generation;
  const result = await recorder.stop();
  if (!result || generation !== state.generation) return;
  state.recording = result;
  recorder.close();
  go("review");
  show($("#record-limit"), atLimit);
  $("#review-duration").textContent = t("review_duration", { time: clock(result.seconds) });
  const playback = $("#playback");
  playback.src = URL.createObjectURL(result.blob);
  playback.play().catch(() => null);
}

$("#review-play").addEventListener("click", () => {
  const playback = $("#playback");
  playback.currentTime = 0;
  playback.play().catch(() => null);
});

$("#review-again").addEventListener("click", () => {
  const playback = $("#playback");
  playback.pause();
  URL.revokeObjectURL(playback.src);
  playback.removeAttribute("src");
  state.recording = null;
  openRecord();
});

// Sending

$("#review-send").addEventListener("click", () => {
  $("#playback").pause();
  send();
});
$("#upload-retry").addEventListener("click", () => send());

function progress(fraction) {
  const percent = Math.round(fraction * 100);
  $("#progress-bar").style.width = `${percent}%`;
  $("#progress-text").textContent = `${percent}%`;
}

async function send() {
  const generation = state.generation;
  go("upload");
  show($("#upload-failed"), false);
  $("#upload-status").textContent = "";
  progress(0);
  const alive = () => generation === state.generation;
  // The recording stays in state.recording until the receipt is on screen, so "try again"
  // (or the operator) can always send it once more.
  for (let attempt = 0; attempt <= RETRY_DELAYS_S.length; attempt += 1) {
    if (attempt > 0) {
      $("#upload-status").textContent = t("upload_retrying", { n: attempt });
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_S[attempt - 1] * 1000));
      if (!alive()) return;
    }
    progress(0); // a new attempt sends the whole recording again
    const sent = await uploadOnce(state.appeal.upload_url, state.recording.blob, BOOTH, progress);
    if (!alive()) return;
    if (sent.status === 201) return register(generation);
    if (sent.status === 0 || sent.status >= 500) continue;
    return failSend(new ApiFailure(sent.status, sent.body).localized());
  }
  failSend(null);
}

function failSend(message) {
  $("#upload-status").textContent = message ?? "";
  show($("#upload-failed"));
}

async function register(generation) {
  $("#upload-status").textContent = t("upload_registering");
  for (let attempt = 0; attempt <= RETRY_DELAYS_S.length; attempt += 1) {
    try {
      const receipt = await booth("POST", state.appeal.submit_url);
      if (generation !== state.generation) return;
      state.receipt = receipt;
      return openReceipt();
    } catch (error) {
      if (error.status !== 0 && error.status < 500) return failSend(error.localized());
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_S[attempt] * 1000));
      if (generation !== state.generation) return;
    }
  }
  failSend(null);
}

// Receipt

let receiptTimer = null;

function openReceipt() {
  const receipt = state.receipt;
  state.recording = null;
  go("receipt");
  $("#receipt-number").textContent = receipt.registration_number;
  $("#receipt-code").textContent = receipt.access_code.replace(/^(\d{4})(\d{4})$/, "$1 $2");
  $("#receipt-control").textContent = formatDate(receipt.control_date);
  $("#receipt-status").textContent = t("receipt_printing");
  $("#receipt-status").className = "note";
  pollReceipt(state.generation, Date.now());
}

async function pollReceipt(generation, since) {
  clearTimeout(receiptTimer);
  if (generation !== state.generation) return;
  let status = null;
  try {
    status = (await booth("GET", `/api/v1/appeals/${state.receipt.appeal_id}`)).receipt?.status;
  } catch {
    status = null;
  }
  if (generation !== state.generation) return;
  const waited = (Date.now() - since) / 1000;
  // A printer that has said nothing for half a minute is as good as failed for the citizen.
  if (status === "failed" || (status !== "printed" && waited > 30)) {
    $("#receipt-status").textContent = t("receipt_failed");
    $("#receipt-status").className = "error big";
    document.body.dataset.receipt = "failed";
    receiptTimer = setTimeout(() => generation === state.generation && reset(), config.receipt_s * 3000);
    return;
  }
  if (status === "printed") {
    $("#receipt-status").textContent = t("receipt_take");
    $("#receipt-status").className = "ok big";
    document.body.dataset.receipt = "printed";
    receiptTimer = setTimeout(() => generation === state.generation && reset(), config.receipt_s * 1000);
    return;
  }
  receiptTimer = setTimeout(() => pollReceipt(generation, since), 1000);
}

// Seeing the answer

const lookupFields = new Fields($("#screen-lookup"), $("#lookup-keyboard"), {
  number(value, complete) {
    if (value.length === 11 || complete) return numberProblem(value);
    return null;
  },
  code(value, complete) {
    if (complete && value.length !== 8) return "err_code_length";
    return null;
  },
}, { format: { number: formatNumber } });

function openLookup() {
  go("lookup");
  lookupFields.reset();
  show($("#lookup-error"), false);
}

$("#lookup-show").addEventListener("click", async () => {
  // A mistyped number is caught here by its check digit; the server is not asked.
  if (state.busy || !lookupFields.validate()) return;
  state.busy = true;
  const generation = state.generation;
  const body = { registration_number: formatNumber(lookupFields.values.number), access_code: lookupFields.values.code };
  try {
    const found = await api("POST", "/api/v1/answers/lookup", { body });
    if (generation !== state.generation) return;
    state.lookup = body;
    showResult(found);
  } catch (error) {
    $("#lookup-error").textContent = error.localized();
    show($("#lookup-error"));
  } finally {
    state.busy = false;
  }
});

function showResult(found) {
  go("result");
  const answered = fillLookupResult(found);
  show($("#result-answer"), answered);
  $("#answer-text").textContent = found.answer?.text ?? "";
  show($("#answer-unavailable"), answered && !found.answer);
  const video = $("#answer-video");
  const url = found.answer?.video_url;
  show($("#answer-video-box"), Boolean(url));
  if (url) {
    video.src = url;
    video.play().catch(() => null);
  }
  $("#reprint-status").textContent = "";
}

$("#reprint").addEventListener("click", async () => {
  if (state.busy || !state.lookup) return;
  state.busy = true;
  try {
    await booth("POST", "/api/v1/appeals/reprint", state.lookup);
    $("#reprint-status").textContent = t("reprint_done");
  } catch (error) {
    $("#reprint-status").textContent = error.localized();
  } finally {
    state.busy = false;
  }
});

// Idle: a booth is shared, so a citizen who walked away must not leave their draft behind.

let lastTouch = performance.now();
let idleUntil = null;

function hideIdle() {
  idleUntil = null;
  show($("#idle"), false);
}

// Only "yes, I'm here" closes the question: a touch that closed it on the way down would land
// on whatever lies under it.
document.addEventListener("pointerdown", () => {
  lastTouch = performance.now();
}, true);
$("#idle-stay").addEventListener("click", hideIdle);

setInterval(() => {
  const now = performance.now();
  // Speaking to the camera or waiting for the upload involves no touching.
  const busy = NO_IDLE.has(screen) || (screen === "record" && ["countdown", "recording"].includes(document.body.dataset.phase));
  if (busy) {
    lastTouch = now;
    return;
  }
  if (idleUntil === null && now - lastTouch >= config.idle_s * 1000) {
    idleUntil = now + config.idle_confirm_s * 1000;
    show($("#idle"));
  }
  if (idleUntil !== null) {
    const left = Math.ceil((idleUntil - now) / 1000);
    $("#idle-text").textContent = t("idle_text", { n: Math.max(0, left) });
    if (now >= idleUntil) reset();
  }
}, 250);

// Boot: an unenrolled browser (no session cookie) says so instead of offering a dead form.

applyTexts();
go("start");
booth("GET", "/api/v1/officials").catch((error) => {
  if (error.status === 401) go("unavailable");
});
