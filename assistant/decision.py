"""What Yishi makes of one parsed message: a bundle, a question back, or honestly nothing.

Pure functions over Rasa's parse data, shared by the actions, the console's test bench and `make eval`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from .intents import NLU_FALLBACK, OUT_OF_SCOPE, intent_name, slug_of

# When the classifier is unsure, a bundle intent this confident is a candidate worth offering, and
# a lone candidate this confident is asked about ("您是想办X吗？"). Kept low on purpose: a wrong
# candidate costs the citizen one click on 都不是, a wrong "not covered" sends them away.
CANDIDATE_CONFIDENCE = 0.08
LONE_CANDIDATE_CONFIDENCE = 0.2
# At most this many bundles are offered when Yishi guesses (a topic's bundles, the classifier's close candidates); the
# bundles a citizen named word for word are all offered, up to MAX_NAMED. Two rather than three guesses: on the seen
# sets (held-out + blind rounds 1-9, same parses) the vague questions asked back keep a right bundle among the offers
# as often (46.3 %) and every offer was relevant 64.2 -> 75.7 %; of 165 bundle questions asked back, 157 instead of
# 158 still offer the right one. Measured once on the blind tenth round: relevant 60.9 -> 69.6 %, asked back 39.6 %
# both ways, 29 instead of 30 of 32 bundle questions asked back offer the right one. Those parses came from a model
# that could not be trained again; with the one a clean checkout trains (make eval, same parses both ways) relevant
# went 68.4 -> 84.2 % (held-out), 60.7 -> 70.0 % (blind, all rounds), 50.0 -> 59.1 % (tenth round); nothing else moved.
MAX_CANDIDATES = 2
MAX_NAMED = 3
# out of scope this sure is not overruled by a bundle's name in the text (健身房 in 哪家健身房办卡划算); words that
# point strongly at one bundle may still ask "您是想办X吗？". Measured on both held-out sets with the same parses
# (ops.evaluate --reuse-parses): 14 wrong checklists for uncovered questions fewer, 2 bundle questions fall back
SURE_OUT_OF_SCOPE = 0.97
# The text's own words (catalogue.retrieval) settle what the classifier left open when they point at one
# bundle clearly: SUPPORT_LEAD times more than at any other. Then the classifier's unsure best, if it is
# that bundle and at least SUPPORTED_CONFIDENCE, is answered; and a question the classifier would turn
# away is asked about ("您是想办X吗？") when its words point at one bundle at least NAMED_SUPPORT strongly
# (a catalogue word used by only one bundle weighs about 4; a typo of 残疾人证 still points at 残疾人).
SUPPORTED_CONFIDENCE = 0.3
SUPPORTED_MINIMUM = 3.0
SUPPORT_LEAD = 1.3
NAMED_SUPPORT = 12.0
NAMED_LEAD = 1.5
# The classifier's unsure best this confident is asked about ("您是想办X吗？") even when the text's words point at other
# bundles or at none clearly (想把公司关掉免得每年还要报税报年报: deregistration 0.41, its words at other bundles): a
# wrong guess costs one click on 都不是, a fallback sends the citizen away. Chosen among 0.2/0.3/0.4 on the held-out set and
# blind rounds 1-9 (same parses, the model a clean checkout trains): out-of-scope precision 87.6 -> 88.9 %, recall
# 92.8 -> 92.5 %, uncovered questions given a checklist 2.6 % both ways. Measured once on blind round 10: precision
# 79.8 -> 80.5 %, recall 92.9 % both ways, answered or asked back rightly 91.3 -> 91.6 %, relevant 59.1 % both ways.
# Over all 3,498 questions of both sets: bundle questions turned away 58 -> 50, vague ones 45 -> 42, uncovered ones
# given a checklist 20 both ways, asked about 31 -> 33.
UNSUPPORTED_BEST = 0.3
# A candidate offered back needs at least this share of the best-supported bundle's support (我爸退休了我妈又去世
# 了: 退休 and 去世 point at two bundles, 手续 faintly at many; only those two)
CANDIDATE_SUPPORT_SHARE = 0.3
# A question that names only a broad topic (户口的事, 社保咋个交: support.topics) is asked back among the
# topic's bundles, even when the classifier is sure of one, unless its other words point at that one
# at least this much (户口 alone: ask; 生娃上户口: answer).
TOPIC_SPECIFIC = 1.0
# ... unless the classifier is this sure of its choice and the question says more than the topic (娃儿刚生下来，
# 上户口和买医保咋个弄: newborn 0.94; 户口 and 医保 name topics, the catalogue has no word for 娃儿刚生). Same parses, both
# held-out sets: 7 bundle questions answered instead of asked back, no other decision changed.
TOPIC_SURE = 0.9


@dataclass
class Decision:
    """bundle: answer bundles[0]; clarify: offer bundles; fallback: nothing fits; intent: a non-bundle intent. rule: which
    rule of an unsure classifier decided (UNSURE_RULES), for the console's explanation; not part of the decision."""

    kind: str
    bundles: list[str] = field(default_factory=list)
    intent: str | None = None
    rule: str = field(default="", compare=False)


