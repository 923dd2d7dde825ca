// Consentry web application: small improvements over pages that work without script.
// - Live status: every element carrying data-contact and data-purpose is a consent
//   status badge; the page polls /app/live for those contacts every few seconds while it
//   is visible and updates the badges in place, announcing changes to screen readers.
// - Select all: a checkbox with data-select-all="NAME" checks every checkbox named NAME.
// - Submit once: a posted form's buttons are disabled while it is on its way.
(function () {
  "use strict";

  function badges() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-contact][data-purpose]"));
  }

  function announce(text) {
    var region = document.getElementById("live-region");
    if (!region) {
      region = document.createElement("div");
      region.id = "live-region";
      region.className = "visually-hidden";
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = text;
  }

  function poll() {
    var all = badges();
    if (all.length === 0 || document.hidden) { return; }
    var ids = [];
    all.forEach(function (b) {
      var id = b.getAttribute("data-contact");
      if (ids.indexOf(id) < 0 && ids.length < 200) { ids.push(id); }
    });
    fetch("/app/live?ids=" + encodeURIComponent(ids.join(",")), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      var changed = [];
      all.forEach(function (b) {
        var c = data[b.getAttribute("data-contact")];
        var s = c && c[b.getAttribute("data-purpose")];
        if (!s) { return; }
        if (b.getAttribute("data-status") !== s.status) {
          b.setAttribute("data-status", s.status);
          b.className = "badge s-" + s.status;
          b.textContent = s.label;
          changed.push(s.label);
        }
      });
      if (changed.length) { announce(changed.join(", ")); }
    }).catch(function () { /* offline: try again at the next tick */ });
  }

  function selectAll() {
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-select-all");
        document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (c) {
          c.checked = box.checked;
        });
      });
    });
  }

  // A form posted once is not posted twice by a double click: its buttons are disabled
  // once it is on its way (the server refuses nothing on this account; this spares a
  // second batch of e-mails).
  function submitOnce() {
    document.querySelectorAll("form[method=post]").forEach(function (form) {
      form.addEventListener("submit", function () {
        setTimeout(function () {
          form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
            b.disabled = true;
          });
        }, 0);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    selectAll();
    submitOnce();
    if (badges().length) { setInterval(poll, 3000); }
  });
}());
