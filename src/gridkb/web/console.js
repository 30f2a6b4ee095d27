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
  // the status filter's choices; every other Chinese label comes from the API's *_label fields

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
  function short(iso) { return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false, month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }) : ""; }

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
      $("who").textContent = who.name + "（" + who.role_label + "）";
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
          el("div", { class: "path", text: hit.title_path.join(" › ") + " · " + hit.category_name + " · " + hit.audience_label + " · 相关度 " + hit.score.toFixed(3) }),
          el("div", {}, marked(hit.snippet, hit.highlights)),
          hit.also_in.length ? el("div", { class: "path", text: "重复出现于：" + hit.also_in.join("，") }) : document.createTextNode(""),
        ]));
      });
    }).catch(function (e) { list.appendChild(el("li", { class: "error", text: e.message })); });
  }
  function loadCategories() {
    var statusSelect = $("ticket-status");
    if (statusSelect.options.length <= 1) {  // the lifecycle comes from the server's state machine
      api("/api/ticket-statuses").then(function (statuses) {
        statuses.forEach(function (s) { statusSelect.appendChild(el("option", { value: s.code, text: s.label })); });
      }).catch(function () {});
    }
    api("/api/kb/report").then(function (report) {
      var select = $("search-category");
      (report.coverage || []).forEach(function (c) { select.appendChild(el("option", { value: c.code, text: c.name })); });
    }).catch(function () {});
  }

  // --- tickets

  var selectedTicket = null;
  function loadTickets(event) {
    if (event) event.preventDefault();
    var params = new URLSearchParams({ limit: "200", sort: "urgency" });
    if ($("ticket-status").value) params.append("status", $("ticket-status").value);
    if ($("ticket-department").value) params.set("department", $("ticket-department").value);
    if ($("ticket-overdue").checked) params.set("overdue", "true");
    var body = clear($("ticket-table").querySelector("tbody"));
    api("/api/tickets?" + params).then(function (tickets) {
      if (!tickets.length) body.appendChild(el("tr", {}, [el("td", { colspan: "7", text: "没有符合条件的工单" })]));
      tickets.forEach(function (t) {
        var classes = ["clickable"];
        if (t.priority === "urgent") classes.push("urgent");
        if (t.overdue) classes.push("overdue");
        if (t.number === selectedTicket) classes.push("selected");
        var due = el("td", { class: "due", title: when(t.due_at), text: short(t.due_at) }, t.overdue ? [" ", el("span", { class: "badge overdue", text: "已超时" })] : []);
        body.appendChild(el("tr", { class: classes.join(" "), "data-number": t.number, onclick: function () { openTicket(t.number); } }, [
          el("td", { class: "number", text: t.number }), el("td", { class: "nowrap" }, [el("span", { class: "badge " + t.priority, text: t.priority_label })]),
          el("td", { class: "nowrap", text: t.status_label }), el("td", { text: t.category_name }), el("td", { text: t.department }), due,
          el("td", { text: t.question.slice(0, 60) }),
        ]));
      });
    }).catch(function (e) { body.appendChild(el("tr", {}, [el("td", { colspan: "7", class: "error", text: e.message })])); });
  }
  function patch(number, body) {
    return api("/api/tickets/" + encodeURIComponent(number), { method: "PATCH", json: body })
      .then(function () { openTicket(number); loadTickets(); })
      .catch(function (e) { alert(e.message); });
  }
  // what each action the API allows asks of the agent before it is sent
  function runAction(t, a) {
    var body = { action: a.action };
    if (a.status) body.status = a.status;
    if (a.action === "assign") { body.assignee = prompt("处理人", me.name) || ""; if (!body.assignee) return; }
    else if (a.action === "route") { body.department = prompt("归口部门", t.department) || ""; if (!body.department) return; }
    else if (a.action === "note") { body.note = prompt("备注") || ""; if (!body.note) return; }
    else if (a.action === "reject" || a.status === "reopened") body.note = prompt("原因") || "";
    patch(t.number, body);
  }
  function facts(pairs) {
    var list = el("dl");
    pairs.forEach(function (p) { list.appendChild(el("dt", { text: p[0] })); list.appendChild(el("dd", { class: p[2] || "", text: p[1] })); });
    return list;
  }
  function openTicket(number) {
    selectedTicket = number;
    document.querySelectorAll("#ticket-table tr[data-number]").forEach(function (r) { r.classList.toggle("selected", r.dataset.number === number); });
    var box = clear($("ticket-detail"));
    api("/api/tickets/" + encodeURIComponent(number)).then(function (t) {
      var title = el("h3", { text: "工单 " + t.number + " · " + t.status_label + " " });
      title.appendChild(el("span", { class: "badge " + t.priority, text: t.priority_label }));
      if (t.overdue) { title.appendChild(document.createTextNode(" ")); title.appendChild(el("span", { class: "badge overdue", text: "已超时" })); }
      box.appendChild(title);
      box.appendChild(facts([
        ["来源", t.origin_label + " · 渠道：" + t.channel_label], ["队列", t.queue_label], ["业务分类", t.category_name],
        ["归口部门", t.department], ["处理人", t.assignee || "未分派"], ["联系方式", t.contact || "客户未留"],
        ["地址/户号", t.address || "—"],
        ["首次响应时限", when(t.first_response_due) + (t.first_responded_at ? "（已于 " + when(t.first_responded_at) + " 联系）" : "")],
        ["办结时限", when(t.due_at) + (t.overdue ? "（已超时）" : ""), t.overdue ? "breached" : ""],
      ]));
      box.appendChild(el("pre", { text: t.question }));
      if (t.resolution) box.appendChild(el("p", { text: "处理结果：" + t.resolution + (t.publication_label ? "（知识发布：" + t.publication_label + "）" : "") }));
      var actions = el("div", { class: "actions" });
      t.next_actions.forEach(function (a) {
        if (a.action === "resolve") return;  // the form below
        actions.appendChild(el("button", { type: "button", class: "secondary", "data-action": a.action + (a.status ? ":" + a.status : ""), text: a.label, onclick: function () { runAction(t, a); } }));
      });
      box.appendChild(actions);
      if (t.next_actions.some(function (a) { return a.action === "resolve"; })) {
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
      if (!t.transcript.length) transcript.appendChild(el("p", { class: "hint", text: "无对话记录（坐席创建的工单）" }));
      t.transcript.forEach(function (turn) { transcript.appendChild(el("p", { text: (turn.role === "user" ? "客户：" : "智能客服：") + turn.text })); });
      box.appendChild(transcript);
      box.appendChild(el("h4", { text: "处理记录（留痕）" }));
      var timeline = el("ol", { class: "timeline" });
      t.timeline.forEach(function (e) {
        timeline.appendChild(el("li", {}, [
          el("time", { datetime: e.at, text: when(e.at) }), el("b", { text: e.actor_label }), " " + e.action_label,
          e.summary ? el("div", { class: "what", text: e.summary }) : document.createTextNode(""),
        ]));
      });
      box.appendChild(timeline);
    }).catch(function (e) { box.appendChild(el("p", { class: "error", text: e.message })); });
  }

  // --- gaps, dashboard

  function loadGaps() {
    var body = clear($("gap-table").querySelector("tbody"));
    api("/api/gaps").then(function (gaps) {
      if (!gaps.length) body.appendChild(el("tr", {}, [el("td", { colspan: "5", text: "暂无知识缺口" })]));
      gaps.forEach(function (g) {
        body.appendChild(el("tr", { title: g.examples.join("\n") }, [
          el("td", { text: String(g.count) }), el("td", { text: g.question }), el("td", { text: g.category_name }),
          el("td", { text: g.department }), el("td", { text: g.queue_label }),
        ]));
      });
    }).catch(function (e) { body.appendChild(el("tr", {}, [el("td", { class: "error", text: e.message })])); });
  }
  var NONE = "暂无数据";
  function percent(x) { return x === null || x === undefined ? NONE : (x * 100).toFixed(1) + "%"; }
  function chart(id, config) {
    if (!window.Chart) return;
    if (charts[id]) charts[id].destroy();
    // responsive, filling the sized .chart-wrap: Chart.js follows the wrapper when the window resizes
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    charts[id] = new window.Chart($(id), config);
  }
  function names(counts, labels) {
    var keys = Object.keys(counts);
    return { labels: keys.map(function (k) { return (labels || {})[k] || k; }), values: keys.map(function (k) { return counts[k]; }) };
  }
  function loadDashboard() {
    api("/api/metrics").then(function (m) {
      var kpis = clear($("kpis"));
      var rating = m.mean_rating === null ? "" : "平均评分 " + m.mean_rating + " / 5";
      [["会话数", m.conversations], ["机器人解决率", percent(m.bot_resolution_rate)], ["转人工率", percent(m.transfer_rate)],
       ["工单数", m.tickets], ["时限达标率", percent(m.sla_resolution_compliance)], ["超时未结", m.overdue_open_tickets],
       ["首次响应中位", m.median_first_response_minutes === null ? NONE : m.median_first_response_minutes + " 分钟"],
       ["满意度", percent(m.satisfaction_rate), (m.feedback ? m.feedback + " 条评价" : "") + (rating ? " · " + rating : "")],
       ["有帮助率", percent(m.helpful_rate), "认为回答有帮助的比例"]].forEach(function (k) {
        kpis.appendChild(el("div", { class: "kpi", "data-kpi": k[0] }, [el("b", { text: String(k[1]) }), k[0], k[2] ? el("small", { text: k[2] }) : document.createTextNode("")]));
      });
      var days = m.daily.map(function (d) { return d.day.slice(5); });
      chart("chart-daily", { type: "line", data: { labels: days, datasets: [
        { label: "会话数", data: m.daily.map(function (d) { return d.conversations; }), yAxisID: "y" },
        { label: "工单数", data: m.daily.map(function (d) { return d.tickets; }), yAxisID: "y" },
        { label: "机器人解决率", data: m.daily.map(function (d) { return d.bot_resolution_rate; }), yAxisID: "rate" }] },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, rate: { position: "right", min: 0, max: 1, grid: { drawOnChartArea: false },
          ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } } } } } });
      var status = names(m.tickets_by_status, m.labels);
      chart("chart-status", { type: "bar", data: { labels: status.labels, datasets: [{ label: "工单数", data: status.values }] },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
      var departments = names(m.tickets_by_department);
      chart("chart-department", { type: "bar", data: { labels: departments.labels, datasets: [{ label: "工单数", data: departments.values }] },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
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
      var labelled = {};
      g.edges.forEach(function (e) {
        if (e.source !== g.center && e.target !== g.center) return;
        var a = place[e.source], b = place[e.target];
        canvas.appendChild(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }));
        // one caption per neighbour (several relations to the same node are joined), near the neighbour's end
        var other = e.source === g.center ? e.target : e.source;
        labelled[other] = labelled[other] ? labelled[other] + "、" + e.label : e.label;
      });
      Object.keys(labelled).forEach(function (id) {
        var p = place[id];
        canvas.appendChild(svg("text", { class: "edge", x: p[0] * 0.62, y: p[1] * 0.62, "text-anchor": "middle" }, labelled[id]));
      });
      g.nodes.forEach(function (n) {
        var p = place[n.id];
        var colour = n.id === g.center ? "#0a6ebd" : n.type === "entity" ? "#2da44e" : n.type === "chunk" ? "#bf8700" : "#8250df";
        var group = svg("g", { class: "node", "data-id": n.id, style: "cursor:pointer" });
        group.appendChild(svg("circle", { cx: p[0], cy: p[1], r: n.id === g.center ? 14 : 7, fill: colour }));
        group.appendChild(svg("text", { x: p[0] + 10, y: p[1] + 4 }, n.label.slice(0, 18)));
        group.appendChild(svg("title", {}, n.type_label + "：" + n.label));
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
        body.appendChild(el("tr", {}, [el("td", { text: n.kind_label }), el("td", { text: n.title }), el("td", { text: n.areas.join("、") }),
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
    data.append("audience", $("upload-audience").value);  // explicit: 仅内部 unless the admin chose 对外公开
    if ($("upload-valid-from").value) data.append("valid_from", $("upload-valid-from").value);
    if ($("upload-valid-to").value) data.append("valid_to", $("upload-valid-to").value);
    var status = $("upload-status");
    status.textContent = "上传中…";
    api("/api/documents", { method: "POST", body: data }).then(function (job) { poll(job.id); })
      .catch(function (e) { status.textContent = "失败：" + e.message; });
  }
  function poll(id) {
    api("/api/documents/" + id).then(function (job) {
      var status = $("upload-status");
      status.textContent = "导入任务 " + id.slice(0, 8) + "：" + job.status_label + (job.stage ? " · " + job.stage_label + " " + job.done + "/" + job.total : "") + (job.error ? " · " + job.error : "");
      if (job.status === "queued" || job.status === "running") setTimeout(function () { poll(id); }, 1000);
      else loadReport();
    });
  }
  function section(title, children) { return el("div", { class: "report-section" }, [el("h4", { text: title })].concat(children)); }
  function loadReport() {
    var box = clear($("report"));
    api("/api/kb/report").then(function (r) {
      var coverage = el("table", {}, [el("thead", {}, [el("tr", {}, ["分类", "归口部门", "文件", "段落", "问答", ""].map(function (h) { return el("th", { text: h }); }))])]);
      var rows = el("tbody");
      r.coverage.forEach(function (c) {
        rows.appendChild(el("tr", {}, [el("td", { text: c.name }), el("td", { text: c.department }), el("td", { text: String(c.documents) }),
          el("td", { text: String(c.chunks) }), el("td", { text: String(c.faqs) }), el("td", {}, c.thin ? [el("span", { class: "badge high", text: "内容薄弱" })] : [])]));
      });
      coverage.appendChild(rows);
      box.appendChild(section("分类覆盖（未分类段落 " + r.unclassified_chunks + " 个）", [coverage]));
      var conflicts = r.conflicts.map(conflictView);
      box.appendChild(section("冲突（" + r.conflicts.length + "）", conflicts.length ? conflicts : [el("p", { class: "hint", text: "没有发现冲突" })]));
      var groups = r.duplicates.map(function (g) {
        var canonical = g.items[0];
        return el("details", {}, [
          el("summary", { text: canonical.title + "（" + g.items.length + " 处，相似度 " + g.similarity.toFixed(2) + "）" }),
          el("p", { text: "保留：" + canonical.text }),
        ].concat(g.items.slice(1).map(function (item) { return el("p", { class: "copy", text: "副本：" + item.title + " — " + item.text }); })));
      });
      box.appendChild(section("重复组（" + r.duplicates.length + "）", groups.length ? [el("div", { class: "duplicates" }, groups)] : [el("p", { class: "hint", text: "没有重复内容" })]));
    }).catch(function (e) { box.appendChild(el("p", { class: "error", text: e.message })); });
  }
  function conflictView(c) {
    var decide = c.state === "undecided" && me && me.role === "admin";
    var heads = ["文件", "表述", "数值", "有效期"].concat(decide ? [""] : []);
    var table = el("table", {}, [el("thead", {}, [el("tr", {}, heads.map(function (h) { return el("th", { text: h }); }))])]);
    var rows = el("tbody");
    c.statements.forEach(function (s) {
      var cells = [el("td", { text: s.title }), el("td", { text: s.sentence }), el("td", { class: "value", text: s.values.join("、") }),
        el("td", { text: (s.valid_from || "—") + " 至 " + (s.valid_to || "今") })];
      if (s.preferred) cells[2].appendChild(el("span", { class: "badge state-superseded", text: " 为准" }));
      if (decide) cells.push(el("td", {}, [el("button", { type: "button", class: "secondary", text: "以此为准", onclick: function () {
        var note = prompt("裁决说明（可选）", "");
        if (note === null) return;
        api("/api/kb/conflicts/" + c.id + "/decision", { method: "POST", json: { preferred: s.chunk_id, note: note } })
          .then(loadReport).catch(function (e) { alert(e.message); });
      } })]));
      rows.appendChild(el("tr", { class: s.preferred ? "preferred" : "" }, cells));
    });
    table.appendChild(rows);
    return el("div", { class: "conflict", "data-conflict": c.id }, [
      el("p", {}, [el("b", { text: c.subject }), " ", el("span", { class: "badge state-" + c.state, text: c.state_label }), " ", el("span", { class: "hint", text: c.reason_label })]),
      table,
    ]);
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
          el("td", { text: k.department || "—" }), el("td", { text: when(k.created_at) }), el("td", { text: k.revoked_at ? "已吊销 " + when(k.revoked_at) : "有效" }), el("td", {}, [revoke])]));
      });
    }).catch(function (e) { $("key-error").textContent = e.message; });
  }
  function addKey(event) {
    event.preventDefault();
    $("key-error").textContent = "";
    api("/api/keys", { method: "POST", json: { name: $("key-name").value, role: $("key-role").value, department: $("key-department").value } }).then(function (k) {
      $("key-created").textContent = "新密钥（只显示这一次，请交给 " + k.name + "）：" + k.key;
      $("key-form").reset();
      loadKeys();
    }).catch(function (e) { $("key-error").textContent = e.message; });
  }

  // --- wiring

  document.addEventListener("DOMContentLoaded", function () {
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
