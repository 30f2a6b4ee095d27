/*
 * gridkb agent console: knowledge search, ticket queue, knowledge gaps, dashboard, graph explorer,
 * temporary notices, document upload. A key is kept in localStorage; every text from the server is
 * put in the page with textContent (or as <mark> elements built from highlight spans), never innerHTML.
 */
(function () {
  "use strict";
  var KEY_STORE = "gridkb-console-key";
  var key = localStorage.getItem(KEY_STORE) || "";
  var me = null;
  var charts = {};
  var STATUSES = ["new", "triaged", "assigned", "in_progress", "resolved", "closed", "reopened"];
  var STATUS_NAMES = { new: "新建", triaged: "已分诊", assigned: "已分派", in_progress: "处理中", resolved: "已解决", closed: "已关闭", reopened: "已重开" };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs.text;
      else if (name === "class") node.className = attrs[name];
      else if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), attrs[name]);
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function when(iso) { return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : ""; }

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + key }, options.headers || {});
    if (options.json !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401) { logout(); }
        if (!response.ok) {
          var detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || data);
          throw new Error(detail || response.statusText);
        }
        return data;
      });
    });
  }

  // --- login and tabs

  function login(candidate) {
    key = candidate;
    return api("/api/whoami").then(function (who) {
      if (who.role === "customer") throw new Error("控件密钥不能登录控制台");
      me = who;
      localStorage.setItem(KEY_STORE, key);
      $("login").hidden = true;
      $("tabs").hidden = false;
      $("who").textContent = who.name + "（" + (who.role === "admin" ? "管理员" : "坐席") + "）";
      $("keys-tab").hidden = who.role !== "admin";
      show("search");
    });
  }
  function logout() {
    localStorage.removeItem(KEY_STORE);
    key = ""; me = null;
    $("tabs").hidden = true;
    document.querySelectorAll(".tab").forEach(function (t) { t.hidden = true; });
    $("login").hidden = false;
  }
  function show(name) {
    document.querySelectorAll("nav button[data-tab]").forEach(function (b) { b.classList.toggle("active", b.dataset.tab === name); });
    document.querySelectorAll(".tab").forEach(function (t) { t.hidden = t.id !== "tab-" + name; });
    ({ tickets: loadTickets, gaps: loadGaps, dashboard: loadDashboard, notices: loadNotices, documents: loadReport, keys: loadKeys }[name] || function () {})();
  }

  // --- search

  function marked(text, spans) {
    var out = [], last = 0;
    (spans || []).slice().sort(function (a, b) { return a[0] - b[0]; }).forEach(function (span) {
      if (span[0] < last) return;
      out.push(text.slice(last, span[0]));
      out.push(el("mark", { text: text.slice(span[0], span[1]) }));
      last = span[1];
    });
    out.push(text.slice(last));
    return out;
  }
  function search(event) {
    event.preventDefault();
    var params = new URLSearchParams({ q: $("search-q").value, k: "10" });
    if ($("search-category").value) params.set("category", $("search-category").value);
    var list = clear($("search-results"));
    api("/api/search?" + params).then(function (hits) {
      if (!hits.length) list.appendChild(el("li", { text: "没有找到相关知识" }));
      hits.forEach(function (hit) {
        list.appendChild(el("li", {}, [
          el("div", { class: "path", text: hit.title_path.join(" › ") + " · " + hit.category + " · " + hit.audience + " · " + hit.score.toFixed(3) }),
          el("div", {}, marked(hit.snippet, hit.highlights)),
          hit.also_in.length ? el("div", { class: "path", text: "重复出现于：" + hit.also_in.join("，") }) : document.createTextNode(""),
        ]));
      });
    }).catch(function (e) { list.appendChild(el("li", { class: "error", text: e.message })); });
  }
  function loadCategories() {
    api("/api/kb/report").then(function (report) {
      var select = $("search-category");
      (report.coverage || []).forEach(function (c) { select.appendChild(el("option", { value: c.code, text: c.name + "（" + c.code + "）" })); });
    }).catch(function () {});
  }

  // --- tickets

  function loadTickets(event) {
    if (event) event.preventDefault();
    var params = new URLSearchParams({ limit: "200" });
    if ($("ticket-status").value) params.append("status", $("ticket-status").value);
    if ($("ticket-department").value) params.set("department", $("ticket-department").value);
    if ($("ticket-overdue").checked) params.set("overdue", "true");
    var body = clear($("ticket-table").querySelector("tbody"));
    api("/api/tickets?" + params).then(function (tickets) {
      tickets.forEach(function (t) {
        body.appendChild(el("tr", { class: "clickable", "data-number": t.number, onclick: function () { openTicket(t.number); } }, [
          el("td", { text: t.number }), el("td", { text: STATUS_NAMES[t.status] || t.status }), el("td", { text: t.priority }),
          el("td", { text: t.department }), el("td", { class: t.breached ? "breached" : "", text: when(t.due_at) + (t.breached ? " 超时" : "") }),
          el("td", { text: t.question.slice(0, 60) }),
        ]));
      });
    }).catch(function (e) { body.appendChild(el("tr", {}, [el("td", { class: "error", text: e.message })])); });
  }
  function patch(number, body) {
    return api("/api/tickets/" + encodeURIComponent(number), { method: "PATCH", json: body })
      .then(function () { openTicket(number); loadTickets(); })
      .catch(function (e) { alert(e.message); });
  }
  function openTicket(number) {
    var box = clear($("ticket-detail"));
    api("/api/tickets/" + encodeURIComponent(number)).then(function (t) {
      box.appendChild(el("h3", { text: "工单 " + t.number + " · " + (STATUS_NAMES[t.status] || t.status) }));
      box.appendChild(el("p", { text: "来源：" + t.origin + " · 渠道：" + t.channel + " · 优先级：" + t.priority + " · 队列：" + t.queue }));
      box.appendChild(el("p", { text: "分类：" + t.category + " · 归口部门：" + t.department + " · 处理人：" + (t.assignee || "未分派") + " · 联系方式：" + (t.contact || "无") }));
      box.appendChild(el("p", { class: t.breached ? "breached" : "", text: "首次响应时限：" + when(t.first_response_due) + " · 办结时限：" + when(t.due_at) }));
      box.appendChild(el("pre", { text: t.question }));
      if (t.resolution) box.appendChild(el("p", { text: "处理结果：" + t.resolution + (t.publication ? "（知识发布：" + t.publication + "）" : "") }));
      var actions = el("div", { class: "actions" });
      function action(label, handler) { actions.appendChild(el("button", { type: "button", class: "secondary", text: label, onclick: handler })); }
      if (["new"].indexOf(t.status) >= 0) action("分诊", function () { patch(t.number, { action: "transition", status: "triaged" }); });
      if (["new", "triaged", "assigned", "in_progress", "reopened"].indexOf(t.status) >= 0)
        action("分派…", function () { var who = prompt("处理人", me.name); if (who) patch(t.number, { action: "assign", assignee: who }); });
      if (["assigned", "reopened"].indexOf(t.status) >= 0) action("开始处理", function () { patch(t.number, { action: "transition", status: "in_progress" }); });
      if (t.status !== "resolved" && t.status !== "closed")
        action("改派部门…", function () { var d = prompt("归口部门", t.department); if (d) patch(t.number, { action: "route", department: d }); });
      if (t.status === "resolved") action("关闭", function () { patch(t.number, { action: "transition", status: "closed" }); });
      if (t.status === "resolved" || t.status === "closed") action("重开", function () { patch(t.number, { action: "transition", status: "reopened", note: prompt("原因") || "" }); });
      if (t.publication === "draft" && me.role === "admin") {
        action("批准发布到知识库", function () { patch(t.number, { action: "approve" }); });
        action("驳回发布", function () { patch(t.number, { action: "reject", note: prompt("原因") || "" }); });
      }
      box.appendChild(actions);
      if (t.status === "in_progress") {
        var answer = el("textarea", { rows: "4", style: "width:100%", placeholder: "答复客户的内容", id: "resolution" });
        var publish = el("input", { type: "checkbox", id: "publish" });
        box.appendChild(answer);
        box.appendChild(el("label", {}, [publish, " 发布到知识库（需管理员批准）"]));
        box.appendChild(el("button", { type: "button", text: "解决", id: "resolve", onclick: function () {
          patch(t.number, { action: "resolve", resolution: answer.value, publish: publish.checked });
        } }));
      }
      box.appendChild(el("h4", { text: "对话记录" }));
      var transcript = el("div", { class: "transcript" });
      t.transcript.forEach(function (turn) { transcript.appendChild(el("p", { text: (turn.role === "user" ? "客户：" : "机器人：") + turn.text })); });
      box.appendChild(transcript);
      box.appendChild(el("h4", { text: "处理记录（留痕）" }));
      var history = el("ul", { class: "history" });
      t.events.forEach(function (e) {
        history.appendChild(el("li", { text: when(e.at) + " " + e.actor + " " + e.action + (e.from_status !== e.to_status ? " " + e.from_status + "→" + e.to_status : "") + " " + JSON.stringify(e.detail) }));
      });
      box.appendChild(history);
    }).catch(function (e) { box.appendChild(el("p", { class: "error", text: e.message })); });
  }

  // --- gaps, dashboard

  function loadGaps() {
    var body = clear($("gap-table").querySelector("tbody"));
    api("/api/gaps").then(function (gaps) {
      gaps.forEach(function (g) {
        body.appendChild(el("tr", { title: g.examples.join("\n") }, [
          el("td", { text: String(g.count) }), el("td", { text: g.question }), el("td", { text: g.category }),
          el("td", { text: g.department }), el("td", { text: g.queue === "knowledge" ? "知识缺口" : "服务问题" }),
        ]));
      });
    }).catch(function (e) { body.appendChild(el("tr", {}, [el("td", { class: "error", text: e.message })])); });
  }
  function percent(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }
  function chart(id, config) {
    if (!window.Chart) return;
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart($(id), config);
  }
  function loadDashboard() {
    api("/api/metrics").then(function (m) {
      var kpis = clear($("kpis"));
      [["会话数", m.conversations], ["机器人解决率", percent(m.bot_resolution_rate)], ["转人工率", percent(m.transfer_rate)],
       ["工单数", m.tickets], ["时限达标率", percent(m.sla_resolution_compliance)], ["超时未结", m.overdue_open_tickets],
       ["首次响应中位（分钟）", m.median_first_response_minutes === null ? "—" : m.median_first_response_minutes],
       ["满意度", m.mean_rating === null ? "—" : m.mean_rating]].forEach(function (k) {
        kpis.appendChild(el("div", { class: "kpi" }, [el("b", { text: String(k[1]) }), k[0]]));
      });
      var days = m.daily.map(function (d) { return d.day; });
      chart("chart-daily", { type: "line", data: { labels: days, datasets: [
        { label: "会话数", data: m.daily.map(function (d) { return d.conversations; }), yAxisID: "y" },
        { label: "工单数", data: m.daily.map(function (d) { return d.tickets; }), yAxisID: "y" },
        { label: "机器人解决率", data: m.daily.map(function (d) { return d.bot_resolution_rate; }), yAxisID: "rate" }] },
        options: { animation: false, scales: { rate: { position: "right", min: 0, max: 1 } } } });
      chart("chart-status", { type: "bar", data: { labels: Object.keys(m.tickets_by_status).map(function (s) { return STATUS_NAMES[s] || s; }),
        datasets: [{ label: "工单状态", data: Object.values(m.tickets_by_status) }] }, options: { animation: false } });
      chart("chart-department", { type: "bar", data: { labels: Object.keys(m.tickets_by_department),
        datasets: [{ label: "各部门工单", data: Object.values(m.tickets_by_department) }] }, options: { animation: false, indexAxis: "y" } });
    }).catch(function (e) { clear($("kpis")).appendChild(el("p", { class: "error", text: e.message })); });
  }

  // --- graph explorer: the neighbours on a circle around the entity

  function svg(tag, attrs, text) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }
  function loadGraph(event, name) {
    if (event) event.preventDefault();
    name = name || $("graph-entity").value;
    var canvas = clear($("graph-svg"));
    api("/api/graph?entity=" + encodeURIComponent(name)).then(function (g) {
      var place = {};
      var others = g.nodes.filter(function (n) { return n.id !== g.center; });
      place[g.center] = [0, 0];
      others.forEach(function (n, i) {
        var angle = (2 * Math.PI * i) / Math.max(others.length, 1);
        var radius = i % 2 ? 250 : 190;
        place[n.id] = [Math.cos(angle) * radius * 1.3, Math.sin(angle) * radius];
      });
      g.edges.forEach(function (e) {
        if (e.source !== g.center && e.target !== g.center) return;
        var a = place[e.source], b = place[e.target];
        canvas.appendChild(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }));
      });
      g.nodes.forEach(function (n) {
        var p = place[n.id];
        var colour = n.id === g.center ? "#0a6ebd" : n.type === "entity" ? "#2da44e" : n.type === "chunk" ? "#bf8700" : "#8250df";
        var group = svg("g", { class: "node", "data-id": n.id, style: "cursor:pointer" });
        group.appendChild(svg("circle", { cx: p[0], cy: p[1], r: n.id === g.center ? 14 : 7, fill: colour }));
        group.appendChild(svg("text", { x: p[0] + 10, y: p[1] + 4 }, n.label.slice(0, 18)));
        group.appendChild(svg("title", {}, n.type + "：" + n.label));
        if (n.type === "entity" && n.id !== g.center) group.addEventListener("click", function () { $("graph-entity").value = n.label; loadGraph(null, n.label); });
        canvas.appendChild(group);
      });
    }).catch(function (e) { canvas.appendChild(svg("text", { x: -200, y: 0 }, e.message)); });
  }

  // --- notices

  function loadNotices() {
    var body = clear($("notice-table").querySelector("tbody"));
    api("/api/notices?all=true").then(function (notices) {
      notices.forEach(function (n) {
        var expire = n.active ? el("button", { type: "button", class: "secondary", text: "立即结束", onclick: function () {
          api("/api/notices/" + n.id + "/expire", { method: "POST" }).then(loadNotices);
        } }) : document.createTextNode("");
        body.appendChild(el("tr", {}, [el("td", { text: n.kind }), el("td", { text: n.title }), el("td", { text: n.areas.join("、") }),
          el("td", { text: when(n.starts_at) + " — " + when(n.ends_at) }), el("td", { text: n.active ? "生效中" : "未生效/已结束" }), el("td", {}, [expire])]));
      });
    });
  }
  function addNotice(event) {
    event.preventDefault();
    $("notice-error").textContent = "";
    api("/api/notices", { method: "POST", json: {
      kind: $("notice-kind").value, title: $("notice-title").value,
      areas: $("notice-areas").value.split(/[,，、\s]+/).filter(Boolean),
      starts_at: new Date($("notice-start").value).toISOString(), ends_at: new Date($("notice-end").value).toISOString(),
      cause: $("notice-cause").value, restoration: $("notice-restoration").value,
    } }).then(function () { $("notice-form").reset(); loadNotices(); })
      .catch(function (e) { $("notice-error").textContent = e.message; });
  }

  // --- documents

  function upload(event) {
    event.preventDefault();
    var data = new FormData();
    Array.prototype.forEach.call($("upload-files").files, function (f) { data.append("files", f); });
    var status = $("upload-status");
    status.textContent = "上传中…";
    api("/api/documents", { method: "POST", body: data }).then(function (job) { poll(job.id); })
      .catch(function (e) { status.textContent = "失败：" + e.message; });
  }
  function poll(id) {
    api("/api/documents/" + id).then(function (job) {
      var status = $("upload-status");
      status.textContent = "导入任务 " + id.slice(0, 8) + "：" + job.status + (job.stage ? " · " + job.stage + " " + job.done + "/" + job.total : "") + (job.error ? " · " + job.error : "");
      if (job.status === "queued" || job.status === "running") setTimeout(function () { poll(id); }, 1000);
      else loadReport();
    });
  }
  function loadReport() {
    var box = clear($("report"));
    api("/api/kb/report").then(function (r) {
      var thin = (r.coverage || []).filter(function (c) { return c.thin; }).map(function (c) { return c.name; });
      box.appendChild(el("p", { text: "薄弱分类：" + (thin.join("、") || "无") }));
      box.appendChild(el("p", { text: "重复组：" + (r.duplicates || []).length + " · 冲突：" + (r.conflicts || []).length }));
      var list = el("ul");
      (r.conflicts || []).forEach(function (c) {
        list.appendChild(el("li", { text: c.subject + "：" + c.reason + " — " + c.statements.map(function (s) { return s.source + "：" + s.sentence; }).join(" / ") }));
      });
      box.appendChild(list);
    }).catch(function (e) { box.appendChild(el("p", { class: "error", text: e.message })); });
  }

  // --- keys (admins): shown once when created, revoked for every worker at once

  function loadKeys() {
    var body = clear($("key-table").querySelector("tbody"));
    api("/api/keys").then(function (keys) {
      keys.forEach(function (k) {
        var revoke = k.revoked_at ? document.createTextNode("") : el("button", { type: "button", class: "secondary", text: "吊销", onclick: function () {
          if (confirm("吊销 " + k.name + " 的密钥？")) api("/api/keys/" + k.id, { method: "DELETE" }).then(loadKeys).catch(function (e) { $("key-error").textContent = e.message; });
        } });
        body.appendChild(el("tr", { "data-key": k.id }, [el("td", { text: k.id }), el("td", { text: k.name }), el("td", { text: k.role === "admin" ? "管理员" : "坐席" }),
          el("td", { text: when(k.created_at) }), el("td", { text: k.revoked_at ? "已吊销 " + when(k.revoked_at) : "有效" }), el("td", {}, [revoke])]));
      });
    }).catch(function (e) { $("key-error").textContent = e.message; });
  }
  function addKey(event) {
    event.preventDefault();
    $("key-error").textContent = "";
    api("/api/keys", { method: "POST", json: { name: $("key-name").value, role: $("key-role").value } }).then(function (k) {
      $("key-created").textContent = "新密钥（只显示这一次，请交给 " + k.name + "）：" + k.key;
      $("key-form").reset();
      loadKeys();
    }).catch(function (e) { $("key-error").textContent = e.message; });
  }

  // --- wiring

  document.addEventListener("DOMContentLoaded", function () {
    var statusSelect = $("ticket-status");
    STATUSES.forEach(function (s) { statusSelect.appendChild(el("option", { value: s, text: STATUS_NAMES[s] })); });
    $("login-form").addEventListener("submit", function (event) {
      event.preventDefault();
      $("login-error").textContent = "";
      login($("login-key").value.trim()).then(loadCategories).catch(function (e) { $("login-error").textContent = e.message; logout(); });
    });
    document.querySelectorAll("nav button[data-tab]").forEach(function (b) { b.addEventListener("click", function () { show(b.dataset.tab); }); });
    $("logout").addEventListener("click", logout);
    $("search-form").addEventListener("submit", search);
    $("ticket-filters").addEventListener("submit", loadTickets);
    $("graph-form").addEventListener("submit", loadGraph);
    $("notice-form").addEventListener("submit", addNotice);
    $("upload-form").addEventListener("submit", upload);
    $("key-form").addEventListener("submit", addKey);
    if (key) login(key).then(loadCategories).catch(logout); else logout();
  });
})();
