"""The 适老化 figures on every surface and state (issue 17), measured in headless Chromium after one question.

Each state's figures are printed and written to tests/artifacts/accessibility.txt, with a screenshot per state;
a test fails when a figure falls below its requirement:
- everywhere: touch targets at least 24 px (WCAG 2.2 2.5.8), axe-core's WCAG 2.1 AA rules without a violation;
- 长辈模式 on the widget: targets at least 44 px, no text under 18 px, line height at least 1.3;
- the kiosk (长辈模式 by default): targets at least 60 px, no text under 18 px and its conversation at least 24 px;
- the checklist's 大字版: no text under 20 px and its body at least 24 px, one column; every checklist page at 200 %
  zoom without anything cut off (no sideways scrolling).
"""

from __future__ import annotations

import pytest

from tests.e2e.a11y import Figures, measure
from tests.e2e.test_browser import ARTIFACTS

QUESTION = "想开个洗车铺子"
REPORT = ARTIFACTS / "accessibility.txt"


@pytest.fixture(scope="module")
def web_url(stack, tmp_path_factory):
    web = stack.start_web(workers=2, folder=tmp_path_factory.mktemp("web-a11y"),
                          extra_env={"YISHI_SECRET_KEY": "a11y-tests"})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("", encoding="utf-8")
    yield web.url
    web.process.terminate()
    web.process.wait(timeout=10)


@pytest.fixture
def open_page(browser):
    contexts = []

    def make(width: int, height: int, mobile: bool = False):
        # bypass_csp: only so that the test can load axe-core into the page; the pages' own CSP is tested elsewhere
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", bypass_csp=True,
                                      is_mobile=mobile, has_touch=mobile)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def record(page, figures: Figures, shot: str) -> Figures:
    page.screenshot(path=str(ARTIFACTS / shot), full_page=False)
    with REPORT.open("a", encoding="utf-8") as report:
        report.write(figures.line() + f" [{shot}]\n")
    print(figures.line())
    return figures


def ask(page, text: str) -> None:
    page.fill("#yishi-input", text)
    page.press("#yishi-input", "Enter")
    page.wait_for_selector(".yishi-card", timeout=30000)
    page.wait_for_selector(".yishi-bot .yishi-choice", timeout=30000)  # the first situational question


def assert_meets(figures: Figures, target: float, text: float | None = None, line: float | None = None) -> None:
    assert not figures.violations, f"{figures.name}: axe-core: {figures.violations}"
    assert not figures.targets_below(target), f"{figures.name}: targets under {target} px: " \
                                              f"{figures.targets_below(target)[:8]}"
    if text is not None:
        assert not figures.texts_below(text), f"{figures.name}: text under {text} px: {figures.texts_below(text)[:8]}"
    if line is not None:
        assert not figures.lines_below(line), f"{figures.name}: line height under {line}: {figures.lines_below(line)[:8]}"


@pytest.mark.parametrize("device, width, height", [("desktop", 1280, 900), ("phone", 390, 844)])
def test_widget_normal_and_elderly(open_page, web_url, device, width, height):
    page = open_page(width, height, mobile=device == "phone")
    page.goto(web_url + "/")
    page.click(".yishi-launcher")
    ask(page, QUESTION)
    normal = record(page, measure(page, f"widget {device}", ".yishi"), f"a11y-widget-{device}.png")
    page.click(".yishi-tool:has-text('长辈模式')")
    page.locator(".yishi-card").first.scroll_into_view_if_needed()
    elderly = record(page, measure(page, f"widget {device} 长辈模式", ".yishi"), f"a11y-widget-{device}-elderly.png")
    assert_meets(normal, target=24)
    assert_meets(elderly, target=44, text=18, line=1.3)


@pytest.mark.parametrize("orientation, width, height", [("portrait", 1080, 1920), ("landscape", 1920, 1080)])
def test_kiosk(open_page, web_url, orientation, width, height):
    page = open_page(width, height, mobile=True)
    page.goto(web_url + "/kiosk")
    ask(page, QUESTION)
    kiosk = record(page, measure(page, f"kiosk {orientation}"), f"a11y-kiosk-{orientation}.png")
    assert_meets(kiosk, target=60, text=18, line=1.3)
    conversation = [t["size"] for t in kiosk.texts if t["tag"] == "p" and "yishi" not in t["cls"]]
    assert conversation and min(conversation) >= 24, "the kiosk's body text is larger than 24 px"


