"""Every validation error names the file, the record and the field, and all are reported at once."""

from __future__ import annotations

from catalogue.build import check


def errors(folder) -> list[str]:
    return [str(e) for e in check(folder).errors]


def test_the_fixture_is_valid(mini_sources):
    assert errors(mini_sources) == []


def test_unknown_material(mini_sources, write_source):
    write_source(mini_sources, "extra.yaml", """\
        items:
          - id: ghosted
            name: 幽灵事项
            department: market
            working_days: 1
            steps: 1
            result: 无
            materials:
              - {material: ghost}
            source: test
            region: 推断
            checked: null
        """)
    assert errors(mini_sources) == [
        "extra.yaml:2: item 'ghosted': field 'materials[0].material': unknown material 'ghost'"]


def test_duplicate_slug_names_both_files(mini_sources, write_source):
    """Files are read in path order; the later definition is the one reported."""
    write_source(mini_sources, "shops/dup.yaml", """\
        bundles:
          - slug: shop
            name: 另一个小店
            family: 企业开办
            stage: 行业准入
            summary: 重复。
            lead_department: market
            steps: 1
            items: [{item: register}]
            channels: [window]
            aliases: [另开小店]
            source: test
            region: 推断
            checked: null
        """)
    assert errors(mini_sources) == [
        "shops/dup.yaml:2: bundle 'shop': field 'slug': duplicate slug 'shop' (first defined in registry.yaml)"]


def test_prerequisite_cycle(mini_sources, write_source):
    write_source(mini_sources, "cycle.yaml", """\
        items:
          - {id: egg, name: 蛋, department: market, working_days: 1, steps: 1, result: 鸡, requires: [hen],
             materials: [{material: id_card}], source: test, region: 推断, checked: null}
          - {id: hen, name: 鸡, department: market, working_days: 1, steps: 1, result: 蛋, requires: [egg],
             materials: [{material: id_card}], source: test, region: 推断, checked: null}
        """)
    assert errors(mini_sources) == ["cycle.yaml:2: item 'egg': field 'requires': prerequisite cycle: egg → hen → egg"]


def test_unknown_department_and_unknown_question(mini_sources, write_source):
    write_source(mini_sources, "refs.yaml", """\
        items:
          - {id: lost, name: 迷路事项, department: nowhere, working_days: 1, steps: 1, result: 无,
             materials: [{material: id_card, when: {mood: happy}}], source: test, region: 推断, checked: null}
        """)
    assert errors(mini_sources) == [
        "refs.yaml:2: item 'lost': field 'department': unknown department 'nowhere'",
        "refs.yaml:2: item 'lost': field 'materials[0].when': refers to unknown question 'mood'",
    ]


def test_situation_with_an_answer_the_question_does_not_offer(mini_sources):
    path = mini_sources / "registry.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{size: large}}", "{size: huge}}"), encoding="utf-8")
    assert errors(mini_sources) == [
        "registry.yaml:103: bundle 'shop': field 'items[1].when': question 'size' has no option 'huge' (options: large, small)",
        "registry.yaml:103: bundle 'shop': field 'items[2].when': question 'size' has no option 'huge' (options: large, small)",
    ]


def test_yaml_syntax_error_gives_the_line(mini_sources, write_source):
    write_source(mini_sources, "broken.yaml", "materials:\n  - {id: x, name: [unclosed\n  - id: y\n")
    found = errors(mini_sources)
    assert len(found) == 1
    assert found[0].startswith("broken.yaml:3: YAML syntax error")


def test_missing_and_malformed_fields(mini_sources, write_source):
    write_source(mini_sources, "fields.yaml", """\
        materials:
          - {id: Bad-Id, name: 坏, kind: certificate, issuer: applicant, source: test, region: 推断, checked: null}
          - {id: no_source, name: 无来源, kind: paper, issuer: applicant, checked: yesterday}
          - {id: dept_issued, name: 部门证明, kind: proof, issuer: department, source: test, region: 推断, checked: null}
        """)
    assert errors(mini_sources) == [
        "fields.yaml:2: material 'Bad-Id': field 'id': must be lower-case ascii letters, digits and '_', got 'Bad-Id'",
        "fields.yaml:3: material 'no_source': field 'kind': must be one of certificate, form, proof, contract, drawing, "
        "rules, photo, report, commitment, other, got 'paper'",
        "fields.yaml:3: material 'no_source': field 'source': is required",
        "fields.yaml:3: material 'no_source': field 'checked': must be a date YYYY-MM-DD or null, got 'yesterday'",
        "fields.yaml:3: material 'no_source': field 'region': is required",
        "fields.yaml:4: material 'dept_issued': field 'issued_by': is required when issuer is department",
    ]


def test_alias_must_lead_to_one_bundle(mini_sources):
    path = mini_sources / "registry.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("[娃儿登记, 上户口]", "[娃儿登记, 开个铺子]"),
                    encoding="utf-8")
    assert errors(mini_sources) == [
        "registry.yaml:128: bundle 'baby': field 'aliases[1]': alias '开个铺子' already leads to bundle 'shop'"]


