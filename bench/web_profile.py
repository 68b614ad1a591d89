"""Where the web app's own time goes on a chat message (issue 13): the Flask app in this process, a real Rasa
server and action server (ops.stack), 10 visitors × 8 messages under cProfile after 3 visitors of warm-up.
Prints wall and this process's CPU per message, then the 35 costliest calls by cumulative time. The profiler
slows the app; compare the rows with each other, not with bench/web_bench.py.

    .venv/bin/python bench/web_profile.py
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from ops import stack as stack_module  # noqa: E402
from web_widget import create_app  # noqa: E402

TEXTS = ["你好", "我想开个健身房", "要带哪些材料", "需要多久", "在哪里办", "谢谢", "想开个洗车铺子", "娃儿刚生要办啥"]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="yishi-profile-"))
    stack = stack_module.start(folder, rasa_servers=1)
    try:
        app = create_app({"TESTING": True, "WEB_DB": str(folder / "web.db"), "SECRET_KEY": "profile",
                          "RASA_URLS": stack.rasa_urls, "RASA_JWT_SECRET": stack.jwt_secret,
                          "RATE_PER_SESSION": 10**6, "RATE_PER_IP": 10**6})

        def visitors(count: int) -> None:
            for _ in range(count):
                client = app.test_client()
                for text in TEXTS:
                    assert client.post("/chat/message", json={"text": text}).status_code == 200

        visitors(3)
        profile, wall, cpu = cProfile.Profile(), time.perf_counter(), time.process_time()
        profile.enable()
        visitors(10)
        profile.disable()
        count = 10 * len(TEXTS)
        print(f"{count} messages: wall {(time.perf_counter() - wall) / count * 1000:.1f} ms per message, "
              f"this process's CPU {(time.process_time() - cpu) / count * 1000:.1f} ms per message (under the profiler)")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(35)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
