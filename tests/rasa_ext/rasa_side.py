"""Checks that need Rasa itself, run in a child process (pytest's own process never imports rasa).

Usage: python -m tests.rasa_ext.rasa_side <check> [argument]; prints one JSON result.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.tracker_store import WalSQLTrackerStore, in_turn
from yishi import settings

CHECKLIST = {"slug": "gym", "materials": [{"id": f"m{i}", "name": "身份证"} for i in range(50)]}


def _session(tracker: DialogueStateTracker, texts: list[str]) -> None:
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    for text in texts:
        tracker.update(UserUttered(text, {"name": "bundle_gym", "confidence": 0.9}))
        tracker.update(SlotSet("bundle", "gym"))
        tracker.update(BotUttered(f"回答：{text}", {"custom": {"type": "bundle", "bundle": "gym", "checklist": CHECKLIST}}))
        tracker.update(ActionExecuted("action_listen"))


async def _store_story(store: SQLTrackerStore) -> dict:
    """Two conversations, the first over two sessions, saved turn by turn as Rasa does."""
    first = DialogueStateTracker("first", Domain.empty().slots)
    _session(first, ["我要开健身房"])
    await store.save(first)
    _session(first, ["要多久"])
    await store.save(first)
    latest = await store.retrieve("first")
    latest.update(UserUttered("谢谢"))
    await store.save(latest)
    second = DialogueStateTracker("second", Domain.empty().slots)
    _session(second, ["想开个洗车铺子", "在哪里办"])
    await store.save(second)
    return {
        "latest": [e.as_dict() for e in (await store.retrieve("first")).events],
        "full": [e.as_dict() for e in (await store.retrieve_full_tracker("first")).events],
        "second": [e.as_dict() for e in (await store.retrieve("second")).events],
        "unknown": await store.retrieve("nobody"),
    }


def tracker_store() -> dict:
    """The same story through Rasa's SQLTrackerStore and Yishi's: what each stores and returns."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for cls in (SQLTrackerStore, WalSQLTrackerStore):
            store = cls(domain=Domain.empty(), dialect="sqlite", db=str(Path(folder) / f"{cls.__name__}.db"))
            results[cls.__name__] = asyncio.run(_store_story(store))
            with store.engine.connect() as connection:
                results[cls.__name__]["rows"] = connection.exec_driver_sql("select count(*) from events").scalar()
                results[cls.__name__]["journal"] = connection.exec_driver_sql("pragma journal_mode").scalar()
                results[cls.__name__]["busy_timeout"] = connection.exec_driver_sql("pragma busy_timeout").scalar()
            results[cls.__name__]["pool"] = type(store.engine.pool).__name__
    return results