# The rules of _unsure, by the name a Decision carries (the console's test bench explains each in words)
UNSURE_RULES = ("text_leads", "named", "several_named", "candidates", "lone_candidate", "text_points", "unsure_best")


def _ranking(parse: Mapping[str, Any]) -> list[tuple[str, float]]:
    ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
    return [(r.get("name"), float(r.get("confidence") or 0.0)) for r in ranking if r.get("name")]


def decide(parse: Mapping[str, Any], spotted: Sequence[str] = (), support: Mapping[str, float] | None = None) -> Decision:
    """Decide from the parse; spotted are bundles whose names or aliases appear word for word in the text;
    support (catalogue.retrieval) the bundles the text shares words with: when given, a bundle is offered
    back only if the text supports it. A question asked as a customer of a shop or venue (电影院有没有学生票优惠)
    is not answered or asked back with bundles for opening one (support.as_customer), nor a question about what a
    bundle does not cover (二手车过户 beside 二手房: support.excluded, the catalogue's exclusions): nothing fits."""
    decision = _decide(parse, spotted, support)
    if decision.kind in ("bundle", "clarify") and set(decision.bundles) <= _kept_away(support):
        return Decision("fallback")
    return decision


def _kept_away(support: Mapping[str, float] | None) -> frozenset[str]:
    """The bundles this text must not be answered or asked back with (retrieval.Support: as_customer, excluded)."""
    return frozenset(getattr(support, "as_customer", ())) | frozenset(getattr(support, "excluded", ()))


def _decide(parse: Mapping[str, Any], spotted: Sequence[str], support: Mapping[str, float] | None) -> Decision:
    ranking = _ranking(parse)
    top = ranking[0][0] if ranking else NLU_FALLBACK
    spotted = list(spotted)
    if getattr(support, "item_holders", None):
        return _item_named(ranking, support.item_holders)
    if getattr(support, "topic_only", False):
        return _topic_named(ranking, support.topics, support.shared)
    if top not in (NLU_FALLBACK, OUT_OF_SCOPE):
        slug = slug_of(top)
        if slug is None:
            return Decision("intent", intent=top)
        if len(spotted) >= 2 and slug in spotted:
            return Decision("clarify", [slug] + [s for s in spotted if s != slug][:MAX_NAMED - 1])
        return _topic_only(ranking, slug, spotted, support) or Decision("bundle", [slug])
    return _unsure(ranking, spotted, support)


def _unsure(ranking: list[tuple[str, float]], spotted: list[str], support: Mapping[str, float] | None) -> Decision:
    """The classifier fell back: offer close candidates, take a named bundle, or say nothing fits.

    A list of candidates holds only bundles the text supports (catalogue.retrieval): no hotel offered to
    a widow. A single "您是想办X吗？" may also ask about the classifier's clear best when the text
    supports nothing else (a typo such as 残急证 shares no catalogue word with 残疾人证), and about an unsure best of at
    least UNSUPPORTED_BEST whatever the text's words point at.
    """
    others = [(name, conf) for name, conf in ranking if name != NLU_FALLBACK]
    if others and others[0][0] == OUT_OF_SCOPE and (not spotted or others[0][1] >= SURE_OUT_OF_SCOPE):
        # a bundle's name in the text does not overrule a classifier sure that this is no bundle
        return _named_by_text(support) or Decision("fallback")
    best = slug_of(others[0][0]) if others else None
    if best and not spotted and others[0][1] >= SUPPORTED_CONFIDENCE and _leads(support, best, SUPPORT_LEAD, SUPPORTED_MINIMUM):
        return Decision("bundle", [best], rule="text_leads")
    confidence = {slug: conf for name, conf in others if (slug := slug_of(name))}
    ranked = [slug for slug, conf in confidence.items() if conf >= CANDIDATE_CONFIDENCE]
    candidates = [s for s in ranked if support is None or s in spotted or _supported(support, s)]
    if len(spotted) == 1 and (not candidates or candidates[0] == spotted[0]):
        return Decision("bundle", spotted, rule="named")
    if len(spotted) >= 2:
        return Decision("clarify", spotted[:MAX_NAMED], rule="several_named")
    if len(candidates) >= 2:
        return Decision("clarify", candidates[:MAX_CANDIDATES], rule="candidates")
    lone = candidates[0] if candidates else best if best and not (support or {}) else None
    if lone and (confidence.get(lone, 0.0) >= LONE_CANDIDATE_CONFIDENCE or next(iter(support or {}), None) == lone):
        return Decision("clarify", [lone], rule="lone_candidate")  # a candidate the text also supports best is asked about
    named = _named_by_text(support)
    if named:
        return named
    if best and confidence.get(best, 0.0) >= UNSUPPORTED_BEST:
        # the text's words point elsewhere, or nowhere clearly: ask, don't turn away
        return Decision("clarify", [best], rule="unsure_best")
    return Decision("fallback")


