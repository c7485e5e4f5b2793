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

// Imports: drag and drop of statement files, upload progress (XMLHttpRequest upload events), "select all"
// for bulk row actions, and a confirmation before forms marked data-confirm (commit, undo). Without
// JavaScript every form still posts normally.
(function () {
  "use strict";

  function sizeText(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    if (bytes >= 1024) { return Math.round(bytes / 1024) + " kB"; }
    return bytes + " B";
  }

  function listFiles(zone) {
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector("[data-dropzone-list]");
    if (!input || !list) { return; }
    var field = zone.closest(".field");
    if (field && input.files && input.files.length) {  // the old "choose a file" error no longer applies
      field.classList.remove("has-error");
      field.querySelectorAll(".errorlist").forEach(function (errors) { errors.hidden = true; });
      input.removeAttribute("aria-invalid");
    }
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      var size = document.createElement("span");
      name.textContent = file.name;  // text, never markup
      size.textContent = sizeText(file.size);
      size.className = "muted";
      item.appendChild(name);
      item.appendChild(size);
      list.appendChild(item);
    });
  }

  function zoneOf(event) {
    return event.target && event.target.closest ? event.target.closest("[data-dropzone]") : null;
  }

  function carriesFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }

  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (!carriesFiles(event) || !document.querySelector("[data-dropzone]")) { return; }
      event.preventDefault();  // a file dropped next to the zone must not replace the page
      var zone = zoneOf(event);
      event.dataTransfer.dropEffect = zone ? "copy" : "none";
      if (zone) { zone.classList.add("is-dragover"); }
    });
  });

  document.addEventListener("dragleave", function (event) {
    var zone = zoneOf(event);
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("is-dragover"); }
  });

  document.addEventListener("drop", function (event) {
    if (!carriesFiles(event) || !document.querySelector("[data-dropzone]")) { return; }
    event.preventDefault();
    var zone = zoneOf(event);
    if (!zone) { return; }
    zone.classList.remove("is-dragover");
    var input = zone.querySelector("input[type=file]");
    var merged = new DataTransfer();  // files chosen before and files dropped now, together
    Array.prototype.forEach.call(input.files || [], function (file) { merged.items.add(file); });
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) { merged.items.add(file); });
    input.files = merged.files;
    listFiles(zone);
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-dropzone] input[type=file]")) { listFiles(target.closest("[data-dropzone]")); }
    if (target.matches && target.matches("input[data-select-all]")) {
      var form = target.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][name=rows][form="' + form + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });

  function uploadWithProgress(form) {
    var progress = form.querySelector("[data-upload-progress]");
    var bar = progress.querySelector("progress");
    var label = progress.querySelector("[data-upload-label]");
    var failure = form.querySelector("[data-upload-error]");
    var button = form.querySelector("button[type=submit]");
    var request = new XMLHttpRequest();

    function fail(message) {
      progress.hidden = true;
      failure.textContent = message;
      failure.hidden = false;
      button.disabled = false;
    }

    request.open("POST", form.action);
    request.setRequestHeader("HX-Request", "true");  // answer: HX-Redirect when done, or the form with its errors
    request.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      var percent = Math.round(event.loaded * 100 / event.total);
      bar.value = percent;
      label.textContent = "Uploading… " + percent + "% of " + sizeText(event.total);
    });
    request.upload.addEventListener("load", function () {
      bar.value = 100;
      label.textContent = "Uploaded; saving…";
    });
    request.addEventListener("load", function () {
      var target = request.getResponseHeader("HX-Redirect");
      if (request.status >= 200 && request.status < 300 && target) {
        window.location.assign(target);
        return;
      }
      if (request.status === 422) {  // the form again, with the errors next to the fields
        var card = form.closest("[data-upload-card]");
        card.outerHTML = request.responseText;
        var shown = document.querySelector("[data-upload-card] [aria-invalid=true], [data-upload-card] .alert");
        if (shown && shown.focus) { shown.focus(); }
        return;
      }
      if (request.status === 413) { fail("The upload is larger than this server accepts."); return; }
      if (request.status === 403) { fail("Your role does not allow importing files here."); return; }
      fail("The upload failed (status " + request.status + "). Please try again.");
    });
    request.addEventListener("error", function () { fail("The upload was interrupted. Check the connection and try again."); });
    request.addEventListener("abort", function () { fail("The upload was cancelled."); });

    failure.hidden = true;
    progress.hidden = false;
    bar.value = 0;
    button.disabled = true;
    request.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-upload") && window.FormData && window.XMLHttpRequest) {
      event.preventDefault();
      uploadWithProgress(form);
    }
  });
})();

// Transactions: the bulk bar counts the ticked rows (and refuses more than the server takes), Enter in its
// tag field means "Add tag", and buttons marked data-confirm-click ask first. The dashboard's period picker
// shows its date fields only for a custom range. Without JavaScript every form still posts normally.
(function () {
  "use strict";

  function bulkForm() { return document.querySelector("form[data-bulk]"); }

  function ticked(form) {
    return document.querySelectorAll('input[type=checkbox][name=rows][form="' + form.id + '"]:checked').length;
  }

  function updateCount() {
    var form = bulkForm();
    if (!form) { return; }
    var count = ticked(form);
    var label = form.querySelector("[data-bulk-count]");
    form.classList.toggle("has-selection", count > 0);
    if (label) {
      label.textContent = count ? count + " selected" : "Tick rows to change them together (at most " + form.getAttribute("data-bulk-max") + ").";
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && (target.matches("input[type=checkbox][name=rows]") || target.matches("input[data-select-all]"))) {
      window.setTimeout(updateCount, 0);  // after "select all" has ticked the boxes
    }
    if (target.matches && target.matches(".period-form select[name=period]")) { periodFields(target.form); }
  });
  document.addEventListener("htmx:afterSettle", function () {
    updateCount();
    document.querySelectorAll(".period-form").forEach(periodFields);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-confirm-click]") : null;
    if (!button) { return; }
    var form = button.form;
    if (form && form.hasAttribute("data-bulk") && ticked(form) === 0) { return; }  // the server says what is missing
    if (!window.confirm(button.getAttribute("data-confirm-click"))) { event.preventDefault(); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-bulk")) { return; }
    var most = parseInt(form.getAttribute("data-bulk-max"), 10);
    if (most && ticked(form) > most) {
      event.preventDefault();
      window.alert("Select at most " + most + " transactions at once (" + ticked(form) + " are selected).");
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches || !event.target.matches("form[data-bulk] input[name=tag]")) { return; }
    var add = event.target.form.querySelector("button[data-bulk-enter]");
    if (add) { event.preventDefault(); add.click(); }
  });

  function periodFields(form) {
    if (!form) { return; }
    var select = form.querySelector("select[name=period]");
    if (!select) { return; }
    form.querySelectorAll("input[name=start], input[name=end]").forEach(function (input) {
      var field = input.closest(".field");
      if (field) { field.classList.add("field-custom"); }
    });
    form.setAttribute("data-period", select.value === "custom" ? "custom" : "preset");
  }

  document.addEventListener("DOMContentLoaded", function () {
    updateCount();
    document.querySelectorAll(".period-form").forEach(periodFields);
  });
})();
