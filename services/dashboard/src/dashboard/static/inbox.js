// New cases appear without a reload: the inbox asks for its rows every few seconds and swaps
// them in when the set of cases changed; fresh rows are highlighted for a moment. A screen
// reader hears how many came (a polite live region, in the page's language), and a keyboard
// user stays on the row they were on: the swap would otherwise drop the focus to the page.
(function () {
  "use strict";
  var table = document.getElementById("inbox");
  if (!table || !window.fetch) return;
  var url = table.getAttribute("data-poll");
  var interval = Math.max(1, parseInt(table.getAttribute("data-interval"), 10) || 5) * 1000;
  var body = table.tBodies[0];
  var live = document.getElementById("live");
  var arrived = 0;
  function ids() {
    return Array.prototype.map.call(body.querySelectorAll("tr[data-appeal]"), function (tr) {
      return tr.getAttribute("data-appeal");
    });
  }
  // Where the focus is inside the table, as a row and the n-th focusable element in it.
  function focusPlace() {
    var el = document.activeElement;
    if (!el || !body.contains(el)) return null;
    var row = el.closest("tr[data-appeal]");
    if (!row) return null;
    var inRow = Array.prototype.indexOf.call(row.querySelectorAll("a, button, input, select"), el);
    return { appeal: row.getAttribute("data-appeal"), index: inRow };
  }
  function restoreFocus(place) {
    if (!place) return;
    var row = body.querySelector('tr[data-appeal="' + place.appeal + '"]');
    if (!row) return;
    var target = row.querySelectorAll("a, button, input, select")[place.index];
    if (target) target.focus({ preventScroll: true });
  }
  var known = ids();
  var signature = body.innerHTML;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || data.html === signature) return;
        signature = data.html;
        var place = focusPlace();
        body.innerHTML = data.html;
        restoreFocus(place);
        var fresh = 0;
        Array.prototype.forEach.call(body.querySelectorAll("tr[data-appeal]"), function (tr) {
          if (known.indexOf(tr.getAttribute("data-appeal")) < 0) {
            tr.className += " fresh";
            fresh += 1;
          }
        });
        known = ids();
        if (fresh && live) {
          arrived += fresh;
          live.textContent = live.getAttribute("data-new").replace("{n}", String(arrived));
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { setTimeout(poll, interval); });
  }
  setTimeout(poll, interval);
})();
