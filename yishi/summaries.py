"""Summary tables kept beside Rasa's `events` as each event is stored (rasa_ext/tracker_store.py), so the
staff console reads one small row per conversation and per question instead of scanning and
JSON-parsing every event in a date range (a bundle answer's event is ~30 KB of checklist).

- `conversation_summaries`: one row per conversation: first and last message, user messages, the
  bundles shown, whether it fell back or asked back, its least confident typed message; plus the state
  of the turn in progress, so the next event can be folded in without reading the conversation again.
- `conversation_questions`: one row per typed question with what Yishi made of it: a bundle, an
  unresolved ask-back (clarify), a fallback, or other. A question answered by asking back takes the
  bundle the citizen then picks (or fallback after 都不是); button clicks are not questions.

No Rasa. The SQL is plain enough for SQLite (≥ 3.24) and PostgreSQL alike; the caller gives a `Database` that
runs it (`Sql` over a SQLAlchemy session or connection in the Rasa server, `DbApi` over sqlite3).
`VERSION` changes when what is folded changes: the tables are then rebuilt from the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

from assistant.payloads import is_button_payload

VERSION = 2  # 2: a pick turn that also asks back leaves its question asked back
NLU_FALLBACK = "nlu_fallback"

SCHEMA = [
    """create table if not exists conversation_summaries (
        sender_id varchar(255) primary key, first_at double precision not null, last_at double precision not null,
        user_messages integer not null, bundles text not null, fallback integer not null, clarify integer not null,
        lowest double precision, questions integer not null, turn_seq integer, turn_button integer not null,
        turn_outcome varchar(16), turn_bundle varchar(255), pending_seq integer)""",
    "create index if not exists conversation_summaries_last_at on conversation_summaries (last_at)",
    """create table if not exists conversation_questions (
        sender_id varchar(255) not null, seq integer not null, at double precision not null, text text not null,
        outcome varchar(16) not null, bundle varchar(255), primary key (sender_id, seq))""",
    "create index if not exists conversation_questions_at on conversation_questions (at)",
    "create table if not exists conversation_summaries_version (version integer not null)",
]
TABLES = ["conversation_questions", "conversation_summaries", "conversation_summaries_version"]

# an outcome replaces another only when it ranks higher: one fallback in a turn makes it a fallback
RANK = {"other": 0, "bundle": 1, "clarify": 2, "fallback": 3}


class Database(Protocol):
    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]: ...

    def run(self, sql: str, params: dict[str, Any]) -> None: ...


class DbApi:
    """A Database over a DB-API connection taking named parameters (sqlite3, as the Rasa server's store
    and the tests and benchmarks use it)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]

    def run(self, sql: str, params: dict[str, Any]) -> None:
        self.connection.cursor().execute(sql, params)


class Sql:
    """A Database over a SQLAlchemy session or connection (the transaction Rasa stores events in; either dialect)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        from yishi.db import text

        return [tuple(row) for row in self.session.execute(text(sql), params)]

    def run(self, sql: str, params: dict[str, Any]) -> None:
        from yishi.db import text

        self.session.execute(text(sql), params)


@dataclass
class Summary:
    sender_id: str
    first_at: float
    last_at: float
    user_messages: int = 0
    bundles: str = ","  # ",gym,newborn," in the order first shown: a filter is one LIKE
    fallback: int = 0
    clarify: int = 0
    lowest: float | None = None  # the least confident typed message's best intent
    questions: int = 0
    turn_seq: int | None = None  # the question of the turn in progress (a typed message)
    turn_button: int = 0  # the turn in progress started with a button click
    turn_outcome: str | None = None
    turn_bundle: str | None = None
    pending_seq: int | None = None  # a question answered by asking back, waiting for the citizen's pick


COLUMNS = [f.name for f in fields(Summary)]


@dataclass
class Question:
    sender_id: str
    seq: int
    at: float
    text: str
    outcome: str = "other"
    bundle: str | None = None


def confidence(event: dict[str, Any]) -> float | None:
    """The classifier's own best confidence: when the FallbackClassifier stepped in, nlu_fallback is
    first in the ranking and the real best second."""
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    if intent.get("name") == NLU_FALLBACK:
        ranking = parse.get("intent_ranking") or []
        return float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else None
    value = intent.get("confidence")
    return float(value) if value is not None else None


def payload(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(type, bundle shown) of a bot event's reply payload; a bundle counts as shown for a bundle answer
    or a situational question about it."""
    custom = (event.get("data") or {}).get("custom")
    if not isinstance(custom, dict):
        return None, None
    kind = custom.get("type") if isinstance(custom.get("type"), str) else None
    bundle = custom.get("bundle") if kind in ("bundle", "question") and isinstance(custom.get("bundle"), str) else None
    return kind, bundle


@dataclass
class Settled:
    """A question's outcome as the replies so far make it."""

    seq: int
    outcome: str
    bundle: str | None


def fold(summary: Summary | None, sender_id: str, event: dict[str, Any]) -> tuple[Summary | None, list[Question | Settled]]:
    """The summary after one more stored event, and the question it added or the outcome it settled."""
    name = event.get("event")
    if name not in ("user", "bot"):
        return summary, []
    at = float(event.get("timestamp") or 0.0)
    if summary is None:
        summary = Summary(sender_id, at, at)
    summary.first_at, summary.last_at = min(summary.first_at, at), max(summary.last_at, at)
    return summary, (_user(summary, event, at) if name == "user" else _bot(summary, event))


