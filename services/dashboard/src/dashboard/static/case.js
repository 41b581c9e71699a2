// The case page: refresh an expired playback link, and the video answer (camera or file),
// which is sent as a raw body to the dashboard, which streams it on to media-store.
(function () {
  "use strict";
  var video = document.getElementById("appeal-video");
  if (video && window.fetch) {
    video.addEventListener("error", function () {
      // Links live at most 15 minutes; a page left open longer asks for a new one.
      if (video.getAttribute("data-refreshed")) return;
      video.setAttribute("data-refreshed", "1");
      fetch(video.getAttribute("data-refresh"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d && d.url) { var t = video.currentTime; video.src = d.url; video.currentTime = t; } });
    });
  }

  var form = document.getElementById("answer-form");
  if (!form) return;
  var csrf = form.querySelector("input[name=csrf]").value;
  var keyInput = form.querySelector("input[name=video_key]");
  var status = document.getElementById("video-status");
  var submit = document.getElementById("answer-submit");
  var start = document.getElementById("record-start");
  var stop = document.getElementById("record-stop");
  var file = document.getElementById("video-file");
  var preview = document.getElementById("preview");
  var max = parseInt(form.getAttribute("data-max"), 10);
  var recorder = null, stream = null, chunks = [];

  function say(which) { status.textContent = status.getAttribute("data-" + which) || ""; }

  function upload(blob) {
    if (blob.size > max) { say("failed"); return; }
    // The preview before sending shows this very video, as the citizen will see it.
    form.setAttribute("data-video-url", URL.createObjectURL(blob));
    say("uploading");
    submit.disabled = true;
    keyInput.value = "";
    fetch(form.getAttribute("data-upload"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "video/webm", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: blob
    })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r); })
      .then(function (d) { keyInput.value = d.key; say("ready"); })
      .catch(function () { say("failed"); })
      .then(function () { submit.disabled = false; });
  }

  file.addEventListener("change", function () {
    if (file.files && file.files[0]) upload(file.files[0]);
  });

  start.addEventListener("click", function () {
    if (!navigator.mediaDevices || !window.MediaRecorder) { say("nocamera"); return; }
    navigator.mediaDevices.getUserMedia({ video: true, audio: true }).then(function (s) {
      stream = s;
      preview.hidden = false;
      preview.srcObject = s;
      preview.play();
      chunks = [];
      var type = MediaRecorder.isTypeSupported("video/webm;codecs=vp8,opus") ? "video/webm;codecs=vp8,opus" : "video/webm";
      recorder = new MediaRecorder(s, { mimeType: type });
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        preview.srcObject = null;
        var blob = new Blob(chunks, { type: "video/webm" });
        preview.src = URL.createObjectURL(blob);
        preview.controls = true;
        upload(blob);
      };
      recorder.start(1000);
      say("recording");
      start.disabled = true;
      stop.disabled = false;
    }).catch(function () { say("nocamera"); });
  });

  stop.addEventListener("click", function () {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    stop.disabled = true;
    start.disabled = false;
  });
})();