def window_state() -> dict:
    """A session whose slots are set, reset (重新开始: AllSlotsReset) and set again, over two sessions, saved turn by
    turn into Rasa's SQLTrackerStore and Yishi's: after every turn, each slot's value in the tracker a turn reads from
    Yishi's with windows of 1 and 2 messages, and in the one Rasa's returns; each tracker's length and the type of
    its first event."""
    from rasa.shared.core.events import AllSlotsReset

    domain = Domain.from_dict({"slots": {name: {"type": "any", "mappings": [{"type": "custom"}]}
                                         for name in ("bundle", "answers", "language")}})
    # (text, slots set by the answer; None: AllSlotsReset); events are made as the turn comes (Rasa's store reads a
    # session by timestamp)
    turns = [("我要开健身房", {"bundle": "gym", "language": "zh"}), ("/answer", {"answers": "a"}), ("谢谢", {}),
             ("重新开始", None), ("你好", {}), ("要多久", {}), ("想开个洗车铺子", {"bundle": "car_wash"}), ("再见", {}),
             ("NEW SESSION", {}), ("要多久", {}), ("重新开始", None), ("退休了要办什么", {"bundle": "retirement"}),
             ("谢谢", {}), ("你好", {})]
    found: dict = {"rasa": [], "1": [], "2": [], "heads": {"1": [], "2": []}, "lengths": {"rasa": [], "1": [], "2": []}}

    async def run(folder: str) -> None:
        stores = {"rasa": SQLTrackerStore(domain=domain, dialect="sqlite", db=str(Path(folder) / "rasa.db")),
                  "1": WalSQLTrackerStore(domain=domain, dialect="sqlite", db=str(Path(folder) / "one.db"), window=1),
                  "2": WalSQLTrackerStore(domain=domain, dialect="sqlite", db=str(Path(folder) / "two.db"), window=2)}
        for name, store in stores.items():
            tracker = DialogueStateTracker("state", domain.slots)
            for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
                tracker.update(event)
            for text, slots in turns:
                if text == "NEW SESSION":
                    for event in [ActionExecuted("action_session_start"), SessionStarted(),
                                  *[SlotSet(k, v) for k, v in tracker.current_slot_values().items() if v is not None],
                                  ActionExecuted("action_listen")]:
                        tracker.update(event)
                    continue
                tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
                tracker.update(ActionExecuted("action_answer"))
                for event in [AllSlotsReset()] if slots is None else [SlotSet(k, v) for k, v in slots.items()]:
                    tracker.update(event)
                tracker.update(BotUttered(f"回答：{text}"))
                tracker.update(ActionExecuted("action_listen"))
                await store.save(tracker)
                token = in_turn.set(True)
                try:
                    read = await store.retrieve("state")
                finally:
                    in_turn.reset(token)
                found[name].append(read.current_slot_values())
                found["lengths"][name].append(len(read.events))
                if name != "rasa":
                    found["heads"][name].append(list(read.events)[0].type_name)
                tracker = read

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(folder))
    return found


def action_call() -> dict:
    """What the action server receives for a conversation with two earlier bundle answers."""
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    from rasa_ext import speedups

    tracker = DialogueStateTracker("someone", Domain.empty().slots)
    _session(tracker, ["我要开健身房", "想开个洗车铺子"])
    action = RemoteAction("action_follow_up", EndpointConfig("http://127.0.0.1:1"))
    before = action._action_call_format(tracker, Domain.empty())
    speedups.install()
    after = action._action_call_format(tracker, Domain.empty())
    return {"before": before["tracker"]["events"], "after": after["tracker"]["events"],
            "tracker_keeps": [e.data for e in tracker.events if isinstance(e, BotUttered)]}


def event_types() -> dict:
    """Event.resolve_by_type for every event type name, an unknown one and the legacy "topic", as Rasa
    answers and as with the speedup installed; and a conversation deserialised both ways."""
    from rasa.shared.core.events import Event, deserialise_events
    from rasa.shared.utils.common import all_subclasses

    from rasa_ext import speedups

    names = sorted({cls.type_name for cls in all_subclasses(Event)}) + ["topic", "no_such_event"]

    def answers() -> list:
        return [getattr(Event.resolve_by_type(n, default=BotUttered), "__name__", None) for n in names]

    tracker = DialogueStateTracker("someone", Domain.empty().slots)
    _session(tracker, ["我要开健身房", "想开个洗车铺子"])
    stored = [e.as_dict() for e in tracker.events]
    before, events_before = answers(), [e.as_dict() for e in deserialise_events(stored)]
    speedups.install()
    after, events_after = answers(), [e.as_dict() for e in deserialise_events(stored)]
    return {"names": names, "before": before, "after": after, "events_before": events_before,
            "events_after": events_after}


