// Coffer web app behaviour that is not htmx: menus built on <details> close on Escape and on a
// click elsewhere. Loaded as a static file so the Content-Security-Policy can refuse inline scripts.
(function () {
  "use strict";
  function menus() { return document.querySelectorAll("details[data-menu][open]"); }

  document.addEventListener("click", function (event) {
    menus().forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    menus().forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary && menu.contains(document.activeElement)) { summary.focus(); }
    });
  });

  // When an inline edit row is swapped in, put the cursor in its first field (or the first with an error).
  document.addEventListener("htmx:load", function (event) {
    var row = event.detail.elt;
    if (row && row.classList && row.classList.contains("editing")) {
      var field = row.querySelector("[aria-invalid=true]") || row.querySelector("input:not([type=hidden]), select, textarea");
      if (field) { field.focus(); }
    }
  });
})();
