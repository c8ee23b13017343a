// bordercheck console: the few things plain HTML cannot do. Loaded as a file (the content
// security policy allows no inline script); every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // ICAO 9303 zones: three lines of 30, two of 36, two of 44 characters.
  function mrzComplete(text) {
    var lines = text.split(/\r?\n/).map(function (l) { return l.trim(); }).filter(Boolean);
    if (lines.length === 3) { return lines.every(function (l) { return l.length >= 30; }); }
    if (lines.length === 2) { return lines.every(function (l) { return l.length >= 36; }); }
    return false;
  }

  function ready(root) {
    root.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
    // A keyboard-wedge reader types each line and Enter: the last Enter checks the document.
    root.querySelectorAll("textarea[data-mrz-input]").forEach(function (area) {
      area.addEventListener("keydown", function (event) {
        if (event.key !== "Enter" || event.shiftKey) { return; }
        if (mrzComplete(area.value) || event.ctrlKey) {
          event.preventDefault();
          area.form.requestSubmit();
        }
      });
    });
    var summary = root.querySelector("[data-error-summary]");
    if (summary && root === document) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () { ready(document); });

  // A request made by a timer ("every 3s") is the page polling, not the person: the server
  // does not count it as activity, so an open page still ends its session when left idle.
  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
    if (/\bevery\b/.test(trigger) && !event.detail.triggeringEvent) {
      event.detail.headers["X-Console-Poll"] = "1";
    }
  });

  // After an answer arrives: the field is ready for the next document (the answer is read out
  // by the live region), and an error summary takes the focus.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var summary = target.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); return; }
    var form = document.querySelector("form[data-check-form]");
    if (form && target.id === "answer") {
      var field = form.querySelector("[data-mrz-input], #document_number");
      if (field) { field.focus(); field.select(); }
    }
  });
})();
