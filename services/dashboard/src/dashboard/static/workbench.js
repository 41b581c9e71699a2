// The workbench on every page: keyboard shortcuts (listed on "?"), previous / next case in the
// list the case was opened from, answer templates inserted at the cursor, the draft saved as it
// is typed, and a preview of exactly what the citizen will see before the answer is sent.
(function () {
  "use strict";
  var LIST_KEY = "dialog.list";

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // The list a case is opened from: its rows in order, kept for this tab only.
  var table = document.querySelector("table.cases");
  var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tr[data-appeal]")) : [];
  if (rows.length && !document.getElementById("prevnext")) {
    var remember = function () {
      var ids = Array.prototype.map.call(table.querySelectorAll("tr[data-appeal]"), function (tr) {
        return tr.getAttribute("data-appeal");
      });
      try {
        sessionStorage.setItem(LIST_KEY, JSON.stringify({ ids: ids, url: location.pathname + location.search }));
      } catch (e) { /* storage off: no previous / next, nothing else lost */ }
    };
    remember();
    table.addEventListener("click", remember);
  }
  var current = -1;
  function select(i) {
    rows = table ? Array.prototype.slice.call(table.querySelectorAll("tr[data-appeal]")) : [];
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (tr, j) { tr.classList.toggle("selected", j === current); });
    var link = rows[current].querySelector("a");
    if (link) link.focus();
  }

  // Previous / next on the case page.
  var nav = document.getElementById("prevnext");
  var prev = document.getElementById("prev-case");
  var next = document.getElementById("next-case");
  if (nav) {
    var list = null;
    try { list = JSON.parse(sessionStorage.getItem(LIST_KEY) || "null"); } catch (e) { list = null; }
    var here = nav.getAttribute("data-appeal");
    var at = list && list.ids ? list.ids.indexOf(here) : -1;
    if (at >= 0) {
      nav.hidden = false;
      var back = document.getElementById("back-to-list");
      if (back && list.url) back.href = list.url;
      document.getElementById("list-position").textContent = (at + 1) + " / " + list.ids.length;
      if (at > 0) prev.href = "/dashboard/cases/" + list.ids[at - 1]; else prev.setAttribute("aria-disabled", "true");
      if (at < list.ids.length - 1) next.href = "/dashboard/cases/" + list.ids[at + 1]; else next.setAttribute("aria-disabled", "true");
    }
  }

  // Answer: templates, draft, preview.
  var form = document.getElementById("answer-form");
  var text = document.getElementById("answer-text");
  var pick = document.getElementById("template-pick");
  var insert = document.getElementById("template-insert");
  var draftStatus = document.getElementById("draft-status");
  var saveTimer = null, savedText = text ? text.value : "";

  function saveDraft(keepalive) {
    if (!text || !window.fetch || text.value === savedText) return;
    var value = text.value;
    var csrf = form.querySelector("input[name=csrf]").value;
    fetch(text.getAttribute("data-draft"), {
      method: "PUT",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: JSON.stringify({ text: value })
    }).then(function (r) {
      if (!r.ok) throw r;
      savedText = value;
      if (draftStatus) draftStatus.textContent = draftStatus.getAttribute("data-saved");
    }).catch(function () {
      if (draftStatus) draftStatus.textContent = draftStatus.getAttribute("data-failed");
    });
  }
  if (text && text.getAttribute("data-draft")) {
    text.addEventListener("input", function () {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(saveDraft, 700);
    });
    window.addEventListener("pagehide", function () { saveDraft(true); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") saveDraft(true);
    });
  }
  if (insert && pick && text) {
    insert.addEventListener("click", function () {
      var option = pick.options[pick.selectedIndex];
      var chosen = option && option.getAttribute("data-text");
      if (!chosen) return;
      var start = text.selectionStart, end = text.selectionEnd;
      text.focus();
      text.setRangeText(chosen, start, end, "end");
      text.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
  var dialog = document.getElementById("answer-preview");
  if (form && dialog) {
    var confirmed = false;
    form.addEventListener("submit", function (e) {
      if (confirmed) return;
      e.preventDefault();
      document.getElementById("preview-text").textContent = text.value.trim();
      var video = document.getElementById("preview-video");
      var url = form.getAttribute("data-video-url");
      var key = form.querySelector("input[name=video_key]").value;
      video.hidden = !(url && key);
      if (url && key) video.src = url;
      dialog.showModal();
      document.getElementById("answer-confirm").focus();
    });
    document.getElementById("answer-back").addEventListener("click", function () { dialog.close(); text.focus(); });
    document.getElementById("answer-confirm").addEventListener("click", function () {
      confirmed = true;
      clearTimeout(saveTimer);
      dialog.close();
      form.submit();
    });
  }

  // Shortcuts.
  var help = document.getElementById("shortcuts");
  var open = document.getElementById("shortcuts-open");
  if (open && help) open.addEventListener("click", function () { help.showModal(); });
  document.addEventListener("keydown", function (e) {
    // Esc leaves a field, so the keys below work again.
    if (e.key === "Escape" && typing(e.target) && !document.querySelector("dialog[open]")) {
      e.target.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (document.querySelector("dialog[open]") && e.key !== "Escape") return;
    var video = document.getElementById("appeal-video");
    var box = document.getElementById("search-box");
    switch (e.key) {
      case "?": if (help) help.showModal(); break;
      case "/": if (box) { box.focus(); box.select(); } break;
      case "j": if (table) select(current + 1); break;
      case "k": if (table) select(current - 1); break;
      case "n": if (next && next.href) location.href = next.href; else return; break;
      case "p": if (prev && prev.href) location.href = prev.href; else return; break;
      case "v": if (video) { if (video.paused) video.play(); else video.pause(); } else return; break;
      case "a": if (text) text.focus(); else return; break;
      case "t": if (pick) pick.focus(); else return; break;
      default: return;
    }
    e.preventDefault();
  });
})();
