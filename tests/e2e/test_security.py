"""The security suite: every probe an attacker used on Yishi, replayed over real HTTP against the running stack
(the web app under gunicorn exactly as production runs it, the real Rasa server and action server), so that a
protection that regresses fails here.

One web app serves the whole module (`live`), one headless Chromium the XSS checks. Requests go through a small
http.client wrapper with its own cookie jar, which can send any Host header, raw paths and raw bytes.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import re
import secrets
import shutil
import socket
import sqlite3
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import segno
from flask import Flask

from catalogue import config as catalogue_config
from catalogue.live import LiveCatalogue
from ops.stack import Stack, Web
from web_widget import create_app
from web_widget.marks import is_json_api
from web_widget.staff import roles

PUBLIC = "https://yishi.example.gov.cn"
EVIL = "evil.example"
STAFF, PASSWORD = "sec.audit", "a long security-suite password"  # a 审核员; the others for what it may not do
EDITOR, ADMIN, SELF, TARGET = "sec.editor", "sec.admin", "sec.self", "sec.target"
SECRET_KEY = "security-suite-" + secrets.token_hex(16)
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- HTTP over http.client, with a cookie jar ------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


@dataclass
class Client:
    """One visitor: an HTTP client with its own cookies (name → value; paths ignored, every cookie is sent)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, body: bytes | None = None, data=None, form: dict | None = None,
                headers: dict[str, str] | None = None) -> Response:
        headers = dict(headers or {})
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        if form is not None:
            body = urlencode(form).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.cookies:
            headers.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        address = urlsplit(self.base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.getheaders(), raw.read())
        finally:
            connection.close()
        for cookie in response.all("Set-Cookie"):
            pair, _, attributes = cookie.partition(";")
            name, _, value = pair.strip().partition("=")
            if not value or "max-age=0" in attributes.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        assert b"Traceback" not in response.body, (method, path, response.text[:500])
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        return self.request("POST", path, **kwargs)

    def say(self, text: str) -> Response:
        return self.post("/chat/message", data={"text": text})


def raw_exchange(base: str, request: bytes) -> bytes:
    """Send request bytes as they are (http.client refuses CR/LF in a path) and read the whole answer."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=20) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def read_only(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


# --- the web app under gunicorn, in front of the session's stack ----------------------------------------------

@dataclass
class Live:
    web: Web
    stack: Stack
    work: Path  # this module's own copies: catalogue sources and database, review file, results

    @property
    def url(self) -> str:
        return self.web.url

    @property
    def web_db(self) -> Path:
        return Path(self.web.env["YISHI_WEB_DB"])

    def client(self) -> Client:
        return Client(self.url)

    def login(self, username: str = STAFF) -> Client:
        client = self.client()
        response = client.post("/staff/login", form={"username": username, "password": PASSWORD})
        assert response.status == 302 and "yishi_staff" in client.cookies, response.text[:300]
        return client

    def web_rows(self, sql: str, *args) -> list[tuple]:
        return read_only(self.web_db, sql, args)

    def tracker_rows(self, sql: str, *args) -> list[tuple]:
        return read_only(self.stack.tracker_db, sql, args)

    def events_of(self, sender: str) -> int:
        return self.tracker_rows("select count(*) from events where sender_id = ?", sender)[0][0]

    def last_event(self) -> int:
        return self.tracker_rows("select coalesce(max(id), 0) from events")[0][0]

    def blank_questions_since(self, event_id: int) -> list[str]:
        """User messages stored after event_id with nothing visible in them (other modules' slow conversations
        may still be writing events of their own, so only blank ones count)."""
        rows = self.tracker_rows("select data from events where id > ? and type_name = 'user'", event_id)
        texts = [json.loads(row[0]).get("text") or "" for row in rows]
        return [t for t in texts if not "".join(c for c in t if unicodedata.category(c)[0] != "C").strip()]


@pytest.fixture(scope="module")
def live(stack, tmp_path_factory):
    """The web app as production runs it (gunicorn, YISHI_PUBLIC_URL set), on copies of everything a console
    form could change, so that a broken protection cannot touch the checkout."""
    work = tmp_path_factory.mktemp("security")
    shutil.copytree(catalogue_config.sources_dir(), work / "sources")
    shutil.copy2(catalogue_config.db_path(), work / "catalogue.db")
    web = stack.start_web(extra_env={
        "YISHI_PUBLIC_URL": PUBLIC, "YISHI_SECRET_KEY": SECRET_KEY,
        "YISHI_RATE_PER_SESSION": "100000", "YISHI_RATE_PER_IP": "100000",
        "YISHI_DEMAND_CACHE_S": "0",  # 需求 recomputed on every load: the probes check what each question adds
        "YISHI_CATALOGUE_SOURCES": str(work / "sources"), "YISHI_CATALOGUE_DB": str(work / "catalogue.db"),
        "YISHI_CATALOGUE_STAGING_DB": str(work / "staging.db"), "YISHI_JIEBA_DICT_DIR": str(work / "jieba"),
        "YISHI_RASA_DATA_DIR": str(work / "rasa"), "YISHI_REVIEW_FILE": str(work / "review.yml"),
        "YISHI_RESULTS_DIR": str(work / "results"), "YISHI_MODEL": str(work / "no-model.tar.gz"),
    })
    try:
        for username, role in ((STAFF, "reviewer"), (EDITOR, "editor"), (ADMIN, "admin"), (SELF, "readonly"),
                               (TARGET, "readonly")):
            web.add_staff(username, PASSWORD, role)
        yield Live(web, stack, work)
    finally:
        web.process.terminate()
        web.process.wait(timeout=20)


@pytest.fixture(scope="module")
def staff(live) -> Client:
    return live.login()


def csrf_of(client: Client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/").text).group(1)


def session_of(client: Client) -> dict:
    """The web app's signed session cookie of a visitor, read with the app's key."""
    app = Flask(__name__)
    app.secret_key = SECRET_KEY
    return app.session_interface.get_signing_serializer(app).loads(client.cookies["session"])


def sid_of(client: Client) -> str:
    return session_of(client)["sid"]


@pytest.fixture(scope="module")
def routes(tmp_path_factory):
    """The app's URL rules, from create_app in this process (nothing served)."""
    folder = tmp_path_factory.mktemp("routes")
    app = create_app({"TESTING": True, "WEB_DB": str(folder / "web.db"), "SECRET_KEY": "routes"})
    return app


