// "Did this answer help?": shared by the booth's result screen and the tracking page. Both
// pages hold the same block (#rating); the booth sends a "no" as soon as a reason is touched,
// the tracking page also takes an optional comment (`withComment`).

import { $, api, formatDate, setPlain, setText, show } from "./common.js";

export const REASONS = ["not_answered", "unclear", "late", "other"];

// Fill the block from a look-up's result; hidden until there is an answer to rate.
export function fillRating(found) {
  const block = $("#rating");
  const rating = found.rating;
  show(block, Boolean(found.answer));
  if (!found.answer) return;
  const open = !rating || rating.changeable;
  show($("#rating-choices"), open);
  for (const [id, value] of [["#rate-yes", true], ["#rate-no", false]]) {
    $(id).setAttribute("aria-pressed", String(rating?.helped === value));
  }
  show($("#rating-reasons"), open && rating?.helped === false);
  for (const b of document.querySelectorAll("[data-reason]")) {
    b.setAttribute("aria-pressed", String(rating?.reason === b.dataset.reason));
  }
  if (!rating) setPlain($("#rating-status"), "");
  else if (rating.helped) setText($("#rating-status"), "rate_thanks_yes");
  else setText($("#rating-status"), "rate_thanks_no");
  if (!rating) setPlain($("#rating-until"), "");
  else if (rating.changeable) setText($("#rating-until"), "rate_change_until", { date: formatDate(rating.changeable_until) });
  else setText($("#rating-until"), "rate_closed");
  const follow = found.follow_up;
  const note = $("#follow-up-note");
  show(note, follow?.state === "confirmed" && Boolean(follow.note));
  note.textContent = follow?.note ?? "";
  note.lang = found.language;
  if (!follow) setPlain($("#follow-up-status"), "");
  else if (follow.state === "follow_up") setText($("#follow-up-status"), "follow_requested", { date: formatDate(follow.control_date) });
  else if (follow.state === "confirmed") setText($("#follow-up-status"), "follow_confirmed");
  else setText($("#follow-up-status"), "follow_open");
}

// Send a rating with the look-up's number and code; resolves to the fresh look-up result.
export function sendRating(keys, helped, reason = null, comment = null) {
  const body = { ...keys, helped };
  if (!helped) Object.assign(body, { reason, comment: comment || null });
  return api("POST", "/api/v1/answers/rating", { body });
}

// "No" opens the reasons without sending anything: the rating needs one of them.
export function showReasons() {
  $("#rate-yes").setAttribute("aria-pressed", "false");
  $("#rate-no").setAttribute("aria-pressed", "true");
  show($("#rating-reasons"));
}
