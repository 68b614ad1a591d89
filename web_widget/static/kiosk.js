/* The hall kiosk: stage buttons, large print, read aloud, print in place, and a privacy wipe when idle. */
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  var idleSeconds = Number(root.dataset.idleS) || 90;
  var countdownSeconds = Number(root.dataset.countdownS) || 15;
  var overlay = document.getElementById("idle");
  var count = document.getElementById("idle-count");
  var idleTimer = null, countdownTimer = null;

  var sheet = document.getElementById("sheet-body");
  var readAloud = !!window.speechSynthesis;
  var widget = Yishi.init({container: "#chat", title: "一事 · 大厅自助咨询", elderly: true, readAloud: readAloud,
                           showQr: true, onActivity: touch, cardContainer: "#sheet-body",
                           cardPlaceholder: "您要办的事的材料清单会显示在这里。点左边（竖屏：上面）的阶段按钮，或者在对话框里说说您的情况。"});
  widget.showCard(null);

  // any touch, key or scroll restarts the idle time; during the warning a touch or a key anywhere (but on
  // 结束并清除) means the person is still here
  function touch(event) {
    if (!overlay.hidden) {
      var person = event && (event.type === "pointerdown" || event.type === "keydown");
      if (person && !(event.target.closest && event.target.closest("#idle-end"))) stay();
      return;
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(warn, idleSeconds * 1000);
  }

  function say(text) {
    if (!readAloud) return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  }

  function warn() {
    var left = countdownSeconds;
    overlay.hidden = false;
    count.textContent = String(left);
    document.getElementById("idle-stay").focus();
    say("还在吗？" + left + "秒后将清除本次咨询内容。要继续，请点屏幕。");
    countdownTimer = setInterval(function () {
      left -= 1;
      count.textContent = String(left);
      if (left <= 0) wipe();
    }, 1000);
  }

  function stay() {
    clearInterval(countdownTimer);
    overlay.hidden = true;
    if (readAloud) window.speechSynthesis.cancel();
    touch();
  }

  function wipe() {
    clearInterval(countdownTimer);
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* nothing stored */ }
    widget.restart().then(function () {
      overlay.hidden = true;
      widget.applyElderly(true);
      history.replaceState(null, "", location.pathname + location.search);
      document.querySelector(".stage").focus();
      touch();
    });
  }

  document.getElementById("idle-stay").addEventListener("click", stay);
  // the checklist scrolls by large buttons as well as by swiping
  function page(direction) {
    sheet.scrollBy({top: direction * sheet.clientHeight * 0.8, behavior: "smooth"});
  }
  document.getElementById("sheet-up").addEventListener("click", function () { page(-1); });
  document.getElementById("sheet-down").addEventListener("click", function () { page(1); });
  document.getElementById("idle-end").addEventListener("click", wipe);
  Array.prototype.forEach.call(document.querySelectorAll(".stage"), function (button) {
    button.addEventListener("click", function () {
      widget.send('/browse{"stage":"' + button.dataset.stage + '"}', button.dataset.stage);
    });
  });

  // 打印清单: print the checklist page in place instead of opening a tab on the kiosk
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.yishi-print");
    if (!link) return;
    event.preventDefault();
    var frame = document.getElementById("print-frame") || document.body.appendChild(document.createElement("iframe"));
    frame.id = "print-frame";
    frame.className = "yishi-visually-hidden";
    frame.title = "打印清单";
    frame.src = link.href + (link.href.indexOf("?") >= 0 ? "&" : "?") + "print=1";
  });
  ["pointerdown", "keydown", "scroll"].forEach(function (name) { document.addEventListener(name, touch, true); });
  touch();
  window.yishiKiosk = {wipe: wipe};
})();
