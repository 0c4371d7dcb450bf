/* 医保断缴助手 web chat. Plain JavaScript, no framework, no third party.
 * Everything from the server or the user is put on the page with textContent or as SVG
 * text nodes, never as HTML, so nothing anyone types or any rule file says can inject markup. */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var MAX_TEXT = 2000;
  var FAILED = "网络不太稳定，消息没有发出去，请再点一次发送。";
  var BUSY = "系统繁忙，请稍后再试。";

  var log, form, textarea, sendButton, notice;
  var lastSeq = 0;
  var unsent = null; // the last message whose sending failed: {what, id}

  // Sending the same thing again after a failure reuses its id: if the first try did reach the
  // server (only the answer was lost), the server answers it once, not twice.
  function idFor(what) {
    var id = unsent && unsent.what === what ? unsent.id : newId();
    unsent = { what: what, id: id };
    return id;
  }

  function settle(id, sent) {
    if (sent && unsent && unsent.id === id) unsent = null;
  }
  var chain = Promise.resolve();

  // ------------------------------------------------------------------ helpers
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function newId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function ApiFailure(status, message) {
    this.status = status;
    this.message = message;
  }

  function call(method, path, body) {
    var options = { method: method, credentials: "same-origin", cache: "no-store", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok || !data) {
          var message = data && typeof data.error === "string" ? data.error : (response.status >= 500 ? BUSY : FAILED);
          throw new ApiFailure(response.status, message);
        }
        return data;
      });
    }, function () { throw new ApiFailure(0, FAILED); });
  }

  function showNotice(message) {
    notice.textContent = message;
    notice.hidden = !message;
  }

  // ------------------------------------------------------------------ drawing
  function drawButtons(entry, box) {
    (entry.buttons || []).forEach(function (row) {
      var line = el("div", "row");
      row.forEach(function (button) {
        var node = el("button", "choice", button.label);
        node.type = "button";
        node.addEventListener("click", function () { press(button, node); });
        line.appendChild(node);
      });
      box.appendChild(line);
    });
    if (entry.suggestions && entry.suggestions.length) {
      var tips = el("div", "suggest");
      tips.appendChild(el("span", "suggest-label", "你还可以问："));
      entry.suggestions.forEach(function (words) {
        var chip = el("button", "chip", words);
        chip.type = "button";
        chip.addEventListener("click", function () { sendText(words); });
        tips.appendChild(chip);
      });
      box.appendChild(tips);
    }
  }

  function drawEntry(entry) {
    var item = el("article", "msg " + (entry.role === "user" ? "user" : "bot"));
    item.setAttribute("data-seq", entry.seq);
    item.setAttribute("aria-label", entry.role === "user" ? "我说" : "助手说");
    if (entry.role === "user") {
      item.appendChild(el("p", "bubble", entry.text));
      return item;
    }
    var body = el("div", "bubble");
    if (entry.view && window.YBView) {
      body.appendChild(window.YBView.draw(entry.view, entry.text, el, svg));
    } else {
      body.appendChild(window.YBView ? window.YBView.textBlock("p", "text", entry.text, el) : el("p", "text", entry.text));
    }
    item.appendChild(body);
    var actions = el("div", "actions");
    drawButtons(entry, actions);
    if (actions.childNodes.length) item.appendChild(actions);
    return item;
  }

  function addEntries(entries, atLast) {
    var firstBot = null, lastBot = null;
    entries.forEach(function (entry) {
      if (entry.seq <= lastSeq) return;
      var node = drawEntry(entry);
      log.appendChild(node);
      if (entry.role !== "user") {
        firstBot = firstBot || node;
        lastBot = node;
      }
      lastSeq = entry.seq;
    });
    // Show the start of the new reply (a long answer is read from its top); after a reload, the latest one.
    var target = (atLast ? lastBot : firstBot) || log.lastElementChild;
    if (target && target.scrollIntoView) target.scrollIntoView({ block: "start" });
  }

  function pending(text) {
    var item = el("article", "msg user pending");
    item.appendChild(el("p", "bubble", text));
    var dots = el("article", "msg bot pending typing");
    dots.appendChild(el("p", "bubble", "正在查询…"));
    log.appendChild(item);
    log.appendChild(dots);
    dots.scrollIntoView({ block: "end" });
    return function () {
      if (item.parentNode) item.parentNode.removeChild(item);
      if (dots.parentNode) dots.parentNode.removeChild(dots);
    };
  }

  // ------------------------------------------------------------------ sending
  function queue(job) {
    chain = chain.then(job, job);
    return chain;
  }

  /* Show `shown` as pending, send `body`, draw the reply. Resolves to whether it was answered. */
  function post(shown, body, onFail) {
    showNotice("");
    var clear = pending(shown);
    return queue(function () {
      body.since = lastSeq;
      return call("POST", "/api/message", body).then(function (data) {
        clear();
        addEntries(data.entries);
        return true;
      }, function (failure) {
        clear();
        showNotice(failure.message);
        if (onFail) onFail();
        return false;
      });
    });
  }

  function sendText(text) {
    var words = text.trim();
    if (!words) {
      showNotice("请输入文字，或点一个按钮。");
      return;
    }
    if (Array.from(words).length > MAX_TEXT) { // characters as the server counts them (an emoji is one)
      showNotice("消息太长了（最多 2000 字），请分几次发，或只说关键信息：地区、医保类型、断缴多久、原因。");
      return;
    }
    if (textarea.value.trim() === words) setText("");
    var id = idFor("text:" + words);
    post(words, { text: words, id: id }, function () {
      if (!textarea.value) setText(words); // nothing typed is lost when sending fails
    }).then(function (sent) { settle(id, sent); });
  }

  function press(button, node) {
    node.setAttribute("aria-pressed", "true");
    var id = idFor("button:" + button.payload);
    post(button.label, { payload: button.payload, label: button.label, id: id }).then(function (sent) {
      settle(id, sent);
      node.removeAttribute("aria-pressed");
    });
  }

  function setText(value) {
    textarea.value = value;
    grow();
  }

  function grow() {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight, Math.round(window.innerHeight * 0.35)) + "px";
  }

  function restart() {
    // A stray tap must not wipe the conversation: the first tap asks, a second within 5 s restarts.
    var button = document.getElementById("restart");
    if (!button.hasAttribute("data-confirm")) {
      button.setAttribute("data-confirm", "1");
      button.textContent = "确定重新开始？";
      window.setTimeout(function () {
        button.removeAttribute("data-confirm");
        button.textContent = "重新开始";
      }, 5000);
      return;
    }
    button.removeAttribute("data-confirm");
    button.textContent = "重新开始";
    showNotice("");
    queue(function () {
      return call("POST", "/api/restart", {}).then(function (data) {
        while (log.firstChild) log.removeChild(log.firstChild);
        lastSeq = 0;
        addEntries(data.entries);
        textarea.focus();
      }, function (failure) { showNotice(failure.message); });
    });
  }

  function begin() {
    queue(function () {
      return call("GET", "/api/history?since=0").then(function (data) {
        if (data.entries.length) return data;
        var params = new URLSearchParams(window.location.search);
        var link = {};
        if (params.get("region")) link.region = params.get("region");
        if (params.get("src")) link.src = params.get("src");
        if (params.get("start")) link.start = params.get("start");
        return call("POST", "/api/start", link);
      }).then(function (data) { addEntries(data.entries, true); },
              function (failure) { showNotice(failure.message); });
    });
  }

  function init() {
    log = document.getElementById("log");
    form = document.getElementById("form");
    textarea = document.getElementById("text");
    sendButton = document.getElementById("send");
    notice = document.getElementById("notice");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendText(textarea.value);
    });
    textarea.addEventListener("keydown", function (event) {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME candidate is not a send.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        sendText(textarea.value);
      }
    });
    textarea.addEventListener("input", grow);
    document.getElementById("restart").addEventListener("click", restart);
    sendButton.disabled = false;
    begin();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
