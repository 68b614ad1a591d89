"""Every setting Yishi reads from the environment, with its default and meaning, in one table.

Reading a setting has no side effects. Relative paths are taken inside YISHI_HOME, the data
directory (built files, models, results, the bot's config and training data, the evaluation sets).
`.env.example` and the README's configuration table are checked against this table by a test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("YISHI_HOME", "", "the data directory every relative path below is taken in; empty: the checkout "
            "the code runs from, else the current directory"),
    # the catalogue
    Setting("YISHI_CATALOGUE_SOURCES", "", "the catalogue's YAML sources; empty: the sources inside the "
            "catalogue package"),
    Setting("YISHI_CATALOGUE_DB", "build/catalogue.db", "the built SQLite catalogue"),
    Setting("YISHI_CATALOGUE_STAGING_DB", "build/catalogue.staging.db",
            "where the console's 重新生成 builds a preview before 发布 replaces the catalogue"),
    Setting("YISHI_JIEBA_DICT_DIR", "build/jieba", "jieba dictionary generated from the catalogue (Rasa's "
            "JiebaTokenizer loads every file in it)"),
    Setting("YISHI_CACHE_DIR", "build/cache", "derived caches (jieba's prefix dictionary)"),
    Setting("YISHI_RASA_DATA_DIR", "build/rasa", "Rasa data generated from the catalogue"),
    # the servers
    Setting("YISHI_WEB_HOST", "127.0.0.1", "where the web app listens"),
    Setting("YISHI_WEB_PORT", "8000", "the web app's port"),
    Setting("YISHI_WEB_WORKERS", "2", "gunicorn worker processes"),
    Setting("YISHI_WEB_THREADS", "", "threads per worker (each holds one request while it waits on Rasa); empty: "
            "four times YISHI_RASA_IN_FLIGHT per Rasa server plus 4 for pages and the console"),
    Setting("YISHI_RASA_IN_FLIGHT", "6", "chat requests one worker keeps in flight to one Rasa server; three times as "
            "many may wait for a place within the chat timeout, the rest get the polite fallback at once: a stuck "
            "server holds at most four times this many threads"),
    Setting("YISHI_PUBLIC_URL", "", "the address citizens reach the web app at (https://…): every absolute link and QR "
            "code uses it, and requests for any other host are refused; empty: http://YISHI_WEB_HOST:YISHI_WEB_PORT"),
    Setting("YISHI_SERVE", "citizen,staff", "which surfaces the web app serves: citizen (API, chat, pages, "
            "widget, kiosk) and/or staff (the console under /staff)"),
    Setting("YISHI_RASA_HOST", "127.0.0.1", "the address the Rasa servers listen on (another host's web app or "
            "load balancer reaches them there; keep it on a private network)"),
    Setting("YISHI_RASA_PORT", "5005", "the first Rasa server's port"),
    Setting("YISHI_RASA_SERVERS", "2", "how many Rasa servers share the load (ports counted up from "
            "YISHI_RASA_PORT); changing it moves conversations between servers"),
    Setting("YISHI_RASA_URLS", "", "where the web app finds the Rasa servers, comma-separated; empty: "
            "derived from YISHI_RASA_PORT and YISHI_RASA_SERVERS (YISHI_RASA_URL is read as an alias)"),
    Setting("YISHI_ACTIONS_HOST", "127.0.0.1", "the address the action server listens on (keep it on a private "
            "network)"),
    Setting("YISHI_ACTIONS_PORT", "5055", "the action server's port"),
    Setting("YISHI_ACTION_URL", "", "where Rasa finds the actions (one server, or a load balancer in front of several: "
            "deploy/haproxy.cfg); empty: derived from YISHI_ACTIONS_PORT on 127.0.0.1"),
    Setting("YISHI_TRACKER_DB", "build/rasa.db", "the SQLite tracker store (conversations survive restarts; "
            "the console reads it)"),
    Setting("YISHI_TRACKER_WINDOW", "3", "a turn's tracker holds the session's last this many user messages and the "
            "slots as they were before them (RulePolicy's rules and the actions need no more; full-history reads stay "
            "whole); 0: the whole session on every turn"),
    Setting("YISHI_RASA_JWT_SECRET", "", "signs the JWT for Rasa's HTTP API (the web app reads history with "
            "it); empty: random per start"),
    # the city profile: set YISHI_DATABASE_URL and YISHI_REDIS_URL, and every Rasa server uses them
    Setting("YISHI_DATABASE_URL", "", "the city profile's tracker store, postgresql://user@host:port/db (Rasa servers "
            "use bot/endpoints-city.yml); empty: the embedded profile's SQLite file YISHI_TRACKER_DB"),
    Setting("YISHI_DATABASE_PASSWORD", "", "the password for YISHI_DATABASE_URL (only from the environment)"),
    Setting("YISHI_REDIS_URL", "", "the city profile's Redis, redis://host:port/db: Rasa's lock store shared by "
            "every Rasa server, and the web app's rate limits and staff sessions shared by every web worker"),
    Setting("YISHI_LOCK_LIFETIME_S", "5", "the city profile: how long a Rasa server may hold a conversation's lock; a "
            "server that freezes mid-turn frees its conversations after this (keep it below YISHI_CHAT_TIMEOUT_S)"),
    Setting("YISHI_REDIS_PASSWORD", "", "the password for YISHI_REDIS_URL (only from the environment)"),
    Setting("YISHI_LOG_DIR", "build/logs", "server logs"),
    Setting("YISHI_RETENTION_DAYS", "180", "conversations are deleted this many days after their last event "
            "(`yishi retention purge`, run daily by the web app); the demand figures are kept per day"),
    Setting("YISHI_MODEL", "models/yishi.tar.gz", "the trained Rasa model (the live one: the console's 上线 replaces it "
            "and keeps the previous ones in models/history for 回滚)"),
    Setting("YISHI_MODEL_HISTORY", "5", "how many earlier live models the console keeps for 回滚"),
    Setting("YISHI_RASA_SERVER_URLS", "", "every running Rasa server, comma-separated, for loading a new model into "
            "each (the city profile, where YISHI_RASA_URLS names the balancer); empty: YISHI_RASA_URLS"),
    # the web app
    Setting("YISHI_SECRET_KEY", "", "signs the web app's session cookie; empty: read from "
            "YISHI_SECRET_KEY_FILE, which `make run` creates once"),
    Setting("YISHI_SECRET_KEY_FILE", "build/secret_key", "where the generated session key is kept"),
    Setting("YISHI_WEB_DB", "build/web.db", "the web app's SQLite file: unanswered questions, rate-limit "
            "counters, staff accounts, sessions and logs (the city profile keeps these in YISHI_DATABASE_URL)"),
    Setting("YISHI_CHAT_TIMEOUT_S", "8", "seconds the chat waits for Rasa before the polite fallback"),
    Setting("YISHI_CHAT_MAX_CHARS", "500", "the longest chat message accepted"),
    Setting("YISHI_RATE_PER_SESSION", "20", "chat messages a minute per visitor"),
    Setting("YISHI_RATE_PER_IP", "300", "chat messages a minute per address"),
    Setting("YISHI_SESSION_HOURS", "24", "how long a visitor's conversation cookie lasts"),
    Setting("YISHI_KIOSK_IDLE_S", "90", "kiosk idle time before the countdown"),
    Setting("YISHI_KIOSK_COUNTDOWN_S", "15", "kiosk countdown before the conversation is wiped"),
    Setting("YISHI_COOKIE_SECURE", "0", "1 behind HTTPS: cookies only over HTTPS"),
    Setting("YISHI_PROXIES", "0", "reverse proxies in front of the web app that add the client's address to "
            "X-Forwarded-For (deploy/nginx: 1), whose address rate limits and staff logins then count; 0: trust none"),
    Setting("YISHI_WIDGET_ORIGINS", "", "other sites (comma-separated HTTPS origins; http only for 127.0.0.1 or "
            "localhost) allowed to embed the widget or to connect another Rasa client over socket.io or REST"),
    # the staff console
    Setting("YISHI_STAFF_IDLE_MIN", "30", "staff session expiry when idle, minutes"),
    Setting("YISHI_STAFF_MAX_HOURS", "12", "staff session expiry however active, hours"),
    Setting("YISHI_REVIEW_FILE", "review/labelled.yml", "messages labelled in 对话回看, until `yishi review merge`"),
    Setting("YISHI_NLU_DATA", "nlu_data", "the hand-written training data `yishi review merge` adds to"),
    Setting("YISHI_DEMAND_CACHE_S", "60", "需求 computes its figures at most once in this many seconds per web worker (a "
            "tab left reloading must not take the CPU citizens' chats need); 0: every time"),
    Setting("YISHI_LOW_CONFIDENCE", "0.6", "对话回看 flags typed messages whose best intent is less confident"),
    Setting("YISHI_BOT_CONFIG", "bot/config.yml", "the Rasa pipeline (the console reads its fallback thresholds)"),
    Setting("YISHI_RESULTS_DIR", "results", "where `make eval`, the conversation tests and the console's 质量 "
            "runs write"),
    Setting("YISHI_EVAL_CASES", "evaluation/heldout.yml", "the held-out NLU set: never trained on"),
    Setting("YISHI_EVAL_BLIND", "evaluation/blind", "the second held-out set, written blind from bundle names and "
            "summaries only, with a style tag per question: never trained on"),
    Setting("YISHI_CONVERSATION_STORIES", "evaluation/conversations", "the conversation tests (Rasa test stories)"),
)
_BY_NAME = {s.name: s for s in SETTINGS}
ALIASES = {"YISHI_RASA_URL": "YISHI_RASA_URLS"}


def text(name: str) -> str:
    """The setting's value: the environment's, else the table's default."""
    default = _BY_NAME[name].default
    for alias, target in ALIASES.items():
        if target == name and os.environ.get(name) is None and os.environ.get(alias):
            return os.environ[alias]
    return os.environ.get(name, default)


