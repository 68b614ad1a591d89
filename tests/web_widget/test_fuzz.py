"""Fuzzing every route of both surfaces with random paths, query strings and bodies (Hypothesis): whatever
a client sends, no 500 and no traceback, only the app's own answers (Rasa is unreachable here, so the chat
answers with its polite fallback and the console's bench with its 503 message)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops.stack import free_port
from web_widget import create_app
from web_widget.staff import auth

PASSWORD = "a long fuzzing password"
ROLES = ("admin", "editor", "reviewer", "readonly")
PARAMS = ["q", "start", "end", "bundle", "fallback", "low", "ask_back", "page", "kind", "checked", "before", "size",
          "agent", "pool", "family", "stage", "next", "print", "saved"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["9999-12-31", "0001-01-01", "-1", "1e309", "%00", "\r\nX: y", "../../etc/passwd", "<script>", "AND OR", '"', "1" * 40])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, request):
    from catalogue.build import build

    folder = tmp_path_factory.mktemp("fuzz")
    mini = request.config.rootpath / "tests" / "fixtures" / "mini"
    assert build(mini, folder / "mini.db").ok
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(folder / "mini.db"), "WEB_DB": str(folder / "web.db"),
                      "SECRET_KEY": "fuzz", "RASA_URLS": [f"http://127.0.0.1:{free_port()}"], "CHAT_TIMEOUT_S": 1,
                      "RATE_PER_SESSION": 100000, "RATE_PER_IP": 100000, "TRACKER_DB": str(folder / "none.db"),
                      "RESULTS_DIR": str(folder / "results"), "REVIEW_FILE": str(folder / "review.yml"),
                      "CATALOGUE_SOURCES": str(mini), "CATALOGUE_STAGING_DB": str(folder / "staging.db"),
                      "MODEL_PATH": str(folder / "none.tar.gz")})
    with app.app_context():
        for role in ROLES:
            auth.add_account(f"fuzz.{role}", PASSWORD, role)
    return app


def routes(app):
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "staff.static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def test_every_route_survives_random_input(fuzzed):
    staff, tokens = [], {}
    for role in ROLES:  # every role, so that every form is fuzzed by someone allowed to use it
        client = fuzzed.test_client()
        client.post("/staff/login", data={"username": f"fuzz.{role}", "password": PASSWORD})
        tokens[client] = client.get("/staff/").get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
        staff.append(client)
    anonymous = fuzzed.test_client()

    @settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(data=st.data())
    def fuzz(data):
        rule, method = data.draw(st.sampled_from(routes(fuzzed)))
        values = {arg: data.draw(TEXT.filter(lambda t: "/" not in t and t.strip(".") != "")) or "x"
                  for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        query = data.draw(st.dictionaries(st.sampled_from(PARAMS), TEXT, max_size=4))
        body = data.draw(JSON)
        client = data.draw(st.sampled_from([*staff, anonymous]))
        form = {k: str(v) for k, v in (body.items() if isinstance(body, dict) else [])} | {"csrf": tokens.get(client, "")}
        kwargs = data.draw(st.sampled_from([{"json": body}, {"data": form}, {"data": json.dumps(body)[:2000]}]))
        response = client.open(path, method=method, query_string=query, **kwargs)
        text = response.get_data(as_text=True)
        assert response.status_code != 500 and "Traceback" not in text, (method, path, query, body, text[:300])

    fuzz()
