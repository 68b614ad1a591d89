"""Golden answers: every answer path of every bundle, as citizens read it, committed in tests/golden/.

A difference fails: run `yishi catalogue golden --update` and read the diff before it ships."""

from __future__ import annotations

import itertools

import pytest

from catalogue import config, golden
from catalogue.build import check

SOURCES = check(config.sources_dir())
RECORDS = SOURCES.catalogue.records
GOLDEN = config.golden_dir()


def test_the_sources_are_valid():
    assert SOURCES.errors == []


@pytest.mark.parametrize("slug", sorted(RECORDS["bundles"]))
def test_every_answer_path_reads_as_committed(slug):
    path = GOLDEN / f"{slug}.txt"
    assert path.exists(), f"no golden file for {slug}: run `yishi catalogue golden --update`"
    assert golden.render(RECORDS, slug) == path.read_text(encoding="utf-8"), \
        f"{slug}: what citizens read changed; run `yishi catalogue golden --update` and read the diff"


def test_no_golden_file_of_a_bundle_that_is_gone():
    assert {p.stem for p in GOLDEN.glob("*.txt")} == set(RECORDS["bundles"])


def test_every_question_and_option_is_reached_where_it_is_asked():
    assert [u for slug in RECORDS["bundles"] for u in golden.unreached(RECORDS, slug)] == []


def test_paths_cover_no_answers_every_single_answer_and_every_pair(mini_records):
    found = [dict(p.answers) for p in golden.paths(mini_records, "shop")]
    assert found[0] == {}
    options = {k: [o["value"] for o in mini_records["questions"][k]["options"]] for k in ("size", "pool", "agent")}
    for key, values in options.items():
        for value in values:
            assert {key: value} in found
    for (a, av), (b, bv) in itertools.combinations([(k, v) for k in options for v in options[k]], 2):
        if a != b:
            assert any(p.get(a) == av and p.get(b) == bv for p in found), (a, av, b, bv)


def test_an_option_only_asked_after_another_answer_is_reached_through_it(mini_records):
    # pool is asked only when size=large: {pool: yes} alone does not reach it, {size: large, pool: yes} does
    assert golden.unreached(mini_records, "shop") == []
    unreachable = dict(mini_records)
    unreachable["questions"] = dict(mini_records["questions"]) | {
        "pool": mini_records["questions"]["pool"] | {"ask_when": {"size": "huge"}}}
    assert golden.unreached(unreachable, "shop") == ["shop: pool=yes", "shop: pool=no"]
