/* Yishi (一事) chat widget: one <script> tag and one Yishi.init({...}) call.
 * Everything the bot or the user says is put on the page with textContent, never as HTML. */
(function () {
  "use strict";

  var script = document.currentScript;
  var scriptOrigin = script ? new URL(script.src, location.href).origin : location.origin;

  var DEFAULTS = {
    server: scriptOrigin,          // where the Yishi web app runs
    title: "一事 · 办事助手",
    greeting: "您好！我是“一事”智能助手。说说您要办的事，比如“娃儿刚出生”“想开个洗车铺子”“二手房过户”，我告诉您属于哪“一件事”、要带哪些材料。",
    language: "zh-CN",
    position: "right",            // right | left
    elderly: false,                // 长辈模式: larger type, higher contrast
    open: false,                   // open the panel on load
    container: null,               // a CSS selector: render inline there (the kiosk) instead of a bubble
    readAloud: false,              // read replies aloud where the browser can
    showQr: false,                 // show a QR code with each checklist (the kiosk)
    onActivity: null,              // called on every interaction (the kiosk's idle timer)
    cardContainer: null,           // a CSS selector: show the current checklist there, not in the conversation (the kiosk)
    cardPlaceholder: "",           // what that place shows before the first checklist and after 重新开始
    rating: true                   // offer 好差评 under the latest checklist
  };

  // 好差评: the five levels of 政务服务"好差评" (the API takes the number) and the reasons a 差评 may give
  var LEVELS = [[5, "非常满意"], [4, "满意"], [3, "基本满意"], [2, "不满意"], [1, "非常不满意"]];
  var REASONS = [["wrong_bundle", "没有说到我要办的事"], ["materials", "材料清单不准确或不全"],
                 ["unclear", "说得不清楚，看不懂"], ["process", "要跑的次数多、流程繁琐"], ["other", "其他"]];
  var POOR = 2;  // 不满意 and below: a 差评, which asks why
  var RATING_TEXT_MAX = 200;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A reply's text is Markdown-safe (catalogue/markdown.py): a **title**, paragraphs and "- " lists parted by blank
  // lines, markup in catalogue text escaped by a backslash. Shown here as elements, every piece as text (no HTML).
  function unescapeMarkdown(text) { return text.replace(/\\(.)/g, "$1"); }

  function plainText(text) {
    return unescapeMarkdown(String(text || "").replace(/\*\*(.+?)\*\*/g, "$1")).replace(/^- /gm, "");
  }

  function renderText(node, text) {
    var list = null;
    String(text || "").split("\n").forEach(function (line) {
      if (!line.trim()) { list = null; return; }
      if (line.indexOf("- ") === 0) {
        if (!list) { list = el("ul", "yishi-text-list"); node.appendChild(list); }
        list.appendChild(el("li", null, unescapeMarkdown(line.slice(2))));
        return;
      }
      list = null;
      var bold = /^\*\*(.+)\*\*$/.exec(line);
      var p = el("p", null, null);
      p.appendChild(bold ? el("strong", null, unescapeMarkdown(bold[1])) : document.createTextNode(unescapeMarkdown(line)));
      node.appendChild(p);
    });
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url, location.href);
      return (parsed.protocol === "https:" || parsed.protocol === "http:") ? parsed.href : null;
    } catch (e) { return null; }
  }

  function checklistUrl(server, checklist) {
    var params = new URLSearchParams();
    (checklist.questions || []).forEach(function (q) { if (q.answer) params.append(q.key, q.answer); });
    var query = params.toString();
    return server + "/checklist/" + encodeURIComponent(checklist.slug) + (query ? "?" + query : "");
  }

  function Widget(options) {
    this.o = options;
    this.busy = false;
    this.ratings = {};       // bundle → level this conversation gave (from the history after a reload)
    this.generation = 0;     // a new conversation (重新开始, the kiosk's wipe) ignores answers to the old one's requests
    this.ratingCount = 0;
    this.build();
    this.applyElderly(localStorage.getItem("yishi.elderly") === "1" || options.elderly);
    this.restore();
  }

  Widget.prototype.build = function () {
    var o = this.o, self = this;
    var root = this.root = el("div", "yishi" + (o.container ? " yishi-inline" : " yishi-floating yishi-" + o.position));
    root.setAttribute("lang", o.language);
    if (!o.container) {
      var launcher = this.launcher = el("button", "yishi-launcher", "问一事");
      launcher.type = "button";
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-controls", "yishi-panel");
      launcher.addEventListener("click", function () { self.toggle(); });
      root.appendChild(launcher);
    }
    var panel = this.panel = el("section", "yishi-panel");
    panel.id = "yishi-panel";
    panel.setAttribute("aria-label", o.title);
    if (!o.container && !o.open) panel.hidden = true;

    var header = el("header", "yishi-header");
    header.appendChild(el("h2", "yishi-title", o.title));
    var elderly = this.elderlyButton = el("button", "yishi-tool", "长辈模式");
    elderly.type = "button";
    elderly.setAttribute("aria-pressed", "false");
    elderly.addEventListener("click", function () { self.applyElderly(!self.elderly); self.activity(); });
    var restart = el("button", "yishi-tool yishi-restart", "重新开始");
    restart.type = "button";
    restart.addEventListener("click", function () { self.restart(); });
    header.appendChild(elderly);
    header.appendChild(restart);
    if (!o.container) {
      var close = el("button", "yishi-tool", "收起");
      close.type = "button";
      close.setAttribute("aria-label", "收起对话窗口");
      close.addEventListener("click", function () { self.toggle(false); });
      header.appendChild(close);
    }
    panel.appendChild(header);

    var log = this.log = el("div", "yishi-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.tabIndex = 0;
    panel.appendChild(log);

    var typing = this.typing = el("div", "yishi-typing", "正在查询…");
    typing.hidden = true;
    typing.setAttribute("aria-hidden", "true");
    panel.appendChild(typing);

    var form = el("form", "yishi-form");
    var label = el("label", "yishi-visually-hidden", "输入您的问题");
    label.htmlFor = "yishi-input";
    var input = this.input = el("textarea", "yishi-input");
    input.id = "yishi-input";
    input.rows = 2;
    input.maxLength = 500;
    input.placeholder = "说说您要办的事……";
    input.addEventListener("keydown", function (event) {
      self.activity();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); self.submit(); }
    });
    var send = el("button", "yishi-send", "发送");
    send.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    form.addEventListener("submit", function (event) { event.preventDefault(); self.submit(); });
    panel.appendChild(form);
    root.appendChild(panel);
    (o.container ? document.querySelector(o.container) : document.body).appendChild(root);
  };

  Widget.prototype.activity = function () { if (this.o.onActivity) this.o.onActivity(); };

  Widget.prototype.toggle = function (open) {
    var show = open === undefined ? this.panel.hidden : open;
    this.panel.hidden = !show;
    this.launcher.setAttribute("aria-expanded", String(show));
    if (show) this.input.focus(); else this.launcher.focus();
  };

  Widget.prototype.applyElderly = function (on) {
    this.elderly = !!on;
    this.root.classList.toggle("yishi-elderly", this.elderly);
    var place = this.o.cardContainer && document.querySelector(this.o.cardContainer);
    if (place) place.classList.toggle("yishi-elderly", this.elderly);
    this.elderlyButton.setAttribute("aria-pressed", String(this.elderly));
    try { localStorage.setItem("yishi.elderly", this.elderly ? "1" : "0"); } catch (e) { /* private mode */ }
  };

  Widget.prototype.request = function (path, body) {
    return fetch(this.o.server + path, {
      method: body === undefined ? "GET" : "POST",
      credentials: "include",
      headers: body === undefined ? {} : {"Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return {status: response.status, data: data}; });
    });
  };

  Widget.prototype.restore = function () {
    var self = this;
    this.request("/chat/history").then(function (r) {
      var turns = (r.data && r.data.turns) || [];
      self.ratings = (r.data && r.data.ratings) || {};
      if (!turns.length) { self.say({text: self.o.greeting}); return; }
      turns.forEach(function (turn) { if (turn.from === "user") self.userSays(turn.text); else self.say(turn, true); });
    }).catch(function () { self.say({text: self.o.greeting}); });
  };

  Widget.prototype.restart = function () {
    var self = this;
    this.activity();
    this.generation += 1;
    this.ratings = {};
    return this.request("/chat/restart", {}).then(function () {
      self.log.textContent = "";
      self.showCard(null);
      self.say({text: self.o.greeting});
      self.input.focus();
    });
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text || this.busy) return;
    this.input.value = "";
    this.send(text, text);
  };

  Widget.prototype.send = function (text, shown) {
    var self = this;
    this.activity();
    if (shown) this.userSays(shown);
    this.busy = true;
    this.typing.hidden = false;
    this.request("/chat/message", {text: text}).then(function (r) {
      if (r.status !== 200) { self.say({text: (r.data && r.data.error) || "系统繁忙，请稍后再试。"}); return; }
      var messages = r.data.messages || [];
      messages.forEach(function (message, i) {
        // Rasa sends a bundle answer as its text, then its payload: the card shows the list, so not the text too
        var next = messages[i + 1];
        if (!message.custom && next && !next.text && next.custom && next.custom.type === "bundle") return;
        self.say(message);
      });
    }).catch(function () {
      self.say({text: "网络好像断了，请稍后再试，或到区政务服务中心综合窗口咨询，也可以拨打12345。"});
    }).then(function () {
      self.busy = false;
      self.typing.hidden = true;
    });
  };

  Widget.prototype.userSays = function (text) {
    var bubble = el("div", "yishi-msg yishi-user");
    bubble.appendChild(el("span", "yishi-visually-hidden", "我说："));
    bubble.appendChild(el("p", null, text));
    this.append(bubble);
  };

  Widget.prototype.append = function (node) {
    this.log.appendChild(node);
    this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.say = function (message, restoring) {
    var custom = message.custom;
    if (custom && custom.type === "bundle" && custom.checklist) {
      if (this.o.cardContainer) {  // the checklist in its own place; the conversation says where it is
        this.showCard(this.card(custom.checklist));
        this.say({text: "“" + custom.checklist.name + "”的材料清单已显示在清单区，可以用「上一页」「下一页」翻看。"}, true);
      } else {
        this.append(this.card(custom.checklist));
      }
      if (this.o.rating) this.offerRating(custom.checklist);
      return;
    }
    if (custom) return;  // clarify, question, fallback: their text and buttons come in the message before
    if (!message.text && !(message.buttons || []).length) return;
    var bubble = el("div", "yishi-msg yishi-bot");
    bubble.appendChild(el("span", "yishi-visually-hidden", "一事说："));
    renderText(bubble, message.text);
    var buttons = message.buttons || [];
    if (buttons.length) {
      var group = el("div", "yishi-buttons");
      group.setAttribute("role", "group");
      var self = this;
      buttons.forEach(function (button) {
        var b = el("button", "yishi-choice", button.title);
        b.type = "button";
        b.addEventListener("click", function () { self.send(button.payload, button.title); });
        group.appendChild(b);
      });
      bubble.appendChild(group);
    }
    this.append(bubble);
    if (!restoring) this.speak(plainText(message.text));
  };

  /* 好差评 under the latest checklist: five levels as a radio group, and for a 差评 the reasons and a sentence.
   * One form in the conversation at a time: an earlier one goes when a newer checklist comes. */
  Widget.prototype.offerRating = function (c) {
    var self = this;
    Array.prototype.forEach.call(this.log.querySelectorAll(".yishi-rating"), function (old) { old.remove(); });
    this.ratingCount += 1;
    var id = "yishi-rating-" + this.ratingCount;
    var form = el("form", "yishi-rating");
    form.noValidate = true;
    form.setAttribute("aria-labelledby", id + "-q");
    var levels = el("fieldset", "yishi-rating-levels");
    levels.setAttribute("role", "radiogroup");
    levels.setAttribute("aria-labelledby", id + "-q");
    var question = el("legend", "yishi-rating-question", "您对“" + c.name + "”这份清单满意吗？");
    question.id = id + "-q";
    levels.appendChild(question);
    var options = el("div", "yishi-rating-options");
    LEVELS.forEach(function (pair) {
      var label = el("label", "yishi-rating-level");
      var input = el("input");
      input.type = "radio";
      input.name = id;
      input.value = String(pair[0]);
      input.checked = self.ratings[c.slug] === pair[0];
      label.appendChild(input);
      label.appendChild(el("span", null, pair[1]));
      options.appendChild(label);
    });
    levels.appendChild(options);
    form.appendChild(levels);

    var why = el("fieldset", "yishi-rating-why");
    why.hidden = !(self.ratings[c.slug] <= POOR);
    why.appendChild(el("legend", null, "哪里不满意？请选择（可多选）"));
    REASONS.forEach(function (pair) {
      var label = el("label", "yishi-rating-reason");
      var tick = el("input");
      tick.type = "checkbox";
      tick.value = pair[0];
      label.appendChild(tick);
      label.appendChild(el("span", null, pair[1]));
      why.appendChild(label);
    });
    var textLabel = el("label", "yishi-rating-text-label", "还想说的（选填，" + RATING_TEXT_MAX + "字以内，请不要写身份证号、电话号码）");
    textLabel.htmlFor = id + "-text";
    var text = el("textarea", "yishi-rating-text");
    text.id = id + "-text";
    text.rows = 2;
    text.maxLength = RATING_TEXT_MAX;
    why.appendChild(textLabel);
    why.appendChild(text);
    form.appendChild(why);

    var submit = el("button", "yishi-rating-submit", self.ratings[c.slug] ? "修改评价" : "提交评价");
    submit.type = "submit";
    form.appendChild(submit);
    var status = el("p", "yishi-rating-status");
    status.setAttribute("role", "status");
    if (self.ratings[c.slug]) status.textContent = "您已评价过这份清单，可以修改后重新提交。";
    form.appendChild(status);

    form.addEventListener("change", function (event) {
      if (event.target.type === "radio") why.hidden = Number(event.target.value) > POOR;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.sendRating(form, c.slug);
    });
    this.append(form);
  };

  Widget.prototype.sendRating = function (form, slug) {
    var self = this, generation = this.generation;
    var status = form.querySelector(".yishi-rating-status"), submit = form.querySelector(".yishi-rating-submit");
    var chosen = form.querySelector(".yishi-rating-levels input:checked");
    this.activity();
    if (!chosen) { status.textContent = "请先选择一项评价。"; return; }
    var body = {bundle: slug, level: Number(chosen.value)};
    if (body.level <= POOR) {
      body.reasons = Array.prototype.map.call(form.querySelectorAll(".yishi-rating-why input:checked"),
                                              function (tick) { return tick.value; });
      body.text = form.querySelector(".yishi-rating-text").value.trim();
      if (!body.reasons.length && !body.text) { status.textContent = "请告诉我们哪里不满意：选一个原因，或写一句话。"; return; }
    }
    submit.disabled = true;
    status.textContent = "正在提交…";
    this.request("/chat/rating", body).then(function (r) {
      if (generation !== self.generation) return;  // a new conversation began meanwhile
      if (r.status !== 200) { status.textContent = (r.data && r.data.error) || "评价没有提交成功，请稍后再试。"; return; }
      self.ratings[slug] = body.level;
      form.classList.add("yishi-rated");
      submit.textContent = "修改评价";
      status.textContent = r.data.message + "您的评价：" + r.data.label + "。";
    }).catch(function () {
      status.textContent = "网络好像断了，评价没有提交成功，请稍后再试。";
    }).then(function () { submit.disabled = false; });
  };

  /* The current checklist in options.cardContainer (or its placeholder when card is null). */
  Widget.prototype.showCard = function (card) {
    var place = this.o.cardContainer && document.querySelector(this.o.cardContainer);
    if (!place) return;
    place.textContent = "";
    place.appendChild(card || el("p", "yishi-card-placeholder", this.o.cardPlaceholder));
    place.scrollTop = 0;
  };

  Widget.prototype.speak = function (text) {
    if (!this.o.readAloud || !text || !window.speechSynthesis) return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  };

  Widget.prototype.card = function (c) {
    var card = el("article", "yishi-card");
    card.setAttribute("aria-label", c.name + " 办事清单");
    card.appendChild(el("h3", "yishi-card-title", c.name));
    card.appendChild(el("p", "yishi-summary", c.summary));
    var s = c.saving, a = c.after;
    var figures = el("p", "yishi-figures", "一次办：跑" + a.visits + "次，交" + a.materials + "份材料");
    card.appendChild(figures);
    if (s.visits > 0 || s.materials > 0 || s.working_days > 0) {
      card.appendChild(el("p", "yishi-saving", "少跑" + s.visits + "次、少交" + s.materials + "份材料、少等" + s.working_days + "个工作日"));
    }
    if (c.time_limit) { card.appendChild(el("p", "yishi-time-limit", "办理时限：" + c.time_limit.text)); }
    if (c.finish) { card.appendChild(el("p", "yishi-finish", c.finish.text)); }
    card.appendChild(this.materialsList(c));
    card.appendChild(this.itemsList(c));
    card.appendChild(this.channelsList(c));
    if (c.basis) { card.appendChild(el("p", "yishi-basis", c.basis.text)); }
    card.appendChild(el("p", "yishi-notice", c.notice));
    var actions = el("p", "yishi-card-actions");
    var link = el("a", "yishi-print", "打印清单 / 在新页面查看");
    link.href = checklistUrl(this.o.server, c);
    link.target = "_blank";
    link.rel = "noopener";
    actions.appendChild(link);
    card.appendChild(actions);
    if (this.o.showQr) {
      var qr = el("img", "yishi-qr");
      qr.src = this.o.server + "/qr/" + encodeURIComponent(c.slug) + ".svg" + link.href.slice(link.href.indexOf("?") >= 0 ? link.href.indexOf("?") : link.href.length);
      qr.alt = "用手机扫码，带走这份清单";
      actions.appendChild(qr);
    }
    this.speak(c.name + "。" + figures.textContent);
    return card;
  };

  Widget.prototype.materialsList = function (c) {
    var box = el("section", "yishi-section");
    box.appendChild(el("h4", null, "需要准备的材料（" + c.materials.length + "份）"));
    if (!c.materials.length) { box.appendChild(el("p", null, "按您的情况，这件事不需要另外提交材料。")); return box; }
    var itemNames = {};
    c.items.forEach(function (i) { itemNames[i.id] = i.name; });
    var list = el("ul", "yishi-materials");
    c.materials.forEach(function (m) {
      // the whole row is the tick box's label, so the whole row is what a finger touches
      var row = el("label", "yishi-m-row");
      var tick = el("input");
      tick.type = "checkbox";
      row.appendChild(tick);
      var name = el("span", "yishi-m-name");
      name.appendChild(el("span", "yishi-visually-hidden", "我已准备："));
      name.appendChild(document.createTextNode(m.name));
      row.appendChild(name);
      var counts = [];
      if (m.originals) counts.push("原件" + m.originals + "份");
      if (m.copies) counts.push("复印件" + m.copies + "份");
      row.appendChild(el("span", "yishi-m-count", counts.join("、")));
      if (m.if_applicable) row.appendChild(el("span", "yishi-tag", "如适用"));
      if (m.skip_reason) row.appendChild(el("span", "yishi-m-skip", m.skip_reason));
      var uses = m.items.map(function (i) { return itemNames[i]; }).filter(Boolean);
      if (uses.length) row.appendChild(el("span", "yishi-m-uses", "用于：" + uses.join("、")));
      var item = el("li", "yishi-material" + (m.skip ? " yishi-skip" : ""));
      item.appendChild(row);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  };

  Widget.prototype.itemsList = function (c) {
    var box = el("details", "yishi-section");
    box.appendChild(el("summary", null, "包含的事项（" + c.items.length + "项）"));
    var list = el("ul", "yishi-items");
    c.items.forEach(function (i) {
      var li = el("li", null, i.name + " — " + i.department.name + "，" + i.working_days + "个工作日");
      if (i.if_applicable) li.appendChild(el("span", "yishi-tag", "如适用"));
      list.appendChild(li);
    });
    box.appendChild(list);
    return box;
  };

  Widget.prototype.channelsList = function (c) {
    var box = el("details", "yishi-section");
    box.appendChild(el("summary", null, "在哪里办"));
    var list = el("ul", "yishi-channels");
    c.channels.forEach(function (ch) {
      var li = el("li");
      li.appendChild(el("strong", null, ch.name));
      var detail = [ch.address, ch.hours].filter(Boolean).join("，");
      if (detail) li.appendChild(el("span", null, "：" + detail));
      var url = ch.url && safeUrl(ch.url);
      if (url) {
        var a = el("a", null, url);
        a.href = url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.appendChild(el("span", null, " "));
        li.appendChild(a);
      }
      list.appendChild(li);
    });
    box.appendChild(list);
    return box;
  };

  function settings(options) {
    var merged = {};
    Object.keys(DEFAULTS).forEach(function (k) { merged[k] = DEFAULTS[k]; });
    Object.keys(options || {}).forEach(function (k) { merged[k] = options[k]; });
    merged.server = String(merged.server).replace(/\/$/, "");
    if (!document.querySelector('link[data-yishi]')) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = merged.server + "/static/yishi-widget.css";
      css.setAttribute("data-yishi", "");
      document.head.appendChild(css);
    }
    return merged;
  }

  window.Yishi = {
    init: function (options) {
      return new Widget(settings(options));
    },
    /* Render replies into container exactly as the chat does, without a chat box (the staff test bench).
     * options.onChoice(payload, title) is called when a button is pressed. */
    render: function (container, messages, options) {
      var view = Object.create(Widget.prototype);
      view.o = settings(options);
      view.o.rating = false;  // staff testing are no citizens to rate
      view.log = container;
      view.send = function (payload, title) { if (view.o.onChoice) view.o.onChoice(payload, title); };
      messages.forEach(function (message) { view.say(message, true); });
      return view;
    }
  };
})();
