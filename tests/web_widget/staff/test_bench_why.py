from assistant.decision import UNSURE_RULES, Decision, decide
from assistant.intents import NLU_FALLBACK
from web_widget.staff.bench import UNSURE_WHY, _why


def test_every_rule_of_an_unsure_classifier_is_explained_in_words():
    assert set(UNSURE_WHY) == set(UNSURE_RULES)


def test_the_bench_says_an_unsure_best_was_asked_about_though_the_text_pointed_elsewhere(console_app):
    """The case session 16's rule added (想把公司关掉免得每年还要报税报年报): the explanation names that rule, not the
    lone-candidate threshold."""
    parse = {"intent": {"name": NLU_FALLBACK, "confidence": 0.5},
             "intent_ranking": [{"name": NLU_FALLBACK, "confidence": 0.5},
                                {"name": "bundle_deregistration", "confidence": 0.41},
                                {"name": "bundle_company_setup", "confidence": 0.09}]}
    decision = decide(parse, support={"credit_repair": 4.0, "childcare_subsidy": 4.0})
    assert decision == Decision("clarify", ["deregistration"])
    with console_app().app_context():  # the fallback thresholds come from the app's bot/config.yml
        why = _why(decision.kind, NLU_FALLBACK, [], decision.bundles, rule=decision.rule)
        general = _why("clarify", NLU_FALLBACK, [], ["deregistration"])
    assert "没有把握" in why and "指向别的事" in why and "0.3" in why
    assert "候选拿来反问" in general  # a decision made without one of those rules keeps the general explanation
