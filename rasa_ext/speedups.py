"""Measured hot spots of Rasa 3.6 on Yishi's traffic (py-spy under 20 users, bench/chat_bench.py).

1. RemoteAction._validate_action_result calls jsonschema.validate() on every action response, which
re-checks the response schema against its metaschema each time. Under 20 concurrent users that was
about half of the Rasa server's CPU (py-spy, see bench/chat_bench.py). The same check with the
validator built once gives the same errors at a fraction of the cost.

2. RemoteAction._action_call_format sends the action server every event of the conversation, each
earlier bundle answer with its whole checklist (10–25 KB of JSON each), so every action call grew
with the conversation. Yishi's actions read slots and the latest message only (actions/), never an
earlier reply's payload, so the checklists of earlier replies are left out of the call; their
text, buttons and payload type still go. The tracker store and the channels keep them whole.

3. Event.resolve_by_type, called for every stored event each time a conversation is loaded, walks all
of Event's subclasses (rasa.shared.utils.common.all_subclasses, recursively, with an isabstract
check each) to find the one class with that type name: 20 % of the Rasa server's busy time on one
long conversation (py-spy). The same lookup from a table built once, first match first as Rasa's
loop has it; a name not in the table goes to Rasa's own code.
"""

from __future__ import annotations

import gc
import logging
from functools import lru_cache
from typing import Any, Dict, Text

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from "
                      f"the Action endpoint is valid. For more information about the format visit "
                      f"{DOCS_BASE_URL}/custom-actions")
    raise error


_rasa_action_call_format = RemoteAction._action_call_format


def _without_checklists(event: Dict[Text, Any]) -> Dict[Text, Any]:
    """A bot event as the action server gets it: an earlier reply's checklist left out."""
    data = event.get("data")
    custom = data.get("custom") if isinstance(data, dict) else None
    if event.get("event") != "bot" or not isinstance(custom, dict) or "checklist" not in custom:
        return event
    slim = {key: value for key, value in custom.items() if key != "checklist"}
    return {**event, "data": {**data, "custom": slim}}


def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
    result = _rasa_action_call_format(self, tracker, domain)
    state = result["tracker"]
    state["events"] = [_without_checklists(event) for event in state["events"]]
    return result


_rasa_resolve_by_type = Event.resolve_by_type
_event_types: Dict[Text, Any] = {}


def _resolve_by_type(type_name: Text, default: Any = None) -> Any:
    found = _event_types.get(type_name)
    if found is None:  # first use, or a class defined since: the table again, in Rasa's order
        for cls in all_subclasses(Event):
            _event_types.setdefault(cls.type_name, cls)
        found = _event_types.get(type_name)
    return found if found is not None else _rasa_resolve_by_type(type_name, default)


def freeze_heap(*_args: Any) -> None:
    """Move everything alive now out of the garbage collector's reach (a Sanic listener, after start).

    A Rasa server holds millions of long-lived objects (TensorFlow, the model); every full
    collection walked all of them, 350–470 ms each in the middle of somebody's message (measured
    with gc.callbacks under bench/chat_bench.py). Frozen, they are never walked again; objects made
    later are collected as usual.
    """
    gc.collect()
    gc.freeze()
    logging.getLogger(__name__).info("heap frozen after start: %d objects", gc.get_freeze_count())


def install() -> None:
    """Replace the methods (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction._action_call_format = _action_call_format
    Event.resolve_by_type = staticmethod(_resolve_by_type)


