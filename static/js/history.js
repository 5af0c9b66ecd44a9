// History: with htmx, choosing an item redraws the month at once (the form's hx-get), so the
// Show button, the way without script, is hidden. Without htmx nothing here runs: Show stays.
(function () {
  "use strict";

  function hideShowButtons() {
    if (!window.htmx) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-hidden-with-htmx]"), function (button) {
      button.hidden = true;
    });
  }

  // Deferred scripts in the head run before htmx is loaded; by this event it is.
  document.addEventListener("DOMContentLoaded", hideShowButtons);
  // Back and forward fetch the page again and put it in place: hide the button there too.
  document.addEventListener("htmx:historyRestore", hideShowButtons);
})();
