"""Deciding between a bundle, asking back and the honest fallback."""

from __future__ import annotations

from assistant.decision import UNSURE_RULES, Decision, decide


def parse(*ranking: tuple[str, float]) -> dict:
    return {"intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}


def test_a_confident_bundle_intent_is_answered():
    assert decide(parse(("bundle_gym", 0.93), ("bundle_car_wash", 0.02))) == Decision("bundle", ["gym"])


def test_a_confident_other_intent_is_passed_on():
    assert decide(parse(("greet", 0.99))) == Decision("intent", intent="greet")


def test_two_bundles_named_in_one_message_are_offered_both():
    assert decide(parse(("bundle_newborn", 0.8)), ["marriage", "newborn"]) == Decision("clarify", ["newborn", "marriage"])


def test_guesses_are_at_most_two_but_every_bundle_named_is_offered_up_to_three():
    """Yishi guesses at most two bundles when it asks back (fewer wrong offers); three bundles the citizen named
    word for word (结婚、生娃、买房) are all offered, a fourth is not."""
    unsure = parse(("nlu_fallback", 0.5), ("bundle_gym", 0.3), ("bundle_hotel", 0.3), ("bundle_cinema", 0.3))
    assert decide(unsure) == Decision("clarify", ["gym", "hotel"])
    named = ["marriage", "newborn", "second_hand_house", "car_wash"]
    assert decide(parse(("bundle_newborn", 0.8)), named) == \
        Decision("clarify", ["newborn", "marriage", "second_hand_house"])
    assert decide(unsure, named) == Decision("clarify", ["marriage", "newborn", "second_hand_house"])


def test_close_candidates_are_offered():
    unsure = parse(("nlu_fallback", 0.55), ("bundle_food_store", 0.31), ("bundle_supermarket", 0.27),
                   ("bundle_retail_store", 0.2), ("bundle_restaurant", 0.13), ("greet", 0.05))
    assert decide(unsure) == Decision("clarify", ["food_store", "supermarket"])  # at most two guesses


def test_a_lone_candidate_is_asked_about():
    assert decide(parse(("nlu_fallback", 0.55), ("bundle_gym", 0.45), ("greet", 0.05))) == Decision("clarify", ["gym"])


def test_a_bundle_named_word_for_word_is_taken():
    assert decide(parse(("nlu_fallback", 0.55), ("out_of_scope", 0.4)), ["car_wash"]) == Decision("bundle", ["car_wash"])


def test_out_of_scope_and_weak_guesses_fall_back():
    assert decide(parse(("out_of_scope", 0.9), ("bundle_gym", 0.05))) == Decision("fallback")
    assert decide(parse(("nlu_fallback", 0.55), ("out_of_scope", 0.3), ("bundle_gym", 0.2))) == Decision("fallback")
    assert decide(parse(("nlu_fallback", 0.55), ("greet", 0.2), ("bundle_gym", 0.1))) == Decision("fallback")
    assert decide({}) == Decision("fallback")


def test_candidates_without_support_from_the_text_are_not_offered_back():
    parse = {"intent": {"name": "nlu_fallback", "confidence": 0.6},
             "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.6}, {"name": "bundle_hotel", "confidence": 0.3},
                                {"name": "bundle_after_death", "confidence": 0.2}]}
    assert decide(parse).bundles == ["hotel", "after_death"]  # no support given: as before
    assert decide(parse, support={"after_death": 3.2}) == Decision("clarify", ["after_death"])
    # the text supports nothing (a typo, say): at most the classifier's clear best, as a yes/no question
    assert decide(parse, support={}) == Decision("clarify", ["hotel"])
    weak = {**parse, "intent_ranking": [parse["intent_ranking"][0], {"name": "bundle_hotel", "confidence": 0.1}]}
    assert decide(weak, support={}) == Decision("fallback")
    assert decide(parse, ["hotel"], support={}) == Decision("bundle", ["hotel"])  # named word for word


def test_an_unsure_best_the_text_clearly_points_at_is_answered():
    unsure = parse(("nlu_fallback", 0.5), ("bundle_deregistration", 0.34), ("bundle_company_setup", 0.3))
    clear = {"deregistration": 8.1, "individual_to_company": 1.7}
    assert decide(unsure, support=clear) == Decision("bundle", ["deregistration"])
    # the words point at it, but not clearly more than at another: ask back
    shared = {"deregistration": 4.9, "company_setup": 4.9}
    assert decide(unsure, support=shared) == Decision("clarify", ["deregistration", "company_setup"])
    # the classifier's best is too weak on its own
    weak = parse(("nlu_fallback", 0.5), ("bundle_deregistration", 0.2), ("greet", 0.1))
    assert decide(weak, support=clear).kind != "bundle"


