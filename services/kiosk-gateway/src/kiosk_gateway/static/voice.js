// The booth's voice: catalog messages spoken from the gateway's clips (/kiosk/speech/<lang>/<clip>.wav,
// rendered by espeak-ng or recorded by a person), numbers from per-number clips, and the chimes.
// Chromium's speechSynthesis has no Kazakh voice offline, hence files.

import { config } from "./common.js";

const VOLUME_STEP = 0.15;
const VOLUME_DEFAULT = 0.8;
const LETTER = /\p{L}/u;
const MAX_SPOKEN = 60; // the numbers with a clip of their own

// The clips of a message: its text's pieces around {placeholders}, the values in between.
export function messageClips(key, vars, lang) {
  const text = config.catalog[lang][key];
  if (text === undefined) throw new Error(`missing message ${key}`);
  const pieces = text.split(/\{(\w+)\}/);
  if (pieces.length === 1) return LETTER.test(text) ? [{ lang, clip: key }] : [];
  const clips = [];
  pieces.forEach((piece, i) => {
    if (i % 2 === 1) clips.push(...numberClips(vars[piece] ?? "", lang));
    else if (LETTER.test(piece)) clips.push({ lang, clip: `${key}.${i / 2}` });
  });
  return clips;
}

// A whole number up to 60 as one word ("forty-five"); anything else digit by digit, which is
// how a registration number or an access code is read back to be written down.
export function numberClips(value, lang, { digits = false } = {}) {
  const text = String(value);
  if (!digits && /^\d+$/.test(text) && Number(text) <= MAX_SPOKEN) {
    return [{ lang, clip: `num-${Number(text)}` }];
  }
  return [...text].filter((c) => /\d/.test(c)).map((d) => ({ lang, clip: `num-${d}` }));
}

export function letterClip(letter, lang) {
  return { lang, clip: `letter-${letter.toLowerCase().codePointAt(0).toString(16)}` };
}

export class Voice {
  constructor(audio) {
    this.audio = audio;
    this.on = false;
    this.queue = [];
    this.context = null;
    this.audio.volume = VOLUME_DEFAULT;
    this.audio.addEventListener("ended", () => this.next());
    // A clip that cannot be had is skipped: a silent gap is better than a stuck queue.
    this.audio.addEventListener("error", () => this.next());
  }

  reset() {
    this.stop();
    this.on = false;
    this.audio.volume = VOLUME_DEFAULT;
  }

  stop() {
    this.queue = [];
    this.audio.pause();
  }

  // Speak `clips` now, cutting off whatever was being said (the citizen moved on).
  say(clips) {
    if (!this.on) return;
    this.queue = [...clips];
    this.next();
  }

  // Speak `clips` after what is being said.
  then(clips) {
    if (!this.on) return;
    const idle = this.audio.paused || this.audio.ended;
    this.queue.push(...clips);
    if (idle) this.next();
  }

  next() {
    const item = this.queue.shift();
    if (!item) return;
    this.audio.src = `/kiosk/speech/${item.lang}/${item.clip}.wav`;
    // A refused play() also fires "error", which moves the queue on.
    this.audio.play().catch(() => null);
  }

  get volume() {
    return this.audio.volume;
  }

  louder(up) {
    const v = this.audio.volume + (up ? VOLUME_STEP : -VOLUME_STEP);
    this.audio.volume = Math.min(1, Math.max(0.1, Math.round(v * 100) / 100));
  }

  // Two rising tones for "something needs you now": heard with the voice off too.
  chime(kind) {
    document.body.dataset.cue = kind;
    try {
      this.context ??= new AudioContext();
      const ctx = this.context;
      if (ctx.state === "suspended") ctx.resume().catch(() => null);
      const start = ctx.currentTime + 0.02;
      const level = Math.max(0.05, this.audio.volume * 0.4);
      [[660, 0], [880, 0.22]].forEach(([freq, at]) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0, start + at);
        gain.gain.linearRampToValueAtTime(level, start + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.001, start + at + 0.35);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start + at);
        osc.stop(start + at + 0.4);
      });
    } catch {
      // No audio device: the cue is on screen as well.
    }
  }
}
