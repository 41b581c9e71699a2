// Idle: a booth is shared, so a citizen who walked away must not leave their draft behind.
// No touch for a while asks "still there?"; no answer to that starts the booth afresh. A
// citizen watching their own video or speaking to the camera is not idle.

import { $, config, getLang, setText, show } from "./common.js";
import { messageClips } from "./voice.js";

const NO_IDLE = new Set(["start", "unavailable", "upload"]);
// Finding an ID card and typing 12 digits takes a while; watching one's own recording again
// before sending it too. Both get three times the usual idle time.
const SLOW_SCREENS = new Set(["identity", "review"]);
const SLOW_FACTOR = 3;

function videoPlaying() {
  return [...document.querySelectorAll("video:not(#preview)")].some((v) => !v.paused && !v.ended);
}

export class Idle {
  // `screen()`: the open screen's name; `recording()`: whether the camera counts down or
  // records; `hasVideo()`: whether the citizen has a recording to lose; `reset()`: start
  // afresh for the next citizen.
  constructor({ voice, guide, screen, recording, hasVideo, reset }) {
    this.voice = voice;
    this.guide = guide;
    this.screen = screen;
    this.recording = recording;
    this.hasVideo = hasVideo;
    this.reset = reset;
    this.lastTouch = performance.now();
    this.until = null;
  }

  touched() {
    this.lastTouch = performance.now();
  }

  hide() {
    this.until = null;
    show($("#idle"), false);
  }

  text(left) {
    setText($("#idle-text"), this.hasVideo() ? "idle_text_video" : "idle_text", { n: Math.max(0, left) });
  }

  check() {
    const now = performance.now();
    const voice = this.voice;
    // Nor is one listening to the booth read a screen out.
    const speaking = voice.on && !voice.audio.paused && !voice.audio.ended && this.until === null;
    if (NO_IDLE.has(this.screen()) || this.recording() || videoPlaying() || speaking) {
      this.lastTouch = now;
      return;
    }
    const limitMs = config.idle_s * 1000 * (SLOW_SCREENS.has(this.screen()) ? SLOW_FACTOR : 1);
    if (this.until === null && now - this.lastTouch >= limitMs) {
      this.until = now + config.idle_confirm_s * 1000;
      this.text(Math.ceil(config.idle_confirm_s));
      show($("#idle"));
      $("#idle-stay").focus();
      voice.chime("idle");
      this.guide.say([...messageClips("idle_title", {}, getLang()), ...this.guide.clipsOf($("#idle-text")), ...messageClips("idle_stay", {}, getLang())]);
    }
    if (this.until !== null) {
      this.text(Math.ceil((this.until - now) / 1000));
      if (now >= this.until) this.reset();
    }
  }

  install() {
    // Only "yes, I'm here" closes the question: a touch that closed it on the way down would
    // land on whatever lies under it.
    document.addEventListener("pointerdown", () => this.touched(), true);
    $("#idle-stay").addEventListener("click", () => {
      this.hide();
      this.voice.stop();
    });
    setInterval(() => this.check(), 250);
  }
}