@pytest.mark.parametrize("variant, query", [("normal", ""), ("大字版", "&large=1")])
def test_checklist_page(open_page, web_url, variant, query):
    page = open_page(1280, 900)
    page.goto(f"{web_url}/checklist/car_wash?has_licence=no{query}")
    sheet = record(page, measure(page, f"checklist {variant}"), f"a11y-checklist-{variant}.png")
    assert_meets(sheet, target=24)
    zoomed = open_page(640, 450)  # 200 % zoom of a 1280 × 900 window: half as many CSS pixels
    zoomed.goto(f"{web_url}/checklist/car_wash?has_licence=no{query}")
    at_200 = record(zoomed, measure(zoomed, f"checklist {variant} at 200 %", axe=False),
                    f"a11y-checklist-{variant}-200.png")
    assert at_200.overflow <= 0, f"checklist {variant} at 200 % scrolls sideways by {at_200.overflow} px"
    # nothing on top of anything: the header's QR code beside (or under) its text, the blocks one after another
    overlaps = zoomed.evaluate("""() => {
        const boxes = [...document.querySelectorAll("header > *, .summary, .figures, h2, .materials li, .items tr")]
            .map(n => [n.tagName + "." + n.className, n.getBoundingClientRect()]).filter(([, r]) => r.height > 0);
        const hits = [];
        boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, q]) => {
            if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1 && q.top < r.bottom - 1) hits.push(a + " / " + b);
        }));
        return hits;
    }""")
    assert overlaps == [], overlaps
    if variant == "大字版":
        assert_meets(sheet, target=24, text=20, line=1.3)
        body = [t["size"] for t in sheet.texts if t["cls"] in ("m-name", "summary")]
        assert body and min(body) >= 24
        # one column: every material and every item starts at the same left edge
        lefts = page.eval_on_selector_all(".materials li, .items td",
                                          "ns => ns.map(n => Math.round(n.getBoundingClientRect().left))")
        assert len(set(lefts)) == 1, sorted(set(lefts))


def test_kiosk_idle_warning_is_seen_heard_and_any_touch_continues(open_page, web_url):
    page = open_page(1080, 1920, mobile=True)
    # a spy on the browser's speech output (headless Chromium has no voice): what the kiosk asks it to say
    page.add_init_script("window.__spoken = []; if (window.speechSynthesis) "
                         "{ speechSynthesis.speak = (u) => window.__spoken.push(u.text); }")
    page.goto(web_url + "/kiosk?idle=5")
    ask(page, QUESTION)
    page.wait_for_selector("#idle:not([hidden])", timeout=15000)
    warning = record(page, measure(page, "kiosk idle warning", "#idle"), "a11y-kiosk-idle.png")
    assert_meets(warning, target=60, text=18)
    stay = page.locator("#idle-stay")
    assert stay.inner_text() == "继续" and stay.bounding_box()["height"] >= 100
    assert any("秒后将清除" in text for text in page.evaluate("window.__spoken"))
    page.mouse.click(540, 300)  # a touch anywhere, not on the button
    page.wait_for_selector("#idle", state="hidden", timeout=5000)
    assert page.locator(".yishi-card").count() == 1  # the conversation and its checklist are kept
    page.wait_for_selector("#idle:not([hidden])", timeout=15000)  # the idle time started again


def test_kiosk_checklist_pages_by_large_buttons(open_page, web_url):
    page = open_page(1920, 1080, mobile=True)
    page.goto(web_url + "/kiosk")
    ask(page, QUESTION)
    before = page.evaluate("document.getElementById('sheet-body').scrollTop")
    page.click("#sheet-down")
    page.wait_for_timeout(1200)  # the smooth scroll
    after = page.evaluate("document.getElementById('sheet-body').scrollTop")
    assert after > before + 100
    page.click("#sheet-up")
    page.wait_for_timeout(1200)
    assert page.evaluate("document.getElementById('sheet-body').scrollTop") < after
