// The booth's heartbeat: every minute it tells the gateway whether a camera and a microphone
// are there and usable, the last error the page met, and its version; the answer says what
// the booth may offer (an appeal needs camera and printer, the look-up neither).

import { config } from "./common.js";

// Bumped with the page's scripts, so the operator sees which booths run an old page.
export const PAGE_VERSION = "2026.12.7.3";

let lastError = null;
// The last getUserMedia outcome: null (not tried yet), true, or the error's name.
let media = null;

export function noteError(message) {
  lastError = String(message || "").slice(0, 300) || null;
}

export function noteMedia(outcome) {
  media = outcome;
  if (outcome !== true) noteError(`camera: ${outcome}`);
}

window.addEventListener("error", (event) => noteError(event.message));
window.addEventListener("unhandledrejection", (event) => noteError(event.reason?.message ?? event.reason));

async function devices(busy) {
  if (!navigator.mediaDevices?.enumerateDevices) return { camera: false, microphone: false };
  const list = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  let camera = list.some((d) => d.kind === "videoinput");
  const microphone = list.some((d) => d.kind === "audioinput");
  if (camera && media !== null && media !== true && !busy()) {
    // The last try failed: try again, or a booth out of service for its camera never learns
    // that the camera is back (no citizen can start the appeal that would open it).
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      for (const track of stream.getTracks()) track.stop();
      media = true;
    } catch (error) {
      media = error?.name || "refused";
    }
  }
  if (media !== null && media !== true) camera = false;
  return { camera, microphone };
}

// `send(body)` posts the heartbeat; `busy()` says a citizen is using the camera now;
// `onStatus(status)` gets the gateway's answer.
export function startHeartbeat(send, busy, onStatus) {
  const beat = async () => {
    const body = { ...(await devices(busy)), page_version: PAGE_VERSION };
    if (lastError) body.last_error = lastError;
    try {
      onStatus(await send(body));
    } catch {
      // The gateway unreachable: the booth goes on as it was; the gateway counts the silence.
    }
  };
  beat();
  return setInterval(beat, config.heartbeat_s * 1000);
}
