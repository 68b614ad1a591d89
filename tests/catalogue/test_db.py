"""The SQLite catalogue: round trip, atomic builds and search."""

from __future__ import annotations

import pytest

from catalogue import db
from catalogue.build import build, check
from catalogue.live import LiveCatalogue


def test_loaded_records_equal_the_validated_sources(mini_db, mini_records):
    assert db.load(db.connect(mini_db)) == mini_records


def test_failed_build_leaves_the_previous_catalogue_serving(mini_sources, mini_db, tmp_path, write_source):
    before = mini_db.read_bytes()
    live = LiveCatalogue(mini_db)
    assert "shop" in live.records()["bundles"]
    write_source(mini_sources, "broken.yaml", "items: [unclosed\n")
    result = build(mini_sources, mini_db, tmp_path / "jieba")
    assert [str(e) for e in result.errors] == ["broken.yaml:2: YAML syntax error: did not find expected ',' or ']'"]
    assert mini_db.read_bytes() == before
    assert "shop" in live.records()["bundles"]
    assert sorted(p.name for p in mini_db.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_a_new_build_replaces_the_file_and_live_readers_see_it(mini_sources, mini_db, tmp_path):
    live = LiveCatalogue(mini_db)
    assert live.records()["bundles"]["shop"]["name"] == "我要开小店"
    path = mini_sources / "registry.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("我要开小店", "我要开个小店"), encoding="utf-8")
    assert build(mini_sources, mini_db, tmp_path / "jieba").errors == []
    assert live.records()["bundles"]["shop"]["name"] == "我要开个小店"


def test_jieba_dictionary_lists_the_catalogue_words(mini_sources, tmp_path):
    build(mini_sources, tmp_path / "c.db", tmp_path / "jieba")
    assert [p.name for p in (tmp_path / "jieba").iterdir()] == ["yishi.txt"]
    words = [line.split()[0] for line in (tmp_path / "jieba" / "yishi.txt").read_text(encoding="utf-8").splitlines()]
    assert {"我要开小店", "开个铺子", "宝宝登记一件事", "设立登记", "一件事申请表"} <= set(words)


def test_search_finds_names_aliases_and_two_character_words(mini_db):
    database = db.connect(mini_db)
    assert [h["slug"] for h in db.search(database, "开个铺子")] == ["shop"]
    assert [h["slug"] for h in db.search(database, "户口")] == ["baby"]
    assert [h["slug"] for h in db.search(database, "我想给娃儿上户口")] == ["baby"]
    assert [h["slug"] for h in db.search(database, "消防")] == ["shop"]
    assert db.search(database, "天气预报") == []


@pytest.mark.parametrize("text", ["AND", "OR NOT", '"', 'a"b', "a:b", "tokens:开", "(", "开)(", "身份证*(", "NEAR(a b)",
                                  "' OR 1=1 --", "^开", "*", "", "   ", "\x00", "😀", "开" * 5000])
def test_search_never_raises_on_query_syntax(mini_db, text):
    assert isinstance(db.search(db.connect(mini_db), text), list)


def test_check_of_the_fixture_counts_records(mini_sources):
    counts = {kind: len(records) for kind, records in check(mini_sources).catalogue.records.items()}
    assert counts == {"citations": 2, "departments": 3, "channels": 2, "mechanisms": 1, "materials": 9, "questions": 3,
                      "items": 4, "bundles": 2, "next_steps": 1, "topics": 1, "exclusions": 1}


def test_load_gives_back_the_validated_records_with_their_types(mini_records, tmp_path):
    """Field types come from catalogue/schema.py: JSON fields decoded, booleans as bool (not SQLite's 0/1)."""
    db.write(mini_records, tmp_path / "c.db")
    loaded = db.load(db.connect(tmp_path / "c.db"))

    def typed(value):
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return (type(value).__name__, value)

    assert typed(loaded) == typed(mini_records)
