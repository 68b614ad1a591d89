/* The hall kiosk: stage buttons, large print, read aloud, print in place, and a privacy wipe when idle. */
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  var idleSeconds = Number(root.dataset.idleS) || 90;
  var countdownSeconds = Number(root.dataset.countdownS) || 15;
  var overlay = document.getElementById("idle");
  var count = document.getElementById("idle-count");
  var idleTimer = null, countdownTimer = null;

  var widget = Yishi.init({container: "#chat", title: "一事 · 大厅自助咨询", elderly: true,
                           readAloud: !!window.speechSynthesis, showQr: true, onActivity: touch});

  function touch() {
    if (!overlay.hidden) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(warn, idleSeconds * 1000);
  }

  function warn() {
    var left = countdownSeconds;
    overlay.hidden = false;
    count.textContent = String(left);
    document.getElementById("idle-stay").focus();
    countdownTimer = setInterval(function () {
      left -= 1;
      count.textContent = String(left);
      if (left <= 0) wipe();
    }, 1000);
  }

  function stay() {
    clearInterval(countdownTimer);
    overlay.hidden = true;
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