def home() -> Path:
    """The data directory: YISHI_HOME, else the checkout this code runs from, else the current directory."""
    if os.environ.get("YISHI_HOME"):
        return Path(os.environ["YISHI_HOME"]).resolve()
    if (PACKAGE_ROOT / "pyproject.toml").exists() and (PACKAGE_ROOT / "bot").is_dir():
        return PACKAGE_ROOT
    return Path.cwd()


def path(name: str) -> Path:
    """A path setting, relative ones taken inside the data directory."""
    value = Path(text(name))
    return value if value.is_absolute() else home() / value


def integer(name: str) -> int:
    return int(text(name))


def number(name: str) -> float:
    return float(text(name))


def flag(name: str) -> bool:
    return text(name).strip() == "1"


def listing(name: str) -> list[str]:
    """A comma-separated setting as a list, blanks dropped."""
    return [part.strip() for part in text(name).split(",") if part.strip()]


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def widget_origins() -> list[str]:
    """YISHI_WIDGET_ORIGINS: the sites allowed to embed the widget or connect a Rasa client, each an HTTPS origin
    (scheme, host and port, no path); plain http only for loopback, where the tests serve their host pages."""
    origins = listing("YISHI_WIDGET_ORIGINS")
    for origin in origins:
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            parts = None
        if parts is None or not parts.hostname or parts.path or parts.query or parts.fragment or parts.username \
                or parts.scheme not in ("https", "http") or (parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS):
            raise ValueError(f"YISHI_WIDGET_ORIGINS: {origin!r} is not an HTTPS origin like https://www.example.gov.cn "
                             "(no path; http:// only for 127.0.0.1 or localhost)")
    return origins