def test_all_errors_are_reported_in_one_run(mini_sources, write_source):
    write_source(mini_sources, "x.yaml", "departments:\n  - {id: market, name: 重复, source: test, region: 推断, checked: null}\n")
    write_source(mini_sources, "b.yaml", "questions:\n  - {key: lonely, text: 只有一个选项, options: [{value: a, label: A}],"
                                         " source: test, region: 推断, checked: null}\n")
    write_source(mini_sources, "c.yaml", "widgets: []\n")
    assert errors(mini_sources) == [
        "b.yaml:2: question 'lonely': field 'options': needs at least two options",
        "c.yaml: field 'widgets': unknown section; expected one of citations, departments, channels, mechanisms, materials, "
        "questions, items, bundles, next_steps, topics, exclusions",
        "x.yaml:2: department 'market': field 'id': duplicate id 'market' (first defined in registry.yaml)",
    ]


def test_citations_resolve_and_regions_match_a_cited_source(mini_sources, write_source):
    write_source(mini_sources, "cited.yaml", """\
        departments:
          - {id: a1, name: 甲, source: x, region: 四川, cites: [no_such_doc], checked: null}
          - {id: a2, name: 乙, source: x, region: 成都, checked: null}
          - {id: a3, name: 丙, source: x, region: 成都, cites: [hn_guide], checked: null}
          - {id: a4, name: 丁, source: x, region: 外地, checked: null}
        channels:
          - {id: c1, name: 网站, kind: online, url: "https://example.invalid/x", source: x, region: 推断, checked: null}
        """)
    assert errors(mini_sources) == [
        "cited.yaml:2: department 'a1': field 'cites[0]': unknown citation 'no_such_doc'",
        "cited.yaml:3: department 'a2': field 'region': region 成都 needs a citation in cites (or region: 推断)",
        "cited.yaml:4: department 'a3': field 'region': region 成都 is not the region of any citation it cites (外省)",
        "cited.yaml:5: department 'a4': field 'region': must be one of 成都, 四川, 国家, 外省, 推断, got '外地'",
        "cited.yaml:7: channel 'c1': field 'url': a URL shown to citizens needs a citation in cites",
    ]


def test_citations_say_where_they_were_read_and_which_province(mini_sources, write_source):
    write_source(mini_sources, "docs.yaml", """\
        citations:
          - {id: nowhere, title: 某文件, region: 四川, read_via: repost, checked: null}
          - {id: elsewhere, title: 外省文件, region: 外省, url: "https://example.invalid/y", read_via: repost, checked: null}
          - {id: inferred_doc, title: 推断文件, region: 推断, url: "https://example.invalid/z", read_via: repost, checked: null}
        """)
    assert errors(mini_sources) == [
        "docs.yaml:2: citation 'nowhere': field 'url': say where the text was read: url, repo_path, or read_via: project",
        "docs.yaml:3: citation 'elsewhere': field 'province': a citation from another province names the province",
        "docs.yaml:4: citation 'inferred_doc': field 'region': must be one of 成都, 四川, 国家, 外省, got '推断'",
    ]


def test_a_published_promise_names_its_document(mini_sources):
    registry = mini_sources / "registry.yaml"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(text.replace("    promise_cites: [sc_guide]\n", ""), encoding="utf-8")
    assert errors(mini_sources) == [
        "registry.yaml:103: bundle 'shop': field 'promise_cites': a published promise names the document that publishes it"]


def test_next_steps_lead_from_and_to_existing_bundles(mini_sources, write_source):
    write_source(mini_sources, "next.yaml", """\
        next_steps:
          - {id: to_nowhere, from: baby, to: nowhere, why: 没有这件事, source: x, region: 推断, checked: null}
          - {id: to_itself, from: shop, to: shop, why: 自己, source: x, region: 推断, checked: null}
        """)
    assert errors(mini_sources) == ["next.yaml:2: next_step 'to_nowhere': field 'to': unknown bundle 'nowhere'",
                                    "next.yaml:3: next_step 'to_itself': field 'to': a bundle is not its own next step"]


def test_topics_ask_back_among_existing_bundles(mini_sources, write_source):
    write_source(mini_sources, "topics.yaml", """\
        topics:
          - {id: lonely, words: [户口], bundles: [baby, baby], source: x, region: 推断, checked: null}
          - {id: astray, words: [社保], bundles: [baby, nowhere], source: x, region: 推断, checked: null}
          - {id: blank, words: [" "], bundles: [baby, shop], source: x, region: 推断, checked: null}
        """)
    assert errors(mini_sources) == [
        "topics.yaml:2: topic 'lonely': field 'bundles': a topic asks back among at least two bundles",
        "topics.yaml:3: topic 'astray': field 'bundles[1]': unknown bundle 'nowhere'",
        "topics.yaml:4: topic 'blank': field 'words': must be a list of non-empty texts"]


def test_an_exclusion_names_an_existing_bundle_and_its_words(mini_sources, write_source):
    write_source(mini_sources, "exclusions.yaml", """\
        exclusions:
          - {id: astray, bundle: nowhere, words: [二手车], source: x, region: 推断, checked: null}
          - {id: blank, bundle: shop, words: [" "], source: x, region: 推断, checked: null}
        """)
    found = errors(mini_sources)
    assert found[0] == "exclusions.yaml:2: exclusion 'astray': field 'bundle': unknown bundle 'nowhere'"
    assert found[1] == "exclusions.yaml:3: exclusion 'blank': field 'words': must be a list of non-empty texts"
