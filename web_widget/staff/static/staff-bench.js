/* The staff test bench: send a message through the real assistant, show the reply as the widget
 * renders it (Yishi.render) and the explanation beside it. Everything is put on the page with
 * textContent, never as HTML. */
(function () {
  "use strict";

  var csrf = document.querySelector("main[data-csrf]").getAttribute("data-csrf");
  var log = document.getElementById("bench-log");
  var form = document.getElementById("bench-form");
  var input = document.getElementById("bench-input");
  var status = document.getElementById("bench-status");
  var sender = null;
  var busy = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(id) {
    var box = document.getElementById(id);
    box.textContent = "";
    return box;
  }

  function percent(value) { return (100 * (value || 0)).toFixed(1) + "%"; }

  function table(headers, rows) {
    var t = el("table", "data");
    var head = el("tr");
    headers.forEach(function (h) { head.appendChild(el("th", null, h)); });
    t.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    rows.forEach(function (cells) {
      var tr = el("tr");
      cells.forEach(function (cell) {
        var td = el("td");
        if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell === null || cell === undefined ? "" : String(cell);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    t.appendChild(body);
    return t;
  }

  function userSays(text) {
    var bubble = el("div", "yishi-msg yishi-user");
    bubble.appendChild(el("span", "yishi-visually-hidden", "我说："));
    bubble.appendChild(el("p", null, text));
    log.appendChild(bubble);
  }

  function confidence(value) {
    var span = el("span");
    span.appendChild(el("span", "confbar w" + Math.round((value || 0) * 10)));
    span.appendChild(document.createTextNode(percent(value)));
    return span;
  }

  function showNlu(nlu, text, masked, button) {
    var box = clear("bench-nlu");
    if (masked) box.appendChild(el("p", "warn", "身份证号、手机号已打码，助手收到的是：" + text));
    box.appendChild(el("h3", null, "分词（jieba，助手实际看到的词）"));
    if (button) box.appendChild(el("p", "muted", "按钮指令 " + text + " 不经过分词。"));
    var tokens = el("ul", "tokens");
    nlu.tokens.forEach(function (t) { tokens.appendChild(el("li", null, t)); });
    box.appendChild(tokens);
    box.appendChild(el("h3", null, "意图排名"));
    box.appendChild(table(["意图", "置信度"], nlu.ranking.map(function (r) {
      return [r.label ? r.label + "（" + r.name + "）" : r.name, confidence(r.confidence)];
    })));
    box.appendChild(el("h3", null, "实体"));
    if (!nlu.entities.length) box.appendChild(el("p", "muted", "没有实体。"));
    else box.appendChild(table(["实体", "值", "来自"], nlu.entities.map(function (e) { return [e.entity, e.value, e.extractor || ""]; })));
  }

  var KINDS = {bundle: "直接回答一件事", clarify: "反问（给出候选）", fallback: "如实说明不属于“一件事”", intent: "其他意图"};

  function showDecision(d) {
    var box = clear("bench-decision");
    box.appendChild(el("p", null, "结果：" + KINDS[d.kind] + (d.bundles.length ? "：" + d.bundles.map(function (b) { return b.name; }).join("、") : "") +
      (d.intent ? "（" + d.intent + "）" : "")));
    box.appendChild(el("p", null, "原因：" + d.why));
    var rows = [["分类器第一名", d.top_intent, percent(d.top_confidence)]];
    if (d.best_bundle) rows.push(["得分最高的一件事", d.best_bundle.name, percent(d.best_bundle.confidence)]);
    if (d.runner_up) rows.push(["第二名（备选）", d.runner_up.name, percent(d.runner_up.confidence)]);
    rows.push(["原文逐字提到", d.spotted.length ? d.spotted.map(function (b) { return b.name; }).join("、") : "无", ""]);
    rows.push(["原文用词指向（目录检索）", d.support === null ? "（没有中文词，不检索）" : (d.support.length ? d.support.map(function (b) { return b.name + " " + b.score; }).join("、") : "无"), "反问时只提供有用词支持的候选"]);
    box.appendChild(table(["", "", "置信度"], rows));
    var t = d.thresholds;
    box.appendChild(el("p", "muted", "阈值：兜底 " + t.fallback + "，歧义差 " + t.ambiguity + "，候选 " + t.candidate + "，单一候选 " + t.lone_candidate +
      "（bot/config.yml 与 actions/understanding.py）"));
  }

  function showContext(c) {
    var box = clear("bench-context");
    var answers = Object.keys(c.answers || {}).map(function (k) { return k + "=" + c.answers[k]; }).join("，");
    box.appendChild(table(["", ""], [["当前的一件事", c.bundle || "无"], ["已回答的情形", answers || "无"],
      ["待回答的问题", c.pending_question || "无"]]));
  }

  function stateCell(state, label) { return el("span", "state-" + state, label); }

  function when(clauses) {
    return clauses.map(function (c) {
      return c.text + " 须为“" + c.needs.join("/") + "”，" + (c.answer === null ? "未回答" : "已答“" + c.answer + "”" + (c.met ? "（满足）" : "（不满足）"));
    }).join("；") || "无条件";
  }

  function checkedCell(value) { return value ? el("span", "ok", value) : el("span", "warn", "未核对"); }

  function showProvenance(p) {
    var box = clear("bench-provenance");
    if (!p) { box.appendChild(el("p", "muted", "这次回答没有办事清单。")); return; }
    box.appendChild(el("p", null, p.bundle.name + "：来源 " + p.bundle.source + "；核对 " + (p.bundle.checked || "未核对") +
      "。其中 " + p.unchecked + " 条内容还没有核对过。"));
    box.appendChild(el("h3", null, "情形问题"));
    box.appendChild(table(["问题", "回答", "还会改变清单", "影响"], p.questions.map(function (q) {
      return [q.text, q.answer || "未回答", q.relevant ? "是" : "否", q.switches.join("、")];
    })));
    box.appendChild(el("h3", null, "事项"));
    box.appendChild(table(["事项", "状态", "条件", "部门", "来源", "核对"], p.items.map(function (i) {
      return [i.name, stateCell(i.state, i.state_label), when(i.when), i.department, i.source, checkedCell(i.checked)];
    })));
    box.appendChild(el("h3", null, "材料"));
    box.appendChild(table(["材料", "在清单里", "用于哪些事项（条件）", "免交原因", "来源", "核对"], p.materials.map(function (m) {
      var uses = m.uses.map(function (u) { return u.item_name + "：" + u.state_label + (u.when.length ? "（" + when(u.when) + "）" : ""); }).join("；");
      return [m.name + (m.merged_into ? "（并入“" + m.merged_into + "”）" : ""), m.in_checklist ? "是" : "否", uses,
        m.skip_reason || "", m.source, checkedCell(m.checked)];
    })));
  }

  function send(text, shown) {
    if (busy || !text) return;
    busy = true;
    userSays(shown || text);
    status.textContent = "正在询问助手……";
    fetch("/staff/api/bench", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({text: text, sender: sender})
    }).then(function (response) {
      return response.json().then(function (data) { return {status: response.status, data: data}; });
    }).then(function (r) {
      if (r.status !== 200) { status.textContent = (r.data && r.data.error) || "出错了，请重试。"; return; }
      var d = r.data;
      sender = d.sender;
      Yishi.render(log, d.messages, {server: location.origin, onChoice: function (payload, title) { send(payload, title); }});
      log.scrollTop = log.scrollHeight;
      showNlu(d.nlu, d.text, d.masked, d.button);
      showDecision(d.decision);
      showContext(d.context);
      showProvenance(d.provenance);
      status.textContent = "对话编号 " + d.sender + "，共 " + d.messages.length + " 条回答。";
    }).catch(function () {
      status.textContent = "网络出错，请重试。";
    }).then(function () { busy = false; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("bench-restart").addEventListener("click", function () {
    sender = null;
    log.textContent = "";
    ["bench-nlu", "bench-decision", "bench-context", "bench-provenance"].forEach(function (id) {
      clear(id).appendChild(el("p", "muted", "新对话，还没有测试。"));
    });
    status.textContent = "已开始新对话。";
    input.focus();
  });
})();
