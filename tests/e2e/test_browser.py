"""The citizen surfaces in a real headless Chromium against the running stack (real Rasa, action server, app)."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.parse
import urllib.request

from yishi.settings import home

PROJECT = home()

ARTIFACTS = PROJECT / "tests" / "artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


def wait_until(page, expression: str, timeout: float = 15) -> None:
    """Poll a JavaScript expression (page.wait_for_function would need 'unsafe-eval', which our CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        time.sleep(0.1)


def ask(page, text: str) -> None:
    page.fill("#yishi-input", text)
    page.press("#yishi-input", "Enter")


def open_widget(page, url: str) -> None:
    page.goto(url + "/")
    page.click(".yishi-launcher")
    page.wait_for_selector(".yishi-bot")


def test_widget_answers_with_the_bundle_card(page, web_url):
    open_widget(page, web_url)
    assert page.get_attribute(".yishi-log", "aria-live") == "polite"
    ask(page, "我要开健身房")
    card = page.wait_for_selector(".yishi-card", timeout=20000)
    assert card.query_selector(".yishi-card-title").inner_text() == "我要开健身房"
    # the card, not the checklist's text besides (that is for clients without the card)
    page.wait_for_selector(".yishi-bot .yishi-choice")
    assert not [t for t in page.eval_on_selector_all(".yishi-bot", "ns => ns.map(n => n.innerText)") if "【" in t]
    assert "少跑4次、少交16份材料、少等29个工作日" in card.inner_text()
    assert len(card.query_selector_all(".yishi-material input[type=checkbox]")) == 25
    assert "如适用" in card.inner_text() and "本清单仅供参考，以窗口最新要求为准。" in card.inner_text()
    # the published promise (the source article: 14 working days), the finish date and the basis line
    assert card.query_selector(".yishi-time-limit").inner_text().startswith("办理时限：承诺14个工作日内办结")
    assert card.query_selector(".yishi-finish").inner_text().startswith("今天提交，预计")
    assert card.query_selector(".yishi-basis").inner_text().startswith("依据：打造“一事一次办”改革的成都龙泉驿模式")
    page.wait_for_selector(".yishi-bot .yishi-choice")  # the first situational question, as buttons
    card.scroll_into_view_if_needed()
    shot(page, "widget-card.png")
    # a follow-up's Markdown text shown as paragraphs and a list, no markup left as characters
    ask(page, "要带什么材料")
    answer = page.wait_for_selector(".yishi-bot:has-text('需要准备的材料（25份')", timeout=20000)
    assert len(answer.query_selector_all("ul li")) == 25
    assert "**" not in answer.inner_text() and "\\" not in answer.inner_text() and "- " not in answer.inner_text()


def test_clarify_by_clicking_and_buttons_stay_usable(page, web_url):
    open_widget(page, web_url)
    ask(page, "我想开个店")
    page.wait_for_selector(".yishi-choice:has-text('我要开健身房')", timeout=20000)
    page.click(".yishi-choice:has-text('我要开洗车场')")
    page.wait_for_selector(".yishi-card-title:has-text('我要开洗车场')", timeout=20000)
    page.click(".yishi-choice:has-text('我要开健身房')")  # an earlier button still works
    page.wait_for_selector(".yishi-card-title:has-text('我要开健身房')", timeout=20000)


def test_reload_keeps_the_conversation_and_restart_clears_it(page, web_url):
    open_widget(page, web_url)
    ask(page, "二手房过户")
    page.wait_for_selector(".yishi-card", timeout=20000)
    page.reload()
    page.click(".yishi-launcher")
    page.wait_for_selector(".yishi-user:has-text('二手房过户')", timeout=10000)
    assert page.query_selector(".yishi-card-title").inner_text().startswith("二手房转移登记")
    page.click(".yishi-restart")
    wait_until(page, "document.querySelectorAll('.yishi-log > *').length === 1")
    page.reload()
    page.click(".yishi-launcher")
    page.wait_for_selector(".yishi-bot")
    assert page.query_selector(".yishi-user") is None


def test_user_text_is_shown_as_text_never_as_html(page, web_url):
    open_widget(page, web_url)
    payload = "<img src=x onerror=alert(1)>"
    ask(page, payload)
    wait_until(page, "document.querySelectorAll('.yishi-bot').length >= 2", 20)
    assert page.query_selector(".yishi-user p").inner_text() == payload
    assert page.query_selector(".yishi-log img") is None
    assert page.dialogs == []


def test_keyboard_alone_reaches_the_input_and_the_buttons(page, web_url):
    page.goto(web_url + "/")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.className") == "yishi-launcher":
            break
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "yishi-input"
    page.keyboard.type("我想开个店")
    page.keyboard.press("Enter")
    page.wait_for_selector(".yishi-choice", timeout=20000)
    page.focus(".yishi-choice")  # the buttons are real <button>s in the tab order
    for _ in range(60):
        if "yishi-choice" in page.evaluate("document.activeElement.className"):
            break
        page.keyboard.press("Tab")
    assert "yishi-choice" in page.evaluate("document.activeElement.className")
    page.keyboard.press("Enter")
    page.wait_for_selector(".yishi-card", timeout=20000)


def test_elderly_mode_enlarges_the_type(page, web_url):
    open_widget(page, web_url)
    before = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.yishi-log')).fontSize)")
    page.click(".yishi-tool:has-text('长辈模式')")
    after = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.yishi-log')).fontSize)")
    assert after > before * 1.2


def test_phone_sized_screen(browser, web_url):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    open_widget(page, web_url)
    box = page.query_selector(".yishi-panel").bounding_box()
    assert box["width"] <= 375 and box["x"] >= 0
    context.close()


def test_kiosk_starts_from_stages_and_idles_back_to_its_start(page, web_url):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(web_url + "/kiosk?idle=3")
    page.click(".stage:has-text('老年')")
    page.wait_for_selector(".yishi-choice:has-text('退休一件事')", timeout=20000)
    page.click(".yishi-choice:has-text('退休一件事')")
    page.wait_for_selector(".yishi-card .yishi-qr", timeout=20000)
    shot(page, "kiosk.png")
    page.wait_for_selector("#idle:not([hidden])", timeout=15000)
    shot(page, "kiosk-idle.png")
    page.wait_for_selector("#idle[hidden]", state="attached", timeout=15000)
    wait_until(page, "document.querySelectorAll('.yishi-log > *').length === 1", 10)
    assert page.query_selector(".yishi-card") is None
    assert page.evaluate("localStorage.length + sessionStorage.length") <= 1  # only the elderly-mode flag


def test_checklist_page_renders_and_prints_on_a4(page, web_url, tmp_path):
    page.goto(web_url + "/checklist/gym?has_licence=no&gym_facilities=swimming")
    assert page.inner_text("h1") == "我要开健身房"
    assert page.query_selector("img.qr").evaluate("img => img.naturalWidth") > 0
    shot(page, "checklist.png")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1000})  # A4 minus 12 mm margins, at 96 dpi
    assert page.evaluate("document.documentElement.scrollWidth") <= 718  # nothing sticks out sideways
    assert not page.query_selector("#print").is_visible()  # the print button is not printed
    pdf = tmp_path / "checklist.pdf"
    page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 1 <= pages <= 3


