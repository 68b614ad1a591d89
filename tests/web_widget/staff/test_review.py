"""Conversation review in the staff console: list and filters, one conversation, labelling into the review
file, and `yishi review merge`."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from web_widget import store
from web_widget.staff import review_files as review
from yishi import settings

from .tracker_events import SENDERS, Tracker, at, build

NOVEMBER = "start=2026-11-01&end=2026-11-30"


@pytest.fixture
def staff_role() -> str:
    return "审核员"  # labels


@pytest.fixture
def app(console_app, tmp_path):
    ids = build(tmp_path / "rasa.db")
    app = console_app(TRACKER_DB=str(tmp_path / "rasa.db"), REVIEW_FILE=str(tmp_path / "review" / "labelled.yml"))
    app.ids = ids
    return app


@pytest.fixture
def client(app, logged_in):
    return logged_in(app)


def listed(client, query: str = "") -> list[str]:
    html = client.get(f"/staff/conversations?{NOVEMBER}&{query}").get_data(as_text=True)
    return re.findall(r'<a href="/staff/conversations/[0-9a-z]+"><code>([0-9a-z]+)</code></a>', html)


@pytest.fixture
def label(csrf_of):
    """label(client, event_id, choice): post a label for a message, with the CSRF token unless csrf=False."""

    def post(client, event_id, choice, sender="bbbb", csrf=True):
        data = {"event_id": event_id, "label": choice}
        if csrf:
            data["csrf"] = csrf_of(client)
        return client.post(f"/staff/conversations/{SENDERS[sender]}/label", data=data)

    return post


def test_list_page_renders_with_filters_for_logged_in_staff(client):
    response = client.get(f"/staff/conversations?{NOVEMBER}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<title>一事 · 工作台 · 对话回看</title>" in html
    assert 'aria-current="page">对话回看</a>' in html and "共 5 段对话" in html
    assert '<option value="baby">宝宝登记一件事</option>' in html and '<span class="tag bad">兜底</span>' in html
    assert " style=" not in html and "<script" not in html


def test_filters_filter_on_the_page(client):
    assert listed(client) == ["eeeeeeee", "dddddddd", "cccccccc", "bbbbbbbb", "aaaaaaaa"]
    assert listed(client, "fallback=1") == ["eeeeeeee", "dddddddd", "bbbbbbbb"]
    assert listed(client, "low=1") == ["eeeeeeee", "cccccccc", "bbbbbbbb"]
    assert listed(client, "ask_back=1") == ["eeeeeeee", "cccccccc"]
    assert listed(client, "bundle=shop") == ["aaaaaaaa"]
    assert listed(client, "bundle=shop&fallback=1") == []


def test_date_filter_and_paging(app, client):
    assert re.findall(r"<code>([0-9a-z]+)</code>", client.get("/staff/conversations?start=2026-11-10&end=2026-11-10")
                      .get_data(as_text=True)) == ["eeeeeeee", "dddddddd"]
    tracker = Tracker(app.config["TRACKER_DB"] + ".paged")
    for n in range(55):
        tracker.start(f"{n:08d}", at(20, 9, n))
        tracker.user(f"{n:08d}", "你好", [("greet", 0.99)])
    tracker.close()
    app.config["TRACKER_DB"] += ".paged"
    first = client.get("/staff/conversations?start=2026-11-20&end=2026-11-20").get_data(as_text=True)
    assert "共 55 段对话，第 1 / 2 页" in first and first.count("<code>") == 50 and "<code>00000054</code>" in first
    second = client.get("/staff/conversations?start=2026-11-20&end=2026-11-20&page=2").get_data(as_text=True)
    assert second.count("<code>") == 5 and "<code>00000000</code>" in second and "上一页" in second


def test_no_tracker_store_yet_is_a_message_not_an_error(app, client, tmp_path):
    (tmp_path / "rasa.db").unlink()
    response = client.get("/staff/conversations")
    assert response.status_code == 200 and "还没有对话记录" in response.get_data(as_text=True)
    assert client.get("/staff/api/conversations").json["tracker"] is False
    assert client.get(f"/staff/conversations/{SENDERS['aaaa']}").status_code == 404


def test_conversation_page_shows_every_turn(app, client):
    html = client.get(f"/staff/conversations/{SENDERS['cccc']}").get_data(as_text=True)
    assert "娃儿的事咋弄" in html and "意图：<strong>宝宝登记一件事</strong> <code>bundle_baby</code>\n        42%" in html
    assert "；第二候选：我要开小店 35%" in html and '<span class="tag bad">未达阈值</span>' in html
    assert '<span class="tag warn">反问</span>' in html and "选项：宝宝登记一件事、我要开小店" in html
    assert '<span class="tag">点选按钮</span> 宝宝登记一件事' in html
    assert '<span class="tag ok">清单</span> 宝宝登记一件事' in html and "<summary>【宝宝登记一件事】</summary>" in html
    assert html.count('<form class="label-form"') == 1  # the click is not labelled
    assert client.get("/staff/conversations/nobody").status_code == 404


def test_conversation_api(client):
    data = client.get(f"/staff/api/conversations?{NOVEMBER}&ask_back=1").json
    assert [(c["sender_id"][:4], c["bundles"], c["user_messages"]) for c in data["conversations"]] == \
        [("eeee", ["baby"], 3), ("cccc", ["baby"], 2)]


def test_labelling_needs_the_csrf_token(app, client, label):
    assert label(client, app.ids["xiche"], "out_of_scope", csrf=False).status_code == 400
    assert not Path(app.config["REVIEW_FILE"]).exists()


def test_labelling_appends_to_the_review_file_once_and_relabelling_updates_it(app, client, label):
    path = Path(app.config["REVIEW_FILE"])
    response = label(client, app.ids["xiche"], "out_of_scope")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/conversations/{SENDERS['bbbb']}?saved={app.ids['xiche']}#m{app.ids['xiche']}"
    label(client, app.ids["xiche2"], "shop")
    label(client, app.ids["xiche"], "out_of_scope")  # the same again: stored once
    assert review.read(path) == {"想开个洗车店": "out_of_scope", "开洗车铺子要办啥": "bundle_shop"}
    assert path.read_text(encoding="utf-8").endswith(textwrap.dedent("""\
        nlu:
        - intent: bundle_shop
          examples: |
            - 开洗车铺子要办啥
        - intent: out_of_scope
          examples: |
            - 想开个洗车店
        """))
    label(client, app.ids["xiche"], "shop")  # relabelled
    assert review.read(path) == {"开洗车铺子要办啥": "bundle_shop", "想开个洗车店": "bundle_shop"}
    html = client.get(f"/staff/conversations/{SENDERS['bbbb']}?saved={app.ids['xiche']}").get_data(as_text=True)
    assert "已保存。已标注为：我要开小店（wang.li）" in html
    with app.app_context():
        rows = store.connection().exec_driver_sql("select username, event_id, text, intent from review_labels order by id").fetchall()
    assert rows[-1] == ("wang.li", app.ids["xiche"], "想开个洗车店", "bundle_shop") and len(rows) == 4


def test_unknown_bundles_clicks_and_other_conversations_are_refused(app, client, label):
    response = label(client, app.ids["xiche"], "car_wash")
    assert response.status_code == 400 and "没有这个“一件事”：car_wash，请从列表中选择。" in response.get_data(as_text=True)
    assert "没有这个“一件事”：（未选择）" in label(client, app.ids["xiche"], "").get_data(as_text=True)
    response = label(client, app.ids["answer"], "shop", sender="aaaa")
    assert response.status_code == 400 and "这条是按钮点击" in response.get_data(as_text=True)
    response = label(client, app.ids["xiche"], "shop", sender="aaaa")  # a message of another conversation
    assert response.status_code == 404 and "没有找到要标注的这条消息。" in response.get_data(as_text=True)
    assert not Path(app.config["REVIEW_FILE"]).exists()


def test_labelled_text_is_masked_again(app, client, tmp_path, csrf_of):
    tracker = Tracker(tmp_path / "rasa.db")  # an old conversation, from before the channels masked
    tracker.start("hhhh", at(12, 9))
    event = tracker.user("hhhh", "我电话13812345678，想开个[洗车](店)", [("bundle_shop", 0.3)], fallback=True)
    tracker.close()
    response = client.post("/staff/conversations/hhhh/label",
                           data={"event_id": event, "label": "out_of_scope", "csrf": csrf_of(client)})
    assert response.status_code == 302
    assert review.read(Path(app.config["REVIEW_FILE"])) == \
        {"我电话138****5678，想开个［洗车］(店)": "out_of_scope"}


def test_the_review_file_keeps_one_entry_per_text_whatever_its_spelling(tmp_path, label):
    path = tmp_path / "labelled.yml"
    assert review.label(path, "想开个洗车店", "out_of_scope") == "added"
    assert review.label(path, "想开个洗车店", "out_of_scope") == "unchanged"
    assert review.label(path, " 想開個洗車店！", "bundle_shop") == "updated"  # 繁體, punctuation, spaces aside
    assert review.read(path) == {"想開個洗車店！": "bundle_shop"}


# ---- yishi review merge --------------------------------------------------------------------------------


@pytest.fixture
def nlu(tmp_path, monkeypatch):
    monkeypatch.setenv("YISHI_WEB_DB", str(tmp_path / "web.db"))  # where the merge is audited
    folder = tmp_path / "nlu_data"
    folder.mkdir()
    (folder / "out_of_scope.yml").write_text(textwrap.dedent("""\
        version: "3.1"
        nlu:
        - intent: out_of_scope
          examples: |
            - 今天天气怎么样
        """), encoding="utf-8")
    labelled = tmp_path / "labelled.yml"
    review.write(labelled, {"想开个洗车店": "out_of_scope", "宝宝上户口咋弄": "bundle_baby",
                            "这周末成都气温多少度？": "out_of_scope",  # held out (without the ？)
                            "今天天气怎么样": "bundle_shop", "今天天气怎么样！": "out_of_scope",
                            "开个宠物店": "bundle_pet_shop"}, review.REVIEW_HEADER)
    return folder, labelled


def merge(nlu, capsys) -> tuple[int, str]:
    from web_widget.cli import main

    folder, labelled = nlu
    code = main(["review", "merge", "--review", str(labelled), "--into", str(folder / "reviewed.yml")])
    return code, capsys.readouterr().out


def test_merge_adds_new_texts_and_refuses_held_out_ones(nlu, mini_db, capsys, label):
    folder, labelled = nlu
    code, out = merge(nlu, capsys)
    assert code == 0
    assert out.splitlines() == [
        "added\tbundle_baby\t宝宝上户口咋弄",
        "added\tout_of_scope\t想开个洗车店",
        "refused\tunknown intent bundle_pet_shop\t开个宠物店",
        "refused\talready out_of_scope in out_of_scope.yml\t今天天气怎么样",
        "refused\tin the held-out set\t这周末成都气温多少度？",
        f"2 added, 0 relabelled, 3 refused, 1 already there; into {folder / 'reviewed.yml'}",
    ]
    assert review.read(folder / "reviewed.yml") == {"宝宝上户口咋弄": "bundle_baby", "想开个洗车店": "out_of_scope"}
    code, out = merge(nlu, capsys)  # again: nothing new
    assert out.splitlines()[-1].startswith("0 added, 0 relabelled, 3 refused, 3 already there")
    review.label(labelled, "想开个洗车店", "bundle_shop")
    code, out = merge(nlu, capsys)
    assert "relabelled\tbundle_shop\t想开个洗车店" in out
    assert review.read(folder / "reviewed.yml") == {"宝宝上户口咋弄": "bundle_baby", "想开个洗车店": "bundle_shop"}


def test_merged_file_is_rasa_training_data(nlu, mini_db, capsys, rasa_side):
    folder, _ = nlu
    merge(nlu, capsys)
    assert rasa_side("nlu_examples", str(folder / "reviewed.yml")) == \
        [["bundle_baby", "宝宝上户口咋弄"], ["out_of_scope", "想开个洗车店"]]
    assert yaml.safe_load((folder / "reviewed.yml").read_text(encoding="utf-8"))["version"] == "3.1"


def test_merge_never_takes_a_text_of_the_real_held_out_set(tmp_path, mini_db, capsys):
    from web_widget.cli import main

    heldout = yaml.safe_load((settings.path("YISHI_EVAL_CASES")).read_text(encoding="utf-8"))
    texts = [heldout["bundles"][0]["text"], heldout["out_of_scope"][0], heldout["ambiguous"][0]["text"]]
    labelled = tmp_path / "labelled.yml"
    review.write(labelled, {texts[0]: "bundle_shop", texts[1]: "out_of_scope", texts[2]: "bundle_baby"}, "")
    main(["review", "merge", "--review", str(labelled), "--into", str(tmp_path / "reviewed.yml")])
    assert capsys.readouterr().out.count("refused\tin the held-out set") == 3
    assert review.read(tmp_path / "reviewed.yml") == {}


def test_merge_without_a_review_file(tmp_path, mini_db, capsys):
    from web_widget.cli import main

    assert main(["review", "merge", "--review", str(tmp_path / "none.yml"), "--into", str(tmp_path / "r.yml")]) == 1
    assert "nothing was labelled yet" in capsys.readouterr().err