def nlu_examples(path: str) -> list:
    """The (intent, text) pairs Rasa's own YAML reader finds in an NLU file."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().read(path)
    return sorted([m.get("intent"), m.get("text")] for m in data.training_examples)


BUTTON = "<the first button of the latest reply>"
EXPIRED = "<the session expired before this message> "
# 60 messages as citizens write them, with their button presses: two runs of five buttons after an English message
# (the actions then look back for the latest typed text), 重新开始 (AllSlotsReset) and a session that expires.
LONG_CONVERSATION = [
    "你好", "我要开健身房", BUTTON, BUTTON, "要带什么材料", "要多久", "在哪里办", "想开个洗车铺子", BUTTON, "能网上办吗",
    "I want to open a gym", BUTTON, BUTTON, BUTTON, BUTTON, BUTTON, "谢谢", "明天会下雨吗", "你是机器人吗", "开个店",
    BUTTON, "娃儿刚出生要办啥子", BUTTON, BUTTON, "要交钱吗", "重新开始", "要多久", "二手房过户", BUTTON, "是的",
    "不是", EXPIRED + "想开个餐馆", BUTTON, BUTTON, "需要哪些部门", "可以找人代办吗", "how do I open a restaurant", BUTTON,
    BUTTON, BUTTON, BUTTON, BUTTON, "谢谢", "退休了要办什么", BUTTON, "老人有什么补贴", "要带什么材料", "开个药店",
    BUTTON, BUTTON, "在哪里办", "我想找人工", "想开个超市", BUTTON, BUTTON, "要多久", "再见", "开公司", BUTTON, "谢谢",
]


class RecordingStore(WalSQLTrackerStore):
    """Yishi's tracker store, noting for every tracker a turn reads the number of its events and of the events
    stored for its session."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.turns: list[list[int]] = []

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool):
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions and in_turn.get():
            with self.session_scope() as session:
                stored = self._event_query(session, sender_id, False).count()
            self.turns.append([len(tracker.events), stored])
        return tracker


