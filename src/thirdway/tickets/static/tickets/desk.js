/* Keyboard shortcuts of the desk (the "?" help lists them), Ctrl+Enter to send, and the
 * canned-reply picker.
 *
 * The queue page remembers its ticket links in sessionStorage, so j / k on a ticket page move
 * along the queue it was opened from, and "g q" goes back to that queue.  Keys are ignored while
 * typing in a field and when a modifier is held.
 */
(function () {
  "use strict";

  var STORE = "thirdway.desk.queue";
  var waitingForQ = false;
  var gTimer = null;

  function typing(element) {
    if (!element) return false;
    var tag = element.tagName;
    return element.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#ticket-rows tr[data-href]"));
  }

  function saved() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE)) || null;
    } catch (error) {
      return null;
    }
  }

  function remember() {
    if (!document.getElementById("ticket-rows")) return;
    var state = {
      queue: location.pathname + location.search,
      tickets: rows().map(function (row) { return row.getAttribute("data-href"); }),
      cursor: (saved() || {}).cursor || null
    };
    try { sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (error) { /* private mode */ }
  }

  function setCursor(row) {
    rows().forEach(function (other) {
      other.classList.remove("cursor");
      other.removeAttribute("aria-selected");
    });
    if (!row) return;
    row.classList.add("cursor");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
    var state = saved() || {};
    state.cursor = row.getAttribute("data-href");
    try { sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (error) { /* ignore */ }
  }

  function restoreCursor() {
    var state = saved();
    if (!state || !state.cursor) return;
    var match = rows().filter(function (row) { return row.getAttribute("data-href") === state.cursor; });
    if (match.length) setCursor(match[0]);
  }

  function move(step) {
    var list = rows();
    if (list.length) {
      var current = list.findIndex(function (row) { return row.classList.contains("cursor"); });
      var next = current < 0 ? (step > 0 ? 0 : list.length - 1) : current + step;
      setCursor(list[Math.max(0, Math.min(list.length - 1, next))]);
      return;
    }
    // On a ticket page: the next or previous ticket of the queue it came from.
    var state = saved();
    if (!state || !state.tickets || !state.tickets.length) return;
    var here = state.tickets.indexOf(location.pathname);
    var target = here < 0 ? (step > 0 ? 0 : state.tickets.length - 1) : here + step;
    if (target >= 0 && target < state.tickets.length && target !== here) {
      state.cursor = state.tickets[target];
      try { sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (error) { /* ignore */ }
      location.href = state.tickets[target];
    }
  }

  function openCursor() {
    var row = document.querySelector("#ticket-rows tr.cursor");
    if (row) location.href = row.getAttribute("data-href");
    return !!row;
  }

  function focusReply(internal) {
    var body = document.getElementById("reply-body");
    var toggle = document.getElementById("reply-internal");
    if (!body) return false;
    if (toggle) {
      toggle.checked = internal;
      toggle.dispatchEvent(new Event("change", { bubbles: true }));
    }
    body.focus();
    return true;
  }

  function assignToMe() {
    var form = document.querySelector('form[data-shortcut="assign-me"]');
    if (!form) return false;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  function focusSearch() {
    var box = document.getElementById("ticket-search");
    if (!box) return false;
    box.focus();
    box.select();
    return true;
  }

  function toggleHelp() {
    var help = document.getElementById("shortcut-help");
    if (!help) return false;
    if (help.open) help.close(); else if (help.showModal) help.showModal(); else help.setAttribute("open", "");
    return true;
  }

  function backToQueue() {
    var state = saved();
    var home = document.querySelector("[data-queue-home]");
    location.href = (state && state.queue) || (home && home.getAttribute("href")) || "/tickets/";
  }

  // Ctrl+Enter (or Cmd+Enter) in a message box sends its form, as mail programs do.
  function sendFromBox(event) {
    var box = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.altKey) return false;
    if (!box || box.tagName !== "TEXTAREA" || !box.form) return false;
    if (box.form.requestSubmit) box.form.requestSubmit(); else box.form.submit();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (!event.defaultPrevented && sendFromBox(event)) {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var help = document.getElementById("shortcut-help");
    if (help && help.open && event.key !== "?") return;
    if (waitingForQ) {
      waitingForQ = false;
      clearTimeout(gTimer);
      if (event.key === "q") { event.preventDefault(); backToQueue(); }
      return;
    }
    var handled = false;
    switch (event.key) {
      case "j": move(1); handled = true; break;
      case "k": move(-1); handled = true; break;
      case "Enter":
        // A focused link or button keeps its own Enter.
        if (!event.target.closest || !event.target.closest("a, button, summary")) handled = openCursor();
        break;
      case "o": handled = openCursor(); break;
      case "r": handled = focusReply(false); break;
      case "n": handled = focusReply(true); break;
      case "a": handled = assignToMe(); break;
      case "/": handled = focusSearch(); break;
      case "?": handled = toggleHelp(); break;
      case "g":
        waitingForQ = true;
        gTimer = setTimeout(function () { waitingForQ = false; }, 1500);
        handled = true;
        break;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-shortcut-help]");
    if (opener) toggleHelp();
  });

  // A canned reply fills the message box (added below what is already written).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-canned-for]")) {
      var option = target.options[target.selectedIndex];
      var box = document.getElementById(target.getAttribute("data-canned-for"));
      if (box && option && option.value) {
        var text = option.getAttribute("data-body") || "";
        box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
        box.focus();
      }
    }
    if (target.id === "reply-internal") {
      var form = document.getElementById("reply-form");
      if (form) form.classList.toggle("is-note", target.checked);
      var send = form && form.querySelector("button[type=submit]");
      if (send) send.textContent = target.checked ? "Add internal note" : "Send";
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    remember();
    restoreCursor();
    var toggle = document.getElementById("reply-internal");
    if (toggle && toggle.checked) toggle.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // The queue refreshes itself every 30 s, but not while rows are ticked for a bulk change
  // (the ticks would be lost).  A poll is the one request htmx starts without an event.
  document.addEventListener("htmx:confirm", function (event) {
    var rows = event.target;
    if (rows.id !== "ticket-rows" || event.detail.triggeringEvent) return;
    if (rows.querySelector("input:checked")) event.preventDefault();
  });

  // The queue's rows are swapped by htmx on refresh and on filter changes.
  document.addEventListener("htmx:afterSettle", function () {
    remember();
    restoreCursor();
  });
  document.addEventListener("htmx:pushedIntoHistory", remember);
})();
