/* Type-ahead pickers: htmx fetches the rows matching what is typed; this script puts the
 * picked row's value in the hidden field (which then tells the form it changed), and lets the
 * arrow keys, Enter and Escape work the list.  Without JavaScript the typed text is sent and
 * the server finds the row by id or exact name.
 */
(function () {
  "use strict";

  function boxOf(element) {
    return element && element.closest ? element.closest("[data-picker]") : null;
  }

  function close(box) {
    var list = box.querySelector(".picker-results");
    if (list) list.innerHTML = "";
  }

  function choose(box, button) {
    var hidden = box.querySelector("[data-picker-value]");
    var search = box.querySelector("input[type=search]");
    hidden.value = button.getAttribute("data-pick-value");
    search.value = button.getAttribute("data-pick-label");
    close(box);
    search.focus();
    hidden.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-pick-value]");
    var box = boxOf(button);
    if (button && box) {
      event.preventDefault();
      choose(box, button);
      return;
    }
    // A click elsewhere closes the open lists.
    document.querySelectorAll("[data-picker]").forEach(function (other) {
      if (!other.contains(event.target)) close(other);
    });
  });

  document.addEventListener("input", function (event) {
    var box = boxOf(event.target);
    // Typing again forgets the row picked before, until another is picked.
    if (box && event.target.type === "search") box.querySelector("[data-picker-value]").value = "";
  });

  document.addEventListener("keydown", function (event) {
    var box = boxOf(event.target);
    if (!box) return;
    var buttons = Array.prototype.slice.call(box.querySelectorAll("[data-pick-value]"));
    var at = buttons.indexOf(event.target);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!buttons.length) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = at < 0 ? (step > 0 ? 0 : buttons.length - 1) : at + step;
      if (next < 0) box.querySelector("input[type=search]").focus();
      else buttons[Math.min(next, buttons.length - 1)].focus();
    } else if (event.key === "Escape") {
      close(box);
      box.querySelector("input[type=search]").focus();
    } else if (event.key === "Enter" && event.target.type === "search" && buttons.length) {
      // Enter in the box picks the first row rather than sending the form half filled.
      event.preventDefault();
      choose(box, buttons[0]);
    }
  });
})();
