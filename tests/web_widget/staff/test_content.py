"""The console's content section through the Flask test client, on a temporary copy of the mini catalogue."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from catalogue.sources import KINDS

NEW_MATERIAL = "  - {id: tax_form, name: 税务登记表, kind: form, issuer: applicant, source: test, region: 推断, checked: null}\n"


@pytest.fixture
def staff_role() -> str:
    return "内容编辑"  # marks, rebuilds and publishes


@pytest.fixture
def app(console_app, mini_sources, tmp_path):
    return console_app(CATALOGUE_SOURCES=str(mini_sources), CATALOGUE_STAGING_DB=str(tmp_path / "staging.db"),
                       JIEBA_DICT_DIR=str(tmp_path / "jieba"), RASA_DATA_DIR=str(tmp_path / "rasa"))


@pytest.fixture
def staff(app, logged_in):
    return logged_in(app)


def html(response) -> str:
    return response.get_data(as_text=True)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def add_tax_form(sources: Path) -> None:
    """A new material, needed by the item of the baby bundle only."""
    registry = sources / "registry.yaml"
    edit(registry, "materials:\n  - {id: id_card,", "materials:\n" + NEW_MATERIAL + "  - {id: id_card,")
    edit(registry, "      - {material: id_card}\n    source: test\n    region: 推断\n    checked: null\n",
         "      - {material: id_card}\n      - {material: tax_form}\n    source: test\n    region: 推断\n    checked: null\n")


def test_every_content_page_renders_for_staff_without_inline_scripts_or_styles(staff):
    pages = ["/staff/content", "/staff/content/bundle/shop"] + [f"/staff/content/records?kind={k}" for k in KINDS]
    for page in pages:
        response = staff.get(page)
        text = html(response)
        assert response.status_code == 200, page
        assert 'aria-current="page">内容</a>' in text and "wang.li" in text, page
        assert "style=" not in text and "<script" not in text, page
    overview = html(staff.get("/staff/content"))
    assert "我要开小店" in overview and "宝宝登记一件事" in overview and "registry.yaml:" in overview
    assert "校验通过" in overview and "源文件和正在服务的目录一致。" in overview
    shop = html(staff.get("/staff/content/bundle/shop"))
    for name in ("设立登记", "消防检查", "卫生许可", "租赁合同", "水质报告", "面积多大？"):
        assert name in shop
    assert shop.count("标记今天已核对</button>") == 1 + 3 + 9 + 3  # the bundle, items, materials (forms too), questions
    assert staff.get("/staff/content/bundle/nope").status_code == 404
    assert staff.get("/staff/content/records?kind=widgets").status_code == 404


def test_anonymous_visitors_are_sent_to_login_and_forms_need_the_csrf_token(app, staff, mini_sources):
    anonymous = app.test_client()
    for page in ("/staff/content", "/staff/content/bundle/shop", "/staff/content/records"):
        response = anonymous.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login"), page
    before = (mini_sources / "registry.yaml").read_bytes()
    assert anonymous.post("/staff/content/check", data={"kind": "items", "id": "register"}).status_code == 302
    for action in ("check", "rebuild", "publish"):
        assert staff.post(f"/staff/content/{action}", data={"kind": "items", "id": "register"}).status_code == 400
        assert staff.post(f"/staff/content/{action}", data={"csrf": "forged", "kind": "items", "id": "register"}
                          ).status_code == 400
    assert (mini_sources / "registry.yaml").read_bytes() == before


def listed(response) -> str:
    """The filtered list of bundles (the page's last table)."""
    return html(response).split("<h2>一件事</h2>")[1]


def test_counts_and_filters_of_never_and_long_ago_checked(staff):
    overview = html(staff.get("/staff/content"))
    counts = re.search(r'kind=materials">材料</a></td>\s*<td class="num">(\d+)</td>\s*<td class="num"><a [^>]*>(\d+)</a>',
                       overview)
    assert counts.groups() == ("9", "9")
    never = listed(staff.get("/staff/content?checked=never"))
    assert "宝宝登记一件事" in never and "我要开小店" not in never  # shop was checked 2026-02-01
    assert "我要开小店" in listed(staff.get("/staff/content?checked=before&before=2026-03-01"))
    assert "我要开小店" not in listed(staff.get("/staff/content?checked=before&before=2026-01-31"))
    assert "我要开小店" not in listed(staff.get("/staff/content?q=宝宝"))
    assert "不是日期" in html(staff.get("/staff/content?checked=before&before=soon"))
    departments = html(staff.get("/staff/content/records?kind=departments&checked=never"))
    assert "市场监管局" in departments and "消防救援大队" not in departments


def test_mark_checked_round_trip(staff, mini_sources, csrf_of):
    today = dt.date.today().isoformat()
    back = "/staff/content/records?kind=materials&q=plan"
    response = staff.post("/staff/content/check", data={"csrf": csrf_of(staff), "kind": "materials", "id": "plan",
                                                         "next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    page = html(staff.get(back))
    assert f"已在 registry.yaml 第 39 行把“plan”记为今天（{today}）核对" in page
    assert re.search(rf"平面图.*?{today}", page, re.DOTALL)
    line = (mini_sources / "registry.yaml").read_text(encoding="utf-8").splitlines()[38]
    assert line == f"  - {{id: plan, name: 平面图, kind: drawing, issuer: applicant, source: test, region: 推断, checked: {today}}}"
    overview = html(staff.get("/staff/content"))
    assert "标记已核对" in overview and f"材料 plan：registry.yaml:39 null → {today}" in overview
    assert "源文件里有 1 条记录和正在服务的目录不同（其中 1 条只改了来源或核对日期）" in overview


def test_mark_checked_of_an_unknown_record_says_so_and_stays_on_the_console(staff, csrf_of):
    response = staff.post("/staff/content/check", data={"csrf": csrf_of(staff), "kind": "items", "id": "nope",
                                                         "next": "//evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/content"
    assert "没能标记已核对：no item &#39;nope&#39;" in html(staff.get("/staff/content"))


def test_a_broken_source_shows_its_errors_and_the_live_catalogue_keeps_serving(staff, mini_sources, mini_db, csrf_of):
    live_bytes, before = mini_db.read_bytes(), staff.get("/api/bundles/shop").json
    edit(mini_sources / "registry.yaml", "working_days: 10\n", "working_days: ten\n")
    page = html(staff.post("/staff/content/rebuild", data={"csrf": csrf_of(staff)}))
    assert "源文件有 3 处错误，没有生成新目录" in page and "正在服务的目录保持不变" in page
    assert "<td>registry.yaml:61</td><td>item &#39;fire_check&#39;</td><td>working_days</td>" in page
    assert "发布</button>" not in page
    assert staff.get("/api/bundles/shop").json == before and mini_db.read_bytes() == live_bytes
    overview = html(staff.get("/staff/content"))
    assert "有 3 处错误" in overview and "下面显示的是正在服务的目录" in overview and "我要开小店" in overview
    refused = staff.post("/staff/content/publish", data={"csrf": csrf_of(staff), "digest": "x"})
    assert refused.status_code == 409 and "没有待发布的新目录" in html(refused)


def test_rebuild_shows_the_change_and_publish_makes_it_live(staff, mini_sources, tmp_path, csrf_of):
    add_tax_form(mini_sources)
    edit(mini_sources / "registry.yaml", "working_days: 10\n", "working_days: 5\n")
    assert "税务登记表" not in str(staff.get("/api/bundles/baby").json)
    page = html(staff.post("/staff/content/rebuild", data={"csrf": csrf_of(staff)}))
    assert "2 件事的清单会变化，0 件不变" in page and "还没有发布" in page
    baby = page[page.index("宝宝登记一件事"):]
    assert re.match(r"宝宝登记一件事.*?新增材料</span>税务登记表", baby, re.DOTALL)
    assert "一次办工作日：20 → 15" in page and "make model" in page
    golden = page[page.index("会变化的回答路径"):]
    assert re.search(r"会变化的回答路径（\d+ 条）", golden)
    assert re.search(r"<td>baby</td><td>无回答</td><td>文字有变化</td>", golden)
    assert "税务登记表" not in str(staff.get("/api/bundles/baby").json)  # not before publishing
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)
    response = staff.post("/staff/content/publish", data={"csrf": csrf_of(staff), "digest": digest})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/content"
    assert "税务登记表" in [m["name"] for m in staff.get("/api/bundles/baby").json["materials"]]
    assert staff.get("/api/bundles/shop").json["after"]["working_days"] == 15
    assert "税务登记表" in html(staff.get("/checklist/baby"))
    assert "税务登记表" in (tmp_path / "jieba" / "yishi.txt").read_text(encoding="utf-8")
    assert (tmp_path / "rasa" / "data" / "bundles.yml").exists() and not (tmp_path / "staging.db").exists()
    overview = html(staff.get("/staff/content"))
    assert "已发布：共 2 件事，2 件的清单有变化" in overview and "发布目录" in overview
    assert "清单有变化：我要开小店、宝宝登记一件事" in overview


def test_publish_is_refused_when_the_sources_changed_after_the_rebuild(staff, mini_sources, mini_db, csrf_of):
    add_tax_form(mini_sources)
    page = html(staff.post("/staff/content/rebuild", data={"csrf": csrf_of(staff)}))
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)
    live_bytes = mini_db.read_bytes()
    wrong = staff.post("/staff/content/publish", data={"csrf": csrf_of(staff), "digest": "0" * 64})
    assert wrong.status_code == 409 and "这次没有发布" in html(wrong)
    edit(mini_sources / "registry.yaml", "name: 平面图", "name: 平面布置图")
    stale = staff.post("/staff/content/publish", data={"csrf": csrf_of(staff), "digest": digest})
    assert stale.status_code == 409 and "源文件又改过了" in html(stale)
    assert mini_db.read_bytes() == live_bytes
    assert "税务登记表" not in str(staff.get("/api/bundles/baby").json)


def test_a_rebuild_with_nothing_changed_offers_nothing_to_publish(staff, csrf_of):
    page = html(staff.post("/staff/content/rebuild", data={"csrf": csrf_of(staff)}))
    assert "源文件和正在服务的目录完全一致，不需要发布。" in page
    assert "发布</button>" not in page and 'name="digest"' not in page


def test_regions_and_citations_per_record_and_the_bundles_resting_on_other_provinces(staff):
    overview = html(staff.get("/staff/content"))
    elsewhere = overview.split("主要依据外省指南或推断的“一件事”")[1].split("<h2>一件事</h2>")[0]
    assert "宝宝登记一件事" in elsewhere and "83%" in elsewhere  # 5 of its 6 records are 推断, the web channel 四川
    shop = html(staff.get("/staff/content/bundle/shop"))
    assert "《四川省测试一件事工作方案》 四川省测试厅 川测〔2024〕1号 2024-04-15" in shop and ">四川</span>" in shop
    citations = html(staff.get("/staff/content/records?kind=citations"))
    assert "四川省测试一件事工作方案" in citations and "湖南测试指南" in citations
