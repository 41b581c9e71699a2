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
  setPlain,
  setText,
  show,
} from "./common.js";
import { Fields, iinProblem } from "./keyboard.js";
import { startHeartbeat } from "./health.js";
import { Recorder, uploadOnce } from "./recorder.js";
import { Voice, messageClips } from "./voice.js";
import { Guide } from "./guide.js";
import { Idle } from "./idle.js";
import { MoreBelow } from "./more.js";
import { Officials } from "./officials.js";
import { Recording } from "./recording.js";
import { ReferenceDesk } from "./reference.js";
import { fillRating, sendRating, showReasons } from "./rating.js";

const BOOTH = { [config.session_header]: "1" };
const RETRY_DELAYS_S = [1, 2, 4, 8, 8];
const BACK = { consent: "start", category: "consent", officials: "category", identity: "officials", record: "identity" };

const booth = (method, path, body) => api(method, path, { body, headers: BOOTH });
// The start screen speaks both languages, but the top bar and the dialogs speak one: each
// citizen finds them in this one, the booth's, not in the language the last citizen chose.
const BOOTH_LANG = getLang();

let generations = 0;
let state = fresh();
let screen = "start";
const recorder = new Recorder();
const voice = new Voice($("#voice"));
const guide = new Guide({
  voice,
  screen: () => screen,
  fields: () => fieldsOf(),
  touched: () => idle.touched(),
});
const recording = new Recording({
  recorder,
  voice,
  guide,
  citizen: () => state,
  screen: () => screen,
  go,
  phaseChanged: () => homeButton(),
  send: () => send(),
});
const more = new MoreBelow();
const officials = new Officials({ booth, go, chosen: (official) => desk.offer(official) });
const idle = new Idle({
  voice,
  guide,
  screen: () => screen,
  recording: () => recording.busy,
  hasVideo: () => Boolean(state.recording),
  reset: () => reset(),
});

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
  homeButton();
  idle.touched();
  guide.disarm();
  // Keyboard and screen-reader users start at the new screen's title.
  const title = $(`[data-screen="${name}"] h1`);
  if (title) {
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }
  more.refresh();
  if (voice.on) guide.readScreen();
}

// "To the start" is of no use where the booth is already there or busy on its own, and must
// not be touched by mistake while the camera records.
function homeButton() {
  const busy = screen === "upload" || recording.busy;
  show($("#home"), !["start", "unavailable"].includes(screen) && !busy);
}

async function reset() {
  const draft = state.appeal && !state.receipt ? state.appeal.appeal_id : null;
  state = fresh();
  recording.forget();
  clearTimeout(receiptTimer);
  delete document.body.dataset.receipt;
  recorder.close();
  for (const video of document.querySelectorAll("video")) {
    video.pause();
    video.removeAttribute("src");
    video.srcObject = null;
    video.load();
  }
  idle.hide();
  show($("#confirm-home"), false);
  // The next citizen gets the booth as the first one found it.
  setLang(BOOTH_LANG);
  setLarger(false);
  setContrast(false);
  guide.setAudio(false);
  desk.forget();
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
  } else if (action === "reference") {
    setLang(value);
    desk.open();
  } else if (action === "back") {
    leave(BACK[screen] ?? "start");
  } else if (action === "home") {
    reset();
  } else if (action === "category") {
    state.category = value;
    officials.open();
  }
});

// Asked first when there is anything to lose: a touch meant for "Larger text" or a slip of
// the hand must not throw away a recording.
$("#home").addEventListener("click", () => {
  if (!hasWork()) return reset();
  show($("#confirm-home"));
  $("#confirm-no").focus();
  voice.chime("confirm");
  guide.say([...messageClips("home_confirm_title", {}, getLang()), ...messageClips("home_confirm_text", {}, getLang())]);
});
$("#confirm-no").addEventListener("click", () => {
  show($("#confirm-home"), false);
  idle.touched();
});
$("#confirm-yes").addEventListener("click", () => reset());

function hasWork() {
  if (state.appeal || state.recording || state.official) return true;
  const typed = (fields) => Object.values(fields.values).some((v) => v);
  return (screen === "identity" && typed(identity)) || (screen === "lookup" && typed(lookupFields));
}

