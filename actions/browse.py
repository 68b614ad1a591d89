"""Browsing bundles by family and life stage."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from catalogue import browse
from chattext import normalize

from . import catalogue_access, conversation, replies

FAMILY_STAGES = {"人生服务": browse.taxonomy()["personal_stages"], "企业开办": browse.taxonomy()["enterprise_stages"]}


def _named(text: str, options: tuple[str, ...]) -> str | None:
    return next((option for option in options if option in text), None)


class ActionBrowse(Action):
    """Families, then stages, then the bundles of one stage or family, as buttons."""

    def name(self) -> str:
        return "action_browse"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        text = normalize(tracker.latest_message.get("text") or "")
        taxonomy = browse.taxonomy()
        stages = taxonomy["personal_stages"] + taxonomy["enterprise_stages"]
        stage = conversation.entity(tracker, "stage") or _named(text, stages)
        family = conversation.entity(tracker, "family") or _named(text, taxonomy["families"])
        if stage in stages:
            bundles = await catalogue_access.call(tracker.sender_id, browse.bundle_list, None, stage)
            text = (f"“{stage}”阶段可以办的“一件事”，点一下查看清单：" if bundles
                    else f"“{stage}”阶段暂时还没有收录“一件事”，可以拨打12345咨询。")
            dispatcher.utter_message(**replies.choices(text, [(b["slug"], b["name"]) for b in bundles],
                                                       "choose_bundle", "bundle"))
        elif family in FAMILY_STAGES:
            dispatcher.utter_message(**replies.choices(f"“{family}”按阶段分类，请选一个：",
                                                       [(s, s) for s in FAMILY_STAGES[family]], "browse", "stage"))
        elif family in taxonomy["families"]:
            bundles = await catalogue_access.call(tracker.sender_id, browse.bundle_list, family, None)
            dispatcher.utter_message(**replies.choices(f"“{family}”类可以办的“一件事”，点一下查看清单：",
                                                       [(b["slug"], b["name"]) for b in bundles],
                                                       "choose_bundle", "bundle"))
        else:
            dispatcher.utter_message(**replies.choices("请选择您要办的事属于哪一类：",
                                                       [(f, f) for f in taxonomy["families"]], "browse", "family"))
        return []


class ActionAskShopType(Action):
    """开店 with no kind named: ask back with the shop bundles (行业准入) as buttons."""

    def name(self) -> str:
        return "action_ask_shop_type"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        return await conversation.clarify(dispatcher, tracker,
                                          await catalogue_access.call(tracker.sender_id, browse.shop_kinds))
