"""The held-out evaluation's arithmetic, on hand-made parses (the model itself runs in `make eval`)."""

from __future__ import annotations

from assistant.evaluation import evaluate
from catalogue import browse
from chattext import normalize


def parse(text: str, *ranking: tuple[str, float]) -> dict:
    return {"text": text, "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}


def test_metrics(mini_records):
    cases = [
        {"kind": "bundle", "text": "开个铺子", "bundle": "shop"},
        {"kind": "bundle", "text": "我家娃", "bundle": "baby"},
        {"kind": "out_of_scope", "text": "天气"},
        {"kind": "out_of_scope", "text": "你好"},
        {"kind": "out_of_scope", "text": "护照"},
        {"kind": "ambiguous", "text": "办个事", "candidates": ["shop", "baby"]},
    ]
    parses = [
        parse("开个铺子", ("bundle_shop", 0.9)),
        parse("我家娃", ("nlu_fallback", 0.5), ("out_of_scope", 0.4), ("bundle_baby", 0.1)),  # falls back: wrong
        parse("天气", ("out_of_scope", 0.95)),
        parse("你好", ("greet", 0.99)),  # small talk: no bundle shown, counts as out of scope handled
        parse("护照", ("bundle_shop", 0.8)),  # a bundle shown for out-of-scope text: a miss
        parse("办个事", ("nlu_fallback", 0.5), ("bundle_shop", 0.3), ("bundle_baby", 0.25)),
    ]
    result = evaluate(cases, parses, lambda text: browse.spot(mini_records, normalize(text)))
    assert result["bundle_top1"] == 1.0  # the highest-ranked bundle intent was right both times
    assert result["bundle_answered_directly"] == 0.5
    assert result["oos_precision"] == round(2 / 3, 4) and result["oos_recall"] == round(2 / 3, 4)
    assert result["ask_back_rate"] == 1.0
    assert [e["text"] for e in result["errors"]["out_of_scope"]] == ["护照"]


def test_the_coverage_test_counts_answers_and_ask_backs_among_the_holders_of_an_item(mini_records):
    from assistant.evaluation import coverage, coverage_cases

    cases = coverage_cases(mini_records)
    assert {c["text"] for c in cases} >= {"设立登记怎么办", "设立登记在哪办"} and all(c["bundles"] for c in cases)
    parses = [parse(c["text"], (f"bundle_{c['bundles'][0]}", 0.9)) if i % 2 else parse(c["text"], ("nlu_fallback", 0.9))
              for i, c in enumerate(cases)]
    result = coverage(evaluate(cases, parses, lambda text: []))
    assert result["cases"] == len(cases) and result["routed"] == 0.5
    assert sorted(m["text"] for m in result["misses"]) == sorted(c["text"] for c in cases[::2])


def test_a_bundle_holding_an_item_under_a_qualified_name_holds_the_plain_name_too():
    """社会保险单位信息变更怎么办: business_change holds it, company_migration holds 社会保险单位信息变更（迁出地转出）;
    asking back between the two is right. The qualified name's own question accepts only company_migration."""
    from assistant.evaluation import coverage_cases

    records = {"bundles": {"change": {"items": [{"item": "plain"}]}, "migration": {"items": [{"item": "qualified"}]},
                           "other": {"items": [{"item": "prefix"}]}},
               "items": {"plain": {"name": "社会保险单位信息变更"}, "qualified": {"name": "社会保险单位信息变更（迁出地转出）"},
                         "prefix": {"name": "社会保险单位信息变更登记表"}}}
    bundles = {c["text"]: c["bundles"] for c in coverage_cases(records)}
    assert bundles["社会保险单位信息变更怎么办"] == ["change", "migration"]  # not "other": a longer name is another item
    assert bundles["社会保险单位信息变更（迁出地转出）在哪办"] == ["migration"]
    assert bundles["社会保险单位信息变更登记表怎么办"] == ["other"]


def test_an_intent_that_asks_back_among_bundles_counts_as_that_question_back_not_as_out_of_scope():
    """开店 (open_shop): the bot offers the shop bundles as buttons; the citizen is not told that nothing fits."""
    cases = [{"kind": "ambiguous", "text": "开个店", "candidates": ["shop", "cafe"]},
             {"kind": "out_of_scope", "text": "开店赚钱吗"}]
    parses = [parse("开个店", ("open_shop", 0.9)), parse("开店赚钱吗", ("open_shop", 0.8))]
    plain = evaluate(cases, parses, lambda text: [])
    assert plain["ask_back_rate"] == 0.0 and plain["oos_recall"] == 1.0 and plain["oos_precision"] == 0.5  # as if declined
    asked = evaluate(cases, parses, lambda text: [], asks_back={"open_shop": ["shop", "cafe", "gym"]})
    assert asked["ask_back_rate"] == 1.0 and asked["ask_back_relevant"] == 0.0  # gym is no candidate
    assert asked["oos_recall"] == 0.0 and asked["oos_precision"] is None  # nothing was declared out of scope


def test_every_metric_per_style_and_no_precision_for_a_style_without_uncovered_questions(mini_records):
    """A style of bundle questions only has no out-of-scope precision to report (it is not 0 % because one of
    them fell back: that shows as not answered); a style of uncovered questions has its own."""
    cases = [{"kind": "bundle", "text": "开个铺子", "bundle": "shop", "style": "dialect"},
             {"kind": "bundle", "text": "我家娃", "bundle": "baby", "style": "dialect"},
             {"kind": "out_of_scope", "text": "护照", "style": "oos_shared_word"},
             {"kind": "out_of_scope", "text": "天气", "style": "oos_shared_word"}]
    parses = [parse("开个铺子", ("bundle_shop", 0.9)),
              parse("我家娃", ("nlu_fallback", 0.5), ("out_of_scope", 0.4), ("bundle_baby", 0.1)),
              parse("护照", ("bundle_shop", 0.8)), parse("天气", ("out_of_scope", 0.95))]
    result = evaluate(cases, parses, lambda text: browse.spot(mini_records, normalize(text)))
    dialect, oos = result["styles"]["dialect"], result["styles"]["oos_shared_word"]
    assert set(dialect) == set(result) - {"errors", "targets", "styles"}
    assert dialect["bundle_answered_or_asked_rightly"] == 0.5 and dialect["oos_precision"] is None
    assert oos["oos_precision"] == 1.0 and oos["oos_recall"] == 0.5 and oos["oos_checklists"] == 0.5
    assert result["oos_precision"] == 0.5  # the whole set: one right fallback of two