def _action_server() -> tuple:
    """The real action server on a free loopback port, as the test stack starts it."""
    import subprocess

    from ops import stack

    port = stack.free_port()
    env = {**os.environ, "SANIC_HOST": "127.0.0.1"}
    process = subprocess.Popen(stack.actions_command(port), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    stack._wait(f"http://127.0.0.1:{port}/health", 120, [process])
    return process, f"http://127.0.0.1:{port}/webhook"


def long_conversation(model: str = "") -> dict:
    """LONG_CONVERSATION through the trained model and the real action server, turn by turn, into three tracker
    stores in turn: Rasa's SQLTrackerStore, Yishi's with its default window and Yishi's with a one-turn window.
    Each store's replies, stored rows, full-history and session reads, and the windows the turns read."""
    import logging

    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.domain import SessionConfig
    from rasa.shared.core.trackers import EventVerbosity
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    from rasa_ext import speedups
    from rasa_ext import tracker_store as yishi_store

    logging.disable(logging.INFO)
    configure_structlog(logging.WARNING)
    speedups.install()
    yishi_store.install()
    sender = "long-conversation"
    process, actions = _action_server()
    try:
        with tempfile.TemporaryDirectory() as folder:
            stores = {"rasa": SQLTrackerStore(dialect="sqlite", db=str(Path(folder) / "rasa.db")),
                      "default": RecordingStore(dialect="sqlite", db=str(Path(folder) / "default.db")),
                      "one": RecordingStore(dialect="sqlite", db=str(Path(folder) / "one.db"), window=1)}
            agent = Agent.load(model or str(settings.path("YISHI_MODEL")), tracker_store=stores["rasa"],
                               action_endpoint=EndpointConfig(actions))
            domain = agent.processor.domain
            wrapped = {}
            for name, store in stores.items():
                store.domain = domain
                wrapped[name] = FailSafeTrackerStore(store)
            replies: dict = {name: [] for name in stores}
            sent = []

            async def converse() -> None:
                for number, step in enumerate(LONG_CONVERSATION):
                    text = step.removeprefix(EXPIRED)
                    if step == BUTTON:
                        buttons = [b for m in replies["rasa"][-1] for b in m.get("buttons") or []]
                        text = buttons[0]["payload"] if buttons else "/greet"
                    sent.append(text)
                    session_config = domain.session_config
                    if step.startswith(EXPIRED):
                        await asyncio.sleep(0.01)
                        domain.session_config = SessionConfig(0.0001, session_config.carry_over_slots)  # 6 ms
                    for name in stores:
                        agent.tracker_store = agent.processor.tracker_store = wrapped[name]
                        replies[name].append(await agent.handle_message(
                            UserMessage(text, CollectingOutputChannel(), sender, message_id=f"message-{number}")))
                    domain.session_config = session_config

            asyncio.run(converse())

            async def reads(store: SQLTrackerStore) -> dict:
                full, latest = await store.retrieve_full_tracker(sender), await store.retrieve(sender)
                return {"full": full.current_state(EventVerbosity.ALL), "session": [e.as_dict() for e in latest.events],
                        "session_slots": latest.current_slot_values()}

            results = {"sent": sent, "replies": replies, "rows": {}, "reads": {}, "turns": {},
                       "windows": {name: store.window for name, store in stores.items() if name != "rasa"}}
            for name, store in stores.items():
                with store.engine.connect() as connection:
                    results["rows"][name] = [list(row) for row in connection.exec_driver_sql(
                        "select type_name, intent_name, action_name, data from events where sender_id = ? order by id",
                        (sender,))]
                results["reads"][name] = asyncio.run(reads(store))
                results["turns"][name] = getattr(store, "turns", [])
            return results
    finally:
        process.terminate()
        process.wait(timeout=20)


def _evaluation_texts(count: int) -> list:
    from assistant.evaluation import load_cases

    texts = [case["text"] for case in load_cases(settings.path("YISHI_EVAL_CASES"))]
    return texts[::max(1, len(texts) // count)][:count]


def model_answers(mode: str) -> dict:
    """What the trained model answers with Rasa as it ships ("plain") or with rasa_ext.speedups ("patched"):
    the parse of evaluation texts (every intent's confidence), and LONG_CONVERSATION through the real action
    server: every reply and every stored event (each action with its policy and confidence). Patched, also
    RulePolicy's possible rule keys for every state the conversation passed through and for each rule's own
    states (and loosened copies of them), from Rasa's own _get_possible_keys and from the patched one; the action
    server's responses and corrupted copies of them judged by the whole schema and by the quicker check; which
    speedups took effect, and whether copies for debug logs are made only while those logs are on."""
    import logging

    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    from rasa_ext import speedups

    logging.disable(logging.INFO)
    configure_structlog(logging.WARNING)
    if mode == "patched":
        speedups.install()
    process, actions = _action_server()
    try:
        agent = Agent.load(str(settings.path("YISHI_MODEL")), action_endpoint=EndpointConfig(actions))
        policy = next(node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                      if isinstance(node._component, RulePolicy))
        domain = agent.processor.domain
        seen_states: list = []
        action_results: list = []
        if mode == "patched":
            predict = RulePolicy._predict
            validate = RemoteAction._validate_action_result

            def keeping(self, result):
                action_results.append(copy.deepcopy(result))
                return validate(self, result)

            RemoteAction._validate_action_result = keeping

            def noting(self, tracker, domain_):
                seen_states.append(self._prediction_states(tracker, domain_, False, self._get_rule_only_data()))
                return predict(self, tracker, domain_)

            RulePolicy._predict = noting

        async def run() -> dict:
            parses = []
            for text in _evaluation_texts(300):
                parsed = await agent.parse_message(text)
                parses.append([parsed["intent"], parsed["intent_ranking"]])
            replies, sender = [], "speedups"
            for step in LONG_CONVERSATION:
                text = step.removeprefix(EXPIRED)
                if step == BUTTON:
                    buttons = [b for m in replies[-1] for b in m.get("buttons") or []]
                    text = buttons[0]["payload"] if buttons else "/greet"
                replies.append(await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender)))
            tracker = await agent.tracker_store.retrieve_full_tracker(sender)
            events = [without_time(event.as_dict()) for event in tracker.events]
            if mode == "patched":
                await speedups.close_sessions()
            return {"parses": parses, "replies": replies, "events": events,
                    "is_empty": [domain.is_empty(), Domain.empty().is_empty()]}

        found = asyncio.run(run())
        if mode == "patched":
            checked = differing = 0
            lookups = [lookup for lookup in policy.lookup.values() if isinstance(lookup, dict) and lookup]
            rule_states = [policy._rule_key_to_state(key) for lookup in lookups for key in lookup]
            lookups.append(_rule_variants(rule_states))  # kinds of rule this model lacks, for the index's other paths
            rule_states += [json.loads(key) for key in lookups[-1]]
            for states in [*seen_states, *rule_states, *[states[:-1] for states in rule_states]]:
                for cut in range(len(states) + 1):
                    for lookup in lookups:
                        checked += 1
                        differing += speedups._rasa_get_possible_keys(policy, lookup, states[:cut]) \
                            != speedups._get_possible_keys(policy, lookup, states[:cut])
            from rasa.nlu.classifiers.diet_classifier import DIETClassifier

            # a DIET of the pipeline, or a member of rasa_ext.ensemble's averaged DIETs
            diets = [diet for node in agent.processor.graph_runner._instantiated_nodes.values()
                     for diet in getattr(node._component, "members", None) or [node._component]
                     if isinstance(diet, DIETClassifier)]
            found["installed"] = {"concrete_function": all("_yishi_concrete" in diet.model.__dict__ for diet in diets),
                                  "diets": len(diets),
                                  "graph_orders": len(agent.processor.graph_runner.__dict__.get("_yishi_orders", {})),
                                  "rule_indexes": len(policy.__dict__.get("_yishi_rule_indexes", {})),
                                  "debug_copies": _debug_copies(), "sparse_features_joined": dict(speedups.combined),
                                  "count_features": dict(speedups.counted),
                                  "action_sessions": dict(speedups.sessions_made)}
            found["action_results"] = _validity_both_ways(action_results)
            found["count_features"] = _count_features_both_ways(agent, _evaluation_texts(300))
            found["rule_keys"] = {"checked": checked, "differing": differing, "states": len(seen_states),
                                  "rules": len(rule_states), "domain_intents": len(domain.intents)}
        return found
    finally:
        process.terminate()
        process.wait(timeout=20)


def _debug_copies() -> list:
    """Whether rasa.core.processor's deepcopy (for its debug logs) copies: with debug logging off, then on."""
    import logging

    import rasa.core.processor

    found, value, logger = [], [{"checklist": [1, 2]}], logging.getLogger("rasa.core.processor")
    disabled = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for level in (logging.INFO, logging.DEBUG):
        logger.setLevel(level)
        copied = rasa.core.processor.copy.deepcopy(value)
        found.append(copied is not value and copied == value)
    logger.setLevel(logging.NOTSET)
    logging.disable(disabled)
    return found


def _count_features_both_ways(agent, texts: list) -> dict:
    """Each count featurizer's sequence and sentence matrices for these texts (and a few odd ones), from Rasa's
    _create_features and from the patched one: how many were compared, and how many differ in type, shape, any of the
    COO arrays or their dtypes."""
    import numpy as np
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.nlu.tokenizers.tokenizer import Tokenizer
    from rasa.shared.nlu.training_data.message import Message

    from rasa_ext import speedups

    components = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()]
    tokenizer = next(c for c in components if isinstance(c, Tokenizer))
    featurizers = [c for c in components if isinstance(c, CountVectorsFeaturizer)]
    tokens = []
    for text in [*texts, "", "   ", "!!!", "ＡＢＣ繁體字測試", "I want to open a restaurant", "🙂" * 3, "健" * 3000]:
        message = Message({"text": text})
        tokenizer.process([message])
        tokens.append([token.text for token in message.get("text_tokens") or []])
    compared = differing = 0
    for featurizer in featurizers:
        for one in tokens:
            theirs = speedups._rasa_create_features(featurizer, "text", [one])
            ours = speedups._create_features(featurizer, "text", [one])
            for a, b in zip([*theirs[0], *theirs[1]], [*ours[0], *ours[1]], strict=True):
                compared += 1
                if a is None or b is None:
                    differing += (a is None) != (b is None)
                    continue
                differing += not (type(a) is type(b) and a.shape == b.shape and all(
                    np.array_equal(getattr(a, k), getattr(b, k)) and getattr(a, k).dtype == getattr(b, k).dtype
                    for k in ("row", "col", "data")))
    return {"featurizers": len(featurizers), "compared": compared, "differing": differing}


