// Progressive enhancement only: every page works without this file.
// Copy buttons: shown only when the browser can copy; they copy the text of the
// field named in data-copy-target and say so for screen readers.
(function () {
  "use strict";
  function announce(button, text) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = text;
    button.setAttribute("aria-live", "polite");
    window.setTimeout(function () { button.textContent = original; }, 2500);
  }
  function setUp(root) {
    root.querySelectorAll("button.copy-button[data-copy-target]").forEach(function (button) {
      if (button.dataset.ready) { return; }
      button.dataset.ready = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.getElementById(button.dataset.copyTarget);
        if (!field) { return; }
        var text = field.value;
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () { announce(button, "Copied"); },
            function () { field.select(); announce(button, "Press Ctrl+C to copy"); });
        } else {
          field.focus();
          field.select();
          var ok = false;
          try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
          announce(button, ok ? "Copied" : "Press Ctrl+C to copy");
        }
      });
    });
  }
  // The editor's sliders: the number beside the label follows the slider (without
  // scripts it shows the value the page was made with).
  function followRanges(root) {
    root.querySelectorAll("output[data-range-for]").forEach(function (output) {
      var range = document.getElementById(output.dataset.rangeFor);
      if (!range || range.dataset.followed) { return; }
      range.dataset.followed = "1";
      range.addEventListener("input", function () { output.textContent = range.value; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    followRanges(document);
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target); });
})();
