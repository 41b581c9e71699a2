// Audio guidance: every screen read when it opens; a first touch on a control says what it
// is and a second one presses it; a keyboard or keypad moves from control to control, each
// said as it is reached, and presses with Enter. Turned on by the big button on the start
// screen or by any key there (a blind citizen finds a key, not a spot on the glass).
//
// The booth's flow (kiosk.js) tells the guide which screen is open, which on-screen keyboard
// takes keys there, and hears of every key pressed (the idle timer counts them as a touch).

import { $, getLang, show } from "./common.js";
import { letterClip, messageClips, numberClips } from "./voice.js";

const AUDIO_CONTROLS = new Set(["audio", "audio-start", "volume-up", "volume-down"]);
const CONTROLS = "button:not([disabled]), video[controls]";

// Not an element kept in its place but unseen ("more below" at the end of its list).
function visible(el) {
  return el.getClientRects().length > 0 && !el.closest("[hidden]") && getComputedStyle(el).visibility !== "hidden";
}

function keyClips(key, lang) {
  if (/^\d$/.test(key)) return numberClips(key, lang, { digits: true });
  const named = { " ": "key_space", back: "key_backspace", clear: "key_clear" }[key];
  return named ? messageClips(named, {}, lang) : [letterClip(key, lang)];
}

export class Guide {
  // `screen()`: the open screen's name; `fields()`: its on-screen keyboard's fields, or null;
  // `touched()`: called on every key, as a touch is.
  constructor({ voice, screen, fields, touched }) {
    this.voice = voice;
    this.screen = screen;
    this.fields = fields;
    this.touched = touched;
    this.armed = null;
    this.lastPointer = 0;
  }

  get on() {
    return this.voice.on;
  }

  say(clips) {
    this.voice.say(clips);
  }

  // A new screen: a control touched once on the last one is not half-pressed on this one.
  disarm() {
    this.armed = null;
  }

  // What an element says: its catalog text, a value read digit by digit, a key of a keyboard.
  clipsOf(el) {
    const lang = el.closest("[data-lang]")?.dataset.lang ?? getLang();
    if (el.dataset.sayDigits) return numberClips(el.dataset.sayDigits, lang, { digits: true });
    if (el.dataset.sayOfficial) return [{ lang, clip: `official-${el.dataset.sayOfficial}` }];
    if (el.dataset.sayReference) return [{ lang, clip: `reference-${el.dataset.sayReference}` }];
    if (el.dataset.i18n) return messageClips(el.dataset.i18n, {}, lang);
    if (el.dataset.say) return messageClips(el.dataset.say, JSON.parse(el.dataset.sayVars || "{}"), lang);
    if (el.dataset.key !== undefined) return keyClips(el.dataset.key, lang);
    if (el.dataset.focus) {
      const field = el.closest("[data-field]");
      const value = this.fields()?.values[el.dataset.focus] ?? "";
      const spoken = field.dataset.kind === "digits" ? numberClips(value, lang, { digits: true }) : [...value].filter((c) => c.trim()).map((c) => letterClip(c, lang));
      return [...this.clipsOf(field.querySelector(".label")), ...spoken];
    }
    return [...el.querySelectorAll("[data-i18n], [data-say]")].filter(visible).flatMap((child) => this.clipsOf(child));
  }

  screenClips() {
    const screen = this.screen();
    const root = $(`[data-screen="${screen}"]`);
    const parts = "[data-say-reference], h1, h2, p, li, .label, dt, dd, .reg-number, .code, .date, .nav > button, .choices > button, .audio-start, #filters-toggle, .more-below";
    const clips = [...root.querySelectorAll(parts)].filter(visible).flatMap((el) => this.clipsOf(el));
    // The start screen is in both languages: all of it in Kazakh, then all of it in Russian.
    if (!["start", "unavailable"].includes(screen)) return clips;
    return [...clips.filter((c) => c.lang === "kk"), ...clips.filter((c) => c.lang === "ru")];
  }

  readScreen() {
    this.say(this.screenClips());
  }

  setAudio(on) {
    if (on) this.voice.on = true;
    else this.voice.reset();
    $("#audio").setAttribute("aria-pressed", String(on));
    show($("#volume"), on);
    document.body.classList.toggle("audio", on);
  }

  start() {
    this.setAudio(true);
    const langs = this.screen() === "start" ? ["kk", "ru"] : [getLang()];
    this.say([...langs.flatMap((lang) => messageClips("audio_started", {}, lang)), ...this.screenClips()]);
  }

  controls() {
    const layer = [$("#idle"), $("#confirm-home")].find((el) => !el.hidden);
    const scope = layer ? [layer] : [$(".bar"), $(`[data-screen="${this.screen()}"]`)];
    return scope.flatMap((root) => [...root.querySelectorAll(CONTROLS)]).filter(visible);
  }

  // A keypad has arrows but maybe no Tab: the arrows walk the controls, in the order on screen.
  step(by) {
    const list = this.controls();
    if (!list.length) return;
    const at = list.indexOf(document.activeElement);
    list[(at + by + list.length) % list.length].focus();
  }

  install() {
    $("#audio-start").addEventListener("click", () => this.start());
    $("#audio").addEventListener("click", () => (this.voice.on ? this.setAudio(false) : this.start()));
    for (const [id, up] of [["#volume-up", true], ["#volume-down", false]]) {
      $(id).addEventListener("click", () => {
        this.voice.louder(up);
        this.say(messageClips(up ? "volume_up" : "volume_down", {}, getLang()));
      });
    }
    // The first touch of a control says it; the second presses it. A key press (detail 0) was
    // said when the control was reached, so it presses at once.
    document.addEventListener("pointerdown", () => {
      this.lastPointer = performance.now();
    }, true);
    document.addEventListener("click", (event) => {
      if (!this.voice.on || event.detail === 0) return;
      const control = event.target.closest("button");
      if (!control || AUDIO_CONTROLS.has(control.id)) return;
      if (this.armed === control) {
        this.armed = null;
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      this.armed = control;
      this.say(this.clipsOf(control));
    }, true);
    document.addEventListener("focusin", (event) => {
      const control = event.target.closest?.(CONTROLS);
      if (!this.voice.on || !control || performance.now() - this.lastPointer < 600) return;
      this.say(this.clipsOf(control));
    });
    document.addEventListener("keydown", (event) => this.key(event));
  }

  key(event) {
    this.touched();
    if (!this.voice.on && this.screen() === "start" && !event.repeat && !["Tab", "Shift"].includes(event.key)) {
      event.preventDefault();
      this.start();
      return;
    }
    const up = event.code === "NumpadAdd" || event.key === "AudioVolumeUp";
    const down = event.code === "NumpadSubtract" || event.key === "AudioVolumeDown";
    if (this.voice.on && (up || down)) {
      event.preventDefault();
      $(up ? "#volume-up" : "#volume-down").click();
      return;
    }
    if (["ArrowDown", "ArrowRight", "ArrowUp", "ArrowLeft"].includes(event.key)) {
      event.preventDefault();
      this.step(["ArrowDown", "ArrowRight"].includes(event.key) ? 1 : -1);
      return;
    }
    const fields = this.fields();
    const onControl = document.activeElement?.matches?.("button:not(.input)");
    if (fields && !(onControl && [" ", "Enter"].includes(event.key)) && fields.typeKey(event)) {
      event.preventDefault();
      this.say(keyClips(event.key === "Backspace" ? "back" : event.key.toUpperCase(), getLang()));
    }
  }
}