def console_rules(app) -> list:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff") and r.endpoint != "staff.static"]


def concrete(rule, sender: str = "nobody") -> str:
    path = rule.rule.replace("<slug>", "gym").replace("<sender_id>", sender).replace("<username>", TARGET) \
        .replace("<form_name>", "materials").replace("<record_id>", "no_such_record")
    assert "<" not in path, f"{rule.rule}: a new URL variable, give it a value here"
    return path


def chinese_error(response: Response) -> str:
    try:
        message = response.json().get("error") or ""
    except ValueError:
        message = response.text
    assert CJK.search(message), (response.status, response.text[:300])
    return message


# --- 1. PII past the mask ----------------------------------------------------------------------------------------

MOBILE, ID_1, ID_2, CARD_16, CARD_19 = "15967128304", "51012419870623451X", "440305199211083326", "6228480402564899", \
    "6217000010012345677"
TYPED = {  # what a citizen typed → the number it is
    "我的电话159.6712.8304，想开个洗车铺子": MOBILE,
    "手机 1 5 9 6 7 1 2 8 3 0 4 开健身房": MOBILE,
    "159-6712-8304 新生儿落户": MOBILE,
    "电话１５９６７１２８３０４要办退休": MOBILE,
    "15967\u200b128304 开健身房": MOBILE,
    "身份证5101241987\u200d0623451X 上户口": ID_1,
    "身份证440305\u200b199211083326 办退休": ID_2,
    "银行卡6228 4804 0256 4899 开店要用": CARD_16,
    "卡号6217000010012345677怎么办社保": CARD_19,
}
MASKED = ("159****8304", "510124********451X", "440305********3326", "6228********4899", "6217***********5677")


def forms_of(raw: str) -> set[str]:
    """A raw string as a store or a log may hold it: as it is, and JSON-escaped (lower and upper case hex)."""
    escaped = json.dumps(raw)[1:-1]
    return {raw, escaped, re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), escaped)}


RAW = set(TYPED.values()) | {"159.6712.8304", "1 5 9 6 7 1 2 8 3 0 4", "159-6712-8304", "１５９６７１２８３０４",
                             "15967\u200b128304", "5101241987\u200d0623451X", "440305\u200b199211083326",
                             "6228 4804 0256 4899", "51012419870623451x"}


def leaked(text: str) -> list[str]:
    """The raw numbers (as typed, or as digits alone) found in text, in any of their forms."""
    return sorted(form for raw in RAW for form in forms_of(raw) if form in text)


def dump(path: Path) -> str:
    """Every row of every table of a SQLite file, as text."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        tables = [row[0] for row in db.execute("select name from sqlite_master where type = 'table'")]
        return "\n".join(f"{table}: {row}" for table in tables for row in db.execute(f'select * from "{table}"'))
    finally:
        db.close()


@pytest.fixture(scope="module")
def pii_conversation(live) -> str:
    """One citizen types every number past the mask, then searches for one; the conversation's id."""
    citizen = live.client()
    for text in TYPED:
        response = citizen.say(text)
        assert response.status == 200 and response.json()["messages"], (text, response.text[:300])
    for query in (MOBILE, ID_1, "159.6712.8304"):
        assert citizen.get("/api/search?" + urlencode({"q": query})).status == 200
    return sid_of(citizen)


def test_numbers_typed_past_the_mask_are_stored_and_logged_nowhere(live, pii_conversation):
    tracker = dump(live.stack.tracker_db)
    mine = live.tracker_rows("select data from events where sender_id = ? and type_name = 'user'", pii_conversation)
    texts = " ".join(json.loads(row[0])["text"] for row in mine)
    assert all(masked in texts for masked in MASKED), texts  # the messages did reach the tracker store, masked
    assert leaked(tracker) == [], "raw numbers in the tracker store"
    assert leaked(dump(live.web_db)) == [], "raw numbers in web.db"
    for log in sorted(live.stack.folder.glob("*.log")):
        assert leaked(log.read_text(encoding="utf-8", errors="replace")) == [], f"raw numbers in {log.name}"