def _validity_both_ways(results: list) -> dict:
    """The action server's responses, and copies each with one value anywhere in it replaced by a wrong one (a
    seeded random choice), judged by the whole response schema and by speedups._is_valid."""
    import random

    from rasa_ext import speedups

    wrong = [None, 1, "x", [], {}, 1.5, True, {"event": "nonsense"}, {"event": "slot"}, {"event": "user", "text": 3},
             {"event": "bot", "text": None, "data": 5}]
    rng = random.Random(20261203)

    def places(value: object, path: tuple = ()):
        yield path
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, inner in items:
            yield from places(inner, (*path, key))

    judged, invalid, differing = 0, 0, 0
    for result in results:
        candidates = [path for path in places(result) if path]
        for copy_number in range(200):
            changed = copy.deepcopy(result)
            if copy_number:  # the first is the response itself
                path = rng.choice(candidates)
                inner = changed
                for key in path[:-1]:
                    inner = inner[key]
                inner[path[-1]] = rng.choice(wrong)
            whole = speedups._validator().is_valid(changed)
            judged, invalid = judged + 1, invalid + (not whole)
            differing += whole != speedups._is_valid(changed)
    return {"responses": len(results), "judged": judged, "invalid": invalid, "differing": differing,
            "all_valid": all(speedups._validator().is_valid(result) for result in results)}