def _user(summary: Summary, event: dict[str, Any], at: float) -> list[Question | Settled]:
    text = event.get("text") or ""
    # the turn that ends: a typed question answered by asking back waits for the pick; a pick settles it
    if summary.turn_seq is not None:
        summary.pending_seq = summary.turn_seq if summary.turn_outcome == "clarify" else None
    elif summary.turn_button and summary.turn_outcome in ("bundle", "fallback"):
        summary.pending_seq = None
    summary.user_messages += 1
    value = confidence(event)
    if value is not None and not text.startswith("/"):
        summary.lowest = value if summary.lowest is None else min(summary.lowest, value)
    summary.turn_outcome, summary.turn_bundle = "other", None
    if is_button_payload(text):
        summary.turn_seq, summary.turn_button = None, 1
        return []
    summary.questions += 1
    summary.turn_seq, summary.turn_button = summary.questions, 0
    return [Question(summary.sender_id, summary.questions, at, text)]


def _bot(summary: Summary, event: dict[str, Any]) -> list[Question | Settled]:
    kind, shown = payload(event)
    if shown and f",{shown}," not in summary.bundles:
        summary.bundles += f"{shown},"
    summary.fallback |= kind == "fallback"
    summary.clarify |= kind == "clarify"
    if summary.turn_outcome is None:  # replies before any user message (a greeting) belong to no turn
        return []
    summary.turn_bundle = summary.turn_bundle or shown
    outcome = kind if kind in ("fallback", "clarify") else "bundle" if summary.turn_bundle else "other"
    if RANK[outcome] > RANK[summary.turn_outcome]:
        summary.turn_outcome = outcome
    outcome = summary.turn_outcome
    bundle = summary.turn_bundle if outcome == "bundle" else None
    if summary.turn_seq is not None:
        return [Settled(summary.turn_seq, outcome, bundle)]
    if summary.pending_seq is not None and outcome in ("bundle", "fallback", "clarify"):
        # a pick settles the question its turn's outcome at a time: a checklist, then a question back in the same
        # turn, leaves it asked back (a clarify outranks a bundle), as reading the whole turn at once does
        return [Settled(summary.pending_seq, outcome, bundle)]
    return []


def create(db: Database) -> None:
    for statement in SCHEMA:
        db.run(statement, {})


def is_current(db: Database) -> bool:
    rows = db.rows("select version from conversation_summaries_version", {})
    return [r[0] for r in rows] == [VERSION]


def load(db: Database, sender_id: str) -> Summary | None:
    rows = db.rows(f"select {', '.join(COLUMNS)} from conversation_summaries where sender_id = :sender_id",
                   {"sender_id": sender_id})
    return Summary(*rows[0]) if rows else None


def record(db: Database, sender_id: str, events: Iterable[dict[str, Any]]) -> None:
    """Fold newly stored events of one conversation into the tables (in the caller's transaction)."""
    events = [e for e in events if e.get("event") in ("user", "bot")]
    if not events:
        return
    summary = load(db, sender_id)
    existed = summary is not None
    added: dict[int, Question] = {}
    settled: dict[int, Settled] = {}
    for event in events:
        summary, changes = fold(summary, sender_id, event)
        for change in changes:
            if isinstance(change, Question):
                added[change.seq] = change
            elif change.seq in added:
                added[change.seq].outcome, added[change.seq].bundle = change.outcome, change.bundle
            else:
                settled[change.seq] = change
    values = asdict(summary)
    if existed:
        assignments = ", ".join(f"{c} = :{c}" for c in COLUMNS if c != "sender_id")
        db.run(f"update conversation_summaries set {assignments} where sender_id = :sender_id", values)
    else:
        db.run(f"insert into conversation_summaries ({', '.join(COLUMNS)}) "
               f"values ({', '.join(':' + c for c in COLUMNS)})", values)
    for question in added.values():
        db.run("insert into conversation_questions (sender_id, seq, at, text, outcome, bundle) "
               "values (:sender_id, :seq, :at, :text, :outcome, :bundle)", asdict(question))
    for change in settled.values():
        db.run("update conversation_questions set outcome = :outcome, bundle = :bundle "
               "where sender_id = :sender_id and seq = :seq", asdict(change) | {"sender_id": sender_id})


def rebuild(db: Database, stored: Iterable[tuple[str, str]], loads) -> int:
    """Empty the tables and fold every stored event again: `stored` yields (sender_id, event JSON) in
    the order they were stored per conversation; `loads` parses the JSON. Returns conversations folded."""
    for table in TABLES[:2]:
        db.run(f"delete from {table}", {})
    current: str | None = None
    batch: list[dict[str, Any]] = []
    count = 0
    for sender_id, data in stored:
        if sender_id != current:
            if batch:
                record(db, current, batch)
                count += 1
            current, batch = sender_id, []
        batch.append(loads(data))
    if batch:
        record(db, current, batch)
        count += 1
    db.run("delete from conversation_summaries_version", {})
    db.run("insert into conversation_summaries_version (version) values (:version)", {"version": VERSION})
    return count
