"""Editing and adding catalogue records in the console through the Flask test client, on a copy of the mini catalogue:
one form per kind, check()'s validation, only the changed lines written, stale forms refused, concurrent saves kept."""

from __future__ import annotations

import html as markup
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from catalogue import editing, schema
from catalogue.sources import KINDS
from web_widget import store
from web_widget.staff import record_forms


@pytest.fixture
def staff_role() -> str:
    return "内容编辑"  # edits records

PROJECT = Path(__file__).parents[3]


@pytest.fixture
def app(console_app, mini_sources, tmp_path):
    return console_app(CATALOGUE_SOURCES=str(mini_sources), CATALOGUE_STAGING_DB=str(tmp_path / "staging.db"),
                       JIEBA_DICT_DIR=str(tmp_path / "jieba"), RASA_DATA_DIR=str(tmp_path / "rasa"))


@pytest.fixture
def staff(app, logged_in):
    return logged_in(app)


def html(response) -> str:
    return response.get_data(as_text=True)


def form_of(page: str) -> dict[str, str]:
    """The fields a browser would send for the record form on a page, as they are filled in."""
    form = page[page.index('class="record-form"'):page.index("</form>", page.index('class="record-form"'))]
    data: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag).group(1)
        if kind == "checkbox" and " checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = markup.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.DOTALL):
        data[name] = markup.unescape(text)
    for name, options in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.DOTALL):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = markup.unescape(chosen.group(1)) if chosen else ""
    return data


def open_form(client, path: str) -> dict[str, str]:
    response = client.get(path)
    assert response.status_code == 200, path
    return form_of(html(response))


def lines_changed(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new) if a != b]


def test_every_kind_has_one_form_covering_every_field_of_the_schema():
    assert {form.kind for form in record_forms.FORMS.values()} == set(KINDS)
    for form in record_forms.FORMS.values():
        if not form.creates:
            continue
        assert [f.name for f in form.fields if f.name in schema.fields_of(form.kind)] == [f.name for f in form.fields]
        assert {f.name for f in form.fields} == set(schema.fields_of(form.kind)), form.name
        for field in form.fields:
            if field.widget == "rows":
                nested_name, nested = schema.NESTED[form.kind]
                assert field.name == nested_name and [s.name for s in field.rows] == list(nested)
            if field.widget == "choice":
                allowed = schema.CHOICES[schema.fields_of(form.kind)[field.name][0].split(":")[1]]
                assert [v for v, _label in field.choices] == list(allowed)


def test_every_form_renders_filled_in_with_edit_links_from_the_listings(staff):
    for form in record_forms.FORMS.values():
        record_id = {"bundles": "shop", "items": "register", "materials": "plan", "questions": "pool",
                     "departments": "fire", "channels": "web", "mechanisms": "rongque", "citations": "sc_guide",
                     "next_steps": "baby_to_shop", "topics": "papers",
                     "exclusions": "shop_rent"}[form.kind]
        page = html(staff.get(f"/staff/content/edit/{form.name}/{record_id}"))
        assert f"编辑{form.title}" in page and "style=" not in page and "<script" not in page, form.name
        for field in form.fields:
            assert f"{field.label}</" in page, (form.name, field.name)
        if form.creates:
            new = staff.get(f"/staff/content/new/{form.name}")
            assert new.status_code == 200 and f"新增{form.title}" in html(new)
            assert f'href="/staff/content/new/{form.name}"' in html(staff.get(f"/staff/content/records?kind={form.kind}"))
    shop = open_form(staff, "/staff/content/edit/bundles/shop")
    assert shop["name"] == "我要开小店" and shop["family"] == "企业开办" and shop["aliases"] == "开小店\n开个铺子"
    assert shop["items-1-item"] == "fire_check" and shop["items-1-when"] == "size=large" and shop["checked"] == "2026-02-01"
    assert shop["items-rows"] == str(3 + record_forms.ROWS_SHOWN_EMPTY) and shop["items-3-item"] == ""
    pool = open_form(staff, "/staff/content/edit/questions/pool")
    assert (pool["options-0-value"], pool["options-0-label"], pool["ask_when"]) == ("yes", "有", "size=large")
    listing = html(staff.get("/staff/content/bundle/shop"))
    assert 'href="/staff/content/edit/items/register"' in listing and 'href="/staff/content/edit/aliases/shop"' in listing
    assert staff.get("/staff/content/edit/widgets/shop").status_code == 404
    assert staff.get("/staff/content/edit/items/nope").status_code == 404
    assert staff.get("/staff/content/new/aliases").status_code == 404


