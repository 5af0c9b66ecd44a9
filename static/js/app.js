// LDN Diary: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // A slider counts as answered only once the patient moves it (SPEC §2).
  function markAnswered(range) {
    var scale = range.closest("[data-scale]");
    if (!scale) return;
    var box = scale.querySelector("[data-unanswered]");
    if (box) box.checked = false;
    scale.classList.remove("is-unanswered");
    showValue(scale, range);
  }

  function showValue(scale, range) {
    var output = scale.querySelector("output");
    var unanswered = scale.classList.contains("is-unanswered");
    if (output) output.textContent = unanswered ? "not answered" : range.value;
    range.setAttribute("aria-valuetext", unanswered ? "not answered" : range.value + " out of 100");
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.type === "range") markAnswered(target);
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-unanswered")) return;
    var scale = box.closest("[data-scale]");
    var range = scale && scale.querySelector("input[type=range]");
    if (!scale || !range) return;
    scale.classList.toggle("is-unanswered", box.checked);
    showValue(scale, range);
  });

  // Registration records the browser's time zone, so "today" is the patient's today.
  document.addEventListener("DOMContentLoaded", function () {
    var field = document.querySelector("[data-timezone]");
    if (field && window.Intl) {
      try { field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* keep UTC */ }
    }
  });
})();
