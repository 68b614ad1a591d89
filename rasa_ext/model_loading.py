"""Loading a new model into a running Rasa server without stopping its conversations (issue 16, req 2).

Rasa 3.6's `PUT /model` loads the model inside the server's event loop: for the 10–30 s TensorFlow takes, the
server answers nothing, and every conversation on it waits past the chat timeout. Here the same endpoint builds
the new agent (its tracker store and action endpoint from the server's endpoints, as Rasa does) and loads the
model in a worker thread; the old agent keeps answering until the new one is ready, then Rasa's own code swaps
them (keeping the lock store). A model that cannot be loaded leaves the old one in place and answers with Rasa's
error, as before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

logger = logging.getLogger(__name__)


def install() -> None:
    """Replace rasa.server._load_agent, which the `PUT /model` route looks up when it runs (idempotent)."""
    import rasa.server

    if getattr(rasa.server._load_agent, "__yishi__", False):
        return
    original = rasa.server._load_agent

    async def load_agent_off_the_loop(model_path: Optional[str] = None, model_server: Any = None,
                                      remote_storage: Optional[str] = None, endpoints: Any = None) -> Any:
        from http import HTTPStatus

        from rasa.core.agent import load_agent
        from rasa.server import ErrorResponse

        if model_server is not None or remote_storage is not None or not model_path:
            return await original(model_path=model_path, model_server=model_server, remote_storage=remote_storage,
                                  endpoints=endpoints)
        agent = await load_agent(endpoints=endpoints)  # no model yet: tracker store, lock store, action endpoint
        try:
            await asyncio.get_running_loop().run_in_executor(None, agent.load_model, model_path)
        except Exception as exc:
            logger.error("could not load the model %s", model_path, exc_info=True)
            raise ErrorResponse(HTTPStatus.INTERNAL_SERVER_ERROR, "LoadingError",
                                f"An unexpected error occurred. Error: {exc}") from exc
        if not agent.is_ready():
            raise ErrorResponse(HTTPStatus.BAD_REQUEST, "BadRequest", f"Agent with name '{model_path}' could not be loaded.",
                                {"parameter": "model", "in": "query"})
        logger.info("loaded the model %s in a worker thread; switching to it", model_path)
        return agent

    load_agent_off_the_loop.__yishi__ = True  # type: ignore[attr-defined]
    rasa.server._load_agent = load_agent_off_the_loop