function setLarger(on) {
  document.documentElement.classList.toggle("larger", on);
  $("#larger").setAttribute("aria-pressed", String(on));
  officials.setFiltersOpen(false);
}

$("#larger").addEventListener("click", () => setLarger(!document.documentElement.classList.contains("larger")));

// White on black with yellow for what can be pressed, for a citizen who sees poorly.
function setContrast(on) {
  document.documentElement.classList.toggle("contrast", on);
  $("#contrast").setAttribute("aria-pressed", String(on));
}

$("#contrast").addEventListener("click", () => setContrast(!document.documentElement.classList.contains("contrast")));

function leave(target) {
  if (screen === "record") recorder.close();
  go(target);
}

$("#agree").addEventListener("click", () => go("category"));

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

// Common questions: their own screens (reference.js); an appeal goes on from any of them.
const desk = new ReferenceDesk({
  go,
  booth,
  record: () => go("consent"),
  recordTo: (official) => {
    state.official = official;
    openIdentity();
  },
  unavailable: () => go("unavailable"),
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
      consent_version: config.consent_version,
    };
    if (config.require_identity) {
      body.full_name = identity.values.full_name.trim().replace(/[ -]$/, "");
      body.iin = identity.values.iin;
    }
    const created = await booth("POST", "/api/v1/appeals", body);
    if (generation !== state.generation) return;
    state.appeal = created;
    recording.open();
  } catch (error) {
    if (!(error instanceof ApiFailure)) throw error;
    if (error.status === 401) return go("unavailable");
    if (error.field && identity.fieldEl(error.field)) {
      identity.setServerError(error.field, error.localized());
    } else {
      setPlain($("#identity-error"), error.localized());
      show($("#identity-error"));
    }
  } finally {
    state.busy = false;
  }
});

// Sending

$("#upload-retry").addEventListener("click", () => send());

function progress(fraction) {
  const percent = Math.round(fraction * 100);
  $("#progress-bar").style.width = `${percent}%`;
  $("#progress-text").textContent = `${percent}%`;
}