def _topic_only(ranking: list[tuple[str, float]], slug: str, spotted: list[str],
                support: Mapping[str, float] | None) -> Decision | None:
    """Ask back among a broad topic's bundles (classifier's order) when the text names the topic and
    nothing in it points at the classifier's choice; with several topics named, among the bundles they all
    hold; a choice that is no bundle of the topic and has support from the text is offered first. support carries
    `topics`, `shared` and `specific` (catalogue.retrieval.Support)."""
    members = getattr(support, "shared", None) or getattr(support, "topics", None)
    if spotted or not members or getattr(support, "specific", {}).get(slug, 0.0) >= TOPIC_SPECIFIC:
        return None
    if ranking and ranking[0][1] >= TOPIC_SURE:
        return None
    # the classifier's choice is among them when the text supports it, even if it is no bundle of the topic
    # (房子抵押在银行贷点款: mortgage_registration; 贷款 names the topic of loans); being the classifier's first, it comes
    # first. Without support it stays out (教小娃娃画画的班: training_school, which no catalogue word of the text names)
    offered = members if slug in members or support.get(slug, 0.0) <= 0.0 else [slug, *members]
    candidates = _in_classifier_order(ranking, offered)[:MAX_CANDIDATES]
    if candidates == [slug]:  # the topics named leave only the classifier's choice: nothing to ask
        return None
    return Decision("clarify", candidates)


def _item_named(ranking: list[tuple[str, float]], holders: list[str]) -> Decision:
    """A question that is an item's name and nothing else (公章刻制及备案怎么办): the bundle holding it; of several, the
    one the classifier is sure of (TOPIC_SURE), else a question back among them in the classifier's order. Never a
    fallback: the catalogue knows where the item is (issue 11, req 2)."""
    ranked = _in_classifier_order(ranking, holders)
    top, confidence = ranking[0] if ranking else (None, 0.0)
    if len(holders) == 1 or (top == intent_name(ranked[0]) and confidence >= TOPIC_SURE):
        return Decision("bundle", ranked[:1])
    return Decision("clarify", ranked[:MAX_CANDIDATES])


def _topic_named(ranking: list[tuple[str, float]], members: list[str], shared: list[str]) -> Decision:
    """A question that is a broad topic and nothing else (公积金咋个弄, 办社保, 户口的事想问下) is asked back among
    the topic's bundles in the classifier's order, however sure the classifier is of one of them or that it is
    no bundle at all: only the citizen knows which they mean. Two topics named (创业补贴, 老人的补贴) narrow it to
    the bundles both hold; one such bundle that the classifier also ranks first is the answer."""
    ranked = _in_classifier_order(ranking, shared or members)
    top = ranking[0][0] if ranking else None
    if len(members) == 1 or (len(shared) == 1 and top == intent_name(shared[0])):
        return Decision("bundle", ranked[:1])
    return Decision("clarify", ranked[:MAX_CANDIDATES])


def _in_classifier_order(ranking: list[tuple[str, float]], slugs: list[str]) -> list[str]:
    """slugs ordered as the classifier ranked their intents (unranked ones last, in their own order)."""
    order = {name: index for index, (name, _) in enumerate(ranking)}
    return sorted(slugs, key=lambda slug: order.get(intent_name(slug), len(order)))


def _supported(support: Mapping[str, float], slug: str) -> bool:
    """The text supports slug, at least CANDIDATE_SUPPORT_SHARE of what it gives the best-supported bundle."""
    value = support.get(slug, 0.0)
    return value > 0.0 and value >= CANDIDATE_SUPPORT_SHARE * max(support.values(), default=0.0)


def _leads(support: Mapping[str, float] | None, slug: str, lead: float, minimum: float) -> bool:
    """The text supports slug at least `minimum` and `lead` times more than any other bundle."""
    if not support or support.get(slug, 0.0) < minimum:
        return False
    return all(value * lead <= support[slug] for other, value in support.items() if other != slug)


def _named_by_text(support: Mapping[str, float] | None) -> Decision | None:
    """Ask about the one bundle the text's words point at strongly, when the classifier saw nothing."""
    if not support:
        return None
    slug = next(iter(support))
    return Decision("clarify", [slug], rule="text_points") if _leads(support, slug, NAMED_LEAD, NAMED_SUPPORT) else None