def test_saving_one_field_changes_only_its_line_audits_it_and_leads_to_the_rebuild(staff, mini_sources, app):
    registry = mini_sources / "registry.yaml"
    before = registry.read_text(encoding="utf-8")
    data = open_form(staff, "/staff/content/edit/items/fire_check")
    data["working_days"] = "8"
    response = staff.post("/staff/content/edit/items/fire_check", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/content/edit/items/fire_check?saved=1"
    assert lines_changed(before, registry.read_text(encoding="utf-8")) == [("    working_days: 10", "    working_days: 8")]
    page = html(staff.get(response.headers["Location"]))
    assert "已保存到 registry.yaml 第 61 行，改了：承诺时限（工作日）。群众看到的清单还没有变" in page
    assert 'action="/staff/content/rebuild"' in page and "重新生成并查看变化</button>" in page
    assert staff.get("/api/bundles/shop").json["after"]["working_days"] == 20  # 3 + 10 + 7: nothing published yet
    with app.app_context():
        audited = store.audit_log(action="edit")
    assert [(a["username"], a["target"]) for a in audited] == [("wang.li", "items:fire_check")]
    assert json.loads(audited[0]["before"]) == {"working_days": 10}
    assert json.loads(audited[0]["after"]) == {"working_days": 8}
    assert "registry.yaml:61 修改事项：承诺时限（工作日）" in audited[0]["detail"]
    overview = html(staff.get("/staff/content"))
    assert "修改记录" in overview and "源文件里有 1 条记录和正在服务的目录不同" in overview
    rebuilt = html(staff.post("/staff/content/rebuild", data={"csrf": data["csrf"]}))
    assert "一次办工作日：20 → 18" in rebuilt
    unchanged = staff.post("/staff/content/edit/items/fire_check", data=open_form(staff, "/staff/content/edit/items/fire_check"))
    assert "没有改动，源文件没有变。" in html(staff.get(unchanged.headers["Location"]))


def test_rows_aliases_and_conditions_are_edited_through_the_form(staff, mini_sources, mini_records):
    data = open_form(staff, "/staff/content/edit/items/register")
    data |= {"materials-1-material": "", "materials-1-originals": "", "materials-1-copies": "",  # id_card dropped
             "materials-4-material": "plan", "materials-4-copies": "2", "materials-4-when": "size=large|small"}
    assert staff.post("/staff/content/edit/items/register", data=data).status_code == 302
    text = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert ("      - {material: reg_form}\n      - {material: lease, copies: 1}\n      - {material: letter, when: {agent: \"yes\"}}\n"
            "      - {material: plan, copies: 2, when: {size: [large, small]}}\n") in text
    aliases = open_form(staff, "/staff/content/edit/aliases/shop")
    assert set(aliases) == {"csrf", "_file", "_version", "_file_hash", "aliases"}
    aliases["aliases"] = "开小店\r\n开个铺子\r\n开个小卖部\r\n"
    assert staff.post("/staff/content/edit/aliases/shop", data=aliases).status_code == 302
    assert "    aliases: [开小店, 开个铺子, 开个小卖部]\n" in (mini_sources / "registry.yaml").read_text(encoding="utf-8")


def test_check_s_errors_are_shown_on_the_form_and_nothing_is_written(staff, mini_sources):
    registry = mini_sources / "registry.yaml"
    before = registry.read_bytes()
    data = open_form(staff, "/staff/content/edit/bundles/baby")
    data |= {"aliases": "娃儿登记\n开小店", "lead_department": "nobody", "region": "四川"}
    response = staff.post("/staff/content/edit/bundles/baby", data=data)
    page = html(response)
    assert response.status_code == 422 and registry.read_bytes() == before
    assert "没有保存：这样改之后源文件有 3 处错误" in page
    assert re.search(r"<td>registry.yaml:128</td><td>bundle &#39;baby&#39;</td>\s*<td>牵头部门</td>"
                     r"<td>找不到编号为“nobody”的部门", page)
    assert "依据地区是“四川”时要写依据文件" in page and "说法“开小店”已经指向一件事“shop”" in page
    assert "<td>别名[1]</td>" in page
    assert re.search(r'name="lead_department" value="nobody"', page)  # what was typed stays in the form
    assert '<textarea id="f-aliases" name="aliases" rows="6">娃儿登记\n开小店</textarea>' in page
    bad = open_form(staff, "/staff/content/edit/items/register") | {"working_days": "三", "materials-0-when": "agent"}
    response = staff.post("/staff/content/edit/items/register", data=bad)
    assert response.status_code == 400 and registry.read_bytes() == before
    assert "要填不小于 0 的整数" in html(response) and "第 1 行什么情形下要交：“agent”看不懂" in html(response)


def test_a_stale_form_is_refused_with_what_changed_and_a_second_save_is_deliberate(app, logged_in, mini_sources):
    li, zhang = logged_in(app), logged_in(app)
    first, second = open_form(li, "/staff/content/edit/materials/plan"), open_form(zhang, "/staff/content/edit/materials/plan")
    assert li.post("/staff/content/edit/materials/plan", data=first | {"name": "平面布置图"}).status_code == 302
    refused = zhang.post("/staff/content/edit/materials/plan", data=second | {"note": "标明面积"})
    page = html(refused)
    assert refused.status_code == 409 and "别人已经改过这条记录" in page and "这次没有保存" in page
    assert "<tr><td>名称</td><td>平面布置图</td><td>平面图</td></tr>" in page
    text = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert "name: 平面布置图" in text and "标明面积" not in text
    again = form_of(page)
    assert again["note"] == "标明面积" and again["_version"] != second["_version"]
    assert zhang.post("/staff/content/edit/materials/plan", data=again).status_code == 302  # seen, then chosen
    text = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert "name: 平面图, kind: drawing, issuer: applicant, note: 标明面积" in text


def test_marking_checked_after_a_form_was_opened_makes_it_stale(staff, csrf_of):
    data = open_form(staff, "/staff/content/edit/items/register")
    staff.post("/staff/content/check", data={"csrf": csrf_of(staff), "kind": "items", "id": "register"})
    assert staff.post("/staff/content/edit/items/register", data=data | {"fee": "不收费"}).status_code == 409


def test_a_new_record_is_added_at_the_end_of_its_list_in_the_chosen_file(staff, mini_sources, app):
    page = html(staff.get("/staff/content/new/mechanisms"))
    assert '<option value="registry.yaml" selected>' in page
    data = form_of(page) | {"id": "one_window", "name": "一窗受理", "description": "一个窗口收件。", "source": "test",
                            "region": "推断"}
    response = staff.post("/staff/content/new/mechanisms", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/content/edit/mechanisms/one_window?saved=1"
    assert ("  - {id: one_window, name: 一窗受理, description: 一个窗口收件。, source: test, region: 推断, checked: null}\n"
            "questions:") in (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert "已新增改革机制“one_window”，写在 registry.yaml 第 15 行" in html(staff.get(response.headers["Location"]))
    twice = staff.post("/staff/content/new/mechanisms", data=data)
    assert twice.status_code == 422 and "编号“one_window”已经有了" in html(twice)
    question = form_of(html(staff.get("/staff/content/new/questions"))) | {
        "key": "has_pets", "text": "有宠物吗？", "options-0-value": "yes", "options-0-label": "有", "source": "test", "region": "推断"}
    refused = staff.post("/staff/content/new/questions", data=question)
    assert refused.status_code == 422 and "至少要两个选项" in html(refused)
    assert staff.post("/staff/content/new/questions", data=question | {"options-1-value": "no", "options-1-label": "没有"}
                      ).status_code == 302
    assert "    options:\n      - {value: \"yes\", label: 有}\n      - {value: \"no\", label: 没有}\n" in \
        (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    with app.app_context():
        assert [a["target"] for a in store.audit_log(action="edit")] == ["questions:has_pets", "mechanisms:one_window"]


def test_anonymous_and_forged_posts_change_nothing(app, staff, mini_sources):
    before = (mini_sources / "registry.yaml").read_bytes()
    data = open_form(staff, "/staff/content/edit/materials/plan") | {"name": "改"}
    anonymous = app.test_client()
    assert anonymous.get("/staff/content/edit/materials/plan").status_code == 302
    assert anonymous.post("/staff/content/edit/materials/plan", data=data).status_code == 302
    assert staff.post("/staff/content/edit/materials/plan", data=data | {"csrf": "forged"}).status_code == 400
    assert staff.post("/staff/content/new/materials", data={"id": "x"}).status_code == 400
    assert (mini_sources / "registry.yaml").read_bytes() == before


MATERIALS = ["id_card", "licence", "lease", "plan", "letter", "reg_form", "fire_form", "one_form", "water_report"]


def test_two_workers_saving_edits_of_the_same_file_at_once_lose_neither(app, logged_in, mini_sources):
    """Threads, as gunicorn's threaded workers: every form opened before any save, then all saved at once."""
    clients = [logged_in(app) for _ in MATERIALS]
    forms = [open_form(c, f"/staff/content/edit/materials/{m}") for c, m in zip(clients, MATERIALS)]
    barrier, statuses = threading.Barrier(len(MATERIALS)), {}

    def save(client, material, data):
        barrier.wait()
        statuses[material] = client.post(f"/staff/content/edit/materials/{material}", data=data | {"note": f"注意{material}"}
                                          ).status_code

    workers = [threading.Thread(target=save, args=args) for args in zip(clients, MATERIALS, forms)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert statuses == {m: 302 for m in MATERIALS}
    text = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert [m for m in MATERIALS if f"note: 注意{m}" not in text] == []


def test_two_processes_saving_and_marking_at_once_lose_nothing(app, logged_in, mini_sources, tmp_path, csrf_of):
    """A second process (another gunicorn worker) edits and marks records of the same file while this one does."""
    mine, theirs = MATERIALS[:4], MATERIALS[4:]
    client = logged_in(app)
    forms = {m: open_form(client, f"/staff/content/edit/materials/{m}") for m in mine}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.web_widget.staff.edit_worker", str(mini_sources), app.config["WEB_DB"],
         app.config["CATALOGUE_DB"], str(tmp_path), *theirs],
        cwd=PROJECT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "ready"  # logged in and its forms opened, before any save
        worker.stdin.write("go\n")
        worker.stdin.flush()
        for m in mine:
            assert client.post(f"/staff/content/edit/materials/{m}", data=forms[m] | {"note": f"注意{m}"}).status_code == 302
            client.post("/staff/content/check", data={"csrf": csrf_of(client), "kind": "departments", "id": "market"})
        out, err = worker.communicate(timeout=120)
    finally:
        worker.kill()
    assert worker.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1]) == {m: 302 for m in theirs}
    text = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert [m for m in MATERIALS if f"note: 注意{m}" not in text] == []
    for department in ("market", "health"):  # marked by this process and by the other
        assert re.search(rf"\{{id: {department}, .*checked: \d{{4}}-\d\d-\d\d\}}", text), department


def test_the_sources_lock_is_what_serialises_saves(staff, mini_sources):
    data = open_form(staff, "/staff/content/edit/materials/plan") | {"name": "平面布置图"}
    done = []
    saving = threading.Thread(target=lambda: done.append(staff.post("/staff/content/edit/materials/plan", data=data).status_code))
    with editing.sources_lock(mini_sources):
        saving.start()
        saving.join(0.5)
        assert done == [] and "平面布置图" not in (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    saving.join(30)
    assert done == [302]
