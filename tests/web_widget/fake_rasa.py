"""A stand-in for Rasa's HTTP interface on a free loopback port, for the web app's unit tests (they never import
rasa): the REST webhook answers 开小店 with the mini catalogue's `shop` bundle and 宝宝 with `baby`, anything else
with a line of text; a tracker has no events; `/` says hello (the health probe)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ops.stack import free_port

ANSWERS = {"开小店": ("shop", "我要开小店"), "宝宝": ("baby", "宝宝登记一件事")}


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *_args) -> None:  # quiet
        pass

    def _json(self, value) -> None:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/conversations/"):
            self._json({"events": []})
        else:
            self._json({"hello": "Rasa"})

    def do_POST(self) -> None:
        sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        for word, (slug, name) in ANSWERS.items():
            if word in sent["message"]:
                self._json([{"recipient_id": sent["sender"], "text": f"【{name}】办事清单"},
                            {"recipient_id": sent["sender"], "custom": {"type": "bundle", "bundle": slug,
                                                                      "checklist": {"slug": slug, "name": name}}}])
                return
        self._json([{"recipient_id": sent["sender"], "text": "您好，请说说您要办的事。"}])


@contextmanager
def fake_rasa() -> Iterator[str]:
    """The stand-in's URL while the block runs."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
