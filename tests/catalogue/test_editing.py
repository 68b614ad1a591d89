"""Editing one record of the sources in place: only its changed lines move, validation as `check`, the lock."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from catalogue import editing, publish
from catalogue.build import check

PROJECT = Path(__file__).parent.parent.parent
GYM = "bundles/industry_a/gym.yaml"


def changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    """The (old, new) pairs of lines that differ; both texts must have the same number of lines."""
    old, new = before.decode().splitlines(keepends=True), after.decode().splitlines(keepends=True)
    assert len(old) == len(new), "lines were added or removed"
    return [(a, b) for a, b in zip(old, new) if a != b]


def save(root: Path, kind: str, record_id: str, values: dict):
    opened = editing.open_record(root, kind, record_id)
    return editing.save(root, kind, record_id, opened.file, opened.version, values)


@pytest.fixture
def real_sources(tmp_path: Path) -> Path:
    target = tmp_path / "real"
    shutil.copytree(PROJECT / "catalogue" / "sources", target)
    return target


def test_every_source_file_comes_back_byte_for_byte_through_the_round_trip():
    for path in sorted((PROJECT / "catalogue" / "sources").rglob("*.yaml")):
        root = PROJECT / "catalogue" / "sources"
        assert editing._load(root, str(path.relative_to(root))).dump() == path.read_bytes(), path


def test_one_field_of_a_flow_record_changes_that_value_and_nothing_else(mini_sources):
    path = mini_sources / "registry.yaml"
    before = path.read_bytes()
    saved = save(mini_sources, "materials", "plan", dict(name="平面布置图", kind="drawing", shared=False, note=None))
    assert saved.changes == {"name": ("平面图", "平面布置图")} and saved.line == 39
    assert changed_lines(before, path.read_bytes()) == [
        ("  - {id: plan, name: 平面图, kind: drawing, issuer: applicant, source: test, region: 推断, checked: null}\n",
         "  - {id: plan, name: 平面布置图, kind: drawing, issuer: applicant, source: test, region: 推断, checked: null}\n")]


def test_a_real_file_keeps_its_comments_quotes_and_other_records(real_sources):
    path = real_sources / GYM
    before = path.read_bytes()
    save(real_sources, "bundles", "gym", dict(promise_days=15))
    assert changed_lines(before, path.read_bytes()) == [
        ("    promise_days: 14          # the source article: 改革后……办理时限14个工作日\n",
         "    promise_days: 15          # the source article: 改革后……办理时限14个工作日\n")]


def test_an_edit_that_breaks_a_reference_elsewhere_is_refused_with_check_s_errors(real_sources):
    path = real_sources / GYM
    before = path.read_bytes()
    opened = editing.open_record(real_sources, "questions", "gym_facilities")
    options = opened.values["options"][1:] + [{"value": "pool", "label": "有游泳池"}]  # swimming renamed pool
    with pytest.raises(editing.Invalid) as refused:
        editing.save(real_sources, "questions", "gym_facilities", opened.file, opened.version, {"options": options})
    assert [(e.file, e.record, e.field) for e in refused.value.errors] == [
        (GYM, "bundle 'gym'", "items[1].when"), (GYM, "bundle 'gym'", "items[2].when")]
    assert all("question 'gym_facilities' has no option 'swimming'" in e.message for e in refused.value.errors)
    assert path.read_bytes() == before


def test_texts_yaml_1_1_would_misread_are_quoted_and_read_back_as_texts(mini_sources):
    opened = editing.open_record(mini_sources, "questions", "size")
    options = [{"value": "small", "label": "2024-01-01"}, {"value": "large", "label": "123"}, {"value": "off", "label": "on"}]
    editing.save(mini_sources, "questions", "size", opened.file, opened.version, {"options": options})
    text = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert 'options: [{value: small, label: "2024-01-01"}, {value: large, label: "123"}, {value: "off", label: "on"}]' in text
    doc = yaml.safe_load(text)
    assert next(q for q in doc["questions"] if q["key"] == "size")["options"] == options


def test_sub_records_are_matched_by_their_first_field_and_untouched_rows_keep_their_text(mini_sources):
    path = mini_sources / "registry.yaml"
    opened = editing.open_record(mini_sources, "items", "register")
    rows = opened.values["materials"]
    assert [r["material"] for r in rows] == ["reg_form", "id_card", "lease", "letter"]
    new_rows = [rows[0], rows[2] | {"copies": 2}, rows[3], {"material": "plan", "originals": None, "when": {"size": ["large"]}}]
    before = path.read_text(encoding="utf-8")
    saved = editing.save(mini_sources, "items", "register", opened.file, opened.version, {"materials": new_rows})
    after = path.read_text(encoding="utf-8")
    assert before.replace("      - {material: id_card}\n      - {material: lease, copies: 1}\n",
                          "      - {material: lease, copies: 2}\n") \
                 .replace("      - {material: letter, when: {agent: \"yes\"}}\n",
                          "      - {material: letter, when: {agent: \"yes\"}}\n      - {material: plan, when: {size: large}}\n") \
        == after
    assert saved.changes["materials"][1][-1] == {"material": "plan", "when": {"size": "large"}}
    assert check(mini_sources).ok


def test_a_missing_field_goes_after_its_predecessor_and_clearing_it_takes_the_line_away(mini_sources):
    path = mini_sources / "registry.yaml"
    before = path.read_text(encoding="utf-8")
    save(mini_sources, "items", "fire_check", dict(legal_days=20, region="四川", cites=["sc_guide"]))
    after = path.read_text(encoding="utf-8")
    expected = before.replace("    working_days: 10\n    steps: 4\n", "    working_days: 10\n    legal_days: 20\n    steps: 4\n", 1)
    expected = expected.replace("      - {material: plan}\n    source: test\n    region: 推断\n",
                                "      - {material: plan}\n    source: test\n    region: 四川\n    cites: [sc_guide]\n", 1)
    assert after == expected
    save(mini_sources, "items", "fire_check", dict(legal_days=None, region="推断", cites=[]))
    assert path.read_text(encoding="utf-8") == before


def test_a_new_record_goes_at_the_end_of_its_list_in_the_style_of_the_one_before(real_sources, mini_sources):
    path = real_sources / GYM
    before = path.read_text(encoding="utf-8")
    saved = editing.create(real_sources, "questions", GYM, {
        "key": "gym_pool_size", "text": "泳池多大？", "options": [{"value": "yes", "label": "大"}, {"value": "no", "label": "小"}],
        "ask_when": {}, "source": "test", "region": "推断", "cites": [], "checked": None})
    assert saved.created and saved.line == 23
    block = ("  - key: gym_pool_size\n    text: 泳池多大？\n    options:\n      - {value: \"yes\", label: 大}\n"
             "      - {value: \"no\", label: 小}\n    source: test\n    region: 推断\n    checked: null\n")
    assert path.read_text(encoding="utf-8") == before.replace("    checked: null\n\nitems:",
                                                              "    checked: null\n" + block + "\nitems:")
    editing.create(mini_sources, "mechanisms", "registry.yaml", {
        "id": "one_window", "name": "一窗受理", "description": "一个窗口收件。", "source": "test", "region": "推断", "checked": None})
    assert ("  - {id: rongque, name: 容缺受理, description: 先受理后补齐。, source: test, region: 推断, checked: null}\n"
            "  - {id: one_window, name: 一窗受理, description: 一个窗口收件。, source: test, region: 推断, checked: null}\nquestions:"
            ) in (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    with pytest.raises(editing.Invalid, match="duplicate id 'one_window'"):
        editing.create(mini_sources, "mechanisms", "registry.yaml", {"id": "one_window", "name": "又一个", "description": "x",
                                                                     "source": "test", "region": "推断", "checked": None})


def test_a_stale_version_is_refused_and_other_records_edited_meanwhile_are_merged(mini_sources):
    path = mini_sources / "registry.yaml"
    plan = editing.open_record(mini_sources, "materials", "plan")
    lease = editing.open_record(mini_sources, "materials", "lease")
    editing.save(mini_sources, "materials", "plan", plan.file, plan.version, {"name": "平面布置图"}, plan.file_hash)
    merged = editing.save(mini_sources, "materials", "lease", lease.file, lease.version, {"name": "租房合同"}, lease.file_hash)
    assert merged.merged
    with pytest.raises(editing.Conflict) as stale:
        editing.save(mini_sources, "materials", "plan", plan.file, plan.version, {"name": "平面示意图"}, plan.file_hash)
    assert stale.value.current["name"] == "平面布置图"
    text = path.read_text(encoding="utf-8")
    assert "name: 平面布置图" in text and "name: 租房合同" in text and "平面示意图" not in text


def test_a_file_whose_layout_would_change_or_with_crlf_line_endings(mini_sources, write_source):
    odd = write_source(mini_sources, "odd.yaml", """\
        mechanisms:
        - id: odd
          name: 不缩进的列表
          description: 列表项顶格写。
          source: test
          region: 推断
          checked: null
        """)
    before = odd.read_bytes()
    with pytest.raises(editing.Unkeepable, match="odd.yaml: its layout would not survive"):
        save(mini_sources, "mechanisms", "odd", dict(name="改名"))
    assert odd.read_bytes() == before
    odd.unlink()
    registry = mini_sources / "registry.yaml"
    registry.write_bytes(registry.read_bytes().replace(b"\n", b"\r\n"))
    save(mini_sources, "departments", "fire", dict(short="消防队"))
    data = registry.read_bytes()
    assert b"short: \xe6\xb6\x88\xe9\x98\xb2\xe9\x98\x9f," in data and data.count(b"\n") == data.count(b"\r\n")


def test_saves_and_marks_wait_for_the_sources_lock(mini_sources):
    done: list[str] = []
    plan = editing.open_record(mini_sources, "materials", "plan")
    workers = [
        threading.Thread(target=lambda: done.append(editing.save(mini_sources, "materials", "plan", plan.file,
                                                                 plan.version, {"name": "平面布置图"}).record_id)),
        threading.Thread(target=lambda: done.append(publish.mark_checked(mini_sources, "items", "register",
                                                                         publish.dt.date(2026, 5, 1)).file)),
    ]
    with editing.sources_lock(mini_sources):
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        assert done == []  # both wait for the lock
    for worker in workers:
        worker.join(10)
    assert sorted(done) == ["plan", "registry.yaml"]
    text = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert "name: 平面布置图" in text and "checked: 2026-05-01" in text
    with editing.sources_lock(mini_sources), pytest.raises(editing.Busy), editing.sources_lock(mini_sources, 0.2):
        pass