def _rule_variants(rule_states: list) -> dict:
    """A lookup of rules made from the model's by loosening their last state: no intent, no previous action's
    name, "should not be set", no previous action at all (a conversation start), text instead of an intent."""
    from rasa.shared.core.constants import SHOULD_NOT_BE_SET

    variants = {}
    for number, states in enumerate(rule_states):
        last = states[-1]
        changed = [{**last, "user": {}}, {**last, "prev_action": {}}, {k: v for k, v in last.items() if k != "user"},
                   {**last, "prev_action": {"action_name": SHOULD_NOT_BE_SET}},
                   {**last, "user": {"intent": SHOULD_NOT_BE_SET}},
                   {**last, "user": {"text": "你好"}}]
        for kind, state in enumerate(changed):
            variants[json.dumps([*states[:-1], state], sort_keys=True)] = f"action_{number}_{kind}"
    return variants


def without_time(event: dict) -> dict:
    """An event without what differs from run to run: its time and its message's random id."""
    event = {key: value for key, value in event.items() if key not in ("timestamp", "message_id")}
    if isinstance(event.get("parse_data"), dict):
        event["parse_data"] = {key: value for key, value in event["parse_data"].items() if key != "message_id"}
    return event


ENSEMBLE_NLU = """version: "3.1"
nlu:
- intent: bundle_marriage
  examples: |
    - 我和女朋友下个月想去领证，要带户口本吗，要不要预约
    - 结婚登记在哪里办
    - 扯结婚证要带啥子
    - 领证结婚
    - we want to register our marriage
- intent: bundle_company_setup
  examples: |
    - 开公司要办哪些手续
    - 注册公司流程
    - 新公司刻章和发票能一起办吗
    - 我和同学毕业后想合伙开个做配件的小公司，地址在经开区的写字楼，不晓得先办执照还是先开户，整套要准备些啥
    - how do I register a company
- intent: out_of_scope
  examples: |
    - 今天天气怎么样
    - 燃气费在哪里交
    - 幼儿园怎么报名
    - 身份证丢了补办要好久
"""


