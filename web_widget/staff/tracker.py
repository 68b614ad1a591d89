"""Conversations as Rasa's tracker store keeps them (`events`, texts already masked, and the summary tables
rasa_ext/tracker_store.py keeps beside them), read-only, from the embedded profile's SQLite file or the city
profile's PostgreSQL database (yishi.db: `place` is a path or a URL).

Every call takes a pooled connection in autocommit mode (a SQLite file opened read-only) and returns it before
returning, so a staff member reading never holds a transaction open while Rasa writes turns. The conversation
list and the demand figures read the summary tables only; one conversation's turns are read from its events,
with the JSON fields picked out inside the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from assistant.intents import NLU_FALLBACK
from assistant.payloads import is_button_payload
from yishi import db as databases

# Longquanyi keeps Beijing time (no daylight saving): days and weeks are counted in it.
LOCAL = timezone(timedelta(hours=8))

# The console's test bench talks to the real assistant under this prefix; its conversations are
# staff testing, not citizens, so the lists and the demand figures leave them out.
BENCH_PREFIX = "staff-bench-"
CITIZENS = f"sender_id not like '{BENCH_PREFIX}%'"


class TrackerMissing(Exception):
    """No tracker store yet (Rasa has not started, or no conversation was ever held)."""


@contextmanager
def reader(place: str | Path) -> Iterator[Connection]:
    """A read-only connection, returned on exit; each query is its own short read."""
    file = databases.sqlite_file(place)
    if file is not None and not file.is_file():
        raise TrackerMissing(str(place))
    try:
        with databases.connect(place, read_only=True) as db:
            yield db
    except sa.exc.DBAPIError as exc:
        if databases.missing_table(exc):
            raise TrackerMissing(str(place)) from exc
        raise


def _rows(db: Connection, sql: str, params: dict[str, Any]) -> list[tuple]:
    return [tuple(row) for row in db.execute(sa.text(sql), params)]


EARLIEST = date(2020, 1, 1)  # before Yishi existed; also keeps every date far from datetime's limits


def bounds(start: date, end: date) -> tuple[float, float]:
    """Timestamps from the start of `start` to the end of `end` (inclusive), Beijing time."""
    return (datetime.combine(start, time(), LOCAL).timestamp(),
            datetime.combine(end + timedelta(days=1), time(), LOCAL).timestamp())


def local(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, LOCAL)


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    bundle: str | None = None
    fallback: bool = False
    low_confidence: bool = False
    ask_back: bool = False


@dataclass
class Summary:
    sender_id: str
    start: datetime
    end: datetime
    user_messages: int
    bundles: list[str]
    fallback: bool
    low_confidence: bool
    ask_back: bool

    @property
    def short(self) -> str:
        return self.sender_id[:8]


def conversations(place: str | Path, filters: Filters, low: float, limit: int, offset: int = 0) -> tuple[list[Summary], int]:
    """One page of the conversations with messages in the date range that pass the filters, latest first,
    and how many match in all. Read from the summary table kept as events are stored (yishi/summaries.py),
    through its index on the last message's time: a page costs the same over 50 or 50,000 conversations.

    low: a typed message whose best intent is less confident than this is flagged.
    """
    start, end = bounds(filters.start, filters.end)
    where = [f"last_at >= :start and first_at < :end and {CITIZENS}"]
    params: dict[str, Any] = {"start": start, "end": end, "low": low, "limit": limit, "offset": offset}
    if filters.bundle:
        where.append("bundles like :bundle escape '\\'")
        params["bundle"] = "%," + filters.bundle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ",%"
    if filters.fallback:
        where.append("fallback = 1")
    if filters.ask_back:
        where.append("clarify = 1")
    if filters.low_confidence:
        where.append("lowest < :low")
    condition = " and ".join(where)
    with reader(place) as db:
        total = _rows(db, f"select count(*) from conversation_summaries where {condition}", params)[0][0]
        rows = _rows(db, f"""select sender_id, first_at, last_at, user_messages, bundles, fallback, clarify,
                                    case when lowest < :low then 1 else 0 end
                             from conversation_summaries where {condition}
                             order by last_at desc, sender_id limit :limit offset :offset""", params)
    return [Summary(r[0], local(r[1]), local(r[2]), r[3], sorted(set(r[4].split(",")) - {""}), bool(r[5]), bool(r[7]),
                    bool(r[6])) for r in rows], total


@dataclass
class Message:
    """One user or bot event, as a reviewer needs it."""

    id: int
    at: datetime
    source: str  # "user" or "bot"
    text: str
    intent: str | None = None  # user: the classifier's best intent, and its confidence
    confidence: float | None = None
    runner_up: tuple[str, float] | None = None
    fell_back: bool = False  # user: the FallbackClassifier stepped in
    button: dict[str, Any] | None = None  # user: a button click, {"intent": …, "entities": {…}}
    low: bool = False
    kind: str | None = None  # bot: the payload type (bundle, clarify, question, fallback) or None for text
    bundle: str | None = None
    options: list[str] = field(default_factory=list)  # bot: what a clarify or question offered


@dataclass
class Turn:
    user: Message | None
    replies: list[Message] = field(default_factory=list)


def conversation(place: str | Path, sender_id: str, low: float) -> list[Turn]:
    """One conversation turn by turn (a turn: a user message and Yishi's replies); [] when unknown."""
    with reader(place) as db:
        def field(*path: str) -> str:
            return databases.json_field(db, "data", *path)

        sql = f"""select id, type_name, timestamp, {field('text')},
                         case when type_name = 'user' then {field('parse_data', 'intent_ranking')} end,
                         case when type_name = 'user' then {field('parse_data', 'intent')} end,
                         case when type_name = 'bot' then {field('data', 'custom', 'type')} end,
                         {field('data', 'custom', 'bundle')}, {field('data', 'custom', 'options')}
                  from events where sender_id = :sender and type_name in ('user', 'bot') order by id"""
        rows = _rows(db, sql, {"sender": sender_id})
    turns: list[Turn] = []
    for row in rows:
        if row[1] == "user":
            turns.append(Turn(_user_message(row, low)))
        else:
            if not turns:
                turns.append(Turn(None))
            turns[-1].replies.append(_bot_message(row))
    return turns


def _user_message(row: tuple, low: float) -> Message:
    message = Message(row[0], local(row[2]), "user", row[3] or "")
    ranking = json.loads(row[4]) if row[4] else ([json.loads(row[5])] if row[5] else [])
    message.fell_back = bool(ranking) and ranking[0].get("name") == NLU_FALLBACK
    ranked = [(r.get("name"), float(r.get("confidence") or 0.0)) for r in ranking
              if r.get("name") and r.get("name") != NLU_FALLBACK]
    if ranked:
        message.intent, message.confidence = ranked[0]
        message.runner_up = ranked[1] if len(ranked) > 1 else None
    if is_button_payload(message.text):
        message.button = parse_button(message.text)
    else:
        message.low = message.confidence is not None and message.confidence < low
    return message


def _bot_message(row: tuple) -> Message:
    options = json.loads(row[8]) if row[8] else []
    labels = [o.get("name") or o.get("label") or "" for o in options if isinstance(o, dict)]
    return Message(row[0], local(row[2]), "bot", row[3] or "", kind=row[6], bundle=row[7], options=labels)


def parse_button(text: str) -> dict[str, Any]:
    """/choose_bundle{"bundle":"gym"} → {"intent": "choose_bundle", "entities": {"bundle": "gym"}}."""
    name, brace, rest = text[1:].partition("{")
    try:
        entities = json.loads(brace + rest) if brace else {}
    except ValueError:
        entities = {}
    return {"intent": name, "entities": entities if isinstance(entities, dict) else {}}


def user_message(place: str | Path, event_id: int) -> tuple[str, str] | None:
    """(sender_id, text) of one user event, or None."""
    with reader(place) as db:
        found = _rows(db, f"select sender_id, {databases.json_field(db, 'data', 'text')} from events "
                          "where id = :id and type_name = 'user'", {"id": event_id})
        row = found[0] if found else None
    return (row[0], row[1] or "") if row else None


@dataclass
class Question:
    """A typed user message and what Yishi made of it: a bundle, an unresolved ask-back, a fallback, or other."""

    at: float
    sender_id: str
    text: str
    outcome: str  # "bundle", "clarify", "fallback" or "other"
    bundle: str | None = None


def questions(place: str | Path, start: date, end: date) -> list[Question]:
    """Every typed question asked in the range, from the questions table kept as events are stored
    (yishi/summaries.py: a question answered by asking back counts for the bundle the citizen then
    picks, or as a fallback after 都不是; button clicks are not questions themselves)."""
    low, high = bounds(start, end)
    sql = f"""select at, sender_id, text, outcome, bundle from conversation_questions
              where at >= :low and at < :high and {CITIZENS} order by at, sender_id, seq"""
    with reader(place) as db:
        return [Question(*row) for row in _rows(db, sql, {"low": low, "high": high})]


def today() -> date:
    return datetime.now(LOCAL).date()


def date_range(start: str | None, end: str | None, days: int = 28, longest: int = 366) -> tuple[date, date, str | None]:
    """The range a form asks for (YYYY-MM-DD, both days included), by default the last `days` days;
    with a message (Chinese, for the page) when the form's dates could not be used as given."""
    try:
        last = date.fromisoformat(end) if end else today()
        first = date.fromisoformat(start) if start else last - timedelta(days - 1)
    except (ValueError, OverflowError):  # not a date, or an end so early that the default start is before year 1
        return today() - timedelta(days - 1), today(), f"日期格式不正确，已改为显示最近{days}天。"
    messages = []
    latest = today() + timedelta(days=1)
    clamped = [min(max(day, EARLIEST), latest) for day in (first, last)]
    if clamped != [first, last]:
        first, last = clamped
        messages.append(f"只能查看{EARLIEST.isoformat()}到明天之间的日期，超出的已改到这个范围内。")
    if first > last:
        first, last = last, first
        messages.append("开始日期晚于结束日期，已对调。")
    if (last - first).days >= longest:
        first = last - timedelta(longest - 1)
        messages.append(f"一次最多查看{longest}天，已从结束日期往前取{longest}天。")
    return first, last, "".join(messages) or None
