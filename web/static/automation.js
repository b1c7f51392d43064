// smsgw Automation page: the rule tester answers in place. Without this script the
// tester's form posts and the page comes back with the answer; with it, the same route
// answers only the result (header X-Smsgw-Fragment: tester), which is parsed with
// DOMParser (no script in it runs) and moved in with importNode; nothing received goes
// in through innerHTML. Ctrl/Cmd+Enter in the tester's fields runs it.
"use strict";

(function () {
  var form = document.querySelector("form[data-tester]");
  if (!form || !window.fetch || !window.DOMParser) {
    return;
  }
  var REGION = '[data-region="tester-result"]';
  var running = false;

  function region() {
    return document.querySelector(REGION);
  }

  function say(text) {
    var target = region();
    var p = document.createElement("p");
    p.className = "alert";
    p.setAttribute("role", "alert");
    p.textContent = text;
    target.replaceChildren(p);
  }

  function markInvalid(field) {
    form.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    if (!field) {
      return;
    }
    var input = form.elements.namedItem(field);
    if (input && input.setAttribute) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "tester-error");
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (running) {
      return;
    }
    running = true;
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    region().setAttribute("aria-busy", "true");
    var action = form.getAttribute("action").split("#")[0];
    fetch(action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Smsgw-Fragment": "tester" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.text().then(function (text) {
          var doc = new DOMParser().parseFromString(text, "text/html");
          var fresh = doc.querySelector(REGION);
          if (!fresh) {
            throw new Error("the test could not run (HTTP " + response.status + "): reload the page");
          }
          var target = region();
          var nodes = Array.prototype.map.call(fresh.childNodes, function (node) {
            return document.importNode(node, true);
          });
          target.replaceChildren.apply(target, nodes);
          var alert = target.querySelector("[data-field]");
          markInvalid(alert ? alert.getAttribute("data-field") : null);
        });
      })
      .catch(function (error) {
        say(error.message || "the test could not run: reload the page");
      })
      .finally(function () {
        running = false;
        button.disabled = false;
        region().removeAttribute("aria-busy");
      });
  });

  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