def ensemble_training() -> dict:
    """rasa_ext.ensemble's DIETs on a small pipeline: trained at the same time (each member but the first in a spawned
    process) and one after another here; the parses of each model, and loading with a seed it lacks."""
    from rasa.api import train
    from rasa.core.agent import Agent

    texts = ["想去领证要带啥", "开个公司", "燃气费", "how to register a company", "结婚登记 预约", "随便问问"]
    found: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "nlu.yml").write_text(ENSEMBLE_NLU, encoding="utf-8")
        (folder / "domain.yml").write_text('version: "3.1"\nintents: [bundle_marriage, bundle_company_setup, out_of_scope]\n',
                                           encoding="utf-8")

        def trained(name: str, parallel: bool, seeds: str = "[7, 8]") -> str:
            (folder / f"{name}.yml").write_text(
                "recipe: default.v1\nlanguage: zh\nassistant_id: ensemble_check\npipeline:\n"
                "  - name: rasa_ext.nlu.NormalizingJiebaTokenizer\n  - name: CountVectorsFeaturizer\n"
                "  - name: CountVectorsFeaturizer\n    analyzer: char_wb\n    min_ngram: 1\n    max_ngram: 2\n"
                f"  - name: rasa_ext.ensemble.AveragedDIETClassifier\n    random_seeds: {seeds}\n    epochs: 3\n"
                f"    ranking_length: 0\n    entity_recognition: false\n    train_in_parallel: {str(parallel).lower()}\n"
                "policies: []\n", encoding="utf-8")
            result = train(str(folder / "domain.yml"), str(folder / f"{name}.yml"), [str(folder / "nlu.yml")],
                           str(folder / "models"), force_training=True, fixed_model_name=name)
            return result.model

        def parses(model: str) -> list:
            agent = Agent.load(model)
            return [[(e["name"], round(e["confidence"], 6)) for e in asyncio.run(agent.parse_message(text))["intent_ranking"]]
                    for text in texts]

        models = {name: trained(name, parallel) for name, parallel in (("parallel", True), ("sequential", False))}
        for name, model in models.items():
            found[name] = parses(model)
            with tarfile.open(model) as archive:
                found[f"{name}_members"] = sorted({Path(member).parent.name for member in archive.getnames()
                                                   if Path(member).name == "DIETClassifier.tf_model.index"})
        # the same model loaded with a config that names another seed: a clear error, not a silent untrained DIET
        from rasa.engine.graph import ExecutionContext, GraphSchema
        from rasa.engine.storage.local_model_storage import LocalModelStorage

        from rasa_ext.ensemble import AveragedDIETClassifier

        with tempfile.TemporaryDirectory() as unpacked:
            storage, metadata = LocalModelStorage.from_model_archive(Path(unpacked), Path(models["parallel"]))
            node = next(name for name in metadata.predict_schema.nodes if "AveragedDIETClassifier" in name)
            config = {**metadata.predict_schema.nodes[node].config, "random_seeds": [7, 9]}
            resource = metadata.predict_schema.nodes[node].resource
            try:
                AveragedDIETClassifier.load(config, storage, resource, ExecutionContext(GraphSchema({}), "check"))
                found["missing_seed"] = "loaded"
            except Exception as error:  # noqa: BLE001 - the check reports which error
                found["missing_seed"] = f"{type(error).__name__}: {error}"
    return found


CHECKS = {"model_answers": model_answers, "tracker_store": tracker_store, "action_call": action_call, "event_types": event_types,
          "nlu_examples": nlu_examples, "long_conversation": long_conversation,
          "window_state": window_state, "ensemble_training": ensemble_training}

if __name__ == "__main__":
    print(json.dumps(CHECKS[sys.argv[1]](*sys.argv[2:]), ensure_ascii=False))
