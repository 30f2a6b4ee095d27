/*
 * gridkb chat widget. Embed with one line in any page:
 *   <script src="https://HOST/widget.js" data-key="WIDGET_KEY" async></script>
 * It draws a floating button and a chat panel inside a shadow root, so the host page's CSS cannot
 * reach it and its CSS cannot leak out. Every text from the server is rendered with textContent:
 * HTML in knowledge or messages is shown, never executed.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__gridkbWidget) return;
  window.__gridkbWidget = true;
  var KEY = script.getAttribute("data-key") || "";
  var TITLE = script.getAttribute("data-title") || "供电服务智能客服";
  var API = new URL(script.src, location.href).origin;
  var STORE = "gridkb-session:" + KEY;
  var NONE_OF_THESE = "都不是，转人工";
  var HANDOFF_MESSAGE = "转人工";

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif}",
    ".fab{position:fixed;right:24px;bottom:24px;z-index:2147483000;border:0;border-radius:28px;background:#0a6ebd;color:#fff;",
    "padding:14px 20px;font-size:15px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:inline-flex;align-items:center;gap:8px}",
    "svg.icon{width:1.15em;height:1.15em;flex:none;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}",
    ".panel{position:fixed;right:24px;bottom:88px;z-index:2147483000;width:370px;max-width:calc(100vw - 32px);height:560px;",
    "max-height:calc(100vh - 120px);background:#fff;color:#222;font-size:14px;font-weight:normal;font-style:normal;line-height:1.5;text-align:left;letter-spacing:normal;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.28);display:none;flex-direction:column;overflow:hidden}",
    ".panel.open{display:flex}",
    ".head{background:#0a6ebd;color:#fff;padding:12px 14px;font-size:15px;display:flex;justify-content:space-between;align-items:center}",
    ".head button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f4f6f8}",
    ".msg{margin:8px 0;display:flex;flex-direction:column}",
    ".bubble{max-width:85%;padding:9px 12px;border-radius:10px;font-size:14px;line-height:1.55;white-space:pre-wrap;word-break:break-word}",
    ".user{align-items:flex-end}.user .bubble{background:#0a6ebd;color:#fff}",
    ".bot .bubble{background:#fff;color:#222;border:1px solid #e1e4e8}",
    ".handoff .bubble{border-color:#f0a020;background:#fff8e8}",
    ".ticket{margin-top:4px;font-size:12px;color:#b26a00}",
    ".bubble table{border-collapse:collapse;margin:4px 0;font-size:13px;line-height:1.4;white-space:normal}",
    ".bubble th,.bubble td{border:1px solid #d8dde3;padding:3px 6px;text-align:left;vertical-align:top}.bubble th{background:#f0f4f8;font-weight:600}.bubble td:first-child{white-space:nowrap}",
    "details{margin-top:4px;font-size:12px;color:#555;max-width:85%}details p{margin:4px 0;white-space:pre-wrap}",
    ".chips{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".chip{border:1px solid #0a6ebd;color:#0a6ebd;background:#fff;border-radius:14px;padding:3px 10px;font-size:12px;cursor:pointer}",
    ".options{flex-direction:column;align-items:flex-start}",
    ".chip.option{text-align:left;font-size:13px}",
    ".chip:disabled{opacity:.55;cursor:default}",
    ".rate{margin-top:4px;display:flex;gap:6px}",
    ".rate button{display:inline-flex;align-items:center;gap:4px;white-space:nowrap;border:1px solid #ccc;background:#fff;color:#444;border-radius:6px;cursor:pointer;font-size:12px;line-height:18px;padding:2px 8px}",
    ".rate button[disabled]{cursor:default;opacity:.55}.rate button.chosen{opacity:1;border-color:#0a6ebd;color:#0a6ebd;background:#eef5fc}",
    ".rate-note{margin-top:2px;font-size:12px;color:#555}",
    ".choices{margin-top:6px}.chip.choice{font-size:13px;padding:4px 14px}",
    ".contact{display:flex;gap:6px;margin-top:6px;max-width:85%}",
    ".contact input{flex:1;min-width:0;border:1px solid #ccd;border-radius:8px;padding:6px 8px;font-size:14px;color:#222;background:#fff}",
    ".contact input[aria-invalid=true]{border-color:#c62828}",
    ".contact button{background:#0a6ebd;color:#fff;border:0;border-radius:8px;padding:0 12px;font-size:13px;cursor:pointer}",
    ".contact button[disabled],.contact input[disabled]{opacity:.55;cursor:default}",
    ".error{margin-top:4px;font-size:12px;color:#c62828;max-width:85%}",
    ".form{display:flex;border-top:1px solid #e1e4e8;padding:8px;gap:6px;background:#fff}",
    ".form textarea{flex:1;resize:none;height:40px;border:1px solid #ccd;border-radius:8px;padding:8px;font-size:14px}",
    ".form button{background:#0a6ebd;color:#fff;border:0;border-radius:8px;padding:0 14px;cursor:pointer}",
    ".form button[disabled]{background:#9bb}",
  ].join("");

  var host = document.createElement("div");
  host.setAttribute("data-gridkb-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = CSS;
  root.appendChild(style);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // icons are inline SVG: an emoji would be an empty box where no emoji font is installed
  var ICONS = {
    chat: "M21 12a8 8 0 0 1-11.6 7.1L4 21l1.9-5.4A8 8 0 1 1 21 12z",
    up: "M7 10v11H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3zm0 0l4-8a3 3 0 0 1 3 3v4h5.5a2 2 0 0 1 2 2.3l-1.3 8A2 2 0 0 1 17.2 21H7",
    down: "M17 14V3h3a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-3zm0 0l-4 8a3 3 0 0 1-3-3v-4H4.5a2 2 0 0 1-2-2.3l1.3-8A2 2 0 0 1 6.8 3H17",
  };

  function icon(name) {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function iconButton(name, text) {
    var button = el("button");
    button.type = "button";
    button.appendChild(icon(name));
    button.appendChild(el("span", "", text));
    return button;
  }

  var fab = iconButton("chat", "智能客服");
  fab.className = "fab";
  fab.setAttribute("aria-label", "打开智能客服");
  var panel = el("div", "panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", TITLE);
  var head = el("div", "head");
  head.appendChild(el("span", "", TITLE));
  var close = el("button", "", "×");
  close.setAttribute("aria-label", "关闭");
  head.appendChild(close);
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form", "form");
  var input = el("textarea");
  input.setAttribute("placeholder", "请输入您的问题，例如：电费怎么交");
  input.setAttribute("maxlength", "1000");
  input.setAttribute("aria-label", "问题");
  var send = el("button", "", "发送");
  send.setAttribute("type", "submit");
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(fab);
  root.appendChild(panel);

  var sessionId = null;
  try { sessionId = sessionStorage.getItem(STORE); } catch (e) { /* storage may be blocked */ }
  var busy = false;
  var greeted = false;

  function headers() {
    return { "Content-Type": "application/json", Authorization: "Bearer " + KEY };
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function addUser(text) {
    var row = el("div", "msg user");
    row.appendChild(el("div", "bubble", text));
    log.appendChild(row);
    scroll();
  }

  function addBot() {
    var row = el("div", "msg bot");
    var bubble = el("div", "bubble", "…");
    row.appendChild(bubble);
    log.appendChild(row);
    scroll();
    return { row: row, bubble: bubble };
  }

  // a table row as the knowledge base writes it: "时段：高峰时段；时间范围：10:00–12:00；电价比例：1.7"
  var ROW = /^[^：；。\n]{1,16}：[^；\n]*(；[^：；。\n]{1,16}：[^；\n]*)+$/;

  function cells(line) {
    return line.split("；").map(function (pair) {
      var at = pair.indexOf("：");
      return { key: pair.slice(0, at), value: pair.slice(at + 1) };
    });
  }

  function sameColumns(a, b) {
    return a.length === b.length && a.every(function (c, i) { return c.key === b[i].key; });
  }

  function table(rows) {
    var t = el("table"), head = el("tr");
    rows[0].forEach(function (c) { head.appendChild(el("th", "", c.key)); });
    t.appendChild(head);
    rows.forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (c) { tr.appendChild(el("td", "", c.value)); });
      t.appendChild(tr);
    });
    return t;
  }

  // An answer as text, except that two or more table rows with the same columns in a row are shown
  // as a table (read across, "时段：…；时间范围：…" lines are hard to compare). Every piece is text.
  function render(bubble, text) {
    bubble.textContent = "";
    var lines = text.split("\n"), prose = [], i = 0;
    function flush() {
      if (prose.length) bubble.appendChild(document.createTextNode(prose.join("\n")));
      prose = [];
    }
    while (i < lines.length) {
      var rows = [];
      while (i + rows.length < lines.length && ROW.test(lines[i + rows.length])) {
        var row = cells(lines[i + rows.length]);
        if (rows.length && !sameColumns(rows[0], row)) break;
        rows.push(row);
      }
      if (rows.length >= 2) {
        flush();
        bubble.appendChild(table(rows));
        i += rows.length;
      } else {
        prose.push(lines[i]);
        i += 1;
      }
    }
    flush();
  }

  function finish(view, reply) {
    // an invalid number or address: the reason shows in red at the input, not twice
    render(view.bubble, (reply.error && reply.answer.replace(reply.error, "").trim()) || reply.answer);
    if (reply.ticket_id) {
      view.row.classList.add("handoff");
      view.row.appendChild(el("div", "ticket", "工单号：" + reply.ticket_id));
    }
    if (reply.sources && reply.sources.length) {
      var details = el("details");
      details.appendChild(el("summary", "", "来源（" + reply.sources.length + "）"));
      reply.sources.forEach(function (s, i) {
        var p = el("p", "", "[" + (i + 1) + "] " + s.title + (s.section ? " › " + s.section : "") + "\n" + s.snippet);
        details.appendChild(p);
      });
      view.row.appendChild(details);
    }
    if (reply.options && reply.options.length) {
      // a clarifying question: each option continues the conversation; none of them goes to a person
      var choices = el("div", "chips options");
      reply.options.concat([NONE_OF_THESE]).forEach(function (q) {
        var chip = el("button", "chip option", q);
        chip.type = "button";
        chip.addEventListener("click", function () {
          Array.prototype.forEach.call(choices.querySelectorAll("button"), function (b) { b.disabled = true; });
          ask(q === NONE_OF_THESE ? HANDOFF_MESSAGE : q);
        });
        choices.appendChild(chip);
      });
      view.row.appendChild(choices);
    }
    if (reply.suggestions && reply.suggestions.length && !(reply.options && reply.options.length)) {
      var chips = el("div", "chips");
      reply.suggestions.forEach(function (q) {
        var chip = el("button", "chip", q);
        chip.type = "button";
        chip.addEventListener("click", function () { ask(q); });
        chips.appendChild(chip);
      });
      view.row.appendChild(chips);
    }
    var collecting = (reply.choices && reply.choices.length) || reply.input;
    if (collecting) contactControls(view, reply);
    // a clarifying question and a step of the contact collection are not rated
    if (reply.message_id && !(reply.options && reply.options.length) && !collecting) {
      var rate = el("div", "rate");
      var up = iconButton("up", "有帮助");
      var down = iconButton("down", "没帮助");
      [up, down].forEach(function (b, i) {
        b.addEventListener("click", function () {
          up.disabled = down.disabled = true;
          b.classList.add("chosen");
          b.setAttribute("aria-pressed", "true");
          feedback(reply, i === 0, view.row);
        });
        rate.appendChild(b);
      });
      view.row.appendChild(rate);
    }
    scroll();
  }

  var INPUTS = {
    phone: { label: "联系电话", placeholder: "手机号或带区号的座机号", type: "tel" },
    address: { label: "地址或户号", placeholder: "街道、小区、门牌号，或 10 位户号", type: "text" },
  };

  function contactControls(view, reply) {
    // after a handoff: buttons (需要回电 / 不用了) and an input for the phone number or the address
    var controls = [];
    if (reply.input && INPUTS[reply.input]) {
      var spec = INPUTS[reply.input];
      var box = el("form", "contact");
      var field = el("input");
      field.type = spec.type;
      field.setAttribute("aria-label", spec.label);
      field.setAttribute("placeholder", spec.placeholder);
      field.setAttribute("maxlength", reply.input === "phone" ? "20" : "200");
      if (reply.input === "phone") { field.setAttribute("inputmode", "tel"); field.setAttribute("autocomplete", "tel"); }
      var submit = el("button", "", "提交");
      submit.type = "submit";
      box.appendChild(field);
      box.appendChild(submit);
      box.addEventListener("submit", function (event) {
        event.preventDefault();
        if (field.value.trim()) ask(field.value);
      });
      if (reply.error) field.setAttribute("aria-invalid", "true");
      controls.push(field, submit);
      view.row.appendChild(box);
    }
    if (reply.error) {
      var error = el("div", "error", reply.error);
      error.setAttribute("role", "alert");
      view.row.appendChild(error);
    }
    if (reply.choices && reply.choices.length) {
      var choices = el("div", "chips choices");
      reply.choices.forEach(function (text) {
        var chip = el("button", "chip choice", text);
        chip.type = "button";
        chip.addEventListener("click", function () { ask(text); });
        choices.appendChild(chip);
        controls.push(chip);
      });
      view.row.appendChild(choices);
    }
    pendingControls = controls;
    if (field) setTimeout(function () { field.focus(); }, 0);
  }

  var pendingControls = [];

  function closeControls() {
    // a step is answered once: the controls of the previous step stop working when anything is sent
    pendingControls.forEach(function (c) { c.disabled = true; });
    pendingControls = [];
  }

  function feedback(reply, helpful, row) {
    fetch(API + "/api/feedback", {
      method: "POST", headers: headers(),
      body: JSON.stringify({ session_id: reply.session_id, message_id: reply.message_id, helpful: helpful }),
    }).then(function (r) { return r.json(); }).then(function (data) {
      var note = helpful ? "感谢您的评价！" : "感谢反馈，我们会改进。" + (data.ticket_id ? "（工单号：" + data.ticket_id + "）" : "");
      row.appendChild(el("div", "rate-note", note));  // below the buttons, which keep their place
      scroll();
    }).catch(function () { row.appendChild(el("div", "rate-note", "评价提交失败")); });
  }

  function remember(id) {
    sessionId = id;
    try { sessionStorage.setItem(STORE, id); } catch (e) { /* ignore */ }
  }

  function fail(view, status) {
    var text = status === 429 ? "您发送得太快了，请稍等片刻再试。" : "网络异常，请稍后重试，或拨打 95598 供电服务热线。";
    finish(view, { answer: text });
  }

  function ask(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    closeControls();
    send.disabled = true;
    addUser(text);
    var view = addBot();
    var body = JSON.stringify({ session_id: sessionId, message: text.slice(0, 1000) });
    fetch(API + "/api/chat/stream", { method: "POST", headers: headers(), body: body })
      .then(function (response) {
        if (response.status === 404 || response.status === 422) {
          sessionId = null;  // the conversation expired: start a new one
        }
        if (!response.ok || !response.body) { fail(view, response.status); return; }
        return readStream(response, view);
      })
      .catch(function () { fail(view, 0); })
      .then(function () { busy = false; send.disabled = false; input.focus(); });
  }

  function readStream(response, view) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var shown = "";
    view.bubble.textContent = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        var events = buffer.split("\n\n");
        buffer = events.pop();
        events.forEach(function (block) {
          var name = "", data = "";
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) name = line.slice(7);
            else if (line.indexOf("data: ") === 0) data += line.slice(6);
          });
          if (!data) return;
          var payload = JSON.parse(data);
          if (name === "delta") {
            shown += payload.text;
            view.bubble.textContent = shown;
            scroll();
          } else if (name === "done") {
            remember(payload.session_id);
            finish(view, payload);
          }
        });
        return pump();
      });
    }
    return pump();
  }

  function greet() {
    if (greeted) return;
    greeted = true;
    var view = addBot();
    finish(view, { answer: "您好！我是" + TITLE + "，可以为您解答交电费、办电、停电报修、电价等问题。" });
  }

  fab.addEventListener("click", function () {
    panel.classList.toggle("open");
    if (panel.classList.contains("open")) { greet(); input.focus(); }
  });
  close.addEventListener("click", function () { panel.classList.remove("open"); });
  form.addEventListener("submit", function (event) { event.preventDefault(); var t = input.value; input.value = ""; ask(t); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