def test_the_console_shows_citizens_numbers_only_masked(live, staff, pii_conversation):
    detail = staff.get(f"/staff/conversations/{pii_conversation}")
    assert detail.status == 200 and "159****8304" in detail.text and "510124********451X" in detail.text
    for path in ("/staff/conversations", f"/staff/conversations/{pii_conversation}", "/staff/demand",
                 "/staff/api/conversations", "/staff/api/demand"):
        response = staff.get(path)
        assert response.status == 200, path
        assert leaked(response.text) == [], path


# --- 2. QR codes and absolute links trust only the configured public URL ---------------------------------------

@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:80", "yishi.example.gov.cn.evil.example", f"127.0.0.1.{EVIL}"])
@pytest.mark.parametrize("path", ["/qr/gym.svg", "/qr/gym.svg?has_licence=no", "/checklist/gym", "/",
                                  "/staff/login", "/api/search?q=gym"])
def test_a_foreign_host_header_is_refused(live, host, path):
    response = live.client().get(path, headers={"Host": host})
    assert response.status == 400, (host, path, response.status)
    assert EVIL not in response.text and not any(EVIL in value for _, value in response.headers)


def qr_svg(target: str) -> bytes:
    """The QR code pages.qr draws for target (same segno call and drawing parameters)."""
    buffer = io.BytesIO()
    segno.make(target, error="m").save(buffer, kind="svg", scale=6, border=2, title="扫码在手机上查看清单")
    return buffer.getvalue()


SPOOFED = {"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "http", "X-Forwarded-Server": EVIL,
           "Forwarded": f"host={EVIL};proto=http", "X-Original-Host": EVIL, "X-Host": EVIL}


@pytest.mark.parametrize("headers", [{}, SPOOFED, {"Host": "yishi.example.gov.cn"}, {"Host": "localhost"}],
                         ids=["plain", "forwarded-host-headers", "public-host", "localhost"])
def test_qr_codes_and_absolute_links_use_only_the_public_url(live, headers):
    client = live.client()
    for query, target in (("", f"{PUBLIC}/checklist/gym"), ("?has_licence=no", f"{PUBLIC}/checklist/gym?has_licence=no")):
        response = client.get(f"/qr/gym.svg{query}", headers=headers)
        assert response.status == 200 and response.header("Content-Type").startswith("image/svg+xml")
        assert EVIL not in response.text
        assert response.body == qr_svg(target), f"the QR code does not carry {target}"
    page = client.get("/checklist/gym?has_licence=no", headers=headers)
    assert page.status == 200 and EVIL not in page.text
    assert 'src="/qr/gym.svg?has_licence=no"' in page.text  # the page's QR is its own, relative
    demo = client.get("/", headers=headers)
    assert demo.status == 200 and EVIL not in demo.text
    assert f"{PUBLIC}/static/yishi-widget.js" in demo.text and f"{PUBLIC}/static/yishi-init.js" in demo.text
    redirect = client.get("/staff/demand", headers=headers)  # not logged in: a redirect, built from nothing sent
    assert redirect.status == 302 and EVIL not in redirect.header("Location")
    assert urlsplit(redirect.header("Location")).netloc in ("", urlsplit(PUBLIC).netloc)


# --- 3. No 500 and no traceback, whatever the input ---------------------------------------------------------------

BAD_DATES = ["9999-12-31", "0001-01-01", "garbage", "2024-02-30", "99999-01-01", "-1", "2024-13-01", "\x00", "1e309"]


@pytest.mark.parametrize("path", ["/staff/demand", "/staff/conversations", "/staff/api/conversations", "/staff/api/demand"])
def test_console_dates_out_of_range_or_garbage_give_a_message_not_a_500(staff, path):
    for start, end in [(d, d) for d in BAD_DATES] + [("0001-01-01", "9999-12-31"), ("9999-12-31", "0001-01-01"),
                                                   ("2024-01-01", "garbage")]:
        response = staff.get(f"{path}?{urlencode({'start': start, 'end': end})}")
        assert response.status == 200, (path, start, end, response.status)
        if path == "/staff/api/demand":  # the JSON says which range it used; always one it can count
            data = response.json()
            latest = (date.today() + timedelta(days=2)).isoformat()
            assert "2020-01-01" <= data["start"] <= data["end"] <= latest, (start, end, data["start"], data["end"])
        elif path == "/staff/api/conversations":
            assert CJK.search(response.json()["problem"] or ""), (start, end)
        else:
            alert = re.search(r'role="alert">(.*?)</p>', response.text, re.S)
            assert alert and CJK.search(alert.group(1)), (path, start, end)


def test_deeply_nested_json_is_refused_politely(live, staff):
    citizen = live.client()
    bodies = [b"[" * 100_000, b"[" * 5_000 + b"]" * 5_000, b'{"text": ' + b"[" * 3_000 + b"]" * 3_000 + b"}",
              b'{"a":' * 2_000 + b"1" + b"}" * 2_000]
    for body in bodies:
        response = citizen.post("/chat/message", body=body, headers={"Content-Type": "application/json"})
        assert 400 <= response.status < 500, (len(body), response.status)
        chinese_error(response)
    bench = staff.post("/staff/api/bench", body=b"[" * 5_000 + b"]" * 5_000,
                       headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(staff)})
    assert 400 <= bench.status < 500 and CJK.search(bench.json()["error"])
    assert citizen.say("我要开健身房").status == 200  # and the server still answers


