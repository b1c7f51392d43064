// smsgw templates: the composer's "/" picker and the Templates page's live preview.
//
// - Picker: "/" at the start of the reply box opens a list of the templates (GET
//   /api/v1/templates), filtered by what follows the "/" (shortcut or name); Up/Down
//   move, Enter or Tab picks, Esc closes. A pick asks the server to render the template
//   for THIS conversation (POST /api/v1/templates/{id}/render with conversation_id) and
//   puts the text in the box (the segment counter then counts it). When a variable has
//   no value the server says which; the reason is shown and nothing is inserted.
// - Preview: the Templates form posts the draft to POST /api/v1/templates/preview 300 ms
//   after typing stops and shows the text, its segment count, or the error.
//
// Text from the server goes in with textContent only, never innerHTML.
"use strict";

(function () {
  var FILTER_LIMIT = 8;
  var PREVIEW_DELAY_MS = 300;
  var CACHE_MS = 60000;

  function json(url, body) {
    var options = { headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      }, function () {
        return { ok: false, status: response.status, data: {} };
      });
    });
  }

  function segmentsText(info) {
    var parts = info.parts === 1 ? "1 part" : info.parts + " parts";
    return (info.encoding === "ucs2" ? "UCS-2" : "GSM-7") + " · " + parts + " · " +
      info.units_left + " left";
  }

  // ---------------------------------------------------------------- the picker

  var cache = { at: 0, list: null };

  function loadTemplates(url) {
    if (cache.list && Date.now() - cache.at < CACHE_MS) {
      return Promise.resolve(cache.list);
    }
    return json(url).then(function (answer) {
      if (!answer.ok) {
        throw new Error(answer.data.error || "templates unavailable");
      }
      cache = { at: Date.now(), list: answer.data.data || [] };
      return cache.list;
    });
  }

  function matches(list, query) {
    var q = query.toLowerCase();
    var starts = [];
    var within = [];
    list.forEach(function (tpl) {
      var shortcut = tpl.shortcut.toLowerCase();
      var name = tpl.name.toLowerCase();
      if (!q || shortcut.indexOf(q) === 0) {
        starts.push(tpl);
      } else if (shortcut.indexOf(q) > 0 || name.indexOf(q) >= 0) {
        within.push(tpl);
      }
    });
    return starts.concat(within).slice(0, FILTER_LIMIT);
  }

  function Picker(box) {
    this.box = box;
    this.form = box.form;
    this.root = this.form.querySelector("[data-template-picker]");
    this.list = this.root.querySelector("[data-template-options]");
    this.status = this.root.querySelector("[data-picker-status]");
    this.shown = [];
    this.active = 0;
    this.busy = false;
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", this.list.id);
    box.setAttribute("aria-expanded", "false");
  }

  Picker.prototype.isOpen = function () {
    return !this.root.hidden;
  };

  Picker.prototype.query = function () {
    var m = /^\/([^\s/]*)$/.exec(this.box.value);
    return m ? m[1] : null;
  };

  Picker.prototype.say = function (text, isError) {
    this.status.textContent = text;
    this.status.classList.toggle("alert", !!isError);
    if (isError) {
      this.status.setAttribute("data-picker-error", "");
    } else {
      this.status.removeAttribute("data-picker-error");
    }
  };

  Picker.prototype.update = function () {
    var query = this.query();
    if (query === null) {
      if (this.isOpen() && !this.status.hasAttribute("data-picker-error")) {
        this.close();
      }
      return;
    }
    var self = this;
    loadTemplates(this.box.getAttribute("data-templates-url")).then(function (list) {
      if (self.query() !== query) {
        return; // typed on meanwhile: the later input event shows its own list
      }
      self.show(matches(list, query), list.length);
    }, function (error) {
      self.open();
      self.list.replaceChildren();
      self.say("Templates could not be loaded: " + error.message, true);
    });
  };

  Picker.prototype.open = function () {
    this.root.hidden = false;
    this.box.setAttribute("aria-expanded", "true");
  };

  Picker.prototype.close = function () {
    this.root.hidden = true;
    this.box.setAttribute("aria-expanded", "false");
    this.box.removeAttribute("aria-activedescendant");
    this.list.replaceChildren();
    this.say("", false);
    this.shown = [];
  };

  Picker.prototype.show = function (found, total) {
    var self = this;
    this.shown = found;
    this.active = 0;
    this.open();
    this.say("", false);
    var items = found.map(function (tpl, i) {
      var li = document.createElement("li");
      li.id = self.list.id + "-" + tpl.id;
      li.setAttribute("role", "option");
      li.setAttribute("data-template-id", String(tpl.id));
      li.setAttribute("data-shortcut", tpl.shortcut);
      var code = document.createElement("code");
      code.textContent = "/" + tpl.shortcut;
      var name = document.createElement("span");
      name.className = "picker-name";
      name.textContent = tpl.name;
      var body = document.createElement("span");
      body.className = "picker-body muted small";
      body.textContent = tpl.body.length > 90 ? tpl.body.slice(0, 89) + "…" : tpl.body;
      li.append(code, " ", name, body);
      li.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the box
        self.active = i;
        self.pick();
      });
      return li;
    });
    this.list.replaceChildren.apply(this.list, items);
    if (!found.length) {
      this.say(total ? "No template matches. Esc closes." : "No templates yet: an admin adds them on the Templates page.", false);
    } else {
      this.say("↑/↓ choose · Enter inserts · Esc closes", false);
    }
    this.mark();
  };

  Picker.prototype.mark = function () {
    var self = this;
    var items = this.list.querySelectorAll("[role=option]");
    items.forEach(function (li, i) {
      var on = i === self.active;
      li.setAttribute("aria-selected", on ? "true" : "false");
      if (on) {
        self.box.setAttribute("aria-activedescendant", li.id);
        li.scrollIntoView({ block: "nearest" });
      }
    });
    if (!items.length) {
      this.box.removeAttribute("aria-activedescendant");
    }
  };

  Picker.prototype.move = function (delta) {
    if (!this.shown.length) {
      return;
    }
    this.active = (this.active + delta + this.shown.length) % this.shown.length;
    this.mark();
  };

  Picker.prototype.pick = function () {
    var tpl = this.shown[this.active];
    if (!tpl || this.busy) {
      return;
    }
    var self = this;
    var before = this.box.value;
    var url = this.box.getAttribute("data-templates-url").replace(/\/+$/, "") + "/" +
      tpl.id + "/render";
    this.busy = true;
    this.say("Filling in /" + tpl.shortcut + "…", false);
    json(url, { conversation_id: Number(this.box.getAttribute("data-conversation")) })
      .then(function (answer) {
        if (!answer.ok) {
          // nothing goes in the box: never a blank in a customer's text
          self.list.replaceChildren();
          self.shown = [];
          self.say("Not inserted: " + (answer.data.error || "the gateway answered " + answer.status), true);
          return;
        }
        if (self.box.value !== before) {
          self.close(); // typed on meanwhile: what they typed wins
          return;
        }
        self.close();
        self.box.value = answer.data.text;
        self.box.setAttribute("data-template-used", tpl.shortcut);
        self.box.dispatchEvent(new Event("input", { bubbles: true }));
        var out = self.form.querySelector("#segments");
        if (out && answer.data.segments) {
          out.title = segmentsText(answer.data.segments);
        }
        self.box.focus();
        self.box.setSelectionRange(self.box.value.length, self.box.value.length);
      }, function () {
        self.say("Not inserted: the gateway could not be reached.", true);
      })
      .then(function () {
        self.busy = false;
      });
  };

  var pickers = new WeakMap();

  function pickerFor(box) {
    if (!box || box.id !== "reply-body" || !box.hasAttribute("data-templates-url") ||
        !box.form || !box.form.querySelector("[data-template-picker]")) {
      return null;
    }
    var picker = pickers.get(box);
    if (!picker) {
      picker = new Picker(box);
      pickers.set(box, picker);
    }
    return picker;
  }

  document.addEventListener("input", function (event) {
    var picker = pickerFor(event.target);
    if (picker) {
      if (picker.status.hasAttribute("data-picker-error")) {
        picker.close();
      }
      picker.update();
    }
  });

  // capture: the picker's keys come before the composer's (Esc leaves the box there)
  document.addEventListener("keydown", function (event) {
    var picker = pickerFor(event.target);
    if (!picker || !picker.isOpen() || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var handled = true;
    if (event.key === "ArrowDown") {
      picker.move(1);
    } else if (event.key === "ArrowUp") {
      picker.move(-1);
    } else if (event.key === "Enter" || (event.key === "Tab" && picker.shown.length)) {
      picker.pick(); // Enter with nothing to pick does nothing: no stray line break
    } else if (event.key === "Escape") {
      picker.close();
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("focusout", function (event) {
    var picker = pickerFor(event.target);
    if (picker && picker.isOpen() && !picker.status.hasAttribute("data-picker-error")) {
      picker.close();
    }
  });

  // ---------------------------------------------------------------- the preview

  var form = document.querySelector("[data-template-form]");
  var area = document.querySelector("[data-template-preview]");
  if (!form || !area) {
    return;
  }
  var body = form.querySelector("[data-template-body]");
  var timer = 0;
  var asked = 0;

  function preview() {
    var mine = ++asked;
    if (!body.value.trim()) {
      var empty = document.createElement("p");
      empty.className = "muted small";
      empty.textContent = "Type the text to see it as a customer would get it.";
      area.replaceChildren(empty);
      return;
    }
    json(form.getAttribute("data-preview-url"), { body: body.value }).then(function (answer) {
      if (mine !== asked) {
        return;
      }
      if (!answer.ok) {
        var error = document.createElement("p");
        error.className = "alert";
        error.setAttribute("data-preview-error", "");
        error.textContent = answer.data.error || "The gateway answered " + answer.status + ".";
        area.replaceChildren(error);
        return;
      }
      var quote = document.createElement("blockquote");
      quote.className = "template-preview";
      quote.setAttribute("data-preview-text", "");
      quote.textContent = answer.data.text;
      var count = document.createElement("p");
      count.className = "segments small";
      count.setAttribute("data-preview-segments", "");
      count.textContent = segmentsText(answer.data.segments);
      area.replaceChildren(quote, count);
    }, function () { /* a hint only: saving checks again */ });
  }

  body.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, PREVIEW_DELAY_MS);
  });
  if (body.value.trim()) {
    preview();
  }
})();
