"""`python -m rasa_ext.server run …`: Rasa's own command line, with Yishi's speedups installed first.

Every Rasa server Yishi runs starts here (`make run`, the test stack, the benchmark), so the patches of
rasa_ext.logs (tracebacks in the log without local variables: they held a password), rasa_ext.speedups,
rasa_ext.strict (tracker store errors fail the turn, never a silent in-memory one), rasa_ext.model_loading
(`PUT /model` loads off the event loop) and rasa_ext.tracker_store (a message from a channel reads a windowed
tracker) are installed explicitly, before Rasa loads anything, and the heap is frozen once the model is loaded
(an after_server_start listener on the whole server); the action server's kept connections are closed as
it stops.
"""

from __future__ import annotations

import functools
from typing import Any

from . import logs, model_loading, speedups, strict, tracker_store


def main() -> None:
    logs.install()
    speedups.install()
    strict.install()
    model_loading.install()
    tracker_store.install()
    import rasa.core.run
    from rasa.__main__ import main as rasa_main

    serve = rasa.core.run.serve_application

    @functools.wraps(serve)  # rasa.api.run passes only the keyword arguments serve's signature names
    def serve_application(*args: Any, **kwargs: Any) -> Any:
        listeners = list(kwargs.get("server_listeners") or [])
        kwargs["server_listeners"] = [*listeners, (speedups.freeze_heap, "after_server_start"),
                                      (speedups.close_sessions, "before_server_stop")]
        return serve(*args, **kwargs)

    rasa.core.run.serve_application = serve_application  # rasa.api.run looks it up on the module
    rasa_main()


if __name__ == "__main__":
    main()