def test_crlf_in_the_login_next_injects_no_header(live):
    injected = ["/staff\r\nSet-Cookie: evil=1", "/staff/demand\r\nLocation: https://evil.example",
                "/staff%0d%0aSet-Cookie:%20evil=1", "/staff\nX-Evil: 1"]
    for target in injected:
        client = live.client()
        response = client.post("/staff/login?" + urlencode({"next": target}),
                               form={"username": STAFF, "password": PASSWORD})
        assert response.status == 302, (target, response.status)
        location = response.header("Location")
        assert location.startswith("/staff") and "\r" not in location and "\n" not in location, location
        assert "evil" not in " ".join(f"{k}: {v}" for k, v in response.headers).lower(), response.headers
        assert "evil" not in client.cookies
    # an anonymous visitor sent to the login page: the path it came for goes into next=, escaped
    anonymous = live.client().get("/staff/conversations/x%0D%0ASet-Cookie:%20evil=1%0D%0A")
    assert anonymous.status == 302 and "\r" not in anonymous.header("Location") and "\n" not in anonymous.header("Location")
    assert not any(k.lower() == "x-evil" or "evil=1" in v for k, v in anonymous.headers if k.lower() != "location")
    # CR/LF sent raw in the request line: a clear refusal from gunicorn, no header of the attacker's
    raw = raw_exchange(live.url, b"POST /staff/login?next=/staff\r\nSet-Cookie: evil=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    assert 400 <= status < 500, head
    assert not re.search(r"^set-cookie:\s*evil", head, re.I | re.M) and "Location" not in head, head


MALFORMED = {  # id → (body, allowed statuses)
    "10000-ascii-characters": (json.dumps({"text": "a" * 10_000}).encode(), {400, 413}),
    "10000-chinese-characters": (json.dumps({"text": "办" * 10_000}, ensure_ascii=False).encode(), {400, 413}),
    "1-megabyte": (json.dumps({"text": "办" * 350_000}, ensure_ascii=False).encode(), {413}),
    "escaped-nul": ('{"text": "\\u0000我要开健身房\\u0000"}'.encode(), {200, 400}),
    "raw-nul": (b'{"text": "a\x00b"}', {400}),
    "lone-surrogates": ('{"text": "\\ud800我要开健身房\\udfff"}'.encode(), {200, 400}),
    "invalid-utf8": (b'{"text": "\xff\xfe\xfd \xc3\x28"}', {400}),
    "overlong-utf8": (b'{"text": "\xc0\xaf\xe0\x80\xaf"}', {400}),
    "not-json": (b"text=hello", {400}),
    "json-list": (b'["text"]', {400}),
    "text-not-a-string": (b'{"text": {"$gt": ""}}', {400}),
    "empty-body": (b"", {400}),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_oversized_and_malformed_chat_bodies_get_a_clear_answer(live, case):
    body, allowed = MALFORMED[case]
    citizen = live.client()
    response = citizen.post("/chat/message", body=body, headers={"Content-Type": "application/json"})
    assert response.status in allowed, (case, response.status, response.text[:200])
    if response.status == 200:
        assert response.json()["messages"]
    else:
        chinese_error(response)
    after = citizen.say("我要开健身房")  # the server (and this visitor) still get answers
    assert after.status == 200 and after.json()["messages"]


# --- 4. Headers and sessions -------------------------------------------------------------------------------------

def test_transcripts_and_console_pages_are_never_cached(live, staff, routes, pii_conversation):
    citizen = live.client()
    assert "no-store" in (citizen.get("/chat/history").header("Cache-Control") or "")  # no conversation yet
    citizen.say("我要开健身房")
    history = citizen.get("/chat/history")
    assert history.json()["turns"] and "no-store" in (history.header("Cache-Control") or "")
    assert "no-store" in (live.client().get("/staff/login").header("Cache-Control") or "")
    pages = [(concrete(r, pii_conversation), r.endpoint) for r in console_rules(routes) if "GET" in r.methods]
    assert len(pages) >= 10
    for path, endpoint in pages:
        response = staff.get(path)
        allowed = endpoint in roles.PUBLIC or roles.allowed("reviewer", endpoint)  # STAFF is a 审核员
        assert response.status in ((200, 404) if allowed else (403,)), (path, response.status)
        assert "no-store" in (response.header("Cache-Control") or ""), path


@pytest.mark.parametrize("path", ["/", "/kiosk", "/checklist/gym", "/staff/login", "/qr/gym.svg", "/api/bundles",
                                  "/no-such-page"])
def test_pages_carry_a_permissions_policy(live, path):
    policy = live.client().get(path).header("Permissions-Policy") or ""
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy, (path, policy)


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1.evil.example",
                                    "http://localhost", "https://yishi.example.gov.cn.evil.example"])
def test_a_login_posted_from_another_site_is_refused(live, origin):
    client = live.client()
    response = client.post("/staff/login", form={"username": STAFF, "password": PASSWORD}, headers={"Origin": origin})
    assert response.status in (400, 403) and "yishi_staff" not in client.cookies, (origin, response.status)
    chinese_error(response)
    own = live.client()
    assert own.post("/staff/login", form={"username": STAFF, "password": PASSWORD},
                    headers={"Origin": live.url}).status == 302  # the same form from the console's own page


