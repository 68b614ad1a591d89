"""Retraining from the console on the real stack (issue 16, req 2): a small change of training data (a few
examples teaching a new word for the gym), 训练新模型 in the background, the candidate compared with the live
model, 上线 into both running Rasa servers while a visitor keeps chatting, and 回滚. Everything runs on copies in
a temporary folder: the repository's model and training data are never touched."""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
import time

import requests
import yaml

from ops import stack as stack_module
from yishi import settings
from yishi.rasa_client import RasaClient

NEW_WORD = "呼啦馆"  # a made-up word: the live model has never seen it
TAUGHT = [f"我想开个{NEW_WORD}", f"开{NEW_WORD}要办什么", f"{NEW_WORD}怎么办证", f"想搞个{NEW_WORD}", f"开一家{NEW_WORD}需要啥",
          f"{NEW_WORD}开业要带什么材料", f"准备开{NEW_WORD}", f"我们要办{NEW_WORD}", f"{NEW_WORD}的手续", f"新开{NEW_WORD}"]
PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def top_intent(url: str, secret: str, text: str) -> str:
    client = RasaClient([url], secret, timeout=60)
    return requests.post(f"{url}/model/parse", json={"text": text}, headers=client.auth(), timeout=60).json()["intent"]["name"]


def test_retrain_compare_go_live_without_dropping_a_conversation_and_roll_back(tmp_path):
    home = settings.home()
    model = tmp_path / "models" / "yishi.tar.gz"
    model.parent.mkdir()
    shutil.copy2(settings.path("YISHI_MODEL"), model)
    nlu = tmp_path / "nlu_data"
    shutil.copytree(home / "nlu_data", nlu)
    (nlu / "taught.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": [
        {"intent": "bundle_gym", "examples": "".join(f"- {t}\n" for t in TAUGHT)}]}, allow_unicode=True), encoding="utf-8")
    cases = tmp_path / "cases.yml"  # small evaluation sets keep the run short; the console uses whatever is configured
    cases.write_text(yaml.safe_dump({
        "bundles": [{"text": "想开个健身房", "bundle": "gym"}, {"text": "娃儿刚出生要办啥子", "bundle": "newborn"},
                    {"text": f"想开个{NEW_WORD}，要办啥", "bundle": "gym"}],
        "out_of_scope": ["明天会下雨吗"], "ambiguous": [{"text": "想开个店", "candidates": ["gym", "car_wash"]}]},
        allow_unicode=True), encoding="utf-8")
    env = {"YISHI_MODEL": str(model), "YISHI_NLU_DATA": str(nlu), "YISHI_RESULTS_DIR": str(tmp_path / "results"),
           "YISHI_EVAL_CASES": str(cases), "YISHI_EVAL_BLIND": str(tmp_path / "no-blind-set")}
    stack = stack_module.start(tmp_path / "stack", rasa_servers=2, model=model, extra_env=env)
    try:
        web = stack.start_web(workers=1, folder=tmp_path / "web", extra_env={
            "YISHI_RATE_PER_SESSION": "100000", "YISHI_RATE_PER_IP": "100000"})
        web.add_staff("zhao.lei", PASSWORD, "审核员")  # reviewers retrain, make live and roll back
        staff = requests.Session()
        staff.post(f"{web.url}/staff/login", data={"username": "zhao.lei", "password": PASSWORD}, timeout=30)
        page = staff.get(f"{web.url}/staff/models", timeout=30).text
        assert "现用模型" in page and "以前的模型" in page
        before = top_intent(stack.rasa_urls[0], stack.jwt_secret, f"想开个{NEW_WORD}，要办啥")
        assert before != "bundle_gym"

        staff.post(f"{web.url}/staff/models/train", data={"csrf": csrf_of(page)}, timeout=30)
        again = staff.post(f"{web.url}/staff/models/train", data={"csrf": csrf_of(page)}, timeout=30).text
        assert "已经有训练或测试在运行" in again  # one job at a time
        deadline = time.monotonic() + 1500
        while "retrain-running" in (page := staff.get(f"{web.url}/staff/models", timeout=30).text):
            assert time.monotonic() < deadline
            time.sleep(5)
        assert 'id="comparison"' in page, page[-3000:]
        assert NEW_WORD in page  # the taught sentence is among those whose answer changed

        # 上线 while a visitor chats: every reply is an answer, none the polite fallback
        replies: list[str] = []
        chatting = threading.Event()
        chatting.set()

        def visitor() -> None:
            session = requests.Session()
            while chatting.is_set():
                messages = session.post(f"{web.url}/chat/message", json={"text": "想开个洗车铺子"}, timeout=30).json()["messages"]
                replies.append((messages[0].get("custom") or {}).get("type") or "text")

        thread = threading.Thread(target=visitor)
        thread.start()
        try:
            form = {"csrf": csrf_of(page), "digest": re.search(r'name="digest" value="(\w+)"', page).group(1),
                    "reason": "教会一个新说法（测试）"}
            done = staff.post(f"{web.url}/staff/models/promote", data=form, timeout=600).text
        finally:
            time.sleep(2)
            chatting.clear()
            thread.join(timeout=60)
        assert "已上线" in done, done[-2000:]
        assert replies and "fallback" not in replies, replies
        for url in stack.rasa_urls:
            assert top_intent(url, stack.jwt_secret, f"想开个{NEW_WORD}，要办啥") == "bundle_gym"

        # 回滚 to the model that was live before
        page = staff.get(f"{web.url}/staff/models", timeout=30).text
        kept = re.search(r'name="model" value="([^"]+)"', page).group(1)
        back = staff.post(f"{web.url}/staff/models/rollback", data={"csrf": csrf_of(page), "model": kept}, timeout=600).text
        assert "已回滚" in back
        for url in stack.rasa_urls:
            assert top_intent(url, stack.jwt_secret, f"想开个{NEW_WORD}，要办啥") == before
        with sqlite3.connect(tmp_path / "web" / "web.db") as db:  # the audit trail, in the web app's store
            actions = [row[0] for row in db.execute("select action from audit_log where username = 'zhao.lei' order by id")]
        assert actions == ["retrain", "go_live", "roll_back"], actions
    finally:
        stack.stop()
