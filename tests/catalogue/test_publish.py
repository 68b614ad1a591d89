"""Staging, publishing and marking records checked, on real files in a temporary folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant import training
from catalogue import build, db, publish
from catalogue.live import LiveCatalogue

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"
TODAY = dt.date(2026, 3, 14)


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of old in path."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def live(mini_sources: Path, tmp_path: Path) -> Path:
    path = tmp_path / "live" / "catalogue.db"
    assert build.build(mini_sources, path).ok
    return path


def records_of(path: Path) -> db.Records:
    database = db.connect(path)
    try:
        return db.load(database)
    finally:
        database.close()


# --- stage ---------------------------------------------------------------------------------------

def test_stage_builds_into_the_staging_file_only(mini_sources, live, tmp_path):
    before = live.read_bytes()
    staged = publish.stage(mini_sources, tmp_path / "staging.db")
    assert staged.ok and staged.errors == []
    assert list(staged.records["bundles"]) == ["shop", "baby"]
    assert publish.staged_hash(tmp_path / "staging.db") == staged.sources_hash == publish.sources_hash(mini_sources)
    assert records_of(tmp_path / "staging.db") == records_of(live)
    assert live.read_bytes() == before


def test_a_yaml_syntax_error_is_located_and_the_live_catalogue_is_untouched(mini_sources, live, tmp_path):
    before = live.read_bytes()
    (mini_sources / "extra.yaml").write_text("items:\n  - id: broken\n    name: [unclosed\n", encoding="utf-8")
    staged = publish.stage(mini_sources, tmp_path / "staging.db")
    assert not staged.ok and staged.records is None
    assert [(e.file, e.line) for e in staged.errors] == [("extra.yaml", 4)]
    assert "YAML syntax error" in staged.errors[0].message
    assert live.read_bytes() == before
    assert not (tmp_path / "staging.db").exists()


def test_a_schema_error_names_file_line_record_and_field_and_drops_an_older_stage(mini_sources, live, tmp_path):
    staging = tmp_path / "staging.db"
    assert publish.stage(mini_sources, staging).ok
    before = live.read_bytes()
    edit(mini_sources / "registry.yaml", "working_days: 10\n", "working_days: ten\n")
    staged = publish.stage(mini_sources, staging)
    first = staged.errors[0]
    assert (first.file, first.line, first.record, first.field) == ("registry.yaml", 61, "item 'fire_check'", "working_days")
    assert str(first) == "registry.yaml:61: item 'fire_check': field 'working_days': must be a whole number ≥ 0, got 'ten'"
    assert live.read_bytes() == before
    assert not staging.exists()  # the old preview no longer matches the sources
    with pytest.raises(publish.NothingStaged):
        publish.publish(staging, live, mini_sources)


# --- publish -------------------------------------------------------------------------------------

def test_publish_replaces_the_live_file_and_a_running_live_catalogue_sees_it(mini_sources, live, tmp_path):
    serving = LiveCatalogue(live)
    assert serving.records()["items"]["fire_check"]["working_days"] == 10
    edit(mini_sources / "registry.yaml", "working_days: 10\n", "working_days: 5\n")
    staging = tmp_path / "staging.db"
    staged = publish.stage(mini_sources, staging)
    assert serving.records()["items"]["fire_check"]["working_days"] == 10  # staging changes nothing yet
    result = publish.publish(staging, live, mini_sources, expected_hash=staged.sources_hash)
    assert result.bundles == 2 and result.written == [live]
    assert serving.records()["items"]["fire_check"]["working_days"] == 5
    assert serving.meta()["sources_hash"] == staged.sources_hash
    assert not staging.exists()
    with pytest.raises(publish.NothingStaged):
        publish.publish(staging, live, mini_sources)


def test_publish_writes_the_same_dictionary_and_rasa_data_as_a_build(mini_sources, live, tmp_path):
    staging = tmp_path / "staging.db"
    publish.stage(mini_sources, staging)
    result = publish.publish(staging, live, mini_sources, tmp_path / "jieba", training.writer(tmp_path / "rasa", DOMAIN))
    reference = build.build(mini_sources, tmp_path / "ref.db", tmp_path / "ref_jieba",
                            training.writer(tmp_path / "ref_rasa", DOMAIN))
    names = sorted(str(p.relative_to(tmp_path)) for p in result.written[1:])
    assert names == ["jieba/yishi.txt", "rasa/data/bundle_rules.yml", "rasa/data/bundles.yml",
                     "rasa/domain/bundles.yml", "rasa/domain/domain.yml"]
    for ours, theirs in zip(result.written[1:], reference.written[1:], strict=True):
        assert ours.read_bytes() == theirs.read_bytes(), ours


def test_publish_refuses_a_stage_older_than_the_sources_or_not_the_one_reviewed(mini_sources, live, tmp_path):
    staging = tmp_path / "staging.db"
    staged = publish.stage(mini_sources, staging)
    before = live.read_bytes()
    with pytest.raises(publish.StaleStaging, match="another rebuild"):
        publish.publish(staging, live, mini_sources, expected_hash="0" * 64)
    edit(mini_sources / "registry.yaml", "name: 平面图", "name: 平面布置图")
    with pytest.raises(publish.StaleStaging, match="changed after"):
        publish.publish(staging, live, mini_sources, expected_hash=staged.sources_hash)
    assert live.read_bytes() == before and staging.exists()


def test_the_sources_hash_follows_names_and_bytes(mini_sources):
    first = publish.sources_hash(mini_sources)
    (mini_sources / "notes.txt").write_text("not a source", encoding="utf-8")
    assert publish.sources_hash(mini_sources) == first
    (mini_sources / "registry.yaml").rename(mini_sources / "all.yaml")
    assert publish.sources_hash(mini_sources) != first


# --- mark_checked --------------------------------------------------------------------------------

def changed_lines(old: str, new: str) -> list[tuple[int, str, str]]:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    assert len(old_lines) == len(new_lines)
    return [(i + 1, a, b) for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)) if a != b]


def test_mark_checked_edits_only_that_records_checked_line(mini_sources):
    path = mini_sources / "registry.yaml"
    before = path.read_text(encoding="utf-8")
    marked = publish.mark_checked(mini_sources, "items", "register", TODAY)
    after = path.read_text(encoding="utf-8")
    assert marked == publish.Marked("registry.yaml", 60, "null", True)
    assert changed_lines(before, after) == [(60, "    checked: null", "    checked: 2026-03-14")]
    assert after.startswith("# A tiny catalogue for unit tests")
    records = build.check(mini_sources).catalogue.records
    assert records["items"]["register"]["checked"] == "2026-03-14"
    assert records["items"]["fire_check"]["checked"] is None


def test_mark_checked_in_a_flow_mapping_keeps_the_rest_of_the_line(mini_sources):
    before = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    marked = publish.mark_checked(mini_sources, "departments", "fire", TODAY)
    after = (mini_sources / "registry.yaml").read_text(encoding="utf-8")
    assert (marked.line, marked.previous) == (8, "2026-01-05")
    assert changed_lines(before, after) == [
        (8, "  - {id: fire, name: 消防救援大队, short: 消防, source: test, region: 推断, checked: 2026-01-05}",
         "  - {id: fire, name: 消防救援大队, short: 消防, source: test, region: 推断, checked: 2026-03-14}")]


def test_mark_checked_keeps_comments_quotes_elsewhere_and_crlf_line_endings(mini_sources):
    path = mini_sources / "registry.yaml"
    edit(path, "    source: test\n    region: 推断\n    checked: null\n  - id: fire_check",
         "    source: test\n    region: 推断\n    checked: null   # 待核对：对照区政务服务网\n  - id: fire_check")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = path.read_bytes()
    publish.mark_checked(mini_sources, "items", "register", TODAY)
    after = path.read_bytes()
    assert after.count(b"\r\n") == before.count(b"\r\n") and b"\n" not in after.replace(b"\r\n", b"")
    assert changed_lines(before.decode(), after.decode()) == [
        (60, "    checked: null   # 待核对：对照区政务服务网", "    checked: 2026-03-14   # 待核对：对照区政务服务网")]


def test_mark_checked_adds_a_missing_checked_field(mini_sources):
    path = mini_sources / "registry.yaml"
    edit(path, "    result: 回执\n    materials:\n      - {material: id_card}\n    source: test\n    region: 推断\n"
               "    checked: null\n",
         "    result: 回执\n    materials:\n      - {material: id_card}\n    source: test\n    region: 推断\n")
    edit(path, "source: test, region: 推断, checked: null}\n  - {id: web,", "source: test, region: 推断}\n  - {id: web,")
    missing = {(e.record, e.field) for e in build.check(mini_sources).errors if e.field == "checked"}
    assert missing == {("item 'online_item'", "checked"), ("channel 'window'", "checked")}
    assert publish.mark_checked(mini_sources, "items", "online_item", TODAY).previous is None
    assert publish.mark_checked(mini_sources, "channels", "window", TODAY).changed
    result = build.check(mini_sources)
    assert result.errors == []
    assert result.catalogue["items"]["online_item"]["checked"] == "2026-03-14"
    assert result.catalogue["channels"]["window"]["checked"] == "2026-03-14"
    assert "source: test, region: 推断, checked: 2026-03-14}\n  - {id: web," in path.read_text(encoding="utf-8")


def test_marking_twice_on_the_same_day_changes_nothing(mini_sources):
    publish.mark_checked(mini_sources, "bundles", "baby", TODAY)
    before = (mini_sources / "registry.yaml").read_bytes()
    assert not publish.mark_checked(mini_sources, "bundles", "baby", TODAY).changed
    assert (mini_sources / "registry.yaml").read_bytes() == before


def test_mark_checked_names_what_it_could_not_find(mini_sources):
    before = (mini_sources / "registry.yaml").read_bytes()
    with pytest.raises(publish.MarkError, match=f"no material 'nope' in {mini_sources}"):
        publish.mark_checked(mini_sources, "materials", "nope", TODAY)
    with pytest.raises(publish.MarkError, match="no item 'lease'"):  # a material id is not an item
        publish.mark_checked(mini_sources, "items", "lease", TODAY)
    with pytest.raises(publish.MarkError, match="unknown kind 'widgets'"):
        publish.mark_checked(mini_sources, "widgets", "lease", TODAY)
    (mini_sources / "extra.yaml").write_text("materials: [\n", encoding="utf-8")
    with pytest.raises(publish.MarkError, match=r"unreadable files: extra\.yaml"):
        publish.mark_checked(mini_sources, "materials", "nope", TODAY)
    assert (mini_sources / "registry.yaml").read_bytes() == before