def test_restart_revokes_the_old_conversation_cookie(live):
    citizen = live.client()
    assert citizen.say("我要开健身房").status == 200
    old_cookie, old_sid = citizen.cookies["session"], sid_of(citizen)
    assert citizen.get("/chat/history").json()["turns"]
    before = live.events_of(old_sid)
    assert before > 0
    assert citizen.post("/chat/restart", data={}).status == 200  # 重新开始
    assert sid_of(citizen) != old_sid and citizen.get("/chat/history").json()["turns"] == []

    replay = Client(live.url, {"session": old_cookie})  # someone kept a copy of the old cookie
    history = replay.get("/chat/history")
    assert history.status == 200 and history.json()["turns"] == [], "the old cookie still reads the old conversation"
    written = replay.say("我要开洗车场")
    assert written.status == 200
    assert live.events_of(old_sid) == before, "the old cookie still writes into the old conversation"
    assert sid_of(replay) != old_sid


INVISIBLE = ["\u200b", "\u200b\u200c\u200d\ufeff\u2060", " \u200e\u200f \u00ad ", "\u2061\u2062\u2063\u2064\u180e",
             "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", "\u3000\u200b\t\n"]


def test_invisible_text_is_refused_and_never_reaches_rasa(live):
    assert all(unicodedata.category(c) == "Cf" or c.isspace() for text in INVISIBLE for c in text)
    last = live.last_event()
    for text in INVISIBLE:
        citizen = live.client()
        response = citizen.say(text)
        assert response.status == 400, (text.encode("unicode_escape"), response.status)
        chinese_error(response)
    assert live.blank_questions_since(last) == [], "an invisible text reached Rasa"


CONTROL_ONLY = ["\x00", "\x00\x00\x00", "\x01\x02\x1b\x7f", "\ud800", "\udfff\ud800", "\x00\u200b\x07 "]


@pytest.mark.parametrize("text", CONTROL_ONLY, ids=["nul", "nuls", "c0-and-del", "lone-surrogate", "surrogates",
                                                    "nul-zero-width-bell"])
def test_text_of_only_control_characters_is_refused_like_invisible_text(live, text):
    """Nothing visible either: NUL and other control characters, lone surrogates (JSON escapes them). The guard
    blanks them for Rasa, so unless they are refused, Rasa gets an empty question (stored, counted as a fallback)."""
    last = live.last_event()
    response = live.client().post("/chat/message", body=json.dumps({"text": text}).encode("ascii"),
                                  headers={"Content-Type": "application/json"})
    assert response.status == 400, (text.encode("unicode_escape"), response.status, response.text[:200])
    chinese_error(response)
    assert live.blank_questions_since(last) == [], "an empty question reached Rasa"


def unmatched_count(staff: Client, wording: str) -> int:
    groups = staff.get("/staff/api/demand").json()["unmatched"]
    found = [g for g in groups if wording in g["examples"]]
    assert len(found) == 1, (wording, groups)
    return found[0]["count"]


def test_demand_counts_each_visitor_once_per_wording(live, staff):
    """One visitor repeating an unmatched question 30 times counts once, four more visitors four more: 5 (not 34,
    and not 1). Five visitors keep the wording high in the list, which shows the top 20 only (other test modules
    leave unmatched questions of their own in the same tracker store)."""
    wording = "火星上的企鹅会唱京剧吗"
    repeater = live.client()
    for _ in range(30):
        reply = repeater.say(wording)
        assert reply.status == 200
    assert [m["custom"]["type"] for m in reply.json()["messages"] if "custom" in m] == ["fallback"]
    for _ in range(4):
        assert live.client().say(wording).status == 200
    assert unmatched_count(staff, wording) == 5


# --- 5. The earlier probes that passed, so they keep passing -----------------------------------------------------

XSS = ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>', "javascript:alert(1)",
       "<svg/onload=alert(1)>", "'\"><iframe src=javascript:alert(1)>"]


def assert_inert(page, shown: list[str], where: str) -> None:
    """Nothing of the payloads ran or became markup (the CSP would stop an inline script by itself, so the DOM
    is checked too), and what must be shown is there as text."""
    assert page.dialogs == [], where
    injected = page.evaluate("""() => ({
        img: document.querySelectorAll('img[src="x"], svg[onload], iframe, [onerror], [onload]').length,
        script: [...document.scripts].filter(s => s.textContent.includes('alert(1)')).length,
        link: document.querySelectorAll('a[href^="javascript:"], [src^="javascript:"]').length})""")
    assert injected == {"img": 0, "script": 0, "link": 0}, (where, injected)
    text = page.inner_text("body")
    for payload in shown:
        assert payload in text, (where, payload)


