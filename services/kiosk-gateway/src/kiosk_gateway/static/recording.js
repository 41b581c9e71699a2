// The recording screen and the review after it: the camera's picture, a countdown, the
// recording with its timer, the one-time extension offered near the end and the hard stop at
// the limit; then the recording played back, to be sent or recorded again.
//
// The booth's flow (kiosk.js) hands over the citizen's state (their appeal's limits, and
// where the recording is kept), opens the screen, and is told when the citizen sends it.

import { $, getLang, setText, show } from "./common.js";
import { noteMedia } from "./health.js";
import { CameraUnavailable } from "./recorder.js";
import { messageClips, numberClips } from "./voice.js";

// The one-time extension is offered, and the timer turns red, in the last 30 seconds (a
// quarter of the time when the booth is set to record less than 2 minutes).
const LATE_S = 30;
const LATE_SHARE = 1 / 4;
const SPOKEN_COUNTDOWN_S = 10;

function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class Recording {
  // `citizen()`: the current citizen's state (a reset replaces it); `screen()`: the open
  // screen's name; `go(name)`: open a screen; `phaseChanged()`: the countdown or the recording
  // began or ended; `send()`: the citizen sends the recording.
  constructor({ recorder, voice, guide, citizen, screen, go, phaseChanged, send }) {
    this.recorder = recorder;
    this.voice = voice;
    this.guide = guide;
    this.citizen = citizen;
    this.screen = screen;
    this.go = go;
    this.phaseChanged = phaseChanged;
    this.send = send;
    this.ticker = null;
    this.limit = 0;
    this.extended = false;
    this.lastSpoken = null;
  }

  // The camera is counting down or recording: the booth is busy on its own.
  get busy() {
    return this.screen() === "record" && ["countdown", "recording"].includes(document.body.dataset.phase);
  }

  controls(phase) {
    show($("#record-start"), phase === "ready");
    show($("#record-back"), phase === "ready");
    show($("#record-stop"), phase === "recording");
    show($("#rec-badge"), phase === "recording");
    show($("#countdown"), phase === "countdown");
    if (phase !== "recording") {
      show($("#record-extend"), false);
      show($("#record-offer"), false);
      delete document.body.dataset.late;
    }
    document.body.dataset.phase = phase;
    this.phaseChanged();
  }

  lateFrom() {
    return Math.min(LATE_S, this.citizen().appeal.limits.base_duration_s * LATE_SHARE);
  }

  // "Up to 2 minutes, once 2 more": said before the first second is recorded.
  rules() {
    const { base_duration_s: base, extension_s: ext } = this.citizen().appeal.limits;
    const minutes = base % 60 === 0 && ext % 60 === 0;
    const unit = minutes ? 60 : 1;
    setText($("#record-rules"), minutes ? "record_rules_min" : "record_rules_sec", { base: base / unit, ext: ext / unit });
    show($("#record-rules"), true);
  }

  extendLabel() {
    const extension = this.citizen().appeal.limits.extension_s;
    const minutes = extension % 60 === 0;
    return { key: minutes ? "record_extend_min" : "record_extend_sec", vars: { n: minutes ? extension / 60 : extension } };
  }

  async open() {
    const state = this.citizen();
    this.limit = state.appeal.limits.base_duration_s;
    this.extended = false;
    state.recording = null;
    this.rules();
    show($("#extended"), false);
    $("#timer").textContent = clock(this.limit);
    this.controls("opening");
    this.go("record");
    show($("#record-start"), false);
    try {
      if (!this.recorder.isOpen) await this.recorder.open($("#preview"));
      noteMedia(true);
    } catch (error) {
      if (error instanceof CameraUnavailable) noteMedia(error.message);
      if (error instanceof CameraUnavailable) return this.go("camera");
      throw error;
    }
    if (this.screen() === "record") this.controls("ready");
  }

  // The citizen is gone: no timer runs on for them.
  forget() {
    clearInterval(this.ticker);
  }

  async countdown() {
    this.controls("countdown");
    const generation = this.citizen().generation;
    for (const n of [3, 2, 1]) {
      $("#countdown").textContent = String(n);
      await new Promise((r) => setTimeout(r, 1000));
      if (generation !== this.citizen().generation || this.screen() !== "record") return;
    }
    this.recorder.start();
    this.lastSpoken = null;
    this.controls("recording");
    this.ticker = setInterval(() => this.tick(), 200);
    this.tick();
  }

  tick() {
    const elapsed = this.recorder.elapsed();
    const left = this.limit - elapsed;
    $("#timer").textContent = clock(left);
    const late = left <= this.lateFrom();
    if (late) document.body.dataset.late = "1";
    else delete document.body.dataset.late;
    const extension = this.citizen().appeal.limits.extension_s;
    const offer = !this.extended && extension > 0 && late;
    if (offer && $("#record-extend").hidden) {
      const { key, vars } = this.extendLabel();
      setText($("#record-extend"), key, vars);
      show($("#record-extend"));
      show($("#record-offer"));
      this.voice.chime("extend");
      this.guide.say([...messageClips("record_offer", {}, getLang()), ...messageClips(key, vars, getLang())]);
    }
    const second = Math.ceil(left);
    if (second <= SPOKEN_COUNTDOWN_S && second > 0 && second !== this.lastSpoken) {
      this.lastSpoken = second;
      this.voice.then(numberClips(second, getLang()));
    }
    if (left <= 0) this.finish(true);
  }

  extend() {
    if (this.extended) return;
    this.extended = true;
    this.limit += this.citizen().appeal.limits.extension_s;
    show($("#record-extend"), false);
    show($("#record-offer"), false);
    show($("#extended"));
    delete document.body.dataset.late;
    this.guide.say(messageClips("record_extended", {}, getLang()));
  }

  async finish(atLimit) {
    clearInterval(this.ticker);
    this.ticker = null;
    const state = this.citizen();
    const result = await this.recorder.stop();
    if (!result || state.generation !== this.citizen().generation) return;
    state.recording = result;
    this.recorder.close();
    show($("#record-limit"), atLimit);
    setText($("#review-duration"), "review_duration", { time: clock(result.seconds) });
    this.go("review");
    const playback = $("#playback");
    playback.src = URL.createObjectURL(result.blob);
    playback.play().catch(() => null);
  }

  install() {
    $("#record-start").addEventListener("click", () => this.countdown());
    $("#record-extend").addEventListener("click", () => this.extend());
    $("#record-stop").addEventListener("click", () => this.finish(false));
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
      this.citizen().recording = null;
      this.open();
    });
    $("#review-send").addEventListener("click", () => {
      $("#playback").pause();
      this.send();
    });
  }
}
