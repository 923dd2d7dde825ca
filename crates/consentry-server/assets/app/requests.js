// Consentry web application, the request form: when the purpose changes, its notices
// (and the validity it suggests) replace the previous purpose's, so the form never sends
// a notice of another purpose. The block is taken from the form the server renders for
// the new purpose (GET /app/requests/new?…&ask=PURPOSE): one rendering, no copy here.
// Without script the form still works: the server refuses a notice of another purpose
// and shows the form again for the purpose chosen.
(function () {
  "use strict";

  function reload(form, select) {
    var base = form.getAttribute("data-terms-url");
    var block = document.getElementById("request-terms");
    if (!base || !block) { return; }
    var wanted = select.value;
    block.setAttribute("aria-busy", "true");
    fetch(base + (base.indexOf("?") < 0 ? "?" : "&") + "ask=" + encodeURIComponent(wanted), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      // A later change may have overtaken this answer: keep only the current purpose's.
      if (html === null || select.value !== wanted) { return; }
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("request-terms");
      if (!fresh || fresh.getAttribute("data-purpose") !== wanted) { return; }
      block.replaceWith(document.importNode(fresh, true));
    }).catch(function () {
      // Offline: the server still refuses a notice of another purpose.
    }).then(function () {
      var now = document.getElementById("request-terms");
      if (now) { now.removeAttribute("aria-busy"); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("request-form");
    var select = document.getElementById("request-ask");
    if (!form || !select) { return; }
    select.addEventListener("change", function () { reload(form, select); });
  });
}());
