// Progressive enhancement only: the page is complete without this file.
// 1. event times in the reader's own time zone (UTC stays in the tooltip);
// 2. a copy button for the verification command.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var locale = lang === "vi" ? "vi-VN" : "en-GB";
  var format;
  try {
    format = new Intl.DateTimeFormat(locale, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  } catch (e) {
    format = null;
  }
  if (format) {
    document.querySelectorAll("time[data-local][datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when.getTime())) {
        el.title = el.textContent;
        el.textContent = format.format(when);
      }
    });
  }
  if (navigator.clipboard) {
    document.querySelectorAll("[data-copy]").forEach(function (block) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = block.getAttribute("data-copy-label") || "Copy";
      // a changed button text is not reliably read out: a status region says it
      var status = document.createElement("span");
      status.className = "copy__status";
      status.setAttribute("role", "status");
      button.addEventListener("click", function () {
        var code = block.querySelector("code");
        navigator.clipboard.writeText((code || block).textContent).then(function () {
          var copied = block.getAttribute("data-copied-label") || "Copied";
          button.textContent = copied;
          status.textContent = copied;
        });
      });
      block.insertBefore(button, block.firstChild);
      block.parentNode.insertBefore(status, block.nextSibling);
    });
  }
})();