def rasa_urls() -> list[str]:
    """YISHI_RASA_URLS, or one URL per Rasa server counted up from YISHI_RASA_PORT."""
    return listing("YISHI_RASA_URLS") or [f"http://127.0.0.1:{integer('YISHI_RASA_PORT') + i}"
                                          for i in range(integer("YISHI_RASA_SERVERS"))]


def web_threads() -> int:
    """YISHI_WEB_THREADS, or enough for every Rasa server's chats in flight and waiting, and a few pages besides."""
    return integer("YISHI_WEB_THREADS") if text("YISHI_WEB_THREADS") else \
        4 * integer("YISHI_RASA_IN_FLIGHT") * len(rasa_urls()) + 4


def rasa_endpoints(environ: Mapping[str, str] | None = None) -> str:
    """The Rasa servers' endpoints file (relative to YISHI_HOME): the city profile's when YISHI_DATABASE_URL is set
    (in `environ`, the environment the server will run with; default this process's)."""
    city = (environ if environ is not None else os.environ).get("YISHI_DATABASE_URL")
    return "bot/endpoints-city.yml" if city else "bot/endpoints.yml"


def tracker_url(environ: Mapping[str, str] | None = None) -> str:
    """The tracker store as a SQLAlchemy URL: YISHI_DATABASE_URL (its password from YISHI_DATABASE_PASSWORD), or
    the SQLite file YISHI_TRACKER_DB."""
    env = environ if environ is not None else os.environ
    if env.get("YISHI_DATABASE_URL"):
        scheme, rest = env["YISHI_DATABASE_URL"].split("://", 1)
        password = env.get("YISHI_DATABASE_PASSWORD")
        if password and "@" in rest and ":" not in rest.split("@", 1)[0]:
            user, host = rest.split("@", 1)
            rest = f"{user}:{quote(password, safe='')}@{host}"
        return f"{scheme}://{rest}"
    database = Path(env.get("YISHI_TRACKER_DB") or _BY_NAME["YISHI_TRACKER_DB"].default)
    return f"sqlite:///{database if database.is_absolute() else home() / database}"


def web_store() -> str:
    """The web app's own store: the city profile's database (YISHI_DATABASE_URL, its own tables beside Rasa's), or the
    SQLite file YISHI_WEB_DB."""
    return tracker_url() if os.environ.get("YISHI_DATABASE_URL") else str(path("YISHI_WEB_DB"))


def tracker_store() -> str:
    """The tracker store as the console reads it: the city profile's database URL, or the SQLite file YISHI_TRACKER_DB."""
    return tracker_url() if os.environ.get("YISHI_DATABASE_URL") else str(path("YISHI_TRACKER_DB"))


def public_url() -> str:
    """YISHI_PUBLIC_URL without a trailing slash, or the web app's own address."""
    return (text("YISHI_PUBLIC_URL") or f"http://{text('YISHI_WEB_HOST')}:{text('YISHI_WEB_PORT')}").rstrip("/")
