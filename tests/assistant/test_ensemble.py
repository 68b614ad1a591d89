from assistant.ensemble import mean_ranking


def entries(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_two_members_rankings_are_averaged_highest_first():
    first = mean_ranking([], 0, entries(("out_of_scope", 0.9), ("bundle_marriage", 0.1)))
    mean = mean_ranking(first, 1, entries(("bundle_marriage", 0.7), ("out_of_scope", 0.3)))
    assert [(e["name"], round(e["confidence"], 6)) for e in mean] == [("out_of_scope", 0.6), ("bundle_marriage", 0.4)]


def test_an_intent_one_member_did_not_rank_counts_zero_there():
    mean = mean_ranking(entries(("bundle_gym", 0.8), ("greet", 0.2)), 1, entries(("bundle_gym", 0.4), ("bundle_cinema", 0.6)))
    assert [(e["name"], round(e["confidence"], 6)) for e in mean] == [
        ("bundle_gym", 0.6), ("bundle_cinema", 0.3), ("greet", 0.1)]


def test_the_third_member_weighs_a_third():
    two = entries(("bundle_newborn", 0.6), ("bundle_childcare_subsidy", 0.4))
    mean = mean_ranking(two, 2, entries(("bundle_childcare_subsidy", 1.0)))
    assert [(e["name"], round(e["confidence"], 6)) for e in mean] == [
        ("bundle_childcare_subsidy", 0.6), ("bundle_newborn", 0.4)]
    assert round(sum(e["confidence"] for e in mean), 6) == 1.0
