"""What a new catalogue changes for citizens: the mini catalogue before and after an edit of its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalogue import build, changes, db

NEW_MATERIAL = "  - {id: tax_form, name: 税务登记表, kind: form, issuer: applicant, source: test, region: 推断, checked: null}\n"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def old(mini_sources: Path, tmp_path: Path) -> db.Records:
    """The mini catalogue as the live database serves it (loaded from SQLite, as the console does)."""
    assert build.build(mini_sources, tmp_path / "live.db").ok
    return db.load(db.connect(tmp_path / "live.db"))


def new(sources: Path) -> db.Records:
    result = build.check(sources)
    assert result.errors == []
    return result.catalogue.records


def test_the_same_sources_change_nothing(mini_sources, old):
    result = changes.diff(old, new(mini_sources))
    assert result.bundles == [] and result.unchanged_bundles == 2 and result.record_count == 0


def test_a_material_added_to_an_item_shows_in_the_bundles_using_that_item_only(mini_sources, old):
    registry = mini_sources / "registry.yaml"
    edit(registry, "materials:\n  - {id: id_card,", "materials:\n" + NEW_MATERIAL + "  - {id: id_card,")
    edit(registry, "      - {material: id_card}\n    source: test\n    region: 推断\n    checked: null\n",
         "      - {material: id_card}\n      - {material: tax_form}\n    source: test\n    region: 推断\n    checked: null\n")
    result = changes.diff(old, new(mini_sources))
    assert [(b.slug, b.status) for b in result.bundles] == [("baby", "changed")]
    baby = result.bundles[0]
    assert baby.delta == changes.Delta(materials_added=["税务登记表"])
    assert baby.fields == ["figures"]  # 分别办 now counts two materials
    assert (result.records["materials"].added, result.records["items"].changed) == (["tax_form"], ["online_item"])


def test_a_material_removed_and_working_days_and_visits_changed(mini_sources, old):
    registry = mini_sources / "registry.yaml"
    edit(registry, "      - {material: plan}\n    source: test", "    source: test")  # from fire_check only
    edit(registry, '      - {material: water_report, when: {pool: "yes"}}\n', "")
    edit(registry, "working_days: 10\n", "working_days: 5\n")
    edit(registry, "online_full: true\n", "online_full: false\n")
    result = changes.diff(old, new(mini_sources))
    shop, baby = result.bundles
    assert shop.delta == changes.Delta(materials_removed=["水质报告"], working_days=(20, 15))
    assert shop.items_changed == ["消防检查"]
    assert shop.materials_changed == ["平面图"]  # still needed by 卫生许可, no longer by 消防检查
    assert shop.situations == []  # every answer shows the same change or less
    assert baby.delta == changes.Delta(visits=(0, 1)) and baby.fields == ["online_full"]


def test_a_changed_condition_shows_under_the_answer_it_concerns(mini_sources, old):
    edit(mini_sources / "registry.yaml", '{material: letter, when: {agent: "yes"}}', "{material: letter}")
    shop, = changes.diff(old, new(mini_sources)).bundles
    assert shop.delta == changes.Delta()  # with no answers 委托书 was listed already (如适用)
    assert shop.materials_changed == ["委托书"]  # … and now it is no longer 如适用
    assert [(s.question, s.answer, s.delta) for s in shop.situations] == [
        ("是否委托他人？", "本人", changes.Delta(materials_added=["委托书"]))]


def test_bundles_added_removed_and_renamed(mini_sources, old):
    registry = mini_sources / "registry.yaml"
    edit(registry, "name: 宝宝登记一件事", "name: 新生儿登记一件事")
    edit(registry, "  - slug: shop\n", "  - slug: store\n")
    edit(registry, "from: baby, to: shop,", "from: baby, to: store,")
    edit(registry, "bundles: [baby, shop]", "bundles: [baby, store]")
    edit(registry, "bundle: shop,", "bundle: store,")
    result = changes.diff(old, new(mini_sources))
    store, baby, shop = result.bundles
    assert (store.slug, store.status, store.delta.working_days, store.delta.visits) == ("store", "added", (None, 20), (None, 1))
    assert store.delta.materials_added[:2] == ["一件事申请表", "身份证"]
    assert (baby.status, baby.old_name, baby.name, baby.fields) == ("changed", "宝宝登记一件事", "新生儿登记一件事",
                                                                   ["name", "next"])  # its next step is renamed too
    assert (shop.slug, shop.status, shop.delta.items_removed) == ("shop", "removed", ["设立登记", "消防检查", "卫生许可"])


def test_check_dates_and_sources_are_no_change_for_citizens(mini_sources, old):
    registry = mini_sources / "registry.yaml"
    edit(registry, "{id: lease, name: 租赁合同, kind: contract, issuer: applicant, source: test, region: 推断, checked: null}",
         "{id: lease, name: 租赁合同, kind: contract, issuer: applicant, source: 区政务服务网 2026, region: 推断, "
         "checked: 2026-03-01}")
    edit(registry, "    checked: 2026-02-01\n", "    checked: 2026-03-01\n")
    result = changes.diff(old, new(mini_sources))
    assert result.bundles == [] and result.unchanged_bundles == 2
    assert (result.records["materials"].provenance_only, result.records["bundles"].provenance_only) == (["lease"], ["shop"])
    assert result.provenance_only == result.record_count == 2


def test_against_no_catalogue_every_bundle_is_new(mini_sources):
    result = changes.diff(None, new(mini_sources))
    assert [(b.slug, b.status) for b in result.bundles] == [("shop", "added"), ("baby", "added")]
    assert result.records["bundles"].added == ["shop", "baby"]


def test_every_checklist_field_is_compared_or_deliberately_left_out(mini_records):
    """A new checklist field must be added to changes.FIELDS (or DETAILED, NOT_COMPARED), or the console's
    "what changes for citizens" would silently hide it."""
    from catalogue.checklist import checklist

    groups = (changes.FIELDS, changes.DETAILED, changes.NOT_COMPARED)
    assert sum(len(g) for g in groups) == len(set().union(*groups))  # no key in two groups
    for slug in mini_records["bundles"]:
        assert set(checklist(mini_records, slug)) == set().union(*groups)
