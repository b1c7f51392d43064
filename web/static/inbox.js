// smsgw inbox: progressive enhancement of the server-rendered page.
//
// - Opening a conversation, every action form and the "older" link fetch fragments that
//   the server renders from the same templates as the page (one rendering path, one
//   escaping rule); without this script every link and form still works.
// - Live updates: GET /events/inbox (server-sent events) names what changed, never any
//   text; the list and the open thread are fetched again. Reconnects with backoff.
// - The composer's live segment counter asks POST /api/v1/segments (modem.pdu decides).
// - Keyboard: j/k, Enter/o, r, n, a, e, Shift+P, Shift+O, t, u (see the "?" dialog).
//
// Nothing here puts received text into the page with innerHTML: fragments are parsed
// with DOMParser (which runs no scripts) and moved in; our own text goes in with
// textContent.
"use strict";

(function () {
  var root = document.querySelector("[data-inbox]");
  if (!root) {
    return;
  }
  var smsgw = (window.smsgw = window.smsgw || {});
  smsgw.keys = smsgw.keys || {};

  var FRAGMENT = "X-Smsgw-Fragment";
  var REGIONS = ["header", "panel", "items", "notice"];
  var LIVE_EVENTS = [
    "message.received", "message.queued", "message.status", "conversation.created",
    "conversation.status", "conversation.assigned", "conversation.changed",
    "note.added", "contact.changed", "conversation.handed_over"
  ];
  var COUNT_DELAY_MS = 150;
  var REFRESH_DELAY_MS = 120;
  var RETRY_BASE_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var LIST_PAGE = 50;

  var listBox = root.querySelector("[data-list]");
  var pane = document.getElementById("thread-pane");
  var live = root.querySelector("[data-live]");
  var wide = window.matchMedia("(min-width: 80rem)");
  var parser = new DOMParser();
  var selectedId = root.getAttribute("data-open") || null;

  function parse(html) {
    return parser.parseFromString(html, "text/html");
  }

  function adopt(node) {
    return document.importNode(node, true);
  }

  function thread() {
    return pane.querySelector("article.thread");
  }

  function openId() {
    var article = thread();
    return root.hasAttribute("data-open") && article ? article.getAttribute("data-thread") : null;
  }

  function withQuery(url, params) {
    var u = new URL(url, window.location.href);
    Object.keys(params).forEach(function (k) {
      if (params[k] === null || params[k] === undefined || params[k] === "") {
        u.searchParams.delete(k);
      } else {
        u.searchParams.set(k, String(params[k]));
      }
    });
    return u.pathname + u.search;
  }

  function fragmentUrl(href) {
    var u = new URL(href, window.location.href);
    u.pathname = u.pathname.replace(/\/+$/, "") + "/thread";
    return u.pathname + u.search;
  }

  // A message the agent should see (a refused action, a lost connection).
  function flash(text) {
    var article = thread();
    var notice = article && article.querySelector('[data-region="notice"]');
    if (!notice) {
      window.alert(text); // no thread open: nowhere else to say it
      return;
    }
    var p = document.createElement("p");
    p.className = "alert";
    p.setAttribute("role", "alert");
    p.setAttribute("data-composer-error", "");
    p.textContent = text;
    notice.querySelectorAll("[data-composer-error]").forEach(function (old) { old.remove(); });
    notice.appendChild(p);
  }

  // The message of a server error page, as text.
  function errorText(doc, status) {
    var alert = doc.querySelector(".alert");
    return alert ? alert.textContent.trim() : "The gateway answered " + status + ".";
  }

  // ------------------------------------------------------------------ the list

  function rows() {
    return Array.prototype.slice.call(listBox.querySelectorAll("li.row"));
  }

  function markRows() {
    var open = openId();
    rows().forEach(function (row) {
      var id = row.getAttribute("data-id");
      row.classList.toggle("selected", id === selectedId && id !== open);
      if (id === open) {
        row.setAttribute("aria-current", "true");
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  function select(delta) {
    var all = rows();
    if (!all.length) {
      return;
    }
    var index = -1;
    all.forEach(function (row, i) {
      if (row.getAttribute("data-id") === (selectedId || openId())) {
        index = i;
      }
    });
    if (index < 0) {
      index = delta > 0 ? 0 : all.length - 1;
    } else {
      index = Math.max(0, Math.min(all.length - 1, index + delta));
    }
    selectedId = all[index].getAttribute("data-id");
    markRows();
    var link = all[index].querySelector("a[data-open-conversation]");
    if (link && listBox.offsetParent !== null) {
      link.focus({ preventScroll: true }); // screen readers follow the selection
    }
    all[index].scrollIntoView({ block: "nearest" });
  }

  function focusedRow() {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("li.row") : null;
    return row && listBox.contains(row) ? row : null;
  }

  var listRefresh = serial(function () {
    if (new URL(window.location.href).searchParams.has("cursor")) {
      return Promise.resolve(); // an older page, opened without the script: leave it
    }
    var url = withQuery(root.getAttribute("data-list-url"), {
      limit: Math.min(200, Math.max(LIST_PAGE, rows().length)),
      open: openId()
    });
    return fetch(url, { headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("list " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var doc = parse(html);
        var fresh = doc.getElementById("conv-list");
        if (!fresh) {
          return;
        }
        var tabs = doc.querySelector("[data-tabs]");
        var oldTabs = root.querySelector("[data-tabs]");
        if (tabs && oldTabs) {
          oldTabs.replaceWith(adopt(tabs));
        }
        var top = listBox.scrollTop;
        var hadFocus = focusedRow();
        var nodes = [adopt(fresh)];
        var more = doc.querySelector(".more");
        if (more) {
          nodes.push(adopt(more));
        }
        listBox.replaceChildren.apply(listBox, nodes);
        listBox.scrollTop = top;
        markRows();
        var again = hadFocus && listBox.querySelector(
          'li.row[data-id="' + hadFocus.getAttribute("data-id") + '"] a[data-open-conversation]');
        if (again) {
          again.focus({ preventScroll: true });
        }
      });
  });

  listBox.addEventListener("click", function (event) {
    var more = event.target.closest("a[data-more]");
    if (!more) {
      return;
    }
    event.preventDefault();
    fetch(more.getAttribute("data-more"), { headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = parse(html);
        var list = listBox.querySelector("#conv-list");
        doc.querySelectorAll("#conv-list > li.row").forEach(function (row) {
          if (!list.querySelector('li.row[data-id="' + row.getAttribute("data-id") + '"]')) {
            list.appendChild(adopt(row));
          }
        });
        var next = doc.querySelector(".more");
        var holder = more.closest(".more");
        if (next) {
          holder.replaceWith(adopt(next));
        } else {
          holder.remove();
        }
        markRows();
      });
  });

  // ------------------------------------------------------------------ the thread

  function scrollToEnd(article) {
    var items = article.querySelector('[data-region="items"]');
    if (items) {
      items.scrollTop = items.scrollHeight;
    }
  }

  function syncPanel(article) {
    var panel = article.querySelector('[data-region="panel"]');
    if (panel && wide.matches) {
      panel.open = true;
    }
  }

  function markRead(article) {
    if (Number(article.getAttribute("data-unread") || "0") <= 0 || document.hidden) {
      return;
    }
    article.setAttribute("data-unread", "0");
    var row = listBox.querySelector('li.row[data-id="' + article.getAttribute("data-thread") + '"]');
    if (row) {
      row.classList.remove("unread");
      var count = row.querySelector(".count");
      if (count) {
        count.remove();
      }
    }
    var form = article.querySelector('form[data-action="read"]');
    if (form) {
      fetch(form.action, { method: "POST", body: new FormData(form), headers: headers("none") });
    }
  }

  function headers(fragment) {
    var h = {};
    h[FRAGMENT] = fragment;
    h.Accept = "text/html";
    return h;
  }

  function shown(article, focusHeading) {
    syncPanel(article);
    scrollToEnd(article);
    setupComposer(article);
    markRows();
    markRead(article);
    var title = article.querySelector("#thread-title");
    if (title) {
      document.title = title.textContent + " · Inbox · smsgw";
      if (focusHeading) {
        title.focus({ preventScroll: true });
      }
    }
  }

  function openConversation(href, push, focusHeading) {
    return fetch(fragmentUrl(href), { headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          window.location.assign(href); // the page says what went wrong
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var fresh = parse(html).querySelector("article.thread");
        if (!fresh) {
          window.location.assign(href);
          return;
        }
        var article = adopt(fresh);
        pane.replaceChildren(article);
        root.setAttribute("data-open", article.getAttribute("data-thread"));
        selectedId = article.getAttribute("data-thread");
        if (push) {
          window.history.pushState({ inbox: true }, "", href);
        }
        shown(article, focusHeading);
      })
      .catch(function () {
        window.location.assign(href);
      });
  }

  // What an agent is typing in a region about to be swapped (the tag box): kept, unless
  // it belongs to the form just submitted.
  function typed(article, submitted) {
    var kept = [];
    article.querySelectorAll("[data-region] input[id]:not([type=hidden])").forEach(function (input) {
      if (input.value && input.form !== submitted) {
        kept.push({ id: input.id, value: input.value, start: input.selectionStart, end: input.selectionEnd });
      }
    });
    return kept;
  }

  function retype(kept) {
    kept.forEach(function (k) {
      var input = document.getElementById(k.id);
      if (input && !input.value) {
        input.value = k.value;
        if (document.activeElement === input && k.start !== null) {
          input.setSelectionRange(k.start, k.end);
        }
      }
    });
  }

  // Swap the changed regions in; the composer (and its draft) stays as it is.
  function swapThread(doc, submitted) {
    var fresh = doc.querySelector("article.thread");
    var current = thread();
    if (!fresh) {
      return false;
    }
    if (!current || current.getAttribute("data-thread") !== fresh.getAttribute("data-thread")) {
      pane.replaceChildren(adopt(fresh));
      shown(thread(), false);
      return true;
    }
    var kept = typed(current, submitted || null);
    var active = document.activeElement;
    var activeId = active && current.contains(active) && active.id ? active.id : null;
    var activeShortcut = active && active.getAttribute ? active.getAttribute("data-shortcut") : null;
    // A refusal the agent has not acted on yet stays through live refreshes.
    var refusals = submitted === undefined
      ? Array.prototype.slice.call(current.querySelectorAll("[data-composer-error]"))
      : [];
    REGIONS.forEach(function (name) {
      var selector = '[data-region="' + name + '"]';
      var old = current.querySelector(selector);
      var replacement = fresh.querySelector(selector);
      if (!old || !replacement) {
        return;
      }
      var node = adopt(replacement);
      if (name === "panel") {
        node.open = old.open;
      }
      if (name === "items") {
        var atEnd = old.scrollHeight - old.scrollTop - old.clientHeight < 80;
        var top = old.scrollTop;
        old.replaceWith(node);
        node.scrollTop = atEnd ? node.scrollHeight : top;
      } else {
        old.replaceWith(node);
      }
    });
    ["data-unread", "data-status", "data-mine", "data-url"].forEach(function (attr) {
      current.setAttribute(attr, fresh.getAttribute(attr) || "");
    });
    var notice = current.querySelector('[data-region="notice"]');
    if (notice && !notice.querySelector("[data-composer-error]")) {
      refusals.forEach(function (p) { notice.appendChild(p); });
    }
    var again = (activeId && document.getElementById(activeId)) ||
      (activeShortcut && current.querySelector('[data-shortcut="' + activeShortcut + '"]'));
    if (again) {
      again.focus({ preventScroll: true });
    } else if (active && !document.contains(active)) {
      var title = current.querySelector("#thread-title");
      if (title) {
        title.focus({ preventScroll: true });
      }
    }
    retype(kept);
    return true;
  }

  var threadRefresh = serial(function () {
    var article = thread();
    if (!article || !openId()) {
      return Promise.resolve();
    }
    var id = openId();
    return fetch(article.getAttribute("data-fragment"), { headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && openId() === id) { // not if another one was opened meanwhile
          swapThread(parse(html), undefined);
          var now = thread();
          if (now) {
            markRead(now);
          }
        }
      });
  });

  function submitAction(form, submitter) {
    if (form.hasAttribute("data-busy")) {
      return;
    }
    var kind = form.getAttribute("data-action");
    var id = openId();
    var body = new FormData(form);
    if (submitter && submitter.name) {
      body.append(submitter.name, submitter.value);
    }
    var buttons = form.querySelectorAll("button");
    form.setAttribute("data-busy", "");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, { method: "POST", body: body, headers: headers("thread") })
      .then(function (response) {
        return response.text().then(function (html) {
          if (openId() !== id) {
            return; // the agent moved on to another conversation meanwhile
          }
          var doc = parse(html);
          var swapped = doc.querySelector("article.thread") ? swapThread(doc, form) : false;
          if (!response.ok) {
            if (!swapped || !thread().querySelector("[data-composer-error]")) {
              flash(errorText(doc, response.status));
            }
            return;
          }
          afterSuccess(form, kind);
        });
      })
      .catch(function () {
        flash("The gateway could not be reached; nothing was changed. Try again.");
      })
      .then(function () {
        form.removeAttribute("data-busy");
        buttons.forEach(function (b) { b.disabled = false; });
        listRefresh();
      });
  }

  function afterSuccess(form, kind) {
    var article = thread();
    if (!article) {
      return;
    }
    if (kind === "reply" || kind === "note") {
      var box = form.querySelector("textarea");
      box.value = "";
      var key = form.querySelector("[data-idempotency-key]");
      if (key) {
        key.value = newKey();
      }
      if (kind === "reply") {
        counter(article).reset();
      }
      scrollToEnd(article);
      box.focus();
    }
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  pane.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-action]");
    if (!form) {
      return;
    }
    event.preventDefault();
    submitAction(form, event.submitter);
  });

  pane.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) {
      select.form.requestSubmit();
    }
  });

  pane.addEventListener("click", function (event) {
    var back = event.target.closest("[data-back-to-list]");
    if (back) {
      event.preventDefault();
      backToList(true);
      return;
    }
    var tab = event.target.closest("[data-tab]");
    if (tab) {
      showTab(tab.getAttribute("data-tab"), false);
    }
  });

  root.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-open-conversation]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button !== 0) {
      return;
    }
    event.preventDefault();
    openConversation(link.getAttribute("href"), true, true);
  });

  function emptyPane() {
    var box = document.createElement("div");
    box.className = "thread-empty";
    var p = document.createElement("p");
    p.textContent = "Choose a conversation on the left.";
    box.appendChild(p);
    return box;
  }

  function backToList(push) {
    root.removeAttribute("data-open");
    pane.replaceChildren(emptyPane());
    if (push) {
      window.history.pushState({ inbox: true }, "", root.getAttribute("data-home"));
    }
    document.title = "Inbox · smsgw";
    markRows();
    var row = selectedId && listBox.querySelector('li.row[data-id="' + selectedId + '"] a');
    if (row) {
      row.focus({ preventScroll: false });
    }
  }

  window.addEventListener("popstate", function () {
    var match = /^\/conversations\/(\d+)\/?$/.exec(window.location.pathname);
    if (match) {
      openConversation(window.location.pathname + window.location.search, false, false);
    } else {
      backToList(false);
    }
  });

  wide.addEventListener("change", function () {
    var article = thread();
    if (article) {
      syncPanel(article);
    }
  });

  // ------------------------------------------------------------------ the composer

  function showTab(name, focus) {
    var article = thread();
    if (!article) {
      return;
    }
    article.querySelectorAll("[data-tab]").forEach(function (tab) {
      var on = tab.getAttribute("data-tab") === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) {
        panel.toggleAttribute("data-inactive", !on);
      }
    });
    if (focus) {
      var box = article.querySelector(name === "note" ? "#note-body" : "#reply-body");
      if (box && !box.disabled) {
        box.focus();
      }
    }
  }

  var counters = new WeakMap();

  function counter(article) {
    return counters.get(article) || { reset: function () {} };
  }

  function setupComposer(article) {
    var box = article.querySelector("#reply-body");
    var out = article.querySelector("#segments");
    if (!box || !out) {
      return;
    }
    var initial = Array.prototype.slice.call(out.childNodes).map(adopt);
    var timer = 0;
    var asked = 0;

    function show(info) {
      var encoding = info.encoding === "ucs2" ? "UCS-2" : "GSM-7";
      out.setAttribute("data-encoding", info.encoding);
      out.setAttribute("data-parts", String(info.parts));
      var strong = document.createElement("strong");
      strong.textContent = encoding;
      var parts = info.parts === 1 ? "1 part" : info.parts + " parts";
      var nodes = [strong, document.createTextNode(" · " + parts + " · " + info.units_left + " left")];
      if (info.non_gsm_chars && info.non_gsm_chars.length) {
        var forced = document.createElement("span");
        forced.className = "forced";
        forced.setAttribute("data-forced", "");
        forced.textContent = " · UCS-2 because of: " + info.non_gsm_chars.join(" ");
        nodes.push(forced);
      }
      if (!info.sendable && info.parts > info.max_parts) {
        var tooLong = document.createElement("span");
        tooLong.className = "too-long";
        tooLong.textContent = " · too long: at most " + info.max_parts + " parts";
        nodes.push(tooLong);
      }
      out.replaceChildren.apply(out, nodes);
      out.title = info.units + (info.encoding === "ucs2" ? " UTF-16 units" : " GSM-7 septets") +
        ", " + info.units_per_part + " per part";
    }

    function ask() {
      var text = box.value;
      var mine = ++asked;
      if (!text) {
        reset();
        return;
      }
      fetch(box.getAttribute("data-segments-url"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ text: text })
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (body && mine === asked) {
            show(body.data || body);
          }
        })
        .catch(function () { /* the counter is a hint; sending still checks */ });
    }

    function reset() {
      asked++;
      out.removeAttribute("data-encoding");
      out.removeAttribute("data-parts");
      out.replaceChildren.apply(out, initial.map(adopt));
    }

    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, COUNT_DELAY_MS);
    });
    counters.set(article, { reset: reset });
    if (box.value) {
      ask();
    }
  }

  // Ctrl/Cmd+Enter sends from the composer; Esc leaves it (the draft stays).
  pane.addEventListener("keydown", function (event) {
    var box = event.target.closest("textarea, input");
    if (!box) {
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && box.form) {
      event.preventDefault();
      box.form.requestSubmit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      box.blur();
      var items = thread() && thread().querySelector('[data-region="items"]');
      if (items) {
        items.focus({ preventScroll: true });
      }
    }
  });

  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.matches("[data-search]")) {
      event.target.blur();
    }
  });

  // ------------------------------------------------------------------ keys

  function click(selector) {
    var article = thread();
    var target = article && openId() ? article.querySelector(selector) : null;
    if (target) {
      target.click();
      return true;
    }
    return false;
  }

  function openSelected() {
    var focused = focusedRow();
    var id = (focused && focused.getAttribute("data-id")) || selectedId ||
      (rows()[0] && rows()[0].getAttribute("data-id"));
    var link = id && listBox.querySelector('li.row[data-id="' + id + '"] a[data-open-conversation]');
    if (link) {
      openConversation(link.getAttribute("href"), true, true);
    }
  }

  smsgw.keys.j = function () { select(1); };
  smsgw.keys.k = function () { select(-1); };
  smsgw.keys.o = openSelected;
  smsgw.keys.Enter = function (event) {
    if (event.target.closest("a, button, summary, [role=tab]")) {
      return false; // the focused control's own Enter
    }
    openSelected();
  };
  smsgw.keys.r = function () {
    if (!openId()) {
      return false;
    }
    showTab("reply", true);
  };
  smsgw.keys.n = function () {
    if (!openId()) {
      return false;
    }
    showTab("note", true);
  };
  smsgw.keys.a = function () { return click('[data-shortcut="a"]'); };
  smsgw.keys.e = function () { return click('[data-shortcut="e"]'); };
  smsgw.keys.P = function () { return click('[data-shortcut="P"]'); };
  smsgw.keys.O = function () { return click('[data-shortcut="O"]'); };
  smsgw.keys.t = function () {
    var input = thread() && openId() ? thread().querySelector("[data-tag-input]") : null;
    if (!input) {
      return false;
    }
    input.focus();
  };
  smsgw.keys.u = function () {
    if (!root.hasAttribute("data-open")) {
      return false;
    }
    backToList(true);
  };

  // ------------------------------------------------------------------ live updates

  // One run at a time; a call during a run asks for one more run after it.
  function serial(run) {
    var busy = false;
    var again = false;
    var timer = 0;
    function go() {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      run()
        .catch(function () { /* the next event or reconnect tries again */ })
        .then(function () {
          busy = false;
          if (again) {
            again = false;
            schedule();
          }
        });
    }
    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(go, REFRESH_DELAY_MS);
    }
    return schedule;
  }

  var source = null;
  var retries = 0;
  var connectedOnce = false;

  function setLive(state, text) {
    if (!live) {
      return;
    }
    live.hidden = false;
    live.setAttribute("data-state", state);
    live.querySelector("[data-live-text]").textContent = text;
    live.title = state === "live" ? "Updates arrive as they happen" : "";
  }

  function onEvent(event) {
    var data = {};
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      data = {};
    }
    if (event.type === "conversation.handed_over" && data.escalated) {
      escalated(data.conversation_id);
    }
    var open = openId();
    if (open && (data.conversation_id === undefined || String(data.conversation_id) === open)) {
      threadRefresh();
    }
    listRefresh();
  }

  // The automation escalated a conversation (takeover word, HELP, frustration): a
  // notice every agent sees at once, with a way to it, until dismissed.
  var toast = root.querySelector("[data-toast]");

  function escalated(conversationId) {
    if (!toast || !conversationId) {
      return;
    }
    var text = document.createElement("span");
    text.textContent = "A customer needs a person now: the automation escalated a conversation. ";
    var link = document.createElement("a");
    link.href = withQuery("/conversations/" + Number(conversationId), {});
    link.setAttribute("data-open-conversation", String(Number(conversationId)));
    link.textContent = "Open it";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () { toast.hidden = true; });
    link.addEventListener("click", function () { toast.hidden = true; });
    toast.setAttribute("data-conversation", String(Number(conversationId)));
    toast.replaceChildren(text, link, document.createTextNode(" · "), close);
    toast.hidden = false;
  }

  function connect() {
    source = new EventSource(root.getAttribute("data-events"));
    var resynced = connectedOnce;
    source.addEventListener("open", function () {
      var resync = connectedOnce;
      connectedOnce = true;
      retries = 0;
      setLive("live", "live");
      if (resync) {
        listRefresh();
        threadRefresh();
      }
    });
    source.addEventListener("hello", function (event) {
      // The first stream began after the page read its list and thread: whatever happened
      // in between reached neither, so fetch them again (not when nothing happened). A
      // reconnection fetches them anyway (above).
      var data = JSON.parse(event.data);
      if (!resynced && data.published !== Number(root.getAttribute("data-published"))) {
        listRefresh();
        threadRefresh();
      }
    });
    source.addEventListener("error", function () {
      source.close();
      source = null;
      retries += 1;
      setLive("reconnecting", "reconnecting…");
      var delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * Math.pow(2, retries - 1));
      delay = delay / 2 + Math.random() * (delay / 2);
      if (retries >= 3) {
        fetch("/api/v1/me", { headers: { Accept: "application/json" } }).then(function (response) {
          if (response.status === 401) {
            setLive("signed-out", "signed out: reload to sign in");
            return;
          }
          window.setTimeout(connect, delay);
        }, function () {
          window.setTimeout(connect, delay);
        });
        return;
      }
      window.setTimeout(connect, delay);
    });
    LIVE_EVENTS.forEach(function (name) {
      source.addEventListener(name, onEvent);
    });
  }

  document.addEventListener("visibilitychange", function () {
    var article = thread();
    if (!document.hidden && article && openId()) {
      markRead(article);
    }
  });

  // ------------------------------------------------------------------ start

  var article = thread();
  if (article) {
    shown(article, false);
    var error = article.querySelector("[data-composer-error]");
    if (error) {
      showTab(article.querySelector('[data-tab][aria-selected="true"]').getAttribute("data-tab"), true);
    }
  }
  markRows();
  if (window.EventSource) {
    setLive("reconnecting", "connecting…");
    connect();
  }
})();