async function send() {
  const generation = state.generation;
  go("upload");
  uploadFailed(false);
  setPlain($("#upload-status"), "");
  progress(0);
  const alive = () => generation === state.generation;
  // The recording stays in state.recording until the receipt is on screen, so "try again"
  // (or the operator) can always send it once more.
  for (let attempt = 0; attempt <= RETRY_DELAYS_S.length; attempt += 1) {
    if (attempt > 0) {
      setText($("#upload-status"), "upload_retrying", { n: attempt });
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

// Failed, the screen no longer says it is sending: its title says it was not sent, and the
// «please wait» line and the progress bar give way to what to do.
function uploadFailed(failed) {
  const title = $("#upload-title");
  title.dataset.i18n = failed ? "upload_failed_title" : "upload_title";
  applyTexts(title.parentElement);
  for (const el of [$("#upload-wait"), $("#screen-upload .progress"), $("#progress-text")]) show(el, !failed);
  show($("#upload-failed"), failed);
}

// The server's reason («Это не видео») goes under the general line («Не удалось отправить
// обращение…»): it explains that line, and between it and the title it read as the headline.
function failSend(message) {
  setPlain($("#upload-status"), "");
  setPlain($("#upload-reason"), message ?? "");
  show($("#upload-reason"), Boolean(message));
  uploadFailed(true);
  guide.say([...messageClips("upload_failed", {}, getLang()), ...messageClips("call_operator", {}, getLang())]);
}

async function register(generation) {
  setText($("#upload-status"), "upload_registering");
  for (let attempt = 0; attempt <= RETRY_DELAYS_S.length; attempt += 1) {
    try {
      const receipt = await booth("POST", state.appeal.submit_url);
      if (generation !== state.generation) return;
      state.receipt = receipt;
      desk.recorded();
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
  $("#receipt-number").textContent = receipt.registration_number;
  $("#receipt-code").textContent = receipt.access_code.replace(/^(\d{4})(\d{4})$/, "$1 $2");
  $("#receipt-control").textContent = formatDate(receipt.control_date);
  // Read back digit by digit, to be written down by a citizen who cannot read the paper.
  for (const id of ["#receipt-number", "#receipt-code", "#receipt-control"]) $(id).dataset.sayDigits = $(id).textContent;
  setText($("#receipt-status"), "receipt_printing");
  $("#receipt-status").className = "note";
  go("receipt");
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
    setText($("#receipt-status"), "receipt_failed");
    guide.say(messageClips("receipt_failed", {}, getLang()));
    $("#receipt-status").className = "error big";
    document.body.dataset.receipt = "failed";
    receiptTimer = setTimeout(() => generation === state.generation && reset(), config.receipt_s * 3000);
    return;
  }
  if (status === "printed") {
    setText($("#receipt-status"), "receipt_take");
    voice.then(messageClips("receipt_take", {}, getLang()));
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
  lookupFields.reset();
  show($("#lookup-error"), false);
  show($("#lookup-locked"), false);
  go("lookup");
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
    setPlain($("#lookup-error"), error.localized());
    show($("#lookup-error"));
    // Locked: only the operator can help now (or time).
    show($("#lookup-locked"), error.status === 429);
    voice.chime("error");
    guide.say(error.status === 429 ? messageClips("lookup_locked_hint", {}, getLang()) : messageClips("error_generic", {}, getLang()));
  } finally {
    state.busy = false;
  }
});

function showResult(found) {
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
  setPlain($("#reprint-status"), "");
  setPlain($("#rating-error"), "");
  fillRating(found);
  go("result");
}

// "Did this answer help?": a "yes" is sent at once; a "no" asks why, and the reason sends it.
async function rate(helped, reason = null) {
  if (state.busy || !state.lookup) return;
  state.busy = true;
  const generation = state.generation;
  setPlain($("#rating-error"), "");
  try {
    const found = await sendRating(state.lookup, helped, reason);
    if (generation !== state.generation) return;
    fillRating(found);
    guide.say([...guide.clipsOf($("#rating-status")), ...guide.clipsOf($("#follow-up-status"))]);
  } catch (error) {
    setPlain($("#rating-error"), error.localized());
    voice.chime("error");
    guide.say(messageClips("error_generic", {}, getLang()));
  } finally {
    state.busy = false;
  }
}

$("#rate-yes").addEventListener("click", () => rate(true));
$("#rate-no").addEventListener("click", () => {
  showReasons();
  guide.say(messageClips("rate_reason_question", {}, getLang()));
});
for (const b of document.querySelectorAll("#rating [data-reason]")) {
  b.addEventListener("click", () => rate(false, b.dataset.reason));
}

$("#reprint").addEventListener("click", async () => {
  if (state.busy || !state.lookup) return;
  state.busy = true;
  try {
    await booth("POST", "/api/v1/appeals/reprint", state.lookup);
    setText($("#reprint-status"), "reprint_done");
    guide.say(messageClips("reprint_done", {}, getLang()));
  } catch (error) {
    setPlain($("#reprint-status"), error.localized());
  } finally {
    state.busy = false;
  }
});

// Audio guidance (guide.js): on the keys a screen's own keyboard takes, those of this one.
function fieldsOf() {
  return { identity, lookup: lookupFields, reference: desk.search }[screen] ?? null;
}

guide.install();
more.install();
officials.install();
recording.install();
idle.install();

// Boot: an unenrolled browser (no session cookie) says so instead of offering a dead form.

applyTexts();
go("start");
booth("GET", "/api/v1/officials").catch((error) => {
  if (error.status === 401) go("unavailable");
});

// Out of service (no camera, or a printer that cannot print the receipt): the start screen
// says so and offers only the look-up, instead of an appeal failing half-way.
function inService(status) {
  const out = !status.appeals;
  document.body.dataset.service = out ? "out" : "in";
  show($("#out-of-service"), out);
  show($("#start-appeal"), !out);
  show($("#out-printer-kk"), out && !status.printer_ok);
  show($("#out-printer-ru"), out && !status.printer_ok);
  show($("#out-camera-kk"), out && !status.camera_ok);
  show($("#out-camera-ru"), out && !status.camera_ok);
}
startHeartbeat((body) => booth("POST", "/api/v1/booth/heartbeat", body), () => recorder.isOpen, inService);
