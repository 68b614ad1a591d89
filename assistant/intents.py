"""The names the bot uses: one intent per bundle, Rasa's own fallback intents, the follow-up topics."""

from __future__ import annotations

BUNDLE_PREFIX = "bundle_"
SHOW_BUNDLE_ACTION = "action_show_bundle"
OUT_OF_SCOPE = "out_of_scope"
NLU_FALLBACK = "nlu_fallback"
# Follow-up questions about the bundle in context (actions/topics.py answers each one).
TOPIC_INTENTS = ("ask_materials", "ask_duration", "ask_location", "ask_online", "ask_fee", "ask_mechanism",
                 "ask_agent", "ask_departments")


def intent_name(slug: str) -> str:
    """The intent of a bundle: newborn → bundle_newborn."""
    return BUNDLE_PREFIX + slug


def slug_of(intent: str | None) -> str | None:
    """The bundle slug of a bundle intent, else None."""
    return intent[len(BUNDLE_PREFIX):] if intent and intent.startswith(BUNDLE_PREFIX) else None