def test_xss_payloads_stay_text_in_the_widget_checklist_and_console(live, staff, browser):
    citizen = live.client()
    for payload in XSS:
        assert citizen.say(payload).status == 200
    assert citizen.say('/choose_bundle{"bundle":"<img src=x onerror=alert(1)>"}').status == 200
    for _ in range(4):  # asked by five visitors: high in the demand page's unmatched list (the top 20)
        assert live.client().say(XSS[0]).status == 200
    for payload in XSS:
        assert live.client().get("/api/search?" + urlencode({"q": payload})).header("Content-Type").startswith(
            "application/json")
    listed = [p for p in XSS if any(p in g["examples"] for g in staff.get("/staff/api/demand").json()["unmatched"])]
    assert listed, "no payload reached the demand page's unmatched list"

    context = browser.new_context(locale="zh-CN")
    context.add_cookies([{"name": "session", "value": citizen.cookies["session"], "domain": "127.0.0.1", "path": "/"},
                         {"name": "yishi_staff", "value": staff.cookies["yishi_staff"], "domain": "127.0.0.1",
                          "path": "/staff"}])
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(live.url + "/")  # the widget, with this visitor's conversation reloaded from its history
        page.click(".yishi-launcher")
        page.wait_for_selector(f".yishi-user >> nth={len(XSS)}", timeout=20000)
        said = [p.inner_text() for p in page.query_selector_all(".yishi-user p")]
        assert said[:len(XSS)] == XSS
        assert_inert(page, XSS, "widget")

        checks = {"/checklist/gym?" + urlencode({"has_licence": XSS[0]}): [XSS[0]],
                  "/checklist/gym?" + urlencode({XSS[1]: "1"}): [XSS[1]],
                  "/checklist/gym?" + urlencode({"has_licence": "no", "print": XSS[3]}): [],
                  f"/staff/conversations/{sid_of(citizen)}": XSS[:3],
                  "/staff/demand": listed,
                  "/staff/conversations?" + urlencode({"bundle": XSS[1], "start": XSS[0], "end": XSS[2], "page": XSS[3]}): [],
                  "/staff/content?" + urlencode({"q": XSS[1], "before": XSS[0], "checked": XSS[2]}): [XSS[0]],
                  "/staff/content/records?" + urlencode({"q": XSS[0], "before": XSS[1]}): [XSS[1]],
                  "/kiosk?" + urlencode({"idle": XSS[1]}): []}
        for path, shown in checks.items():
            response = page.goto(live.url + path)
            assert response.status < 500, (path, response.status)
            assert_inert(page, shown, path)
    finally:
        context.close()


INJECTIONS = ["' OR 1=1 --", '"', "*", "NEAR(", "a AND b OR", ")", "%", "_", "'", '"a" NOT', "a:b", "^a", "-a",
              "{a b}", "a*b*", "NEAR(a b, -1)", "'; drop table bundles; --", "\\", "\x00", "\ud800", "'||'",
              "OR", "AND", "NOT", "%00", "1e309", "..", "健身房\" OR \"1"]


@pytest.mark.parametrize("query", INJECTIONS)
def test_search_survives_sql_and_fts_syntax(live, query):
    path = "/api/search?" + urlencode({"q": query.encode("utf-8", "surrogatepass")})
    response = live.client().get(path)
    assert response.status == 200, (query, response.status, response.text[:200])
    assert isinstance(response.json()["results"], list)
    assert response.header("Content-Type").startswith("application/json")


CONSOLE_PAGES = ["/staff/conversations", "/staff/api/conversations", "/staff/demand", "/staff/api/demand",
                 "/staff/content", "/staff/content/records"]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_filters_survive_injection_strings(staff, path):
    for value in INJECTIONS:
        text = value.encode("utf-8", "surrogatepass")
        query = urlencode({"bundle": text, "start": text, "end": text, "page": text, "per_page": text, "q": text,
                           "before": text, "checked": text, "fallback": text, "low": text})
        response = staff.get(f"{path}?{query}")
        assert response.status == 200, (path, value, response.status)


@dataclass
class StateChange:
    """A console POST that changes something: how to send it, and how to tell that nothing changed."""

    path: str
    form: dict | None = None
    data: dict | None = None
    unchanged: object = None  # live, staff → a value that must stay the same
    done: int | None = None  # the status when it is accepted (the positive control), None: not run
    who: str = STAFF  # the account that may do it