def test_words_pointing_strongly_at_one_bundle_are_asked_about_not_turned_away():
    turned_away = parse(("out_of_scope", 1.0), ("bundle_disability", 0.0))
    assert decide(turned_away, support={"disability": 12.2, "after_death": 3.3}) == Decision("clarify", ["disability"])
    # a word or two shared with a bundle is not enough: 个体户 in a tax question
    assert decide(turned_away, support={"individual_business": 4.9, "deregistration": 4.9}) == Decision("fallback")
    assert decide(turned_away, support={"after_death": 13.0, "retirement": 11.5}) == Decision("fallback")
    assert decide(turned_away, support=None) == Decision("fallback")


class Topical(dict):
    """What catalogue.retrieval.support gives: weights, the named topics' bundles, the rest's weights."""

    def __init__(self, weights, topics, specific, topic_only=False, shared=(), item_holders=(), as_customer=(),
                 excluded=()):
        super().__init__(weights)
        self.topics, self.specific, self.topic_only, self.shared = topics, specific, topic_only, list(shared)
        self.item_holders, self.as_customer = list(item_holders), frozenset(as_customer)
        self.excluded = frozenset(excluded)


def test_a_question_naming_only_a_broad_topic_is_asked_back_among_its_bundles():
    sure = parse(("bundle_hukou_move", 0.86), ("bundle_marriage", 0.05), ("bundle_newborn", 0.03))
    topic_only = Topical({"hukou_move": 2.0}, ["newborn", "hukou_move", "marriage", "graduate_settlement"], {})
    assert decide(sure, support=topic_only) == Decision("clarify", ["hukou_move", "marriage"])
    # other words point at the classifier's choice: answered
    pointed = Topical({"hukou_move": 6.0}, ["newborn", "hukou_move"], {"hukou_move": 4.0})
    assert decide(sure, support=pointed) == Decision("bundle", ["hukou_move"])
    # a bundle named word for word, or no topic named: answered
    assert decide(sure, ["hukou_move"], support=topic_only) == Decision("bundle", ["hukou_move"])
    assert decide(sure, support={"hukou_move": 2.0}) == Decision("bundle", ["hukou_move"])
    # a topic among other words the classifier is sure of (娃儿刚生下来，上户口和买医保咋个弄): answered
    assert decide(parse(("bundle_newborn", 0.94), ("bundle_gym", 0.01)), support=topic_only) == \
        Decision("bundle", ["newborn"])


def test_a_sure_out_of_scope_is_not_overruled_by_a_bundle_word_in_the_text():
    """哪家健身房办卡划算 names the gym, but the classifier, trained on such hard negatives, is sure it is not a
    bundle: no checklist. An unsure out of scope still lets the named bundle through."""
    assert decide(parse(("out_of_scope", 0.99), ("bundle_gym", 0.01)), ["gym"]) == Decision("fallback")
    assert decide(parse(("out_of_scope", 0.6), ("bundle_gym", 0.3)), ["gym"]) == Decision("bundle", ["gym"])


def test_a_question_that_is_only_a_topic_is_asked_back_however_sure_the_classifier_is():
    """公积金咋个弄: the classifier, trained on 公积金余额怎么查 as out of scope, is sure it is none of ours, or sure of
    one bundle; only the citizen knows which of the topic's bundles they mean."""
    fund = Topical({}, ["provident_fund_loan", "hire_employee", "retirement"], {}, topic_only=True)
    sure_none = parse(("out_of_scope", 1.0), ("bundle_retirement", 0.0), ("bundle_provident_fund_loan", 0.0))
    assert decide(sure_none, support=fund) == Decision("clarify", ["retirement", "provident_fund_loan"])
    sure_one = parse(("bundle_hire_employee", 0.95), ("bundle_retirement", 0.02))
    assert decide(sure_one, support=fund) == Decision("clarify", ["hire_employee", "retirement"])
    # more words than the topic (公积金余额怎么查): the classifier decides as before
    assert decide(sure_none, support=Topical({}, fund.topics, {})) == Decision("fallback")


def test_two_topics_named_narrow_to_the_bundles_both_hold():
    """创业补贴: the start-up topic and the subsidy topic share one bundle; answered when the classifier agrees,
    else asked about. 老人失能了有补贴不 (not only topic words): asked about the shared one, not every subsidy."""
    both = Topical({}, ["childcare_subsidy", "senior_benefits", "personal_startup", "company_setup"], {},
                   topic_only=True, shared=["personal_startup"])
    assert decide(parse(("bundle_personal_startup", 0.9)), support=both) == Decision("bundle", ["personal_startup"])
    unsure = parse(("nlu_fallback", 0.5), ("bundle_company_setup", 0.3), ("bundle_personal_startup", 0.1))
    assert decide(unsure, support=both) == Decision("clarify", ["personal_startup"])
    elderly = Topical({"senior_benefits": 5.5}, ["childcare_subsidy", "senior_benefits", "personal_startup", "retirement"],
                      {}, shared=["senior_benefits"])
    sure = parse(("bundle_childcare_subsidy", 0.7), ("bundle_personal_startup", 0.1), ("bundle_senior_benefits", 0.1))
    assert decide(sure, support=elderly) == Decision("clarify", ["senior_benefits"])


