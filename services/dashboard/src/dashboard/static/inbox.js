// New cases appear without a reload: the inbox asks for its rows every few seconds and swaps
// them in when the set of cases changed; fresh rows are highlighted for a moment.
(function () {
  "use strict";
  var table = document.getElementById("inbox");
  if (!table || !window.fetch) return;
  var url = table.getAttribute("data-poll");
  var interval = Math.max(1, parseInt(table.getAttribute("data-interval"), 10) || 5) * 1000;
  var body = table.tBodies[0];
  function ids() {
    return Array.prototype.map.call(body.querySelectorAll("tr[data-appeal]"), function (tr) {
      return tr.getAttribute("data-appeal");
    });
  }
  var known = ids();
  var signature = body.innerHTML;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || data.html === signature) return;
        signature = data.html;
        body.innerHTML = data.html;
        var live = document.getElementById("live");
        Array.prototype.forEach.call(body.querySelectorAll("tr[data-appeal]"), function (tr) {
          if (known.indexOf(tr.getAttribute("data-appeal")) < 0) {
            tr.className += " fresh";
            if (live) live.hidden = false;
          }
        });
        known = ids();
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { setTimeout(poll, interval); });
  }
  setTimeout(poll, interval);
})();