def _file_state(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _tree_state(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def labelled(live) -> tuple[str, int]:
    """A citizen's conversation and one of its typed messages (the target of a label)."""
    citizen = live.client()
    assert citizen.say("想开个铺子卖奶茶").status == 200
    sid = sid_of(citizen)
    return sid, live.tracker_rows("select id from events where sender_id = ? and type_name = 'user'", sid)[0][0]


def state_changes(live, labelled) -> dict[str, StateChange]:
    sid, event = labelled
    material = next(iter(LiveCatalogue(live.work / "catalogue.db").records()["materials"]))
    bench_sender = "staff-bench-" + secrets.token_hex(8)
    return {
        "staff.auth.logout": StateChange("/staff/logout", form={},
                                         unchanged=lambda live, staff: staff.get("/staff/api/me").status),
        "staff.review.label": StateChange(
            f"/staff/conversations/{sid}/label", form={"event_id": str(event), "label": "gym"}, done=302,
            unchanged=lambda live, staff: (_file_state(live.work / "review.yml"),
                                           live.web_rows("select count(*) from review_labels"))),
        "staff.content.check": StateChange(
            "/staff/content/check", form={"kind": "materials", "id": material}, done=302, who=EDITOR,
            unchanged=lambda live, staff: (_tree_state(live.work / "sources"),
                                           live.web_rows("select count(*) from content_log"))),
        "staff.content.rebuild": StateChange(
            "/staff/content/rebuild", form={}, unchanged=lambda live, staff: _file_state(live.work / "staging.db"),
            who=EDITOR),
        "staff.content.publish_staged": StateChange(
            "/staff/content/publish", form={"digest": ""}, done=409, who=EDITOR,
            unchanged=lambda live, staff: (_file_state(live.work / "catalogue.db"), _tree_state(live.work))),
        "staff.content.save": StateChange(
            f"/staff/content/edit/materials/{material}", form={"name": "安全测试改名"}, who=EDITOR,
            unchanged=lambda live, staff: (_tree_state(live.work / "sources"), live.web_rows("select count(*) from audit_log"))),
        "staff.content.create": StateChange(
            "/staff/content/new/materials", form={"id": "sec_probe", "name": "安全测试"}, who=EDITOR,
            unchanged=lambda live, staff: (_tree_state(live.work / "sources"), live.web_rows("select count(*) from audit_log"))),
        "staff.ratings.assign": StateChange(
            "/staff/ratings/owner", form={"id": "1", "owner": STAFF}, done=302,
            unchanged=lambda live, staff: (live.web_rows("select * from ratings"), live.web_rows("select count(*) from audit_log"))),
        "staff.ratings.advance": StateChange(
            "/staff/ratings/status", form={"id": "1", "to": "rectified"}, done=302,
            unchanged=lambda live, staff: (live.web_rows("select * from ratings"), live.web_rows("select count(*) from audit_log"))),
        # accepted, training would start: only the refusals are probed
        "staff.models.train": StateChange(
            "/staff/models/train", form={},
            unchanged=lambda live, staff: _tree_state(live.work / "results") if (live.work / "results").exists() else None),
        "staff.models.promote": StateChange(
            "/staff/models/promote", form={"digest": "0" * 12}, done=302,  # no candidate: nothing to make live
            unchanged=lambda live, staff: (_tree_state(live.work), live.web_rows("select count(*) from audit_log"))),
        "staff.models.rollback": StateChange(
            "/staff/models/rollback", form={"model": "none.tar.gz"}, done=302,
            unchanged=lambda live, staff: (_tree_state(live.work), live.web_rows("select count(*) from audit_log"))),
        "staff.quality.run": StateChange(
            "/staff/quality/run", form={}, done=302,
            unchanged=lambda live, staff: _tree_state(live.work / "results") if (live.work / "results").exists() else None),
        "staff.bench.run": StateChange(
            "/staff/api/bench", data={"text": "我要开健身房", "sender": bench_sender}, done=200,
            unchanged=lambda live, staff: live.events_of(bench_sender)),
        "staff.auth.password": StateChange(
            "/staff/password", form={"current": PASSWORD, "new": PASSWORD, "again": PASSWORD}, done=302, who=SELF,
            unchanged=lambda live, staff: live.web_rows("select password_hash from staff where username = ?", SELF)),
        "staff.accounts.add": StateChange(
            "/staff/accounts/add", form={"username": "sec.added", "role": "readonly", "password": PASSWORD,
                                         "again": PASSWORD}, done=302, who=ADMIN, unchanged=staff_accounts),
        "staff.accounts.role": StateChange(f"/staff/accounts/{TARGET}/role", form={"role": "editor"}, done=302,
                                           who=ADMIN, unchanged=staff_accounts),
        "staff.accounts.disable": StateChange(f"/staff/accounts/{TARGET}/disable", form={}, done=302, who=ADMIN,
                                              unchanged=staff_accounts),
        "staff.accounts.enable": StateChange(f"/staff/accounts/{TARGET}/enable", form={}, done=302, who=ADMIN,
                                             unchanged=staff_accounts),
        "staff.accounts.reset_password": StateChange(
            f"/staff/accounts/{TARGET}/password", form={"password": PASSWORD, "again": PASSWORD}, done=302, who=ADMIN,
            unchanged=staff_accounts),
        "staff.accounts.remove": StateChange(f"/staff/accounts/{TARGET}/remove", form={"confirm": "yes"}, done=302,
                                             who=ADMIN, unchanged=staff_accounts),  # last: the target is gone then
    }


def staff_accounts(live, _staff) -> list[tuple]:
    return live.web_rows("select username, role, disabled, password_hash from staff order by username")


def test_state_changing_console_posts_need_this_sessions_csrf_token(live, routes, labelled):
    changes = state_changes(live, labelled)
    posts = {r.endpoint for r in console_rules(routes) if "POST" in r.methods and r.endpoint != "staff.auth.login"}
    assert posts == set(changes), "a console POST without a CSRF probe here (or a probe of a route that is gone)"
    for endpoint, change in changes.items():
        mine, other = live.login(change.who), live.login(change.who)  # a role that may do it: only CSRF refuses
        token, foreign_token = csrf_of(mine), csrf_of(other)
        attempts = {"no token": ({}, None), "wrong token": ({"csrf": "forged"}, "forged"),
                    "another session's token": ({"csrf": foreign_token}, foreign_token),
                    "this token from another site": ({"csrf": token}, token)}
        before = change.unchanged(live, mine)
        for attempt, (field_, header) in attempts.items():
            headers = {"Origin": "https://evil.example"} if attempt == "this token from another site" else {}
            if change.data is not None:
                headers |= {"X-CSRF-Token": header} if header else {}
                response = mine.post(change.path, data=change.data, headers=headers)
            else:
                response = mine.post(change.path, form=change.form | field_, headers=headers)
            assert response.status in (400, 403), (endpoint, attempt, response.status)
            assert change.unchanged(live, mine) == before, (endpoint, attempt, "changed something")
        assert mine.get("/staff/api/me").status == 200, endpoint  # refused requests (a logout too) left it alone
        if change.done is not None:  # the same request with this session's token is accepted: the probe was real
            if change.data is not None:
                accepted = mine.post(change.path, data=change.data, headers={"X-CSRF-Token": token})
            else:
                accepted = mine.post(change.path, form=change.form | {"csrf": token})
            assert accepted.status == change.done, (endpoint, accepted.status, accepted.text[:300])
    mine, other = live.login(), live.login()
    assert mine.post("/staff/logout", form={"csrf": csrf_of(mine)}).status == 302
    assert Client(live.url, {"yishi_staff": other.cookies["yishi_staff"]}).get("/staff/api/me").status == 200


def test_every_console_route_needs_a_login(live, routes):
    rules = console_rules(routes)
    assert len(rules) > 15
    anonymous = live.client()
    for rule in rules:
        path = concrete(rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            if rule.endpoint == "staff.auth.login":
                continue
            response = anonymous.request(method, path, form={} if method == "POST" else None)
            if is_json_api(routes.view_functions[rule.endpoint]):
                assert response.status in (401, 403), (method, path, response.status)
                assert set(response.json()) == {"error"}
            else:
                assert response.status == 302 and response.header("Location").startswith("/staff/login"), (method, path)
            assert "csrf" not in response.text and "已登录" not in response.text, (method, path)


def _forged_flask_cookie(payload: dict) -> list[str]:
    """The visitor's cookie with a client-chosen payload: signed with a wrong key, unsigned, and tampered."""
    wrong = Flask(__name__)
    wrong.secret_key = "not-the-key"
    signed_wrong = wrong.session_interface.get_signing_serializer(wrong).dumps(payload)
    unsigned = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return [signed_wrong, unsigned, f"{unsigned}.AAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAA", json.dumps(payload)]


def test_a_client_chosen_session_id_is_never_used(live):
    chosen = "attacker" + secrets.token_hex(8)
    for cookie in _forged_flask_cookie({"sid": chosen, "_permanent": True}):
        visitor = Client(live.url, {"session": cookie})
        assert visitor.say("我要开健身房").status == 200
        assert sid_of(visitor) != chosen
    body = live.client().post("/chat/message", data={"text": "我要开健身房", "sender": chosen, "sid": chosen})
    assert body.status == 200
    assert live.events_of(chosen) == 0, "a conversation under a client-chosen id"

    token = "attacker-" + secrets.token_urlsafe(24)
    forged = Client(live.url, {"yishi_staff": token})
    assert forged.get("/staff/api/me").status == 401 and forged.get("/staff/").status == 302
    fixated = Client(live.url, {"yishi_staff": token})  # a token planted before the login (session fixation)
    assert fixated.post("/staff/login", form={"username": STAFF, "password": PASSWORD}).status == 302
    assert fixated.cookies["yishi_staff"] != token
    assert Client(live.url, {"yishi_staff": token}).get("/staff/api/me").status == 401
    csrf_as_session = Client(live.url, {"yishi_staff": csrf_of(fixated)})
    assert csrf_as_session.get("/staff/api/me").status == 401


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
                                    "///evil.example", "/staff@evil.example", "https://evil.example/staff",
                                    "/staff/..//evil.example", "/%2F%2Fevil.example", "javascript:alert(1)//staff",
                                    "/staff\tevil.example", " //evil.example"])
def test_the_login_redirect_never_leaves_the_console(live, target):
    client = live.client()
    response = client.post("/staff/login?" + urlencode({"next": target}), form={"username": STAFF, "password": PASSWORD})
    assert response.status == 302
    location = response.header("Location")
    landed = urlsplit(urljoin(live.url + "/staff/login", location))
    assert landed.scheme == "http" and landed.netloc == urlsplit(live.url).netloc, (target, location)
    assert "\\" not in location and not location.startswith("//"), (target, location)
    if ".." not in target:
        assert landed.path.startswith("/staff"), (target, location)


def test_no_500_and_no_traceback_in_the_web_logs(live):
    """Last: whatever the probes above sent, the web app never answered 500 nor logged a traceback."""
    time.sleep(0.5)  # gunicorn writes its access log after each answer
    access = (live.stack.folder / "web-access.log").read_text(encoding="utf-8", errors="replace")
    assert access and not re.search(r'" 5\d\d ', access), [line for line in access.splitlines() if re.search(r'" 5\d\d ', line)]
    for name in ("web.log", "web-stdout.log"):
        path = live.stack.folder / name
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        assert "Traceback" not in text and "unhandled error" not in text, (name, text[-3000:])