def test_a_candidate_offered_back_needs_a_fair_share_of_the_text_s_support():
    """我爸退休了我妈又去世了，好多手续: 退休 and 去世 point at two bundles, 手续 faintly at many others."""
    unsure = parse(("nlu_fallback", 0.5), ("bundle_retirement", 0.3), ("bundle_veteran", 0.15), ("bundle_after_death", 0.1))
    support = {"retirement": 9.0, "after_death": 8.0, "veteran": 1.9, "company_setup": 1.9}
    assert decide(unsure, support=support) == Decision("clarify", ["retirement", "after_death"])


def test_a_lone_candidate_the_text_supports_best_is_asked_about_even_when_the_classifier_is_faint():
    unsure = parse(("nlu_fallback", 0.5), ("bundle_listing_compliance", 0.12), ("bundle_medical_reimbursement", 0.1))
    support = {"listing_compliance": 5.7, "company_migration": 3.8, "medical_reimbursement": 0.9}
    assert decide(unsure, support=support) == Decision("clarify", ["listing_compliance"])
    # the same faint candidate without the text's support is not offered
    assert decide(unsure, support={"company_migration": 3.8, "listing_compliance": 1.0}) == Decision("fallback")


def test_topics_that_leave_only_the_classifier_s_choice_ask_nothing():
    """公司…从一个园区搬到另一个园区，执照上的地址要咋改: the company, address and licence topics share one bundle, the one
    the classifier chose (unsure, 0.6): answered, not "您是想办X吗？"."""
    three = Topical({}, ["company_setup", "business_change", "company_migration"], {}, shared=["business_change"])
    assert decide(parse(("bundle_business_change", 0.6), ("bundle_gym", 0.1)), support=three) == \
        Decision("bundle", ["business_change"])
    two = Topical({}, ["business_change", "company_migration"], {}, shared=["business_change", "company_migration"])
    assert decide(parse(("bundle_business_change", 0.6), ("bundle_gym", 0.1)), support=two) == \
        Decision("clarify", ["business_change", "company_migration"])


def test_a_topic_the_classifier_s_choice_is_no_bundle_of_offers_that_choice_first_not_only_the_topic_s():
    """房子抵押在银行贷点款，抵押登记在哪办: 贷款 names the topic of loans (the provident-fund loan), the classifier chose
    mortgage registration (0.73), no bundle of that topic. Asked back with its choice first and the topic's likeliest,
    not with the topic's bundles alone; a choice the text gives no support is still left out (each candidate offered
    needs some)."""
    sure = parse(("bundle_mortgage_registration", 0.73), ("bundle_provident_fund_loan", 0.05),
                 ("bundle_second_hand_house", 0.03))
    loans = Topical({"mortgage_registration": 4.9, "provident_fund_loan": 2.0}, ["provident_fund_loan", "financing"], {})
    assert decide(sure, support=loans) == Decision("clarify", ["mortgage_registration", "provident_fund_loan"])
    unsupported = Topical({"provident_fund_loan": 2.0}, ["provident_fund_loan", "financing"], {})
    assert decide(sure, support=unsupported) == Decision("clarify", ["provident_fund_loan", "financing"])


def test_a_question_that_is_an_item_s_name_goes_to_the_bundles_holding_it_never_to_the_fallback():
    """公章刻制及备案怎么办 (issue 11, req 2): the one bundle holding the item; of several, the one the classifier is sure
    of, else asked back among them in the classifier's order; whatever the classifier made of the words."""
    one = Topical({}, [], {}, item_holders=["company_setup"])
    for ranking in ((("out_of_scope", 0.99),), (("nlu_fallback", 0.5), ("bundle_car_wash", 0.2)),
                    (("bundle_gym", 0.97),)):
        assert decide(parse(*ranking), support=one) == Decision("bundle", ["company_setup"])
    several = Topical({}, [], {}, item_holders=["cinema", "gym", "completion_acceptance", "hotel"])
    assert decide(parse(("bundle_completion_acceptance", 0.95), ("bundle_gym", 0.02)), support=several) == \
        Decision("bundle", ["completion_acceptance"])
    assert decide(parse(("bundle_completion_acceptance", 0.6), ("bundle_gym", 0.2), ("bundle_hotel", 0.1)),
                  support=several) == Decision("clarify", ["completion_acceptance", "gym"])
    assert decide(parse(("out_of_scope", 0.99), ("bundle_hotel", 0.01)), support=several) == \
        Decision("clarify", ["hotel", "cinema"])


