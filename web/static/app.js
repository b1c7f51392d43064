// smsgw console: no inline scripts anywhere (the Content-Security-Policy forbids them).
// This file gives fetch() the session's CSRF token and wires a few data- attributes.
"use strict";

(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  var SAFE = { GET: true, HEAD: true, OPTIONS: true };
  var nativeFetch = window.fetch.bind(window);

  // Same-origin state-changing requests carry X-CSRF-Token; others are left alone, so
  // the token never leaves this site.
  window.fetch = function (input, init) {
    init = init || {};
    var method = (init.method || (input instanceof Request ? input.method : "GET")).toUpperCase();
    var url = new URL(input instanceof Request ? input.url : String(input), window.location.href);
    if (token && !SAFE[method] && url.origin === window.location.origin) {
      var headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
      if (!headers.has("X-CSRF-Token")) {
        headers.set("X-CSRF-Token", token);
      }
      init.headers = headers;
    }
    return nativeFetch(input, init);
  };

  document.addEventListener("click", function (event) {
    var back = event.target.closest("[data-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
