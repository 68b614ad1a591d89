"""The nearest training examples' second opinion among the bundles (assistant/neighbours.py)."""

from __future__ import annotations

import pytest

from assistant.neighbours import Neighbours, blend

EXAMPLES = [("公司从龙泉搬到大面，地址变更", "bundle_business_change"), ("营业执照地址变更", "bundle_business_change"),
            ("公司迁到外区去", "bundle_company_migration"), ("企业跨区迁移", "bundle_company_migration"),
            ("今天天气怎么样", "out_of_scope"), ("你好", "greet")]


def confidences(ranking: list[dict]) -> dict[str, float]:
    return {entry["name"]: round(entry["confidence"], 6) for entry in ranking}


def test_the_votes_re_rank_bundles_within_the_confidence_diet_gave_bundles():
    ranking = [{"name": "bundle_company_migration", "confidence": 0.5}, {"name": "out_of_scope", "confidence": 0.3},
               {"name": "bundle_business_change", "confidence": 0.2}]
    blended = blend(ranking, {"bundle_business_change": 0.9, "bundle_company_migration": 0.1, "out_of_scope": 5.0},
                    weight=0.5)
    # bundles held 0.7: migration 0.7 * (0.5 * 0.5/0.7 + 0.5 * 0.1), change 0.7 * (0.5 * 0.2/0.7 + 0.5 * 0.9)
    assert confidences(blended) == {"bundle_business_change": 0.415, "bundle_company_migration": 0.285,
                                    "out_of_scope": 0.3}
    assert blended[0]["name"] == "bundle_business_change"
    assert sum(e["confidence"] for e in blended) == pytest.approx(1.0)  # out of scope's vote moves nothing


def test_a_bundle_only_the_neighbours_name_gets_their_share():
    blended = blend([{"name": "bundle_gym", "confidence": 0.6}, {"name": "out_of_scope", "confidence": 0.4}],
                    {"bundle_car_wash": 1.0}, weight=0.25)
    assert confidences(blended) == {"bundle_gym": 0.45, "out_of_scope": 0.4, "bundle_car_wash": 0.15}


@pytest.mark.parametrize("ranking, votes", [
    ([{"name": "out_of_scope", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}], {"bundle_gym": 1.0}),
    ([{"name": "bundle_gym", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}], {"out_of_scope": 1.0}),
    ([{"name": "bundle_gym", "confidence": 0.9}], {}),
])
def test_without_bundle_confidence_or_bundle_votes_the_ranking_stays(ranking, votes):
    assert blend(ranking, votes) == ranking


def test_the_nearest_examples_vote_by_similarity():
    neighbours = Neighbours(EXAMPLES, neighbours=2)
    votes = neighbours.votes("公司地址变更")
    assert max(votes, key=votes.get) == "bundle_business_change" and set(votes) <= {e[1] for e in EXAMPLES}
    assert len(votes) <= 2 and all(value > 0 for value in votes.values())
    # traditional characters and full-width letters are normalised on both sides
    assert neighbours.votes("公司遷到外區去") == neighbours.votes("公司迁到外区去")
    assert neighbours.votes("") == {} and neighbours.votes("zzz qqq") == {}
    assert Neighbours([]).votes("公司地址变更") == {}


def test_similarities_are_the_vectorizers_own():
    import numpy as np

    from chattext import normalize

    neighbours = Neighbours(EXAMPLES)
    for text in ("公司地址变更", "公司遷到外區去", "你好你好", "zzz", "营业执照 地址 变更 变更"):
        theirs = (neighbours.matrix @ neighbours.vectorizer.transform([normalize(text)]).T).toarray().ravel()
        assert np.allclose(neighbours.similarities(text), theirs, rtol=0, atol=1e-12), text