def test_a_question_asked_as_a_customer_gets_no_bundle_for_opening_a_business():
    """电影院有没有学生票优惠: the cinema bundle is for opening one; neither answered nor asked about. A bundle that is not
    for opening a business, or a question back that also offers one, stays as decided."""
    customer = Topical({"cinema": 15.1}, [], {"cinema": 15.1}, as_customer={"cinema", "gym", "hotel"})
    assert decide(parse(("bundle_cinema", 0.95)), support=customer) == Decision("fallback")
    assert decide(parse(("out_of_scope", 1.0), ("bundle_cinema", 0.0)), support=customer) == Decision("fallback")
    assert decide(parse(("nlu_fallback", 0.5), ("bundle_cinema", 0.3), ("bundle_gym", 0.2)),
                  support=Topical({"cinema": 6.0, "gym": 5.0}, [], {}, as_customer={"cinema", "gym"})) == Decision("fallback")
    assert decide(parse(("bundle_newborn", 0.95)), support=customer) == Decision("bundle", ["newborn"])
    mixed = Topical({"cinema": 6.0, "newborn": 5.0}, [], {}, as_customer={"cinema"})
    assert decide(parse(("nlu_fallback", 0.5), ("bundle_cinema", 0.3), ("bundle_newborn", 0.2)), support=mixed) == \
        Decision("clarify", ["cinema", "newborn"])
    assert decide(parse(("bundle_cinema", 0.95)), support=Topical({"cinema": 15.1}, [], {})) == Decision("bundle", ["cinema"])


def test_a_question_about_what_a_bundle_does_not_cover_gets_no_answer_or_question_back_with_it():
    """二手车过户要带什么 (the catalogue's exclusions: 二手车 is no 二手房): neither answered nor asked about; a question back
    with another bundle too keeps both."""
    car = Topical({"second_hand_house": 6.0}, [], {}, excluded={"second_hand_house"})
    assert decide(parse(("bundle_second_hand_house", 0.9)), support=car) == Decision("fallback")
    assert decide(parse(("nlu_fallback", 0.5), ("bundle_second_hand_house", 0.4), ("bundle_utilities_transfer", 0.3)),
                  support=Topical({"second_hand_house": 6.0, "utilities_transfer": 5.0}, [], {},
                                  excluded={"second_hand_house"})) == \
        Decision("clarify", ["second_hand_house", "utilities_transfer"])
    assert decide(parse(("bundle_newborn", 0.9)), support=car) == Decision("bundle", ["newborn"])


def test_an_unsure_best_is_asked_about_when_the_text_s_words_point_elsewhere():
    """想把公司关掉免得每年还要报税报年报: the classifier's best (0.41) is asked about although 年报 points at another
    bundle; a best below UNSUPPORTED_BEST still falls back."""
    unsure = parse(("nlu_fallback", 0.5), ("bundle_deregistration", 0.41), ("bundle_company_setup", 0.09))
    elsewhere = {"credit_repair": 4.0, "childcare_subsidy": 4.0}
    assert decide(unsure, support=elsewhere) == Decision("clarify", ["deregistration"])
    assert decide(unsure, support=elsewhere).rule == "unsure_best"  # what the console's test bench explains
    faint = parse(("nlu_fallback", 0.5), ("bundle_deregistration", 0.25), ("bundle_company_setup", 0.09))
    assert decide(faint, support=elsewhere) == Decision("fallback")
    # out of scope ranked first is not overruled by a bundle ranked second
    assert decide(parse(("nlu_fallback", 0.5), ("out_of_scope", 0.45), ("bundle_deregistration", 0.4)),
                  support=elsewhere) == Decision("fallback")


def test_the_rules_of_an_unsure_classifier_name_themselves_and_the_name_is_no_part_of_the_decision():
    """Decision.rule tells the console which rule of _unsure decided (UNSURE_RULES); two decisions that differ only in it
    are the same decision."""
    strong = {"disability": 20.0, "clinic": 2.0}
    lone = parse(("nlu_fallback", 0.5), ("bundle_disability", 0.3), ("bundle_clinic", 0.05))
    assert decide(lone, support={"disability": 2.0, "clinic": 2.5}).rule == "lone_candidate"
    named = decide(parse(("out_of_scope", 0.99), ("bundle_disability", 0.01)), support=strong)
    assert named == Decision("clarify", ["disability"]) and named.rule == "text_points"
    leads = decide(parse(("nlu_fallback", 0.5), ("bundle_disability", 0.45), ("bundle_clinic", 0.3)), support=strong)
    assert leads == Decision("bundle", ["disability"]) and leads.rule == "text_leads"
    assert {d.rule for d in (named, leads)} <= set(UNSURE_RULES)
    assert Decision("bundle", ["gym"], rule="named") == Decision("bundle", ["gym"])