def test_staff_member_logs_in_and_runs_the_test_bench(page, web_url, web_folder, stack):
    # the account is made as a hall's administrator would: with the CLI, password on stdin
    made = subprocess.run([str(PROJECT / ".venv/bin/yishi"), "staff", "add", "li.na", "--role", "只读",
                           "--password-stdin"],
                          input="a long bench password\n", text=True, capture_output=True, cwd=PROJECT, check=False,
                          env=stack.env | {"YISHI_WEB_DB": str(web_folder / "web.db")})
    assert made.returncode == 0, made.stderr
    page.goto(web_url + "/staff/bench")
    assert "/staff/login" in page.url  # not logged in: sent to the login page, then back
    page.fill("input[name=username]", "li.na")
    page.fill("input[name=password]", "a long bench password")
    page.click("button[type=submit]")
    page.wait_for_selector("#bench-input")
    assert page.url.endswith("/staff/bench")
    page.fill("#bench-input", "想开个洗车铺子")
    page.press("#bench-input", "Enter")
    card = page.wait_for_selector("#bench-log .yishi-card", timeout=20000)
    assert card.query_selector(".yishi-card-title").inner_text() == "我要开洗车场"
    page.wait_for_selector("#bench-nlu .tokens li")
    tokens = [t.inner_text() for t in page.query_selector_all("#bench-nlu .tokens li")]
    assert "".join(tokens) == "想开个洗车铺子"
    assert "我要开洗车场（bundle_car_wash）" in page.inner_text("#bench-nlu table")
    assert "直接回答一件事" in page.inner_text("#bench-decision") and "第二名" in page.inner_text("#bench-decision")
    provenance = page.inner_text("#bench-provenance")
    assert "事项" in provenance and "来源" in provenance and "未核对" in provenance
    # a situational answer by button, inside the rendered reply
    choice = page.query_selector_all("#bench-log .yishi-choice")[0]
    label = choice.inner_text()
    choice.click()
    wait_until(page, "document.querySelectorAll('#bench-log .yishi-user').length == 2")
    page.wait_for_selector("#bench-log .yishi-card >> nth=1", timeout=20000)
    assert label in page.inner_text("#bench-log .yishi-user >> nth=1")
    assert "answer_question" in page.inner_text("#bench-nlu table")
    shot(page, "staff-bench.png")


def test_the_access_log_keeps_paths_but_no_query_strings(web_url, web_folder):
    """A number typed into a search must not reach the access log (gunicorn's format in web_widget/gunicorn_conf.py)."""
    urllib.request.urlopen(web_url + "/api/search?q=13800138000", timeout=10)  # noqa: S310
    urllib.request.urlopen(web_url + "/api/search?q=" + urllib.parse.quote("身份证11010519491231002X"), timeout=10)  # noqa: S310
    deadline = time.monotonic() + 5
    log = web_folder / "web-access.log"
    while time.monotonic() < deadline and "/api/search" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.1)
    text = log.read_text(encoding="utf-8")
    assert '"GET /api/search HTTP/1.1" 200' in text
    assert "13800138000" not in text and "11010519491231002X" not in text and "q=" not in text
