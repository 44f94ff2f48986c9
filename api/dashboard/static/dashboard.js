// The dashboard's only script (served from /admin/static, allowed by the CSP's script-src 'self').
// 1. Keeps each page's live region ([data-live]) fresh: every few seconds it fetches the same URL with
//    the X-Dashboard-Fragment header and swaps in the returned HTML, without reloading the page. It
//    skips a round while the operator is typing in the region or an error there needs reading.
// 2. Asks for confirmation before forms marked data-confirm are submitted.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  var region = document.querySelector("[data-live]");
  if (!region) {
    return;
  }
  var period = Number(region.dataset.refreshMs) || 3000;
  var status = document.querySelector("[data-live-status]");

  function show(text, state) {
    if (status) {
      status.hidden = false;
      status.textContent = text;
      status.dataset.state = state;
    }
  }

  function editing() {
    if (region.querySelector("[data-hold]")) {
      return true;
    }
    var fields = region.querySelectorAll("input:not([type=hidden]), select, textarea");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field === document.activeElement || field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function refresh() {
    if (document.hidden || editing()) {
      show(document.hidden ? "paused" : "paused while editing", "paused");
      window.setTimeout(refresh, period);
      return;
    }
    fetch(window.location.href, {
      headers: { "X-Dashboard-Fragment": "1" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload(); // the session ended: the page itself goes to the login form
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (html !== null && !editing()) {
          region.innerHTML = html;
          show("live", "live");
        }
      })
      .catch(function () {
        show("offline", "stale");
      })
      .then(function () {
        window.setTimeout(refresh, period);
      });
  }

  show("live", "live");
  window.setTimeout(refresh, period);
})();
