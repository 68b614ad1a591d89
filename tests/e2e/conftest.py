"""One real stack (action server + Rasa server with the trained model) for all end-to-end tests."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

from ops import stack as stack_module
from web_widget import create_app


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    # the actions with one fault injected: catalogue calls of "slow-…" senders sleep (tests/e2e/slow_actions.py);
    # one loopback site allowed to connect another Rasa client (tests/e2e/test_rasa_webchat.py serves it)
    allowed = f"http://127.0.0.1:{stack_module.free_port()}"
    running = stack_module.start(tmp_path_factory.mktemp("stack"), actions_package="tests.e2e.slow_actions",
                                 extra_env={"YISHI_WIDGET_ORIGINS": allowed})
    yield running
    running.stop()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's: no browser downloads by test tools


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a module's browser tests."""
    if not os.path.exists(CHROMIUM):  # never skip silently: .ci/run installs it, a developer installs it once
        raise RuntimeError("Debian's chromium is missing: apt-get install chromium chromium-driver fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex}"


def _customs(messages: list[dict]) -> list[dict]:
    return [m["custom"] for m in messages if "custom" in m]


def _custom_of(messages: list[dict], kind: str) -> dict:
    found = [c for c in _customs(messages) if c.get("type") == kind]
    assert found, f"no {kind} payload in {messages}"
    return found[0]


@pytest.fixture
def web(stack, tmp_path):
    """The web app (Flask test client side) in front of the real stack."""
    return create_app({"TESTING": True, "WEB_DB": str(tmp_path / "web.db"), "RASA_URLS": [stack.rasa_url],
                       "SECRET_KEY": "test"})


@pytest.fixture(name="customs")
def customs_fixture():
    """customs(…): see _customs."""
    return _customs


@pytest.fixture(name="custom_of")
def custom_of_fixture():
    """custom_of(…): see _custom_of."""
    return _custom_of


# the web app and a Chromium page for the browser tests (a module may define its own instead)
@pytest.fixture(scope="module")
def web_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="module")
def web_url(stack, web_folder):
    """The web app under gunicorn, as `make run` serves it, in front of the test stack."""
    web = stack.start_web(workers=2, folder=web_folder,
                          extra_env={"YISHI_KIOSK_COUNTDOWN_S": "2", "YISHI_SECRET_KEY": "browser-tests"})
    yield web.url
    web.process.terminate()
    web.process.wait(timeout=10)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()
