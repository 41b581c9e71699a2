// A list that scrolls inside its screen (the answer with its rating, the officials, the common
// questions) shows under it, while more of it is below, "more below" with the list's last lines
// fading into it: a citizen who reads poorly, or has never scrolled a screen, would take the
// window for all there is. A touch on it scrolls the list on by most of a window, and a finger
// drawn from it scrolls the list as on the list itself (its arrows send the eye there). It is gone
// when the list fits, and hidden (its room kept, so nothing moves under a finger) at the end,
// where it would cover the last lines.
//
// Each cue (.more-below) follows its list in the page. Its state is worked out when the screen,
// the list's content, the look (larger text) or the scroll position changes, not with a timer
// or a ResizeObserver: the cue changes the list's height, which a ResizeObserver on the list
// would report as a loop (and health.js would report as the page's last error).

const SLACK_PX = 2;
const STEP = 0.8; // of the window: the last lines seen stay on screen, so the place is not lost
const DRAG_PX = 12; // a finger that moves less than this on the cue is a touch, not a drag

function update(list, cue) {
  const over = list.scrollHeight - list.clientHeight;
  const hidden = over <= SLACK_PX;
  const end = list.scrollTop >= over - SLACK_PX;
  // Set only when it changes: the setting itself is a mutation the observer would hear again.
  if (cue.hidden !== hidden) cue.hidden = hidden;
  if (cue.classList.contains("end") !== end) cue.classList.toggle("end", end);
}

export class MoreBelow {
  constructor() {
    this.pairs = [...document.querySelectorAll(".more-below")].map((cue) => [cue.previousElementSibling, cue]);
  }

  // Now, before the screen is read out: the voice says the cue only if it is there.
  refresh() {
    for (const [list, cue] of this.pairs) update(list, cue);
  }

  // A finger that lands on the cue and is drawn up or down scrolls the list, as it would on the
  // list itself (the cue is where the eye is sent); a touch without a drag steps the list on.
  follow(list, cue) {
    let from = null;
    let dragged = false;
    cue.addEventListener("pointerdown", (event) => {
      from = event.clientY;
      dragged = false;
      cue.setPointerCapture(event.pointerId);
    });
    cue.addEventListener("pointermove", (event) => {
      if (from === null || (!dragged && Math.abs(event.clientY - from) < DRAG_PX)) return;
      dragged = true;
      list.scrollTop += from - event.clientY;
      from = event.clientY;
    });
    for (const event of ["pointerup", "pointercancel"]) cue.addEventListener(event, () => { from = null; });
    cue.addEventListener("click", () => {
      if (!dragged) list.scrollBy({ top: list.clientHeight * STEP, behavior: "smooth" });
      dragged = false;
    });
  }

  install() {
    const changed = new MutationObserver(() => this.refresh());
    // Larger text on the page; the officials' topics folded or not on the body.
    for (const el of [document.documentElement, document.body]) changed.observe(el, { attributes: true, attributeFilter: ["class"] });
    for (const [list, cue] of this.pairs) {
      list.addEventListener("scroll", () => update(list, cue), { passive: true });
      // A picture or a video takes its height when it has loaded; these events do not bubble.
      for (const event of ["load", "loadedmetadata"]) list.addEventListener(event, () => update(list, cue), true);
      changed.observe(list.parentElement, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden", "class"] });
      this.follow(list, cue);
    }
    window.addEventListener("resize", () => this.refresh());
  }
}
