"""Another Rasa client against Yishi (issue 15): the unmodified rasa-webchat from the npm registry, on a host page
served from another loopback origin, through a whole conversation over socket.io, in headless Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e import npm
from tests.e2e.test_browser import ARTIFACTS

WEBCHAT_VERSION = "1.0.1"
HOST_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>区政府网站（示例）</title></head>
<body><h1>某区政府门户网站（示例页）</h1><div id="webchat" style="height: 760px"></div>
<script src="webchat.js"></script>
<script>
  WebChat.default({socketUrl: "%(rasa)s", socketPath: "/socket.io/", initPayload: "/get_started",
                   title: "一事", subtitle: "“一件事”智能助手", inputTextFieldHint: "请说说您要办的事",
                   embedded: true, params: {storage: "session"}}, document.getElementById("webchat"));
</script></body></html>
"""


@pytest.fixture(scope="module")
def host_site(stack, tmp_path_factory):
    """The district's page with rasa-webchat, served on the loopback origin the stack allows; yields its origin."""
    webchat = npm.install("rasa-webchat", WEBCHAT_VERSION)
    folder = tmp_path_factory.mktemp("host-site")
    (folder / "webchat.js").write_bytes((webchat / "lib" / "index.js").read_bytes())
    (folder / "index.html").write_text(HOST_PAGE % {"rasa": stack.rasa_url}, encoding="utf-8")
    origin = stack.env["YISHI_WIDGET_ORIGINS"]
    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", urlsplit(origin).port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield origin
    server.shutdown()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no access log on the test's output
        pass


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def bot_texts(page) -> list[str]:
    return page.eval_on_selector_all(".rw-response", "nodes => nodes.map(n => n.innerText.trim())")


def wait_for_bot(page, contains: str, after: int = 0, timeout: float = 30) -> str:
    """The text of the first bot message after the first `after` ones that contains `contains`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [text for text in bot_texts(page)[after:] if contains in text]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no bot message with {contains!r}; the page shows {bot_texts(page)}")


def say(page, text: str) -> int:
    """Types a message as a citizen would; returns how many bot messages were shown before it."""
    before = len(bot_texts(page))
    page.fill(".rw-new-message", text)
    page.press(".rw-new-message", "Enter")
    return before


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_rasa_webchat_from_an_allowed_site_holds_a_whole_conversation(page, host_site):
    page.goto(host_site + "/index.html")
    greeting = wait_for_bot(page, "我是“一事”智能助手")  # its /get_started opens with the greeting
    assert "不属于" not in greeting

    before = say(page, "想开个洗车铺子")
    checklist = wait_for_bot(page, "【我要开洗车场】", before)
    # rendered as Markdown: a bold title, paragraphs and lists, no markup left over as characters
    message = page.locator(".rw-response", has_text="【我要开洗车场】").last
    assert message.locator("strong", has_text="【我要开洗车场】").count() == 1
    assert message.locator("li", has_text="城镇污水排入排水管网许可——区水务局").count() == 1
    assert message.locator("li").count() >= 10 and message.locator("p").count() >= 8
    assert "**" not in checklist and "\\" not in checklist and "- 城镇" not in checklist
    link = message.locator("a", has_text="打开可打印的清单")
    assert urlsplit(link.get_attribute("href")).path == "/checklist/car_wash"
    wait_for_bot(page, "为了让清单更准确，请问：是否已经领取营业执照？", before)
    assert page.locator(".rw-reply", has_text="已有营业执照").count() == 1
    shot(page, "rasa-webchat-checklist-and-question.png")

    before = len(bot_texts(page))
    page.locator(".rw-reply", has_text="已有营业执照").click()
    wait_for_bot(page, "【我要开洗车场】", before)
    link = page.locator(".rw-response a", has_text="打开可打印的清单").last
    assert parse_qs(urlsplit(link.get_attribute("href")).query) == {"has_licence": ["yes"]}
    wait_for_bot(page, "为了让清单更准确", before)  # the next situational question
    assert not any("The checklist below is in Chinese" in text for text in bot_texts(page))  # a button is not English

    before = say(page, "要带哪些材料")
    materials = page.locator(".rw-response", has_text="需要准备的材料").last
    wait_for_bot(page, "需要准备的材料", before)
    assert materials.locator("li").count() >= 5

    before = say(page, "今天天气怎么样")
    wait_for_bot(page, "不属于“一事一次办”", before)
    shot(page, "rasa-webchat-conversation.png")
    # every bubble shows something: no payload became an empty message
    assert all(text for text in bot_texts(page))
    assert page.eval_on_selector_all(".rw-message", "nodes => nodes.filter(n => !n.innerText.trim()).length") == 0


def test_the_same_page_from_a_site_not_on_the_list_cannot_connect(page, host_site, stack):
    failed, blocked = [], []
    page.on("requestfailed", lambda request: failed.append(request.url) if "/socket.io/" in request.url else None)
    page.on("console", lambda message: blocked.append(message.text) if "blocked by CORS policy" in message.text else None)
    other = host_site.replace("127.0.0.1", "localhost")  # the same page from another origin
    page.goto(other + "/index.html")
    page.wait_for_timeout(8000)  # Playwright's events arrive while it waits (time.sleep would hold them back)
    assert bot_texts(page) == []
    assert failed and blocked, "the socket.io handshake from an origin not on the list should fail"
    # refused by the server itself (Engine.IO checks the Origin), so a websocket cannot get in either
    for transport in ("polling", "websocket"):
        refused = requests.get(f"{stack.rasa_url}/socket.io/?EIO=4&transport={transport}", headers={"Origin": other},
                               timeout=10)
        assert refused.status_code == 400 and "not an accepted origin" in refused.text
        assert "access-control-allow-origin" not in refused.headers
