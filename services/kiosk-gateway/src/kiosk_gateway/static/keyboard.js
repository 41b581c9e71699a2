// On-screen keyboards (Kazakh and Russian letters; a digit keypad) and the fields they type in.
// The booth has no physical keyboard, and a system keyboard would cover half the form.

import { getLang, t } from "./common.js";

function key(label, value, extra = "") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `key ${extra}`.trim();
  button.dataset.key = value;
  button.textContent = label;
  return button;
}

function row(...keys) {
  const line = document.createElement("div");
  line.className = "keys";
  line.append(...keys);
  return line;
}

// Letters in the rows of the catalog (the national ЙЦУКЕН), so a citizen who has typed on a
// Kazakh or Russian keyboard finds each letter where they expect it. Labels follow the
// citizen's language, so a keyboard drawn for the last citizen is drawn again for this one.
export function renderKeyboard(container, kind) {
  container.replaceChildren();
  container.dataset.kind = kind;
  container.dataset.lang = getLang();
  if (kind === "letters") {
    for (const letters of t("keyboard_letters").split(" ")) {
      container.append(row(...[...letters].map((letter) => key(letter, letter))));
    }
    container.append(row(key(t("key_space"), " ", "wide space"), key(t("key_backspace"), "back", "wide")));
  } else {
    for (const d of "123456789") container.append(key(d, d));
    container.append(key(t("key_clear"), "clear"));
    container.append(key("0", "0"));
    container.append(key(t("key_backspace"), "back"));
  }
}

// A set of fields typed with one keyboard; `rules[name](value, complete)` returns an error key
// or null. `complete` is false while the citizen is still typing in that field, so an unfinished
// value is not called wrong until it is full or the citizen moves on.
export class Fields {
  constructor(root, keyboard, rules, { format = {}, onChange = () => {} } = {}) {
    this.root = root;
    this.keyboard = keyboard;
    this.rules = rules;
    this.format = format;
    this.onChange = onChange;
    this.values = {};
    this.touched = new Set();
    this.serverErrors = {};
    this.active = null;
    root.addEventListener("click", (event) => {
      const focus = event.target.closest("[data-focus]");
      if (focus) this.focus(focus.dataset.focus);
    });
    keyboard.addEventListener("click", (event) => {
      const button = event.target.closest("[data-key]");
      if (button && this.active) this.type(button.dataset.key);
    });
  }

  fieldEl(name) {
    return this.root.querySelector(`[data-field="${name}"]`);
  }

  names() {
    return [...this.root.querySelectorAll("[data-field]")]
      .filter((el) => !el.hidden)
      .map((el) => el.dataset.field);
  }

  reset() {
    this.values = {};
    this.touched.clear();
    this.serverErrors = {};
    this.active = null;
    for (const name of this.names()) this.values[name] = "";
    this.focus(this.names()[0]);
  }

  focus(name) {
    if (this.active && this.active !== name) this.touched.add(this.active);
    this.active = name;
    const el = this.fieldEl(name);
    for (const other of this.root.querySelectorAll("[data-field]")) {
      other.classList.toggle("active", other === el);
    }
    const kind = el.dataset.kind;
    if (this.keyboard.dataset.kind !== kind || this.keyboard.dataset.lang !== getLang()) {
      renderKeyboard(this.keyboard, kind);
    }
    this.render();
  }

  type(value) {
    const name = this.active;
    const el = this.fieldEl(name);
    const max = Number(el.dataset.max || 150);
    let current = this.values[name] ?? "";
    if (value === "back") current = current.slice(0, -1);
    else if (value === "clear") current = "";
    else if (current.length < max) current = el.dataset.kind === "letters" ? addLetter(current, value) : current + value;
    this.values[name] = current;
    delete this.serverErrors[name];
    this.render();
    this.onChange(name);
    // A full digit field hands over to the next one, as a paper form's boxes would.
    if (el.dataset.kind === "digits" && current.length === max && !this.error(name, true)) {
      const names = this.names();
      const next = names[names.indexOf(name) + 1];
      if (next && !this.values[next]) this.focus(next);
    }
  }

  // A physical keyboard or keypad types what its on-screen twin would; true when it did.
  typeKey(event) {
    if (!this.active || event.ctrlKey || event.altKey || event.metaKey) return false;
    let value = null;
    if (event.key === "Backspace") value = "back";
    else if (event.key.length === 1) {
      const upper = event.key.toUpperCase();
      const match = [...this.keyboard.querySelectorAll("[data-key]")].find((b) => b.dataset.key === upper || b.dataset.key === event.key);
      value = match ? match.dataset.key : null;
    }
    if (value === null) return false;
    this.type(value);
    return true;
  }

  error(name, complete) {
    if (this.serverErrors[name]) return this.serverErrors[name];
    return this.rules[name] ? this.rules[name](this.values[name] ?? "", complete) : null;
  }

  render() {
    for (const name of this.names()) {
      const el = this.fieldEl(name);
      const value = this.values[name] ?? "";
      const shown = this.format[name] ? this.format[name](value) : value;
      el.querySelector(".value").textContent = shown;
      const complete = this.touched.has(name) && name !== this.active;
      const problem = this.error(name, complete);
      const text = problem ? (problem.startsWith("!") ? problem.slice(1) : t(problem)) : "";
      el.querySelector(".error").textContent = text;
      el.classList.toggle("invalid", Boolean(problem));
    }
  }

  // Every field checked as finished; true when all are fine.
  validate() {
    for (const name of this.names()) this.touched.add(name);
    const saved = this.active;
    this.active = null;
    this.render();
    this.active = saved;
    return this.names().every((name) => !this.error(name, true));
  }

  setServerError(name, message) {
    this.serverErrors[name] = `!${message}`;
    this.render();
  }
}

function addLetter(current, letter) {
  if (letter === " " || letter === "-") {
    // No leading, doubled or mixed separators: the server would refuse the name's shape.
    if (!current || /[ -]$/.test(current)) return current;
    return current + letter;
  }
  const startsWord = !current || /[ -]$/.test(current);
  return current + (startsWord ? letter.toUpperCase() : letter.toLowerCase());
}

// The IIN rules of kiosk_gateway/identity.py: mod-11 check digit with a second weight set,
// a century digit, and a birth date that exists and is not in the future.
export function iinProblem(iin, today = new Date()) {
  if (!/^[0-9]{12}$/.test(iin)) return "err_iin_length";
  const digits = [...iin].map(Number);
  const w1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const w2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];
  const sum = (w) => w.reduce((acc, weight, i) => acc + weight * digits[i], 0) % 11;
  let check = sum(w1);
  if (check === 10) check = sum(w2);
  if (check === 10 || check !== digits[11]) return "err_iin_invalid";
  const century = { 1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000 }[digits[6]];
  if (!century) return "err_iin_invalid";
  const year = century + Number(iin.slice(0, 2));
  const month = Number(iin.slice(2, 4));
  const day = Number(iin.slice(4, 6));
  const born = new Date(Date.UTC(year, month - 1, day));
  if (born.getUTCMonth() !== month - 1 || born.getUTCDate() !== day || born > today) {
    return "err_iin_invalid";
  }
  return null;
}
