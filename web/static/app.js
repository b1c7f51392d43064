// smsgw console: no inline scripts anywhere (the Content-Security-Policy forbids them).
// This file gives fetch() the session's CSRF token, marks the page as scripted (class
// "js" on <html>), and runs the keyboard shortcuts every page shares ("?" lists them).
// Pages add their own keys through window.smsgw.keys (see inbox.js).
"use strict";

(function () {
  document.documentElement.classList.add("js");

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

  // ------------------------------------------------------------------ shortcuts

  var help = document.getElementById("shortcuts");
  var helpButton = document.querySelector("[data-shortcuts]");
  var GO = { i: "/", c: "/contacts", m: "/modems" };
  var GO_WINDOW_MS = 1500;
  var pendingG = 0;

  // Pages register keys here: smsgw.keys["j"] = function (event) {...}; return false
  // from a handler to let the browser have the key after all.
  var smsgw = (window.smsgw = window.smsgw || {});
  smsgw.keys = smsgw.keys || {};

  // Typing in a field (or a select, or editable text) is never a shortcut.
  smsgw.isTyping = function (target) {
    if (!target || !target.closest) {
      return false;
    }
    if (target.isContentEditable) {
      return true;
    }
    return Boolean(target.closest("input, textarea, select, [contenteditable]"));
  };

  function toggleHelp() {
    if (!help || typeof help.showModal !== "function") {
      return;
    }
    if (help.open) {
      help.close();
    } else {
      help.showModal();
    }
  }

  if (helpButton && help) {
    helpButton.hidden = false;
    helpButton.addEventListener("click", toggleHelp);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (smsgw.isTyping(event.target)) {
      return;
    }
    if (help && help.open) {
      return; // the dialog has the keyboard; Esc closes it
    }
    var key = event.key;
    if (pendingG && Date.now() - pendingG < GO_WINDOW_MS && GO[key]) {
      pendingG = 0;
      event.preventDefault();
      window.location.assign(GO[key]);
      return;
    }
    pendingG = 0;
    if (key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if (key === "g") {
      pendingG = Date.now();
      return;
    }
    if (key === "/") {
      var search = document.querySelector("[data-search]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    var handler = Object.prototype.hasOwnProperty.call(smsgw.keys, key) ? smsgw.keys[key] : null;
    if (handler && handler(event) !== false) {
      event.preventDefault();
    }
  });
})();
