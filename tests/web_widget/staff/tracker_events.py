"""A tracker store for tests: Rasa 3.6 SQLTrackerStore's `events` table (schema copied from build/rasa.db)
holding events shaped exactly as Rasa writes them (copied from real conversations), for the mini catalogue,
and the summary tables kept as each event is stored, as rasa_ext/tracker_store.py keeps them.

Conversations (Beijing time; 2026-11-02 is a Monday):
  aaaa  11-02 09:00  想开个小店 → shop checklist and a question; clicks an answer → shop checklist again
  bbbb  11-02 10:00  想开个洗车店 → fallback; 开洗车铺子要办啥 → fallback
  cccc  11-03 11:00  娃儿的事咋弄 → asks back (baby, shop); clicks baby → baby checklist
  dddd  11-10 09:00  护照怎么办 (out_of_scope) → fallback; 你好 → greeting
  eeee  11-10 15:00  上户口要啥 (55%) → baby checklist; 开店还是上户口 → asks back; clicks 都不是 → fallback
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from yishi import summaries

SCHEMA = """CREATE TABLE events (
	id INTEGER NOT NULL,
	sender_id VARCHAR(255) NOT NULL,
	type_name VARCHAR(255) NOT NULL,
	timestamp FLOAT,
	intent_name VARCHAR(255),
	action_name VARCHAR(255),
	data TEXT,
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_sender_id ON events (sender_id);"""

BEIJING = timezone(timedelta(hours=8))
META = {"model_id": "7a668025a2bd4599b79d887e37fb2482", "assistant_id": "yishi"}
SENDERS = {name: name * 8 for name in ("aaaa", "bbbb", "cccc", "dddd", "eeee")}


def at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=BEIJING).timestamp()


class Tracker:
    """Writes events as SQLTrackerStore does: one row per event, the event as JSON (ASCII-escaped) in data."""

    def __init__(self, path: Path, journal: str = "wal"):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute(f"pragma journal_mode={journal}")
        if not self.db.execute("select 1 from sqlite_master where name = 'events'").fetchone():
            self.db.executescript(SCHEMA)
        self.summaries = summaries.DbApi(self.db)
        summaries.create(self.summaries)
        if not summaries.is_current(self.summaries):
            summaries.rebuild(self.summaries, self.db.execute("select sender_id, data from events order by sender_id, id"),
                              json.loads)
        self.clock = 0.0
        self.ids = self.db.execute("select coalesce(max(id), 0) from events").fetchone()[0]

    def _write(self, sender: str, event: dict, intent: str | None = None, action: str | None = None) -> int:
        self.clock += 0.2
        event = {"event": event.pop("event"), "timestamp": self.clock, "metadata": META, **event}
        self.ids += 1
        self.db.execute("insert into events values (?, ?, ?, ?, ?, ?, ?)",
                        (self.ids, sender, event["event"], self.clock, intent, action, json.dumps(event)))
        summaries.record(self.summaries, sender, [event])
        return self.ids

    def start(self, sender: str, when: float) -> None:
        self.clock = when
        self.action(sender, "action_session_start", None)
        self._write(sender, {"event": "session_started"})
        self.action(sender, "action_listen", None)

    def action(self, sender: str, name: str, policy: str | None = "RulePolicy") -> None:
        self._write(sender, {"event": "action", "name": name, "policy": policy, "confidence": 1.0,
                             "action_text": None, "hide_rule_turn": policy is not None}, action=name)

    def user(self, sender: str, text: str, ranking: list[tuple[str, float]], fallback: bool = False,
             entities: list[dict] | None = None) -> int:
        ranked = [{"name": name, "confidence": conf} for name, conf in ranking]
        if fallback:  # what Rasa's FallbackClassifier does: nlu_fallback at the threshold, first
            ranked.insert(0, {"name": "nlu_fallback", "confidence": 0.5})
        parse = {"intent": ranked[0], "entities": entities or [], "text": text, "message_id": f"m{self.ids}",
                 "metadata": {}, "text_tokens": [[0, len(text)]], "intent_ranking": ranked}
        return self._write(sender, {"event": "user", "text": text, "parse_data": parse, "input_channel": "rest",
                                    "message_id": f"m{self.ids}"}, intent=ranked[0]["name"])

    def click(self, sender: str, intent: str, **entities: str) -> int:
        text = f"/{intent}" + (json.dumps(entities, separators=(",", ":")) if entities else "")
        found = [{"entity": k, "start": 0, "end": 0, "value": v} for k, v in entities.items()]
        return self.user(sender, text, [(intent, 1.0)], entities=found)

    def bot(self, sender: str, text: str, custom: dict | None = None, buttons: list | None = None) -> None:
        self._write(sender, {"event": "bot", "text": text, "data": {
            "elements": None, "quick_replies": None, "buttons": buttons, "attachment": None, "image": None,
            "custom": custom}})

    def slot(self, sender: str, name: str, value) -> None:
        self._write(sender, {"event": "slot", "name": name, "value": value}, action=name)

    def checklist(self, sender: str, slug: str, name: str) -> None:
        """A bundle answer: the long checklist text and payload, then the slots."""
        checklist = {"slug": slug, "name": name, "items": [{"name": "设立登记"}] * 40, "materials": []}
        self.action(sender, "action_show_bundle")
        self.bot(sender, f"【{name}】\n包含事项：\n  · 设立登记\n需要准备的材料：\n  □ 身份证\n本清单仅供参考，以窗口最新要求为准",
                 {"type": "bundle", "bundle": slug, "checklist": checklist})
        self.slot(sender, "bundle", slug)
        self.slot(sender, "answers", {})

    def fallback(self, sender: str) -> None:
        self.action(sender, "action_resolve_unsure")
        self.bot(sender, "抱歉，这个问题不属于“一事一次办”的“一件事”，我没法给您准确的办事清单。", {"type": "fallback"},
                 [{"title": "个人办事（按人生阶段）", "payload": '/browse{"family":"人生服务"}'}])

    def clarify(self, sender: str, options: list[tuple[str, str]]) -> None:
        self.action(sender, "action_resolve_unsure")
        self.bot(sender, "我不太确定您说的是哪一件事，是下面哪一个？",
                 {"type": "clarify", "options": [{"bundle": s, "name": n} for s, n in options]})

    def close(self) -> None:
        self.db.close()


def build(path: Path, journal: str = "wal") -> dict[str, int]:
    """The five conversations above; returns the event ids of some user messages by name."""
    t, s, ids = Tracker(path, journal), SENDERS, {}
    t.start(s["aaaa"], at(2, 9))
    ids["xiaodian"] = t.user(s["aaaa"], "想开个小店", [("bundle_shop", 0.93), ("bundle_baby", 0.03)])
    t.checklist(s["aaaa"], "shop", "我要开小店")
    t.bot(s["aaaa"], "为了让清单更准确，请问：面积多大？",
          {"type": "question", "bundle": "shop", "question": "size",
           "options": [{"value": "small", "label": "小"}, {"value": "large", "label": "大"}]})
    ids["answer"] = t.click(s["aaaa"], "answer_question", question="size", value="small")
    t.checklist(s["aaaa"], "shop", "我要开小店")

    t.start(s["bbbb"], at(2, 10))
    ids["xiche"] = t.user(s["bbbb"], "想开个洗车店", [("bundle_shop", 0.31), ("out_of_scope", 0.2)], fallback=True)
    t.fallback(s["bbbb"])
    ids["xiche2"] = t.user(s["bbbb"], "开洗车铺子要办啥", [("out_of_scope", 0.45), ("bundle_shop", 0.4)], fallback=True)
    t.fallback(s["bbbb"])

    t.start(s["cccc"], at(3, 11))
    ids["waer"] = t.user(s["cccc"], "娃儿的事咋弄", [("bundle_baby", 0.42), ("bundle_shop", 0.35)], fallback=True)
    t.clarify(s["cccc"], [("baby", "宝宝登记一件事"), ("shop", "我要开小店")])
    t.click(s["cccc"], "choose_bundle", bundle="baby")
    t.checklist(s["cccc"], "baby", "宝宝登记一件事")

    t.start(s["dddd"], at(10, 9))
    ids["huzhao"] = t.user(s["dddd"], "护照怎么办", [("out_of_scope", 0.88), ("bundle_baby", 0.05)])
    t.fallback(s["dddd"])
    t.user(s["dddd"], "你好", [("greet", 0.99)])
    t.action(s["dddd"], "utter_greet")
    t.bot(s["dddd"], "您好！我是“一事”智能助手。")

    t.start(s["eeee"], at(10, 15))
    ids["hukou"] = t.user(s["eeee"], "上户口要啥", [("bundle_baby", 0.55), ("bundle_shop", 0.2)])
    t.checklist(s["eeee"], "baby", "宝宝登记一件事")
    ids["both"] = t.user(s["eeee"], "开店还是上户口", [("bundle_shop", 0.4), ("bundle_baby", 0.38)], fallback=True)
    t.clarify(s["eeee"], [("shop", "我要开小店"), ("baby", "宝宝登记一件事")])
    t.click(s["eeee"], "none_of_these")
    t.fallback(s["eeee"])
    t.close()
    return ids
